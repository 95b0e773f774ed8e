#!/bin/sh
# `make fuzz`: replay the regression inputs, then fuzz each target.
#
#   tests/fuzz/run.sh SECONDS TARGET...
#
# For each target (build/fuzz/fuzz_TARGET, built by make fuzz):
#   1. every file in tests/fuzz/regress/TARGET/ is run once: each is an input
#      that once crashed, and must not any more;
#   2. the committed seeds (tests/fuzz/corpus/TARGET/) are copied into a
#      working corpus, build/fuzz/corpus/TARGET/, which keeps growing from
#      run to run (rm -rf build/fuzz/corpus to start over); the committed
#      seeds are never written to;
#   3. the target is fuzzed for SECONDS with its dictionary
#      (tests/fuzz/TARGET.dict, when there is one) and the input size cap
#      below.
# A crash input goes to build/fuzz/artifacts/TARGET/, the whole output to
# build/fuzz/logs/TARGET.log. Every target runs even after one has failed;
# the exit status is non-zero when any failed. One summary line per target.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -lt 2 ]; then
	echo "usage: tests/fuzz/run.sh SECONDS TARGET..." >&2
	exit 2
fi
seconds=$1
shift
out="$root/build/fuzz"
failed=""

# The largest input worth trying, per target: a little over each cap the
# code enforces, so that the caps themselves are exercised.
max_len() {
	case $1 in
	policy) echo 8192 ;;      # a policy is a few KB; lines are capped at 1000
	cors) echo 6144 ;;        # origin 512 + request headers 4096
	route) echo 4608 ;;       # ROUTE_URI_MAX 4096
	kvjson) echo 16384 ;;     # bundles and pages; a 25 KB value is not needed
	token) echo 20480 ;;      # access tokens are capped at 16 KB
	challenge) echo 2560 ;;   # values are capped at 512, nextLinks at 2048
	pagetoken) echo 4096 ;;   # a token for a 2048-byte nextLink is 2768 bytes
	*) echo 4096 ;;
	esac
}

# The targets' private directories (fuzz_common.h) go under build/fuzz/tmp:
# a target that crashes cannot remove its own, and this run removes those
# of the last.
TMPDIR="$out/tmp"
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"
export TMPDIR

# UBSan stops at the first report (the code is built with
# -fno-sanitize-recover) and says where; ASan's report is libFuzzer's crash.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS ASAN_OPTIONS

summary() {
	# libFuzzer's last status line: "#RUNS<tab>DONE cov: C ft: F corp: N/S lim: L exec/s: E rss: R"
	grep -E '^#[0-9]+[[:space:]]+DONE' "$1" | tail -n 1 |
		sed -E 's/^#([0-9]+)[[:space:]]+DONE +cov: ([0-9]+) ft: ([0-9]+) corp: ([^ ]+).* exec\/s: ([0-9]+).*/\1 runs, \5 exec\/s, cov \2, ft \3, corpus \4/'
}

for t in "$@"; do
	bin="$out/fuzz_$t"
	log="$out/logs/$t.log"
	work="$out/corpus/$t"
	artifacts="$out/artifacts/$t/"
	mkdir -p "$out/logs" "$work" "$artifacts"
	: >"$log"
	if [ ! -x "$bin" ]; then
		echo "fuzz: $t: $bin is missing (make fuzz builds it)" >&2
		failed="$failed $t"
		continue
	fi

	regress="$root/tests/fuzz/regress/$t"
	if [ -d "$regress" ] && [ -n "$(ls -A "$regress" 2>/dev/null)" ]; then
		n=$(find "$regress" -type f | wc -l)
		if ! find "$regress" -type f -exec "$bin" -runs=1 {} + \
			</dev/null >>"$log" 2>&1; then
			echo "fuzz: $t: FAILED replaying tests/fuzz/regress/$t ($n inputs); see $log" >&2
			tail -n 40 "$log" >&2
			failed="$failed $t"
			continue
		fi
		echo "fuzz: $t: $n regression inputs pass"
	fi

	if [ -d "$root/tests/fuzz/corpus/$t" ]; then
		cp -p "$root/tests/fuzz/corpus/$t"/* "$work"/ 2>/dev/null || true
	fi
	dict=""
	if [ -f "$root/tests/fuzz/$t.dict" ]; then
		dict="-dict=$root/tests/fuzz/$t.dict"
	fi
	echo "fuzz: $t: fuzzing for $seconds s"
	# shellcheck disable=SC2086 # $dict is one word or none
	if "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
		-artifact_prefix="$artifacts" -print_final_stats=1 $dict "$work" \
		</dev/null >>"$log" 2>&1; then
		echo "fuzz: $t: ok: $(summary "$log")"
	else
		echo "fuzz: $t: FAILED; report in $log, crash input (if any) in $artifacts" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: invariant)|runtime error|Test unit written' \
			"$log" >&2
		failed="$failed $t"
	fi
done

if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed" >&2
	exit 1
fi
echo "fuzz: all $# targets ran $seconds s each without a crash"
