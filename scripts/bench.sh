#!/bin/sh
# `make bench`: tests/bench/bench.js on the built tree (make bench installs
# wrk and builds first). The table goes to the terminal and, with the raw
# wrk outputs, to bench-results.txt (git-ignored). Environment:
#   BENCH_SECONDS (10)  measured seconds per row, after BENCH_WARMUP (2)
#   BENCH_PROCS (2)     processes per program (lighttpd max-procs)
#   BENCH_THREADS (2), BENCH_CONNECTIONS (16)  wrk -t and -c
#   BENCH_OUT           where to write the results
# Everything runs on 127.0.0.1 and is stopped on exit, Ctrl-C included.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec node "$root/tests/bench/bench.js"
