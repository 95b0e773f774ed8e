#!/bin/sh
# The test suite: every unit test program given as an argument, the dev
# vault's own tests, then the integration tests over real sockets. Each
# prints TAP; this script counts the "ok" / "not ok" lines and ends with
# "N passed, N failed". Full output goes to build/test.log as well.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
log="$root/build/test.log"
mkdir -p "$root/build"
: >"$log"
pass=0
fail=0
# The web servers the integration suite runs against (KVGATE_TEST_SERVERS
# narrows it, e.g. to "lighttpd" while working on one).
servers=${KVGATE_TEST_SERVERS:-lighttpd apache}
started=$(date +%s)

# Sanitizer reports: a SANITIZE= build writes them to build/sanitizer/
# (tests/sanitize/options.c), checked at the end. Writable by all, because
# the programs run as www-data under Apache when the suite runs as root.
sanitizer="$root/build/sanitizer"
rm -rf "$sanitizer"
mkdir -p "$sanitizer"
chmod 1777 "$sanitizer"
# What the run leaves for tests/hygiene.js: the web servers' and dev vaults'
# logs and output, and the credentials each dev vault handed out
# (tests/integration/stack.js keeps them here when this is set).
KVGATE_TEST_ARTIFACTS="$root/build/test-artifacts"
export KVGATE_TEST_ARTIFACTS
rm -rf "$KVGATE_TEST_ARTIFACTS"

# Run one suite, echo its output, add its counts. A suite that exits non-zero
# without reporting a failing test counts as one failure of its own.
suite() {
	name=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | tee -a "$log"
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" | tee -a "$log"
		f=1
	fi
	echo "# $name: $p passed, $f failed" | tee -a "$log"
	pass=$((pass + p))
	fail=$((fail + f))
}

for t in "$@"; do
	suite "$(basename "$t")" "$t"
done

for dir in tests/devvault tests/integration tests/browser tests/sdk; do
	files=$(ls "$root/$dir"/*.test.js 2>/dev/null || true)
	[ -n "$files" ] || continue
	for file in $files; do
		# An integration file that starts a web server (through stack.js)
		# runs once per server: the suite must pass behind lighttpd and Apache.
		# (suite() uses $f and $p itself.)
		if [ "$dir" = tests/integration ] && grep -q 'startStack\|startGateway\|S\.SERVER' "$file"; then
			for server in $servers; do
				suite "$server: $dir/$(basename "$file")" env KVGATE_TEST_SERVER="$server" node --test --test-reporter=tap "$file"
			done
		else
			suite "$dir/$(basename "$file")" node --test --test-reporter=tap "$file"
		fi
	done
done

# Shell tests print TAP too (make install / uninstall).
for f in $(ls "$root"/tests/*.test.sh 2>/dev/null || true); do
	suite "tests/$(basename "$f")" sh "$f"
done

# Last, over everything the run wrote: no secret value, token or client
# secret in any log or test output, and no sanitizer report.
suite "tests/hygiene.js" node "$root/tests/hygiene.js"
suite "sanitizer reports" sh "$root/tests/sanitize/check.sh" "$sanitizer"

echo "# suite took $(($(date +%s) - started)) s" | tee -a "$log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
