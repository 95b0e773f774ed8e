/*
 * fuzz_route: the raw request-target (REQUEST_URI) through route_parse()
 * and what a program does with the result (route.h).
 *
 * Input: the request-target, as a C string. It is parsed under two base
 * paths ("/api", the default, and "/kv/v1"); the character predicates run
 * on it too. A route that parses is checked against fixed [secrets] rules
 * (exposure_route_allowed()), its paging scope is formed, and its
 * $skiptoken opened with a fixed key, as list-secrets does.
 *
 * Invariants beyond memory safety (route.h): a parsed route lies under its
 * base path; its name, version and api-version are "" or valid by their
 * own predicates; maxresults is 0-25; a GET carries neither maxresults nor
 * $skiptoken; a $skiptoken is 1-ROUTE_SKIPTOKEN_MAX plain characters
 * without '.'; a failure has a message, a success none, and neither holds
 * a line break.
 */
#include "fuzz_common.h"

#include "exposure.h"
#include "pagetoken.h"
#include "route.h"
#include "shape.h"

static struct policy_secrets rules;
static struct pagetoken_key key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup();
	if (strlist_parse("spa-* demo-? public-*", &rules.allow) != 0 ||
	    strlist_parse("*-internal admin-*", &rules.deny) != 0)
		fuzz_die("strlist_parse", NULL);
	rules.allow_versions = true;
	rules.allow_list = true;
	memset(key.k, 0x5a, sizeof(key.k));
	return 0;
}

/* Whether s is "" or passes valid(). */
static bool empty_or(const char *s, bool (*valid)(const char *))
{
	return s[0] == '\0' || valid(s);
}

static void check_route(const char *uri, const char *base, const struct route *r)
{
	char scope[ROUTE_NAME_MAX + 16];
	char *plain;
	size_t n;

	FUZZ_CHECK(route_under_base(uri, base));
	FUZZ_CHECK(r->kind == ROUTE_LIST || r->kind == ROUTE_GET || r->kind == ROUTE_VERSIONS);
	if (r->kind == ROUTE_LIST)
		FUZZ_CHECK(r->name[0] == '\0' && r->version[0] == '\0');
	else
		FUZZ_CHECK(route_name_valid(r->name));
	if (r->kind != ROUTE_GET)
		FUZZ_CHECK(r->version[0] == '\0');
	FUZZ_CHECK(empty_or(r->version, route_version_valid));
	FUZZ_CHECK(empty_or(r->api_version, route_api_version_valid));
	FUZZ_CHECK(r->maxresults >= 0 && r->maxresults <= ROUTE_MAXRESULTS_MAX);
	n = strlen(r->skiptoken);
	FUZZ_CHECK(n <= ROUTE_SKIPTOKEN_MAX);
	FUZZ_CHECK(strspn(r->skiptoken, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                "0123456789-_") == n);
	if (r->kind == ROUTE_GET)
		FUZZ_CHECK(r->maxresults == 0 && n == 0);

	(void)exposure_route_allowed(&rules, r);
	shape_scope(r, scope, sizeof(scope));
	for (const char *p = scope; *p != '\0'; p++)
		FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
	if (n > 0 && (plain = pagetoken_open(&key, scope, r->skiptoken)) != NULL) {
		FUZZ_CHECK(strlen(plain) <= PAGETOKEN_PLAIN_MAX);
		free(plain);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const bases[] = {"/api", "/kv/v1"};
	char *uri = fuzz_string(data, size), msg[256];
	struct route r;
	enum route_err e;

	(void)route_name_valid(uri);
	(void)route_version_valid(uri);
	(void)route_api_version_valid(uri);
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		e = route_parse(uri, bases[i], &r, msg, sizeof(msg));
		FUZZ_CHECK(strpbrk(msg, "\r\n") == NULL);
		(void)route_strerror(e);
		if (e != ROUTE_OK) {
			FUZZ_CHECK(msg[0] != '\0');
			continue;
		}
		FUZZ_CHECK(msg[0] == '\0');
		check_route(uri, bases[i], &r);
	}
	free(uri);
	return 0;
}
