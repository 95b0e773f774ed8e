#!/bin/sh
# The sanitizer reports of a test run, as TAP: a SANITIZE= build writes each
# report to a file in the directory given (tests/sanitize/options.c), so any
# file there is a finding of ASan, UBSan or LeakSanitizer, from a unit test,
# a program behind a web server or a program a test ran directly. tests/run.sh
# empties the directory before the suites run and calls this at the end.
set -u
dir=$1
n=0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	echo "# ---- $(basename "$f")"
	head -n 60 "$f" | sed 's/^/# /'
done
echo "1..1"
if [ "$n" -eq 0 ]; then
	echo "ok 1 - no sanitizer report in $dir"
else
	echo "not ok 1 - $n sanitizer report(s) in $dir (above)"
	exit 1
fi
