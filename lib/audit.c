/*
 * audit.c: the JSON audit line. See audit.h.
 *
 * Written once per request, so it is on the path of a cached answer: no
 * stdio formatting, the time's date part formatted once a second, the pid
 * read once, and request ids cut from a pool of random bytes refilled by
 * one getrandom(2) every 256 ids instead of one call each.
 */
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ascii.h"
#include "audit.h"

/* A bounded writer: once full, everything after is dropped and the line
 * is refused. */
struct out {
	char *p;
	size_t len, n;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->n + n >= o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static const char hex[] = "0123456789abcdef";

/* The key of a field: ,"key": */
static void key(struct out *o, const char *k)
{
	PUT_LIT(o, ",\"");
	puts_(o, k);
	PUT_LIT(o, "\":");
}

/* Bytes written as they are inside a JSON string: printable ASCII but for
 * '"' and '\'. */
static int plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* A JSON string (or null): printable ASCII kept, '"' and '\' escaped,
 * anything else \u00XX, at most AUDIT_FIELD_MAX input bytes. */
static void str(struct out *o, const char *k, const char *v)
{
	size_t i = 0, run;

	key(o, k);
	if (v == NULL) {
		PUT_LIT(o, "null");
		return;
	}
	PUT_LIT(o, "\"");
	while (v[i] != '\0' && i < AUDIT_FIELD_MAX) {
		unsigned char c = (unsigned char)v[i];

		for (run = i;
		     v[run] != '\0' && run < AUDIT_FIELD_MAX && plain((unsigned char)v[run]);)
			run++;
		if (run > i) {
			put(o, v + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};

			put(o, esc, 2);
		} else {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

			put(o, esc, 6);
		}
		i++;
	}
	PUT_LIT(o, "\"");
}

static void num(struct out *o, const char *k, long v)
{
	char b[ASCII_DECIMAL_MAX];

	key(o, k);
	if (v < 0)
		PUT_LIT(o, "null");
	else
		put(o, b, ascii_decimal((unsigned long)v, b));
}

/* v as exactly width digits (v < 10^width). */
static void digits(char *b, unsigned v, int width)
{
	while (width-- > 0) {
		b[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" for now into b (AUDIT_TIME_LEN + 1 bytes). The
 * part up to the seconds changes once a second: it is kept. */
#define AUDIT_TIME_LEN 24
static void now_text(char *b)
{
	static time_t sec = (time_t)-1;
	static char cached[AUDIT_TIME_LEN + 1];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != sec) {
		struct tm tm;

		gmtime_r(&ts.tv_sec, &tm);
		/* Years past 9999 are not this program's problem; the
		 * field stays four digits wide all the same. */
		digits(cached, (unsigned)(tm.tm_year + 1900) % 10000, 4);
		cached[4] = '-';
		digits(cached + 5, (unsigned)tm.tm_mon + 1, 2);
		cached[7] = '-';
		digits(cached + 8, (unsigned)tm.tm_mday, 2);
		cached[10] = 'T';
		digits(cached + 11, (unsigned)tm.tm_hour, 2);
		cached[13] = ':';
		digits(cached + 14, (unsigned)tm.tm_min, 2);
		cached[16] = ':';
		digits(cached + 17, (unsigned)tm.tm_sec, 2);
		cached[19] = '.';
		cached[23] = 'Z';
		cached[24] = '\0';
		sec = ts.tv_sec;
	}
	memcpy(b, cached, sizeof(cached));
	digits(b + 20, (unsigned)(ts.tv_nsec / 1000000), 3);
}

/* The process's id, read once: the programs never fork. */
static long my_pid(void)
{
	static pid_t pid;

	if (pid == 0)
		pid = getpid();
	return (long)pid;
}

size_t audit_format(const struct audit_record *r, char *out, size_t len)
{
	struct out o = {.p = out, .len = len};
	char when[AUDIT_TIME_LEN + 1];

	now_text(when);
	PUT_LIT(&o, "{\"audit\":\"kvgate\"");
	str(&o, "time", when);
	str(&o, "request_id", r->request_id);
	str(&o, "program", r->program);
	num(&o, "pid", my_pid());
	str(&o, "method", r->method);
	str(&o, "route", r->route);
	str(&o, "secret", r->secret);
	str(&o, "version", r->version);
	str(&o, "caller", r->caller);
	str(&o, "caller_name", r->caller_name);
	str(&o, "auth", r->auth);
	num(&o, "grants", r->grants);
	str(&o, "client", r->client);
	str(&o, "origin", r->origin);
	str(&o, "decision", r->decision);
	num(&o, "status", r->status);
	str(&o, "cache", r->cache);
	num(&o, "upstream_ms", r->upstream_ms);
	num(&o, "duration_ms", r->duration_ms);
	num(&o, "items", r->items);
	str(&o, "client_request_id", r->client_request_id);
	str(&o, "reason", r->reason);
	PUT_LIT(&o, "}\n");
	if (o.full)
		return 0;
	out[o.n] = '\0';
	return o.n;
}

void audit_write(const struct audit_record *r)
{
	char line[AUDIT_LINE_MAX];
	size_t n = audit_format(r, line, sizeof(line));

	if (n > 0)
		(void)!write(STDERR_FILENO, line, n);
}

/* Random bytes for request ids, drawn 4 KiB at a time: 256 ids a call. */
static void random_bytes(unsigned char *out, size_t n)
{
	static unsigned char pool[4096];
	static size_t left;

	if (left < n) {
		size_t got = 0;
		ssize_t k;

		while (got < sizeof(pool) && (k = getrandom(pool + got, sizeof(pool) - got, 0)) > 0)
			got += (size_t)k;
		if (got < sizeof(pool)) {
			/* Cannot happen on Linux >= 3.17; an id need not be
			 * secret, only unlikely to repeat: splitmix64 over the
			 * clock and the pid. */
			struct timespec ts;
			uint64_t x;

			clock_gettime(CLOCK_REALTIME, &ts);
			x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
			    ((uint64_t)my_pid() << 40);
			for (size_t i = got; i < sizeof(pool); i++) {
				uint64_t z = (x += 0x9e3779b97f4a7c15u);

				z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
				z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
				pool[i] = (unsigned char)(z ^ (z >> 31));
			}
		}
		left = sizeof(pool);
	}
	left -= n;
	memcpy(out, pool + left, n);
}

void audit_request_id(char *out)
{
	unsigned char b[16];
	size_t j = 0;

	random_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[b[i] >> 4];
		out[j++] = hex[b[i] & 15];
	}
	out[j] = '\0';
}
const char *audit_cache(const char *cs)
{
	if (cs == NULL || cs[0] == '\0')
		return NULL;
	if (strstr(cs, "detail=negative") != NULL)
		return "negative";
	if (strstr(cs, "stale-if-error") != NULL)
		return "stale";
	if (strstr(cs, "; hit") != NULL)
		return "hit";
	if (strstr(cs, "fwd=bypass") != NULL)
		return "bypass";
	return "miss";
}
