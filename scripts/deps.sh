#!/bin/sh
# Install what kvgate needs to build, run and test, only when it is missing.
#
#   scripts/deps.sh          build + run: compiler, libraries, lighttpd, openssl, node
#   scripts/deps.sh --test   the same, plus what the test suite uses
#                            (Apache with mod_fcgid and mod_cgid: the suite
#                            runs against both web servers)
#   scripts/deps.sh --apache the build + run set, plus Apache with mod_fcgid
#                            (`make serve SERVER=apache`)
#   scripts/deps.sh --bench  the build + run set, plus wrk (`make bench`)
#   scripts/deps.sh --fuzz   the build + run set, plus Debian's clang with its
#                            libFuzzer and sanitizer runtimes, and
#                            llvm-symbolizer for readable crash stacks
#                            (`make fuzz`)
#   scripts/deps.sh --valgrind  the build + run set, plus valgrind
#                            (`make valgrind`)
#
# Debian packages come from the release the machine runs (Debian 12,
# bookworm): apt pins them to that release's versions, security updates
# included. npm packages are pinned exactly by tests/package-lock.json.
set -eu

want="gcc make pkg-config libc6-dev libfcgi-dev libcurl4-openssl-dev libjson-c-dev
libiniparser-dev libssl-dev lighttpd openssl ca-certificates nodejs curl"
case "${1:-}" in
--test) want="$want apache2 libapache2-mod-fcgid" ;;
--apache) want="$want apache2 libapache2-mod-fcgid" ;;
--bench) want="$want wrk" ;;
--fuzz) want="$want clang libclang-rt-dev llvm" ;;
--valgrind) want="$want valgrind" ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "deps: missing packages:$missing; run as root or install sudo" >&2
			exit 1
		}
		sudo="sudo"
	fi
	# A fresh machine may have no package lists yet.
	if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; then
		$sudo apt-get update -q
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
	fi
	# Debian starts lighttpd's system service on install; kvgate runs its own
	# instances, and the system one would hold port 80 for nothing.
	case " $missing " in
	*" lighttpd "*)
		$sudo systemctl disable --now lighttpd >/dev/null 2>&1 ||
			$sudo service lighttpd stop >/dev/null 2>&1 || true
		;;
	esac
	# Likewise Apache's (port 80); kvgate runs its own user-level instances.
	case " $missing " in
	*" apache2 "*)
		$sudo systemctl disable --now apache2 >/dev/null 2>&1 ||
			$sudo service apache2 stop >/dev/null 2>&1 || true
		;;
	esac
fi

# npm packages for the browser and SDK tests, pinned by tests/package-lock.json.
if [ "${1:-}" = "--test" ] && [ -f "$(dirname "$0")/npm-deps.sh" ]; then
	sh "$(dirname "$0")/npm-deps.sh"
fi
