# kvgate — `make soak` (included by the top Makefile).
#
# `make soak` builds the programs, then runs tests/soak/soak.js: the dev
# vault and lighttpd (two processes per program, cache on with a short ttl),
# SOAK_REQUESTS mixed requests (default 200000) from SOAK_CONCURRENCY
# keep-alive clients while dev vault faults are toggled on and off at random.
# It fails on any unexpected answer, a program process that died, open fds
# that grew or RSS that grew past SOAK_RSS_MARGIN_KB, and writes its report
# to soak-results.txt. Not part of `make test`. The other knobs
# (SOAK_PROCS, SOAK_FAULT_MS, SOAK_TTL, SOAK_SEED, SOAK_SERVER) are read from
# the environment; see the top of tests/soak/soak.js.

SOAK_REQUESTS    ?= 200000
SOAK_CONCURRENCY ?= 16

soak:
	@scripts/deps.sh --test
	@$(MAKE) --no-print-directory all
	@SOAK_REQUESTS=$(SOAK_REQUESTS) SOAK_CONCURRENCY=$(SOAK_CONCURRENCY) node tests/soak/soak.js
