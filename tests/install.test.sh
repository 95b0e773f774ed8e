#!/bin/sh
# `make install` / `make uninstall` into a temporary DESTDIR, printing TAP:
# the file list and modes, a second install over an edited policy (kept),
# and an uninstall that leaves exactly the edited policy behind. Pins down:
# an install that overwrites an operator's policy, installs the dev vault,
# or an uninstall that leaves files or removes the operator's policy.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
dest=$(mktemp -d "${TMPDIR:-/tmp}/kvgate-install-XXXXXX")
trap 'rm -rf "$dest"' EXIT
n=0
bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
files() { (cd "$dest" && find . \( -type f -o -type l \) | sed 's#^\./#/#' | sort); }
mode() { stat -c %a "$dest$1"; }

mk() { make --no-print-directory -C "$root" "$@" PREFIX=/usr/local DESTDIR="$dest" >"$dest.log" 2>&1; }

check 'make install into an empty DESTDIR succeeds' 'mk install'
expected='/etc/kvgate/kvgate.ini
/usr/local/bin/kvgate-check
/usr/local/lib/kvgate/get-secret.fcgi
/usr/local/lib/kvgate/kvgate-fetch
/usr/local/lib/kvgate/list-secrets.fcgi
/usr/local/lib/kvgate/preflight.fcgi
/usr/local/share/kvgate/apache/auth-basic.conf
/usr/local/share/kvgate/apache/kvgate.conf
/usr/local/share/kvgate/kvgate.ini.sample
/usr/local/share/kvgate/lighttpd/auth-basic.conf
/usr/local/share/kvgate/lighttpd/kvgate.conf'
for f in $(ls "$root/www"); do expected="$expected
/usr/local/share/kvgate/www/$f"; done
expected=$(printf '%s\n' "$expected" | sort)
got=$(files)
if [ "$got" = "$expected" ]; then ok 'exactly the expected files are installed'; else
	notok 'exactly the expected files are installed'
	printf '%s\n' "$got" | diff -u /dev/stdin - <<EOF2 | sed 's/^/# /'
$expected
EOF2
fi
check 'nothing of the dev vault is installed' '! files | grep -qi devvault'
for p in /usr/local/lib/kvgate/preflight.fcgi /usr/local/lib/kvgate/get-secret.fcgi /usr/local/lib/kvgate/list-secrets.fcgi /usr/local/lib/kvgate/kvgate-fetch /usr/local/bin/kvgate-check; do
	check "$p is mode 0755" '[ "$(mode $p)" = 755 ]'
done
check 'the policy /etc/kvgate/kvgate.ini is mode 0640' '[ "$(mode /etc/kvgate/kvgate.ini)" = 640 ]'
if [ "$(id -u)" = 0 ] && getent group www-data >/dev/null; then
	check 'the policy belongs to group www-data (the programs run as www-data)' '[ "$(stat -c %G "$dest/etc/kvgate/kvgate.ini")" = www-data ]'
fi
check 'the SPA and configs are mode 0644' '[ "$(mode /usr/local/share/kvgate/www/index.html)" = 644 ] && [ "$(mode /usr/local/share/kvgate/apache/kvgate.conf)" = 644 ]'
check 'the installed Apache snippet points at the installed programs and policy' \
	'grep -q "Define KVGATE_PROGRAMS /usr/local/lib/kvgate$" "$dest/usr/local/share/kvgate/apache/kvgate.conf" && grep -q "Define KVGATE_CONFIG /etc/kvgate/kvgate.ini$" "$dest/usr/local/share/kvgate/apache/kvgate.conf"'
check 'the installed kvgate-check runs and reads the installed policy (naming it)' \
	'"$dest/usr/local/bin/kvgate-check" "$dest/etc/kvgate/kvgate.ini" 2>&1 | grep -q "kvgate.ini"'

echo '; edited by the operator' >>"$dest/etc/kvgate/kvgate.ini"
chmod 0600 "$dest/etc/kvgate/kvgate.ini"
before=$(cksum <"$dest/etc/kvgate/kvgate.ini")
check 'a second make install over an edited policy succeeds' 'mk install'
check 'the edited policy is not overwritten (content and mode kept)' '[ "$(cksum <"$dest/etc/kvgate/kvgate.ini")" = "$before" ] && [ "$(mode /etc/kvgate/kvgate.ini)" = 600 ]'
check 'install says it kept the policy' 'grep -q "keeping the existing" "$dest.log"'
check 'the second install adds no file' '[ "$(files)" = "$expected" ]'

check 'make uninstall succeeds' 'mk uninstall'
check 'only the edited policy is left' '[ "$(files)" = /etc/kvgate/kvgate.ini ]'
check 'the directories install created are gone' '[ ! -e "$dest/usr/local/lib/kvgate" ] && [ ! -e "$dest/usr/local/share/kvgate" ]'

check 'install + uninstall of an unedited policy leaves nothing' 'rm -rf "$dest/etc" && mk install && mk uninstall && [ -z "$(files)" ]'
rm -f "$dest.log"
echo "1..$n"
[ "$bad" -eq 0 ]
