#!/bin/sh
# `make bench`: tests/bench/bench.js on the built tree (make bench installs
# wrk and builds first). The node + SDK row needs the pinned Azure SDK in
# tests/node_modules (scripts/npm-deps.sh, run by make test, installs it);
# without it the row is skipped with a note. The table and the targets of issue 6 go to
# the terminal and, with every process's memory and the raw wrk outputs, to
# bench-results.txt (git-ignored). Environment:
#   BENCH_SECONDS (10)  measured seconds per row, after BENCH_WARMUP (2)
#                       (the hot-secret row runs at least 10 s)
#   BENCH_PROCS (2)     processes per program (lighttpd max-procs); the
#                       hot-secret row always runs 8
#   BENCH_THREADS (2), BENCH_CONNECTIONS (16)  wrk -t and -c
#   BENCH_LONG (1)      0 skips the RSS-flat row (200k requests per process)
#   BENCH_COLD_RUNS (5) cold starts measured (the median is reported)
#   BENCH_CACHE_EXTRA   [cache] keys besides ttl for every generated policy,
#                       e.g. "shared=false max_entries=1024"
#   BENCH_OUT           where to write the results
# Everything runs on 127.0.0.1 and is stopped on exit, Ctrl-C included.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec node "$root/tests/bench/bench.js"
