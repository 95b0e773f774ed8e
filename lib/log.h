/*
 * log: one line per event on stderr, which the web server puts in its error
 * log. Lines look like `kvgate[get-secret 1234]: error: message`.
 *
 * Control characters and non-ASCII bytes in a message are escaped (\xNN), so
 * a hostile header can never forge or split a log line. Never pass a secret
 * value, a token or a client secret to these functions.
 */
#ifndef KVGATE_LOG_H
#define KVGATE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Name the program in every line; call once at start. */
void log_init(const char *progname);

/* Lines above this level are dropped (default LOG_LEVEL_INFO; the
 * environment variable KVGATE_LOG_LEVEL=debug|info|warn|error overrides). */
void log_set_level(enum log_level level);

/* Whether lines of this level are written. */
bool log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
