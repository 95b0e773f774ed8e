/*
 * audit.c: the JSON audit line. See audit.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A JSON string (or null): printable ASCII kept, '"' and '\' escaped,
 * anything else \u00XX, at most AUDIT_FIELD_MAX input bytes. */
static void str(struct out *o, const char *key, const char *v)
{
	char esc[8];

	puts_(o, ",\"");
	puts_(o, key);
	puts_(o, "\":");
	if (v == NULL) {
		puts_(o, "null");
		return;
	}
	put(o, "\"", 1);
	for (size_t i = 0; v[i] != '\0' && i < AUDIT_FIELD_MAX; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(o, esc, 6);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	put(o, "\"", 1);
}

static void num(struct out *o, const char *key, long v)
{
	char b[32];

	if (v < 0)
		snprintf(b, sizeof(b), ",\"%s\":null", key);
	else
		snprintf(b, sizeof(b), ",\"%s\":%ld", key, v);
	puts_(o, b);
}

size_t audit_format(const struct audit_record *r, char *out, size_t len)
{
	struct out o = {.p = out, .len = len};
	struct timespec ts;
	struct tm tm;
	char when[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	puts_(&o, "{\"audit\":\"kvgate\"");
	str(&o, "time", when);
	str(&o, "request_id", r->request_id);
	str(&o, "program", r->program);
	num(&o, "pid", (long)getpid());
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
	puts_(&o, "}\n");
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

void audit_request_id(char *out)
{
	unsigned char b[16];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(b) && (n = getrandom(b + got, sizeof(b) - got, 0)) > 0)
		got += (size_t)n;
	if (got < sizeof(b)) {
		/* Cannot happen on Linux >= 3.17; an id need not be secret. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts, sizeof(ts) < sizeof(b) ? sizeof(ts) : sizeof(b));
		b[15] ^= (unsigned char)getpid();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, AUDIT_REQUEST_ID_LEN + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	         b[15]);
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
