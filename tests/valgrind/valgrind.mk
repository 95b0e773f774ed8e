# kvgate — `make valgrind` (included by the top Makefile).
#
# valgrind's memcheck over every unit test, and over the three FastCGI
# programs behind lighttpd while VALGRIND_REQUESTS requests (default 2000)
# go to each, VALGRIND_PROCS processes per program (default 2); the programs
# are then stopped with SIGTERM, as lighttpd and mod_fcgid retire them, and
# valgrind reports. Fails on any error and on any definitely or indirectly
# lost block (tests/valgrind/run.sh). Installs valgrind when it is missing
# (scripts/deps.sh --valgrind). Logs and build/valgrind/summary.txt land in
# build/valgrind/.
#
# valgrind cannot watch a sanitized program: the build here is the plain one
# (SANITIZE= empty), rebuilt if the last build was sanitized.

VALGRIND_REQUESTS ?= 2000
VALGRIND_PROCS    ?= 2

valgrind:
	@scripts/deps.sh --valgrind
	@$(MAKE) --no-print-directory SANITIZE= all $(UNIT_BIN)
	@tests/valgrind/run.sh $(VALGRIND_REQUESTS) $(VALGRIND_PROCS) $(UNIT_BIN)
