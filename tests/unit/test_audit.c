/*
 * test_audit: the JSON audit line (lib/audit.c). Pins that every line is
 * one valid JSON object whatever the fields hold (quotes, backslashes,
 * control bytes, non-ASCII, over-long values), that absent fields are
 * null, that a line that does not fit is refused whole, the request id's
 * UUID v4 shape, and the cache field read from Cache-Status.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"
#include "tap.h"

/* The line parsed as one JSON object, or NULL: it must be the object and
 * its newline, nothing before or after. */
static struct json_object *parse(const char *line)
{
	size_t n = strlen(line);
	struct json_tokener *tok;
	struct json_object *o;

	if (n < 3 || line[n - 1] != '\n' || line[n - 2] != '}' || line[0] != '{')
		return NULL;
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, line, (int)(n - 1));
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n - 1) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *field(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static void test_fields(void)
{
	struct audit_record r;
	char line[AUDIT_LINE_MAX];
	struct json_object *o;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.request_id = "0b8e1a52-7c1e-4c53-9a5e-6d7b1f0e2a11";
	r.program = "get-secret";
	r.method = "GET";
	r.route = "get";
	r.secret = "spa-config";
	r.caller = "key:spa-prod";
	r.grants = 2;
	r.client = "203.0.113.9";
	r.origin = "https://app.example.com";
	r.decision = "allow";
	r.status = 200;
	r.cache = "hit";
	r.upstream_ms = 0;
	r.duration_ms = 3;
	r.items = -1;
	n = audit_format(&r, line, sizeof(line));
	o = parse(line);
	ok(n == strlen(line) && n > 0 && line[n - 1] == '\n' && strchr(line, '\n') == line + n - 1,
	   "one line, ending in a newline");
	ok(o != NULL, "valid JSON: %.*s", (int)(n > 0 ? n - 1 : 0), line);
	ok(o != NULL && strcmp(field(o, "audit"), "kvgate") == 0 &&
	       strcmp(field(o, "secret"), "spa-config") == 0 &&
	       strcmp(field(o, "caller"), "key:spa-prod") == 0 &&
	       strcmp(field(o, "grants"), "2") == 0 && strcmp(field(o, "status"), "200") == 0 &&
	       strcmp(field(o, "upstream_ms"), "0") == 0,
	   "fields as given");
	ok(o != NULL && field(o, "version") == NULL && field(o, "items") == NULL &&
	       field(o, "reason") == NULL && field(o, "caller_name") == NULL,
	   "absent strings and negative numbers are null");
	ok(o != NULL && field(o, "time") != NULL && strlen(field(o, "time")) == 24 &&
	       field(o, "time")[23] == 'Z',
	   "time is RFC 3339 UTC with milliseconds");
	json_object_put(o);
}

static void test_hostile(void)
{
	struct audit_record r;
	char line[AUDIT_LINE_MAX], big[2000];
	struct json_object *o;
	const char *v;

	memset(&r, 0, sizeof(r));
	r.origin = "x\"}\n{\"audit\":\"forged\"\\\x01\x7f\xc3\xa9";
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r.client_request_id = big;
	ok(audit_format(&r, line, sizeof(line)) > 0, "formatted");
	o = parse(line);
	ok(o != NULL, "quotes, a newline, a backslash, control and non-ASCII bytes stay inside "
	              "their string: one valid object");
	v = o ? field(o, "origin") : NULL;
	ok(v != NULL && strncmp(v, "x\"}\n{\"audit\":\"forged\"\\\x01\x7f", 24) == 0,
	   "and read back as they were (non-ASCII bytes as \\u00XX)");
	ok(strchr(line, '\x01') == NULL && strchr(line, '\x7f') == NULL &&
	       strchr(line, '\xc3') == NULL,
	   "no raw control or non-ASCII byte in the line");
	v = o ? field(o, "client_request_id") : NULL;
	ok(v != NULL && strlen(v) == AUDIT_FIELD_MAX, "a long value is cut at %d bytes",
	   AUDIT_FIELD_MAX);
	json_object_put(o);
	ok(audit_format(&r, line, 100) == 0, "a line that does not fit is refused whole");
}

static void test_request_id(void)
{
	char a[AUDIT_REQUEST_ID_LEN + 1], b[AUDIT_REQUEST_ID_LEN + 1];
	bool shape = true;

	audit_request_id(a);
	audit_request_id(b);
	for (int i = 0; i < AUDIT_REQUEST_ID_LEN; i++)
		shape =
		    shape && ((i == 8 || i == 13 || i == 18 || i == 23)
		                  ? a[i] == '-'
		                  : ((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f')));
	ok(shape && strlen(a) == 36 && a[14] == '4' && strchr("89ab", a[19]) != NULL,
	   "a lower-case UUID v4: %s", a);
	ok(strcmp(a, b) != 0, "a new one each time");
}

/* Ids are cut from a pool of random bytes refilled every 256: across
 * several refills each is well formed and none repeats. */
static void test_request_ids_many(void)
{
	enum { N = 1000 };
	static char ids[N][AUDIT_REQUEST_ID_LEN + 1];
	bool shape = true, unique = true;

	for (int i = 0; i < N; i++) {
		audit_request_id(ids[i]);
		shape = shape && strlen(ids[i]) == 36 && ids[i][14] == '4' &&
		        strchr("89ab", ids[i][19]) != NULL && ids[i][8] == '-' && ids[i][23] == '-';
	}
	for (int i = 0; i < N && unique; i++)
		for (int j = i + 1; j < N && unique; j++)
			unique = strcmp(ids[i], ids[j]) != 0;
	ok(shape, "%d ids in a row, over several refills of the random pool, are UUID v4", N);
	ok(unique, "and no two are the same");
}

/* The time field is the clock's, to the millisecond, with the date part
 * (kept for a second at a time) right across a second's change; pid and
 * numbers are plain decimals. */
static void test_time_and_numbers(void)
{
	struct audit_record r;
	char line[AUDIT_LINE_MAX], want[32], pid[24];
	struct json_object *o;
	struct timespec ts;
	struct tm tm;
	const char *t;
	time_t last = 0;
	bool same = true;

	memset(&r, 0, sizeof(r));
	r.status = 404;
	r.upstream_ms = 1234567890;
	r.duration_ms = 0;
	r.grants = 10;
	r.items = 25;
	/* A line each millisecond until the second has changed twice. */
	for (int i = 0, changes = 0; changes < 2 && same; i++) {
		/* Read the clock around the line: the field's second must be
		 * one of those read. */
		time_t before, after;

		/* CLOCK_REALTIME as the line reads it: time(2) is the coarse
		 * clock, which lags it by up to a tick. */
		clock_gettime(CLOCK_REALTIME, &ts);
		before = ts.tv_sec;
		audit_format(&r, line, sizeof(line));
		clock_gettime(CLOCK_REALTIME, &ts);
		after = ts.tv_sec;
		o = parse(line);
		t = o ? field(o, "time") : NULL;
		same = t != NULL && strlen(t) == 24;
		for (time_t sec = before; same; sec++) {
			gmtime_r(&sec, &tm);
			strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S.", &tm);
			if (strncmp(t, want, 20) == 0)
				break;
			if (sec == after)
				same = false;
		}
		same = same && t[20] >= '0' && t[20] <= '9' && t[21] >= '0' && t[21] <= '9' &&
		       t[22] >= '0' && t[22] <= '9' && t[23] == 'Z';
		if (same && i == 0) {
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
			ok(strcmp(field(o, "pid"), pid) == 0 &&
			       strcmp(field(o, "status"), "404") == 0 &&
			       strcmp(field(o, "upstream_ms"), "1234567890") == 0 &&
			       strcmp(field(o, "duration_ms"), "0") == 0 &&
			       strcmp(field(o, "grants"), "10") == 0 &&
			       strcmp(field(o, "items"), "25") == 0,
			   "pid and numbers in decimal (0 included)");
		}
		json_object_put(o);
		if (i > 0 && after != last)
			changes++;
		last = after;
		ts.tv_sec = 0;
		ts.tv_nsec = 1000 * 1000;
		nanosleep(&ts, NULL);
	}
	if (!same)
		printf("# time %s, wanted %s\n", t ? t : "(none)", want);
	ok(same, "the time field is the clock's, second by second, with three digits of "
	         "milliseconds");
}

static void test_cache(void)
{
	ok(audit_cache(NULL) == NULL && audit_cache("") == NULL, "no Cache-Status: null");
	ok(strcmp(audit_cache("kvgate; hit; ttl=59"), "hit") == 0, "hit");
	ok(strcmp(audit_cache("kvgate; fwd=miss; stored"), "miss") == 0, "miss");
	ok(strcmp(audit_cache("kvgate; hit; detail=negative"), "negative") == 0, "negative");
	ok(strcmp(audit_cache("kvgate; hit; ttl=-3; fwd=stale; detail=stale-if-error"), "stale") ==
	       0,
	   "stale");
	ok(strcmp(audit_cache("kvgate; fwd=bypass"), "bypass") == 0, "bypass");
}

int main(void)
{
	test_fields();
	test_hostile();
	test_request_id();
	test_request_ids_many();
	test_time_and_numbers();
	test_cache();
	return tap_done();
}
