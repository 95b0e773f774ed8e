/*
 * log.c: one line per event on stderr. See log.h.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

/* A log line longer than this is cut; the cut is marked with "...". */
#define LOG_LINE_MAX 2048

static const char *log_prog = "kvgate";
static enum log_level log_max = LOG_LEVEL_INFO;

void log_init(const char *progname)
{
	const char *lvl = getenv("KVGATE_LOG_LEVEL");

	log_prog = progname;
	if (lvl == NULL)
		return;
	if (strcasecmp(lvl, "debug") == 0)
		log_max = LOG_LEVEL_DEBUG;
	else if (strcasecmp(lvl, "info") == 0)
		log_max = LOG_LEVEL_INFO;
	else if (strcasecmp(lvl, "warn") == 0)
		log_max = LOG_LEVEL_WARN;
	else if (strcasecmp(lvl, "error") == 0)
		log_max = LOG_LEVEL_ERROR;
}

void log_set_level(enum log_level level)
{
	log_max = level;
}

bool log_enabled(enum log_level level)
{
	return level <= log_max;
}

/*
 * Format the message, escape every byte outside printable ASCII as \xNN (so
 * that a header quoted in a message cannot start a new line or smuggle
 * terminal escapes), and write the line with a single write(2) so that lines
 * of concurrent processes do not interleave.
 */
static void log_emit(enum log_level level, const char *fmt, va_list ap)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];
	size_t n, i, o;
	int h;

	if (level > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	h = snprintf(line, sizeof(line), "kvgate[%s %ld]: %s: ", log_prog, (long)getpid(),
	             names[level]);
	if (h < 0)
		return;
	o = (size_t)h;
	n = strlen(msg);
	for (i = 0; i < n && o + 8 < sizeof(line); i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			line[o++] = (char)c;
		} else {
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\x%02x", c);
		}
	}
	if (i < n || n == sizeof(msg) - 1) {
		memcpy(line + o, "...", 3);
		o += 3;
	}
	line[o++] = '\n';
	(void)!write(STDERR_FILENO, line, o);
}

#define LOG_FN(fn, level)                                                                          \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(level, fmt, ap);                                                          \
		va_end(ap);                                                                        \
	}

LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
