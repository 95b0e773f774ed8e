/*
 * tap.h: the few lines of TAP every unit test program prints.
 *
 * ok(cond, fmt, ...) prints "ok N - what" or "not ok N - what" and counts;
 * tap_done() prints the plan and returns the exit status (1 on any failure).
 * tests/run.sh counts the "ok" / "not ok" lines of every program.
 */
#ifndef KVGATE_TAP_H
#define KVGATE_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
