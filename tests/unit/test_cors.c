/*
 * test_cors: CORS verdicts and headers (lib/cors.c).
 *
 * These pin down the rules cors.h states: origins compared byte for byte on
 * their serialized form, the gateway's own origin always allowed, no
 * Access-Control-* header at all on a refusal, methods case-sensitive,
 * headers case-insensitive and all-or-nothing, `*` never covering
 * Authorization, nothing reflected that was not both requested and allowed,
 * Vary always, and bounded work on hostile Access-Control-Request-Headers.
 * Policies are built directly as struct policy_cors.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cors.h"
#include "tap.h"

/* malloc or die: a test has no use for a NULL. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/* A policy_cors from INI-style list strings. */
static void policy(struct policy_cors *c, const char *origins, const char *methods,
                   const char *headers, const char *expose, bool credentials, long max_age)
{
	memset(c, 0, sizeof(*c));
	strlist_parse(origins, &c->allowed_origins);
	strlist_parse(methods, &c->allowed_methods);
	strlist_parse(headers, &c->allowed_headers);
	strlist_parse(expose, &c->expose_headers);
	c->any_origin = strlist_contains(&c->allowed_origins, "*");
	c->any_header = strlist_contains(&c->allowed_headers, "*");
	c->allow_credentials = credentials;
	c->max_age = max_age;
}

static void policy_done(struct policy_cors *c)
{
	strlist_free(&c->allowed_origins);
	strlist_free(&c->allowed_methods);
	strlist_free(&c->allowed_headers);
	strlist_free(&c->expose_headers);
}

/* Whether r holds no Access-Control-* header. */
static bool no_ac(const struct response *r)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strncasecmp(r->headers[i].name, "Access-Control-", 15) == 0)
			return false;
	return true;
}

/* The value of header name in r, or "" when absent (never NULL, for strcmp). */
static const char *h(const struct response *r, const char *name)
{
	const char *v = response_get_header(r, name);

	return v != NULL ? v : "";
}

static bool has(const struct response *r, const char *name)
{
	return response_get_header(r, name) != NULL;
}

static const char *vary(const struct response *r)
{
	return r->vary.data != NULL ? r->vary.data : "";
}

#define PREFLIGHT_VARY "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

/* s with control and non-ASCII bytes escaped, for a one-line test name. */
static const char *printable(const char *s)
{
	static char out[1024];
	size_t o = 0;

	for (; *s != '\0' && o + 5 < sizeof(out); s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return out;
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void test_origin_valid(void)
{
	static const char *good[] = {
	    "http://127.0.0.1:8081",
	    "https://spa.example.com",
	    "http://[::1]:8080",
	    "http://[::1]",
	    "https://[2001:db8::1]:8443",
	    "http://localhost",
	    "http://localhost:1",
	    "http://localhost:65535",
	    "https://a-b.c-d.example:8443",
	    "http://x:443",
	    "https://x:80",
	    "https://xn--caf-dma.example",
	};
	static const char *bad[] = {
	    "https://spa.example.com/",
	    "https://spa.example.com/app",
	    "https://spa.example.com:8443/",
	    "https://user@spa.example.com",
	    "https://user:pw@spa.example.com",
	    "https://spa.example.com:443",
	    "http://spa.example.com:80",
	    "https://[::1]:443",
	    "http://[::1]:80",
	    "https://SPA.example.com",
	    "https://Spa.example.com",
	    "HTTPS://spa.example.com",
	    "Https://spa.example.com",
	    "null",
	    "*",
	    "",
	    "http://localhost:0",
	    "http://localhost:00",
	    "http://localhost:65536",
	    "http://localhost:99999",
	    "http://localhost:123456",
	    "http://localhost:08080",
	    "http://localhost:080",
	    "http://localhost:",
	    "http://localhost:-1",
	    "http://localhost:+80",
	    "http://localhost:8080x",
	    "https://a.example, https://b.example",
	    "https://a.example,https://b.example",
	    "https://a.example https://b.example",
	    " https://spa.example.com",
	    "https://spa.example.com ",
	    "https://spa.example.com\t",
	    "https://spa .example.com",
	    "ftp://spa.example.com",
	    "file://",
	    "chrome-extension://abcdef",
	    "ws://spa.example.com",
	    "//spa.example.com",
	    "spa.example.com",
	    "http:/spa.example.com",
	    "http://",
	    "https://",
	    "http://:8080",
	    "https://-spa.example.com",
	    "https://spa-.example.com",
	    "https://spa.example-",
	    "https://spa..example.com",
	    "https://.spa.example.com",
	    "https://spa_x.example.com",
	    "https://caf\xc3\xa9.example",
	    "https://spa.example.com?x=1",
	    "https://spa.example.com#x",
	    "https://spa.example.com\r\nX: y",
	    "http://[::1",
	    "http://[]",
	    "http://[::1]x",
	    "http://[::1]:0",
	    "http://[::1]:",
	    "http://[::g]",
	    "http://[::1]/",
	    "http://::1",
	    "http://[fe80::1%25eth0]",
	};
	char label64[128], host254[300], o[400], *big;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(cors_origin_valid(good[i]), "cors_origin_valid accepts %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!cors_origin_valid(bad[i]), "cors_origin_valid refuses '%s'", printable(bad[i]));
	ok(!cors_origin_valid(NULL), "cors_origin_valid refuses NULL");

	/* DNS limits: labels of at most 63, hosts of at most 253. */
	memset(label64, 'a', 63);
	label64[63] = '\0';
	snprintf(o, sizeof(o), "https://%s.example", label64);
	ok(cors_origin_valid(o), "a 63-character label is accepted");
	memset(label64, 'a', 64);
	label64[64] = '\0';
	snprintf(o, sizeof(o), "https://%s.example", label64);
	ok(!cors_origin_valid(o), "a 64-character label is refused");
	/* 253 = 3 * 63 + 61 + 3 dots */
	memset(host254, 'a', sizeof(host254));
	host254[63] = host254[127] = host254[191] = '.';
	host254[253] = '\0';
	snprintf(o, sizeof(o), "https://%s", host254);
	ok(cors_origin_valid(o), "a 253-character host is accepted");
	host254[253] = 'a';
	host254[254] = '\0';
	snprintf(o, sizeof(o), "https://%s", host254);
	ok(!cors_origin_valid(o), "a 254-character host is refused");

	big = xmalloc(CORS_ORIGIN_MAX + 64);
	snprintf(big, CORS_ORIGIN_MAX + 64, "https://");
	for (size_t n = strlen(big); n < CORS_ORIGIN_MAX + 10; n += 2)
		strcat(big, "a.");
	strcat(big, "a");
	ok(strlen(big) > CORS_ORIGIN_MAX && !cors_origin_valid(big),
	   "an origin over CORS_ORIGIN_MAX bytes is refused");
	free(big);
}

static void test_origin_allowed(void)
{
	struct policy_cors c;

	policy(&c, "https://spa.example.com, http://127.0.0.1:8081", "GET HEAD", "", "", false,
	       600);
	ok(cors_origin_allowed(&c, "https://spa.example.com", NULL), "a listed origin is allowed");
	ok(cors_origin_allowed(&c, "http://127.0.0.1:8081", NULL),
	   "the second listed origin is allowed");
	ok(!cors_origin_allowed(&c, "https://evil.example", NULL), "an unlisted origin is not");
	ok(!cors_origin_allowed(&c, "http://spa.example.com", NULL),
	   "the same host over http is another origin");
	ok(!cors_origin_allowed(&c, "https://spa.example.com:8443", NULL),
	   "the same host on another port is another origin");
	ok(!cors_origin_allowed(&c, "http://127.0.0.1:8082", NULL),
	   "the same IP on another port is another origin");
	ok(!cors_origin_allowed(&c, "https://spa.example.co", NULL), "a prefix is not a match");
	ok(!cors_origin_allowed(&c, "https://spa.example.com.evil.example", NULL),
	   "an extension of a listed origin is not a match");
	ok(!cors_origin_allowed(&c, "https://evil-spa.example.com", NULL),
	   "a look-alike host is not a match");
	ok(!cors_origin_allowed(&c, "https://SPA.example.com", NULL),
	   "upper case is not the serialized origin and does not match");
	ok(!cors_origin_allowed(&c, "https://spa.example.com/", NULL),
	   "a trailing slash does not match");
	ok(!cors_origin_allowed(&c, "null", NULL), "the opaque origin 'null' is not allowed");
	ok(cors_origin_allowed(&c, "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
	   "the gateway's own origin is always allowed");
	ok(!cors_origin_allowed(&c, "http://127.0.0.1:8080", "http://127.0.0.1:9090"),
	   "another self origin does not allow this one");
	ok(!cors_origin_allowed(&c, "null", "null"),
	   "'null' is refused even when it equals the self origin");
	ok(!cors_origin_allowed(&c, "https://spa.example.com/x", "https://spa.example.com/x"),
	   "a malformed origin is refused even when it equals the self origin");
	policy_done(&c);

	policy(&c, "", "GET", "", "", false, 0);
	ok(!cors_origin_allowed(&c, "https://spa.example.com", NULL),
	   "an empty allowlist allows nothing");
	ok(cors_origin_allowed(&c, "https://gw.example", "https://gw.example"),
	   "an empty allowlist still allows the gateway's own origin");
	policy_done(&c);

	policy(&c, "*", "GET", "", "", false, 0);
	ok(cors_origin_allowed(&c, "https://anything.example", NULL), "'*' allows any origin");
	ok(cors_origin_allowed(&c, "http://[::1]:3000", NULL), "'*' allows an IPv6 origin");
	ok(!cors_origin_allowed(&c, "null", NULL), "'*' does not allow 'null'");
	ok(!cors_origin_allowed(&c, "https://x.example/", NULL),
	   "'*' does not allow a malformed origin");
	ok(!cors_origin_allowed(&c, "*", NULL), "'*' does not allow the origin '*'");
	policy_done(&c);
}

static void test_actual(void)
{
	struct policy_cors c;
	struct response r;

	policy(&c, "https://spa.example.com", "GET HEAD", "", "", false, 600);
	response_init(&r);
	ok(cors_actual(&c, NULL, "https://gw.example", &r) == CORS_NOT_CORS && no_ac(&r) &&
	       strcmp(vary(&r), "Origin") == 0,
	   "no Origin: not CORS, no Access-Control-*, Vary: Origin still set");
	response_free(&r);

	response_init(&r);
	ok(cors_actual(&c, "https://spa.example.com", NULL, &r) == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Origin"), "https://spa.example.com") == 0,
	   "allowed origin: ACAO echoes it");
	ok(!has(&r, "Access-Control-Allow-Credentials"),
	   "no Access-Control-Allow-Credentials without allow_credentials");
	ok(!has(&r, "Access-Control-Expose-Headers"), "no ACEH when expose_headers is empty");
	ok(!has(&r, "Access-Control-Allow-Methods") && !has(&r, "Access-Control-Max-Age"),
	   "an actual request gets no preflight headers");
	ok(strcmp(vary(&r), "Origin") == 0, "allowed origin: Vary: Origin");
	response_free(&r);

	response_init(&r);
	ok(cors_actual(&c, "https://evil.example", NULL, &r) == CORS_ORIGIN_DENIED && no_ac(&r) &&
	       strcmp(vary(&r), "Origin") == 0,
	   "denied origin: CORS_ORIGIN_DENIED, no Access-Control-* at all, Vary: Origin");
	response_free(&r);

	response_init(&r);
	ok(cors_actual(&c, "null", NULL, &r) == CORS_ORIGIN_DENIED && no_ac(&r),
	   "Origin: null is denied without Access-Control-*");
	response_free(&r);

	response_init(&r);
	ok(cors_actual(&c, "", NULL, &r) == CORS_ORIGIN_DENIED && no_ac(&r),
	   "an empty Origin is denied");
	response_free(&r);

	response_init(&r);
	ok(cors_actual(&c, "https://gw.example", "https://gw.example", &r) == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Origin"), "https://gw.example") == 0,
	   "the gateway's own origin gets ACAO");
	response_free(&r);

	response_init(&r);
	response_vary(&r, "Origin");
	cors_actual(&c, "https://spa.example.com", NULL, &r);
	cors_actual(&c, "https://spa.example.com", NULL, &r);
	ok(strcmp(vary(&r), "Origin") == 0 && r.nheaders == 1,
	   "calling twice keeps one Vary: Origin and one ACAO");
	response_free(&r);
	policy_done(&c);

	/* Credentials */
	policy(&c, "https://spa.example.com", "GET HEAD", "", "", true, 600);
	response_init(&r);
	ok(cors_actual(&c, "https://spa.example.com", NULL, &r) == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Origin"), "https://spa.example.com") == 0 &&
	       strcmp(h(&r, "Access-Control-Allow-Credentials"), "true") == 0,
	   "with credentials: ACAO echoes the origin and ACAC is 'true'");
	response_free(&r);
	response_init(&r);
	ok(cors_actual(&c, "https://evil.example", NULL, &r) == CORS_ORIGIN_DENIED && no_ac(&r),
	   "with credentials: a denied origin gets no ACAC either");
	response_free(&r);
	policy_done(&c);

	/* '*' */
	policy(&c, "*", "GET HEAD", "", "", false, 600);
	response_init(&r);
	ok(cors_actual(&c, "https://any.example", NULL, &r) == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Origin"), "*") == 0 &&
	       !has(&r, "Access-Control-Allow-Credentials"),
	   "'*' without credentials: ACAO is '*', no ACAC");
	ok(strcmp(vary(&r), "Origin") == 0, "'*': Vary: Origin all the same");
	response_free(&r);
	response_init(&r);
	ok(cors_actual(&c, "null", NULL, &r) == CORS_ORIGIN_DENIED && no_ac(&r),
	   "'*' still denies 'null'");
	response_free(&r);
	policy_done(&c);

	policy(&c, "*", "GET HEAD", "", "", true, 600);
	response_init(&r);
	ok(cors_actual(&c, "https://any.example", NULL, &r) == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Origin"), "https://any.example") == 0 &&
	       strcmp(h(&r, "Access-Control-Allow-Credentials"), "true") == 0,
	   "'*' with credentials: never ACAO '*' (browsers refuse it), the origin is echoed");
	response_free(&r);
	policy_done(&c);

	/* Expose headers */
	policy(&c, "https://spa.example.com", "GET", "", "ETag, x-ms-request-id Retry-After", false,
	       600);
	response_init(&r);
	ok(cors_actual(&c, "https://spa.example.com", NULL, &r) == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Expose-Headers"),
	              "ETag, x-ms-request-id, Retry-After") == 0,
	   "ACEH joins expose_headers with ', '");
	response_free(&r);
	response_init(&r);
	ok(cors_actual(&c, "https://evil.example", NULL, &r) == CORS_ORIGIN_DENIED && no_ac(&r),
	   "a denied origin gets no ACEH");
	response_free(&r);
	policy_done(&c);
}

static void test_preflight_verdicts(void)
{
	struct policy_cors c;
	struct response r;
	enum cors_verdict v;

	policy(&c, "https://spa.example.com", "GET HEAD", "Content-Type, X-Request-Id", "", false,
	       600);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", NULL, &r);
	ok(v == CORS_ALLOWED, "allowed origin and method: CORS_ALLOWED");
	ok(strcmp(h(&r, "Access-Control-Allow-Origin"), "https://spa.example.com") == 0,
	   "preflight: ACAO echoes the origin");
	ok(strcmp(h(&r, "Access-Control-Allow-Methods"), "GET, HEAD") == 0,
	   "preflight: ACAM lists the allowed methods joined with ', '");
	ok(strcmp(h(&r, "Access-Control-Max-Age"), "600") == 0,
	   "preflight: Max-Age from the policy");
	ok(!has(&r, "Access-Control-Allow-Headers"),
	   "preflight without requested headers: no ACAH (nothing to reflect)");
	ok(!has(&r, "Access-Control-Allow-Credentials"), "preflight: no ACAC without credentials");
	ok(strcmp(vary(&r), PREFLIGHT_VARY) == 0, "preflight allowed: Vary has all three tokens");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, NULL, NULL, "GET", NULL, &r);
	ok(v == CORS_NOT_CORS && no_ac(&r) && strcmp(vary(&r), PREFLIGHT_VARY) == 0,
	   "preflight without Origin: not CORS, Vary has all three tokens");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://evil.example", NULL, "GET", "content-type", &r);
	ok(v == CORS_ORIGIN_DENIED && no_ac(&r) && strcmp(vary(&r), PREFLIGHT_VARY) == 0,
	   "denied origin: CORS_ORIGIN_DENIED, no Access-Control-*, Vary has all three tokens");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "POST", NULL, &r);
	ok(v == CORS_METHOD_DENIED && no_ac(&r) && strcmp(vary(&r), PREFLIGHT_VARY) == 0,
	   "unlisted method POST: CORS_METHOD_DENIED, no Access-Control-*, Vary all three");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "get", NULL, &r);
	ok(v == CORS_METHOD_DENIED && no_ac(&r), "methods are case-sensitive: 'get' is not 'GET'");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "DELETE", NULL, &r);
	ok(v == CORS_METHOD_DENIED && no_ac(&r), "DELETE is refused");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "", NULL, &r);
	ok(v == CORS_METHOD_DENIED && no_ac(&r),
	   "an empty Access-Control-Request-Method is refused");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, NULL, NULL, &r);
	ok(v == CORS_METHOD_DENIED && no_ac(&r),
	   "a missing Access-Control-Request-Method is refused");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "content-type, x-evil", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r) && strcmp(vary(&r), PREFLIGHT_VARY) == 0,
	   "one unlisted header: CORS_HEADERS_DENIED (all or nothing), no Access-Control-*");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "POST", "x-evil", &r);
	ok(v == CORS_METHOD_DENIED && no_ac(&r), "method and header both bad: refused");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://gw.example", "https://gw.example", "HEAD", NULL, &r);
	ok(v == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Origin"), "https://gw.example") == 0,
	   "preflight from the gateway's own origin is allowed");
	response_free(&r);
	policy_done(&c);

	/* '*' methods: the methods the gateway serves, GET and HEAD. */
	policy(&c, "https://spa.example.com", "*", "", "", false, 0);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", NULL, &r);
	ok(v == CORS_ALLOWED && strcmp(h(&r, "Access-Control-Allow-Methods"), "GET, HEAD") == 0,
	   "'*' methods: GET allowed, ACAM is 'GET, HEAD' (never a literal '*')");
	ok(strcmp(h(&r, "Access-Control-Max-Age"), "0") == 0, "max_age 0 gives Max-Age: 0");
	response_free(&r);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "HEAD", NULL, &r);
	ok(v == CORS_ALLOWED, "'*' methods: HEAD allowed");
	response_free(&r);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "POST", NULL, &r);
	ok(v == CORS_METHOD_DENIED && no_ac(&r), "'*' methods: POST refused");
	response_free(&r);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "*", NULL, &r);
	ok(v == CORS_METHOD_DENIED && no_ac(&r),
	   "'*' methods: a request for the method '*' is refused ('*' stands for GET and HEAD, "
	   "and '*' is neither)");
	response_free(&r);
	policy_done(&c);

	/* Credentials on a preflight. */
	policy(&c, "https://spa.example.com", "GET", "", "", true, 86400);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", NULL, &r);
	ok(v == CORS_ALLOWED && strcmp(h(&r, "Access-Control-Allow-Credentials"), "true") == 0 &&
	       strcmp(h(&r, "Access-Control-Max-Age"), "86400") == 0 &&
	       strcmp(h(&r, "Access-Control-Allow-Methods"), "GET") == 0,
	   "with credentials: ACAC true, Max-Age 86400, ACAM 'GET'");
	response_free(&r);
	policy_done(&c);

	policy(&c, "*", "GET HEAD", "", "", false, 5);
	response_init(&r);
	v = cors_preflight(&c, "https://x.example", NULL, "GET", NULL, &r);
	ok(v == CORS_ALLOWED && strcmp(h(&r, "Access-Control-Allow-Origin"), "*") == 0,
	   "'*' origins without credentials: preflight ACAO is '*'");
	response_free(&r);
	policy_done(&c);
}

static void test_preflight_headers(void)
{
	struct policy_cors c;
	struct response r;
	enum cors_verdict v;

	policy(&c, "https://spa.example.com", "GET HEAD", "Content-Type, X-Request-Id x-other", "",
	       false, 600);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "content-type", &r);
	ok(v == CORS_ALLOWED && strcmp(h(&r, "Access-Control-Allow-Headers"), "content-type") == 0,
	   "a listed header is allowed and reflected");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "Content-Type,X-REQUEST-ID",
	                   &r);
	ok(v == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Headers"), "content-type, x-request-id") == 0,
	   "header names compare ignoring case and are reflected lower-cased");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET",
	                   " \tcontent-type ,\t x-request-id\t ", &r);
	ok(v == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Headers"), "content-type, x-request-id") == 0,
	   "optional white space around names is skipped");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", ",,content-type,, ,", &r);
	ok(v == CORS_ALLOWED && strcmp(h(&r, "Access-Control-Allow-Headers"), "content-type") == 0,
	   "empty list elements are skipped");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "", &r);
	ok(v == CORS_ALLOWED && !has(&r, "Access-Control-Allow-Headers"),
	   "an empty Access-Control-Request-Headers: allowed, no ACAH");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "x-request-id", &r);
	ok(v == CORS_ALLOWED && strcmp(h(&r, "Access-Control-Allow-Headers"), "x-request-id") == 0,
	   "ACAH holds only what was requested, not the whole allowed list");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "x-request-id, x-evil", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r),
	   "all or nothing: one unknown header refuses the whole preflight");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "x-request", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r), "a prefix of an allowed name is not allowed");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "x-request-id-2", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r), "an extension of an allowed name is not allowed");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "content type", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r), "white space inside a name is refused");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "content-type;x", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r), "a non-token character in a name is refused");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "content-type\r\nX-Evil: 1",
	                   &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r), "CR LF in the request headers is refused");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "authorization", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r), "authorization not named: refused");
	response_free(&r);

	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "*", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r),
	   "a requested header named '*' is refused when '*' is not allowed");
	response_free(&r);
	policy_done(&c);

	/* '*' headers: every name but Authorization. */
	policy(&c, "https://spa.example.com", "GET", "*", "", false, 600);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "X-Anything, content-type",
	                   &r);
	ok(v == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Headers"), "x-anything, content-type") == 0,
	   "'*' headers: any name is allowed and reflected as requested, lower-cased (never '*')");
	response_free(&r);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "authorization", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r), "'*' headers never cover authorization");
	response_free(&r);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "AUTHORIZATION", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r),
	   "'*' headers never cover Authorization in any case");
	response_free(&r);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "x-a, Authorization, x-b",
	                   &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r),
	   "'*' headers: Authorization among others refuses the whole preflight");
	response_free(&r);
	policy_done(&c);

	/* Authorization named. */
	policy(&c, "https://spa.example.com", "GET", "Authorization", "", true, 600);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "authorization", &r);
	ok(v == CORS_ALLOWED && strcmp(h(&r, "Access-Control-Allow-Headers"), "authorization") == 0,
	   "Authorization named in the policy: allowed and reflected");
	response_free(&r);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "authorization, x-a", &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r),
	   "Authorization named but x-a not: refused, all or nothing");
	response_free(&r);
	policy_done(&c);

	policy(&c, "https://spa.example.com", "GET", "* authorization", "", false, 600);
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", "x-a, authorization", &r);
	ok(v == CORS_ALLOWED &&
	       strcmp(h(&r, "Access-Control-Allow-Headers"), "x-a, authorization") == 0,
	   "'*' plus authorization named: both allowed");
	response_free(&r);
	policy_done(&c);
}

static void test_preflight_hostile(void)
{
	struct policy_cors c;
	struct response r;
	enum cors_verdict v;
	char *s;
	long t0, t1;

	policy(&c, "https://spa.example.com", "GET", "*", "", false, 600);

	/* 10,000 commas. */
	s = xmalloc(10001);
	memset(s, ',', 10000);
	s[10000] = '\0';
	response_init(&r);
	t0 = now_us();
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", s, &r);
	t1 = now_us();
	ok(v == CORS_HEADERS_DENIED && no_ac(&r) && t1 - t0 < 100000,
	   "10,000 commas: refused (over CORS_REQUEST_HEADERS_MAX) in %ld us", t1 - t0);
	response_free(&r);
	free(s);

	/* 5,000 names. */
	s = xmalloc(5000 * 4 + 1);
	for (int i = 0; i < 5000; i++)
		memcpy(s + (size_t)i * 4, "x-a,", 4);
	s[5000 * 4] = '\0';
	response_init(&r);
	t0 = now_us();
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", s, &r);
	t1 = now_us();
	ok(v == CORS_HEADERS_DENIED && no_ac(&r) && t1 - t0 < 100000,
	   "5,000 names (%zu bytes): refused in %ld us", strlen(s), t1 - t0);
	response_free(&r);
	free(s);

	/* The exact cap: 32 names of 126 characters joined with ", " and two
	 * trailing spaces make CORS_REQUEST_HEADERS_MAX bytes; the reflected
	 * ACAH is the same list without the trailing spaces. */
	s = xmalloc(CORS_REQUEST_HEADERS_MAX + 2);
	s[0] = '\0';
	for (int i = 0; i < 32; i++) {
		char name[127];

		memset(name, 'a' + i % 26, 126);
		name[126] = '\0';
		if (i > 0)
			strcat(s, ", ");
		strcat(s, name);
	}
	strcat(s, "  ");
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", s, &r);
	ok(strlen(s) == CORS_REQUEST_HEADERS_MAX && v == CORS_ALLOWED &&
	       strlen(h(&r, "Access-Control-Allow-Headers")) == CORS_REQUEST_HEADERS_MAX - 2 &&
	       strncmp(h(&r, "Access-Control-Allow-Headers"), s, CORS_REQUEST_HEADERS_MAX - 2) == 0,
	   "Access-Control-Request-Headers of exactly CORS_REQUEST_HEADERS_MAX bytes is handled");
	response_free(&r);
	strcat(s, " ");
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", s, &r);
	ok(strlen(s) == CORS_REQUEST_HEADERS_MAX + 1 && v == CORS_HEADERS_DENIED && no_ac(&r),
	   "CORS_REQUEST_HEADERS_MAX + 1 bytes (4097) is refused");
	response_free(&r);
	free(s);

	/* One huge name within the cap. */
	s = xmalloc(4001);
	memset(s, 'x', 4000);
	s[4000] = '\0';
	response_init(&r);
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", s, &r);
	ok(v == CORS_HEADERS_DENIED && no_ac(&r),
	   "a single 4,000-byte header name is refused, not reflected");
	response_free(&r);
	free(s);

	/* Many short names within the cap: the reflected list grows faster
	 * than the input ("a," becomes "a, "), and must stay bounded. This
	 * used to be refused: the reflection was capped at the request's own
	 * cap, so an allowed request under CORS_REQUEST_HEADERS_MAX failed. */
	s = xmalloc(CORS_REQUEST_HEADERS_MAX + 1);
	for (int i = 0; i < CORS_REQUEST_HEADERS_MAX; i += 2) {
		s[i] = 'a';
		s[i + 1] = ',';
	}
	s[CORS_REQUEST_HEADERS_MAX] = '\0';
	response_init(&r);
	t0 = now_us();
	v = cors_preflight(&c, "https://spa.example.com", NULL, "GET", s, &r);
	t1 = now_us();
	ok(t1 - t0 < 100000 && v == CORS_ALLOWED &&
	       strlen(h(&r, "Access-Control-Allow-Headers")) == 2048 + 2047 * 2 &&
	       strlen(h(&r, "Access-Control-Allow-Headers")) <= CORS_ALLOW_HEADERS_MAX,
	   "2,048 one-letter names (4,096 bytes, under the cap): allowed, reflected as 6,142 "
	   "bytes, within CORS_ALLOW_HEADERS_MAX (%s) in %ld us",
	   cors_strverdict(v), t1 - t0);
	response_free(&r);
	free(s);
	policy_done(&c);

	/* An explicit list with many entries against many names. */
	{
		struct policy_cors big;
		char *list = xmalloc(300 * 12 + 1), *req = xmalloc(CORS_REQUEST_HEADERS_MAX + 1);

		list[0] = '\0';
		for (int i = 0; i < 300; i++) {
			char item[16];

			snprintf(item, sizeof(item), "x-h%d ", i);
			strcat(list, item);
		}
		req[0] = '\0';
		for (int i = 0; strlen(req) + 8 < CORS_REQUEST_HEADERS_MAX; i++) {
			char item[16];

			snprintf(item, sizeof(item), "x-h%d,", i % 300);
			strcat(req, item);
		}
		policy(&big, "https://spa.example.com", "GET", list, "", false, 600);
		response_init(&r);
		t0 = now_us();
		v = cors_preflight(&big, "https://spa.example.com", NULL, "GET", req, &r);
		t1 = now_us();
		ok(t1 - t0 < 200000, "a 300-entry allowlist against ~700 names: %s in %ld us",
		   cors_strverdict(v), t1 - t0);
		response_free(&r);
		policy_done(&big);
		free(list);
		free(req);
	}
}

static void test_strverdict(void)
{
	ok(strcmp(cors_strverdict(CORS_ORIGIN_DENIED), "origin not allowed") == 0,
	   "cors_strverdict names the origin refusal");
	ok(cors_strverdict((enum cors_verdict)99) != NULL, "cors_strverdict of an unknown value");
}

int main(void)
{
	test_origin_valid();
	test_origin_allowed();
	test_actual();
	test_preflight_verdicts();
	test_preflight_headers();
	test_preflight_hostile();
	test_strverdict();
	return tap_done();
}
