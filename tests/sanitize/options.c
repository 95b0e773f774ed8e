/*
 * options.c: the run-time options of a sanitized build (`make test
 * SANITIZE=address,undefined`), linked into every program and unit test of
 * that build only.
 *
 * The options are compiled in rather than passed in ASAN_OPTIONS, because the
 * programs run under a web server that chooses their environment: lighttpd
 * copies only the variables etc/lighttpd/kvgate.conf lists, and mod_fcgid
 * only its FcgidInitialEnv ones. A variable that does reach a program still
 * overrides these (the runtimes read it after the defaults).
 *
 * - Any finding is fatal (halt_on_error; -fno-sanitize-recover=all at
 *   compile time makes UBSan's checks so too) and aborts, so the web server
 *   logs a crashed program and a unit test fails on its own.
 * - Reports go to files, SANITIZER_LOG_DIR/{asan,ubsan}.PID (build/sanitizer/),
 *   not to stderr: a program's stderr is the web server's error log, some
 *   tests compare a program's stderr, and a file is found whoever ran the
 *   program. tests/run.sh fails the run when that directory holds any report.
 *   With gcc, UBSan next to ASan runs as ASan's plug-in and ignores its
 *   log_path (its reports would go to stderr): the constructor below hands
 *   the path to gcc's UBSan runtime itself. clang's single runtime needs
 *   nothing more.
 * - strict_string_checks stays off: it flags strndup() of a buffer that is
 *   not NUL-terminated (tests/unit/test_jwt.c does that with a BIO's bytes),
 *   which is correct C.
 * - LeakSanitizer stays on (the default with ASan): it checks at every normal
 *   exit, which covers the unit tests, the plain CGI and --check runs and a
 *   program stopped in the middle of a request. A FastCGI program stopped
 *   between requests (SIGTERM: how lighttpd and mod_fcgid retire it) leaves
 *   with _exit() from its signal handler, where LeakSanitizer does not run;
 *   `make valgrind` covers those processes instead (valgrind checks for
 *   leaks at _exit() too).
 */
#include <dlfcn.h>
#include <stddef.h>

#ifndef SANITIZER_LOG_DIR
#error "SANITIZER_LOG_DIR must name the directory for sanitizer reports"
#endif

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1:detect_leaks=1:"
	       "detect_stack_use_after_return=1:check_initialization_order=1:"
	       "log_path=" SANITIZER_LOG_DIR "/asan";
}

const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1:print_stacktrace=1:"
	       "log_path=" SANITIZER_LOG_DIR "/ubsan";
}

/* gcc's libubsan, when loaded, writes its reports under the same directory
 * (see above). */
__attribute__((constructor)) static void ubsan_report_path(void)
{
	void (*set)(const char *) = NULL;
	void *h = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);

	if (h != NULL)
		*(void **)&set = dlsym(h, "__sanitizer_set_report_path");
	if (set != NULL)
		set(SANITIZER_LOG_DIR "/ubsan");
}
