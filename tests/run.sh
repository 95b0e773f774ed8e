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
	for f in $files; do
		suite "$dir/$(basename "$f")" node --test --test-reporter=tap "$f"
	done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
