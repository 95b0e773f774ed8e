#!/bin/sh
# `make valgrind`: valgrind's memcheck over every unit test given as an
# argument, then over the three FastCGI programs behind lighttpd while
# tests/valgrind/load.js sends REQUESTS requests to each and stops them with
# SIGTERM (how lighttpd and mod_fcgid retire them). Passes when every process
# valgrind watched reports no error and no definitely or indirectly lost
# block (--errors-for-leak-kinds makes those leaks errors); blocks still
# reachable at exit (libcurl's and OpenSSL's global state, the policy a
# program holds until its last moment) are reported, not failed.
#
#   tests/valgrind/run.sh REQUESTS PROCS UNIT_TEST...
#
# Reports go to build/valgrind/: one log per process, and summary.txt.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/build/valgrind"
requests=$1
procs=$2
shift 2
rm -rf "$out"
mkdir -p "$out/unit" "$out/programs"

vg=$(command -v valgrind) || {
	echo "valgrind: not installed (scripts/deps.sh --valgrind)" >&2
	exit 1
}
opts="--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
--show-leak-kinds=definite,indirect --track-origins=yes --num-callers=30"
if [ -s "$root/tests/valgrind.supp" ]; then
	opts="$opts --suppressions=$root/tests/valgrind.supp"
fi

failed=0

# Unit tests, one after the other; %p: a test that forks gets one log per
# process.
for t in "$@"; do
	name=$(basename "$t")
	# shellcheck disable=SC2086
	"$vg" $opts --log-file="$out/unit/$name.%p.log" "$t" >"$out/unit/$name.tap" 2>&1
	rc=$?
	echo "valgrind: $name: exit status $rc, $(grep -c '^ok ' "$out/unit/$name.tap") tests passed, $(grep -c '^not ok ' "$out/unit/$name.tap") failed"
	# The memory verdict comes from the logs below. A test of its own that
	# fails only here is reported, not judged: valgrind runs the code some
	# 20 times slower (timing tests), and its exit status 99 in a forked
	# child is a failed child to its parent. `make test` judges the tests.
	grep '^not ok' "$out/unit/$name.tap" | head -5 | sed 's/^/valgrind:   (test) /'
done

# The programs: a root for lighttpd (KVGATE_ROOT) whose cgi-bin holds one
# wrapper per program, starting a copy of the real one (in bin/) under
# valgrind. kvgate-fetch, which the programs start from their own directory
# (lib/fetch.c), is a wrapper in bin/ too: the helper runs under valgrind,
# and is judged like the programs once it has left (5 s after them).
vroot="$out/root"
mkdir -p "$vroot/cgi-bin" "$vroot/bin"
ln -s "$root/www" "$vroot/www"
for p in preflight get-secret list-secrets; do
	cp "$root/cgi-bin/$p.fcgi" "$vroot/bin/$p.fcgi"
	cat >"$vroot/cgi-bin/$p.fcgi" <<EOF
#!/bin/sh
exec "$vg" $(echo $opts) --log-file="$out/programs/$p.%p.log" "$vroot/bin/$p.fcgi" "\$@"
EOF
	chmod 0755 "$vroot/cgi-bin/$p.fcgi"
done
cat >"$vroot/bin/kvgate-fetch" <<EOF
#!/bin/sh
exec "$vg" $(echo $opts) --log-file="$out/programs/kvgate-fetch.%p.log" "$root/cgi-bin/kvgate-fetch" "\$@"
EOF
chmod 0755 "$vroot/bin/kvgate-fetch"
run=$(mktemp -d "${TMPDIR:-/tmp}/kvgate-valgrind-XXXXXX")
if ! node "$root/tests/valgrind/load.js" "$vroot" "$run" "$requests" "$procs"; then
	echo "valgrind: the requests through lighttpd did not all get their answer"
	failed=1
fi
rm -rf "$run"
# kvgate-fetch leaves 5 s after its last program (FETCHD_IDLE_MS): wait for
# valgrind's summary of it (up to 30 s; valgrind is slow).
if ! ls "$out"/programs/kvgate-fetch.*.log >/dev/null 2>&1; then
	echo "valgrind: kvgate-fetch never ran: the programs made their calls themselves"
	failed=1
fi
for _ in $(seq 300); do
	pending=0
	for log in "$out"/programs/kvgate-fetch.*.log; do
		if [ -f "$log" ] && ! grep -q 'ERROR SUMMARY' "$log"; then pending=1; fi
	done
	[ "$pending" = 0 ] && break
	sleep 0.1
done

# Every process's verdict, from its log: the ERROR SUMMARY (with
# --errors-for-leak-kinds, definitely and indirectly lost blocks count as
# errors) and the leak summary. A unit test's forked children are judged on
# memory errors only: they are the test's scaffolding (canned servers the
# test kills with SIGKILL, so valgrind writes no summary; processes that
# _exit() holding a cache lock or a policy to play a program that dies), so
# what they still hold at the end is not a leak. So are a program's: the two
# forks that start kvgate-fetch (lib/fetch.c), the second of which execs it
# (valgrind does not follow, and writes no summary for it).
summary="$out/summary.txt"
: >"$summary"
errors=0
leaks=0
checked=0
children=0
for log in "$out"/unit/*.log "$out"/programs/*.log; do
	[ -f "$log" ] || continue
	checked=$((checked + 1))
	name=${log#"$out"/}
	ppid=$(sed -n 's/^==[0-9]*== Parent PID: \([0-9]*\)$/\1/p' "$log" | head -n 1)
	child=no
	[ -f "${log%.*.log}.$ppid.log" ] && child=yes
	e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tr -d , | tail -n 1)
	lost=$(grep -c 'are \(definitely\|indirectly\) lost in loss record' "$log")
	def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -n 1)
	ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -n 1)
	rea=$(sed -n 's/.*still reachable: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -n 1)
	if [ -z "$e" ]; then
		# No summary: killed (SIGKILL). Only a forked child may end so.
		e=$(grep -c '^==[0-9]*== \(Invalid\|Conditional\|Use of uninitialised\|Syscall param\|Mismatched\|Source and destination overlap\|Argument\)' "$log")
		lost=0
		if [ "$child" = no ]; then
			echo "valgrind: $name has no ERROR SUMMARY: the process did not finish" | tee -a "$summary"
			failed=1
			continue
		fi
	fi
	memerr=$((e - lost))
	if [ "$child" = yes ]; then
		children=$((children + 1))
		printf '%s (forked by its test or program): %s memory errors, %s lost blocks not judged\n' \
			"$name" "$memerr" "$lost" >>"$summary"
		bad=$memerr
	else
		printf '%s: %s errors, definitely lost %s, indirectly lost %s, still reachable %s bytes\n' \
			"$name" "$e" "${def:-0}" "${ind:-0}" "${rea:-0}" >>"$summary"
		bad=$e
		leaks=$((leaks + lost))
	fi
	errors=$((errors + memerr))
	if [ "$bad" -ne 0 ]; then
		echo "valgrind: $name:"
		grep -A 14 '^==[0-9]*== \(Invalid\|Conditional\|Use of uninitialised\|Syscall param\|Mismatched\|Source and destination overlap\|Argument\|.* are \(definitely\|indirectly\) lost\)' "$log" | head -80
		failed=1
	fi
done
programs=$(ls "$out"/programs/*.log 2>/dev/null | wc -l)
echo "valgrind: $checked processes checked ($programs behind lighttpd: the programs and their forks; $children forked processes in all): $errors memory errors, $leaks definitely or indirectly lost blocks; details in build/valgrind/summary.txt"
if [ "$programs" -eq 0 ]; then
	echo "valgrind: no program ran under valgrind"
	failed=1
fi
[ "$failed" -eq 0 ] && echo "valgrind: clean" || echo "valgrind: FAILED"
exit "$failed"
