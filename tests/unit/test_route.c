/*
 * test_route: the request-target checks at the edge (lib/route.c).
 *
 * route_parse() is the only thing between a raw REQUEST_URI and Key Vault, so
 * these tests pin down every route kind, every way a name, version or query
 * can be wrong, and the exact boundaries of the length caps: an input that
 * passes here is forwarded upstream.
 */
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "tap.h"

#define V32 "0123456789abcdef0123456789abcdef"
#define V32U "0123456789ABCDEF0123456789ABCDEF"

static char msg[256];

/* Parse uri under base "/api". */
static enum route_err parse(const char *uri, struct route *r)
{
	return route_parse(uri, "/api", r, msg, sizeof(msg));
}

/* Parse under base "/api" and expect error e. */
static int refused(const char *uri, enum route_err e)
{
	struct route r;
	enum route_err got = parse(uri, &r);

	if (got != e)
		printf("# %s: got %d (%s), want %d (%s)\n", uri, got, route_strerror(got), e,
		       route_strerror(e));
	return got == e && msg[0] != '\0';
}

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

/* A string of n copies of c (malloc'd). */
static char *rep(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* prefix + n copies of c + suffix (malloc'd). */
static char *mk(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t a = strlen(prefix), z = strlen(suffix);
	char *s = xmalloc(a + n + z + 1);

	memcpy(s, prefix, a);
	memset(s + a, c, n);
	memcpy(s + a + n, suffix, z + 1);
	return s;
}

/* The concatenation of a, b, c and d (malloc'd). */
static char *cat4(const char *a, const char *b, const char *c, const char *d)
{
	size_t na = strlen(a), nb = strlen(b), nc = strlen(c), nd = strlen(d);
	char *s = xmalloc(na + nb + nc + nd + 1);

	memcpy(s, a, na);
	memcpy(s + na, b, nb);
	memcpy(s + na + nb, c, nc);
	memcpy(s + na + nb + nc, d, nd + 1);
	return s;
}

static void test_kinds(void)
{
	struct route r;

	ok(parse("/api/secrets", &r) == ROUTE_OK && r.kind == ROUTE_LIST && r.name[0] == '\0' &&
	       r.version[0] == '\0' && r.api_version[0] == '\0' && r.maxresults == 0 &&
	       r.skiptoken[0] == '\0' && msg[0] == '\0',
	   "/api/secrets is ROUTE_LIST with every field empty and no message");
	ok(parse("/api/secrets/", &r) == ROUTE_OK && r.kind == ROUTE_LIST,
	   "/api/secrets/ (trailing slash) is ROUTE_LIST");
	ok(parse("/api/secrets/my-secret", &r) == ROUTE_OK && r.kind == ROUTE_GET &&
	       strcmp(r.name, "my-secret") == 0 && r.version[0] == '\0',
	   "/api/secrets/{name} is ROUTE_GET of the latest version");
	ok(parse("/api/secrets/my-secret/", &r) == ROUTE_OK && r.kind == ROUTE_GET &&
	       strcmp(r.name, "my-secret") == 0 && r.version[0] == '\0',
	   "/api/secrets/{name}/ (the SDKs' form for the latest) is ROUTE_GET of the latest");
	ok(parse("/api/secrets/my-secret/" V32, &r) == ROUTE_OK && r.kind == ROUTE_GET &&
	       strcmp(r.name, "my-secret") == 0 && strcmp(r.version, V32) == 0,
	   "/api/secrets/{name}/{version} is ROUTE_GET of that version");
	ok(parse("/api/secrets/my-secret/versions", &r) == ROUTE_OK && r.kind == ROUTE_VERSIONS &&
	       strcmp(r.name, "my-secret") == 0 && r.version[0] == '\0',
	   "/api/secrets/{name}/versions is ROUTE_VERSIONS");
	ok(parse("/api/secrets/versions", &r) == ROUTE_OK && r.kind == ROUTE_GET &&
	       strcmp(r.name, "versions") == 0,
	   "a secret called 'versions' is a name, not the versions route");
	ok(parse("/api/secrets/versions/versions", &r) == ROUTE_OK && r.kind == ROUTE_VERSIONS &&
	       strcmp(r.name, "versions") == 0,
	   "the versions of a secret called 'versions'");
	ok(parse("/api/secrets/my-secret/versions?api-version=7.6&maxresults=3", &r) == ROUTE_OK &&
	       r.kind == ROUTE_VERSIONS && r.maxresults == 3 && strcmp(r.api_version, "7.6") == 0,
	   "ROUTE_VERSIONS takes api-version and maxresults");

	ok(refused("/api", ROUTE_EPATH), "the bare base path is not a route");
	ok(refused("/api/", ROUTE_EPATH), "the base path with a slash is not a route");
	ok(refused("/api/keys", ROUTE_EPATH), "/api/keys is not a route");
	ok(refused("/api/Secrets", ROUTE_EPATH),
	   "the route segment is case-sensitive: /api/Secrets");
	ok(refused("/api/secretsx", ROUTE_EPATH), "/api/secretsx is not /api/secrets");
	ok(refused("/api/secrets/a/" V32 "/x", ROUTE_EPATH),
	   "a segment after the version is refused");
	ok(refused("/api/secrets/a/versions/x", ROUTE_EPATH),
	   "a segment after /versions is refused");
	ok(refused("/api/secrets/a/versions/" V32, ROUTE_EPATH),
	   "/versions/{version} is not a route");
	ok(refused("/api/secrets/a/b/c/d/e/f", ROUTE_EPATH),
	   "many segments are refused (no overflow of the segment table)");
	ok(refused("/api/x/secrets", ROUTE_EPATH), "a segment before /secrets is refused");
	ok(refused("/apisecrets", ROUTE_EPATH), "/apisecrets is not under /api");
	ok(refused("/ap", ROUTE_EPATH), "a prefix of the base path is not under it");
	ok(refused("/secrets", ROUTE_EPATH), "a path outside the base is refused");
	ok(refused("api/secrets", ROUTE_EPATH), "a path without the leading slash is refused");
	ok(refused("", ROUTE_EPATH), "an empty request-target is refused");
	ok(refused("*", ROUTE_EPATH), "the asterisk-form request-target is refused");
	ok(refused("http://vault/api/secrets", ROUTE_EPATH),
	   "an absolute-form request-target is refused");
	ok(refused("/API/secrets", ROUTE_EPATH), "the base path is case-sensitive");
}

static void test_base_paths(void)
{
	struct route r;

	ok(route_parse("/kv/v1/secrets", "/kv/v1", &r, msg, sizeof(msg)) == ROUTE_OK &&
	       r.kind == ROUTE_LIST,
	   "base /kv/v1: /kv/v1/secrets is ROUTE_LIST");
	ok(route_parse("/kv/v1/secrets/a-b/versions?maxresults=1", "/kv/v1", &r, msg,
	               sizeof(msg)) == ROUTE_OK &&
	       r.kind == ROUTE_VERSIONS && strcmp(r.name, "a-b") == 0 && r.maxresults == 1,
	   "base /kv/v1: the versions route with a query");
	ok(route_parse("/kv/v1/secrets/x/" V32U, "/kv/v1", &r, msg, sizeof(msg)) == ROUTE_OK &&
	       r.kind == ROUTE_GET && strcmp(r.version, V32U) == 0,
	   "base /kv/v1: a version in upper case");
	ok(route_parse("/kv/v1secrets", "/kv/v1", &r, msg, sizeof(msg)) == ROUTE_EPATH,
	   "base /kv/v1: /kv/v1secrets is not under it");
	ok(route_parse("/kv/v10/secrets", "/kv/v1", &r, msg, sizeof(msg)) == ROUTE_EPATH,
	   "base /kv/v1: /kv/v10/secrets is not under it");
	ok(route_parse("/kv/secrets", "/kv/v1", &r, msg, sizeof(msg)) == ROUTE_EPATH,
	   "base /kv/v1: /kv/secrets is not under it");
	ok(route_parse("/api/secrets", "/kv/v1", &r, msg, sizeof(msg)) == ROUTE_EPATH,
	   "base /kv/v1: /api/secrets is not under it");
	ok(route_parse("/kv/v1/../v1/secrets", "/kv/v1", &r, msg, sizeof(msg)) == ROUTE_EENCODING,
	   "base /kv/v1: a dot segment after the base is refused");
	ok(route_parse("/kv/./v1/secrets", "/kv/v1", &r, msg, sizeof(msg)) == ROUTE_EPATH,
	   "base /kv/v1: /kv/./v1 is not the base path (no normalization)");
	ok(route_parse("/secrets/a", "", &r, msg, sizeof(msg)) == ROUTE_OK && r.kind == ROUTE_GET &&
	       strcmp(r.name, "a") == 0,
	   "base '' (gateway at the root): /secrets/a is ROUTE_GET");
}

static void test_names(void)
{
	struct route r;
	char *n127 = rep('a', 127), *n128 = rep('a', 128), *u;

	ok(route_name_valid("a") && route_name_valid("A-z-0-9") && route_name_valid("0abc") &&
	       route_name_valid("-"),
	   "route_name_valid: letters, digits and '-' in any position");
	ok(route_name_valid(n127), "route_name_valid: 127 characters is the longest name");
	ok(!route_name_valid(n128), "route_name_valid: 128 characters is too long");
	ok(!route_name_valid(""), "route_name_valid: the empty name is refused");
	ok(!route_name_valid("a_b"), "route_name_valid: '_' is refused");
	ok(!route_name_valid("a.b"), "route_name_valid: '.' is refused");
	ok(!route_name_valid("a b") && !route_name_valid("a/b") && !route_name_valid("a%2Fb") &&
	       !route_name_valid("a~b") && !route_name_valid("a+b"),
	   "route_name_valid: space, '/', '%%', '~', '+' are refused");
	ok(!route_name_valid("caf\xc3\xa9") && !route_name_valid("a\x7f") &&
	       !route_name_valid("a\x01"),
	   "route_name_valid: non-ASCII and control bytes are refused");

	u = mk("/api/secrets/", 'a', 127, "");
	ok(parse(u, &r) == ROUTE_OK && strlen(r.name) == 127,
	   "a 127-character name is accepted and copied whole");
	free(u);
	u = mk("/api/secrets/", 'a', 127, "/versions");
	ok(parse(u, &r) == ROUTE_OK && r.kind == ROUTE_VERSIONS && strlen(r.name) == 127,
	   "a 127-character name on the versions route");
	free(u);
	u = mk("/api/secrets/", 'a', 128, "");
	ok(refused(u, ROUTE_ENAME), "a 128-character name is ENAME");
	free(u);
	u = mk("/api/secrets/", 'a', 128, "/" V32);
	ok(refused(u, ROUTE_ENAME), "a 128-character name with a version is ENAME");
	free(u);
	ok(refused("/api/secrets/a_b", ROUTE_ENAME), "a name with '_' is ENAME");
	ok(refused("/api/secrets/a.b", ROUTE_ENAME), "a name with '.' is ENAME");
	ok(refused("/api/secrets/a.b/versions", ROUTE_ENAME), "a bad name on the versions route");
	ok(refused("/api/secrets/...", ROUTE_ENAME), "'...' is a bad name (not a dot segment)");
	ok(refused("/api/secrets/a:b", ROUTE_ENAME), "a name with ':' is ENAME");
	ok(refused("/api/secrets/a;b", ROUTE_ENAME), "a name with ';' is ENAME");
	ok(refused("/api/secrets/a@b", ROUTE_ENAME), "a name with '@' is ENAME");
	ok(refused("/api/secrets/a~b", ROUTE_ENAME), "a name with '~' is ENAME");
	ok(refused("/api/secrets//", ROUTE_EENCODING),
	   "an empty name (/secrets//) is an empty segment");
	ok(refused("/api/secrets//versions", ROUTE_EENCODING),
	   "an empty name before /versions is an empty segment");
	free(n127);
	free(n128);
}

static void test_versions(void)
{
	struct route r;

	ok(route_version_valid(V32) && route_version_valid(V32U) &&
	       route_version_valid("0123456789abcdefABCDEF0123456789"),
	   "route_version_valid: 32 hex digits, lower, upper or mixed");
	ok(!route_version_valid("0123456789abcdef0123456789abcde"),
	   "route_version_valid: 31 digits are refused");
	ok(!route_version_valid(V32 "0"), "route_version_valid: 33 digits are refused");
	ok(!route_version_valid("0123456789abcdef0123456789abcdeg"),
	   "route_version_valid: a non-hex letter is refused");
	ok(!route_version_valid(""), "route_version_valid: empty is refused");
	ok(!route_version_valid("01234567-89ab-cdef-0123-456789abcdef"),
	   "route_version_valid: a GUID with dashes is refused");

	ok(parse("/api/secrets/s/" V32U, &r) == ROUTE_OK && strcmp(r.version, V32U) == 0,
	   "an upper-case version is accepted and copied as given");
	ok(refused("/api/secrets/s/0123456789abcdef0123456789abcde", ROUTE_EVERSION),
	   "a 31-digit version is EVERSION");
	ok(refused("/api/secrets/s/" V32 "0", ROUTE_EVERSION), "a 33-digit version is EVERSION");
	ok(refused("/api/secrets/s/0123456789abcdef0123456789abcdeg", ROUTE_EVERSION),
	   "a version with 'g' is EVERSION");
	ok(refused("/api/secrets/s/latest", ROUTE_EVERSION), "'latest' is not a version");
	ok(refused("/api/secrets/s/Versions", ROUTE_EVERSION),
	   "'Versions' is neither the versions route nor a version");
	ok(parse("/api/secrets/s/" V32 "?api-version=7.6", &r) == ROUTE_OK &&
	       strcmp(r.version, V32) == 0 && strcmp(r.api_version, "7.6") == 0,
	   "a version followed by a query");
}

static void test_encoding(void)
{
	ok(refused("/api/secrets/a%2Fb", ROUTE_EENCODING), "%%2F in the path is EENCODING");
	ok(refused("/api/secrets/a%2fb", ROUTE_EENCODING), "%%2f in the path is EENCODING");
	ok(refused("/api/secrets/%2e%2e", ROUTE_EENCODING), "%%2e%%2e in the path is EENCODING");
	ok(refused("/api/secrets/%2E%2E/x", ROUTE_EENCODING), "%%2E%%2E in the path is EENCODING");
	ok(refused("/api/secrets/a%00", ROUTE_EENCODING), "an encoded NUL (%%00) is EENCODING");
	ok(refused("/api/secrets/%61", ROUTE_EENCODING),
	   "even an encoded plain letter is refused: nothing in the path is decoded");
	ok(refused("/api%2Fsecrets", ROUTE_EENCODING), "%%2F right after the base is EENCODING");
	ok(refused("/api/secrets/..", ROUTE_EENCODING), "a '..' segment is EENCODING");
	ok(refused("/api/secrets/.", ROUTE_EENCODING), "a '.' segment is EENCODING");
	ok(refused("/api/secrets/../secrets", ROUTE_EENCODING), "'..' in the middle is EENCODING");
	ok(refused("/api/../api/secrets", ROUTE_EENCODING),
	   "'..' right after the base is EENCODING");
	ok(refused("/api/./secrets", ROUTE_EENCODING), "'.' right after the base is EENCODING");
	ok(refused("/api/secrets/a/..", ROUTE_EENCODING), "'..' after the name is EENCODING");
	ok(refused("/api/secrets/a/.", ROUTE_EENCODING), "'.' after the name is EENCODING");
	ok(refused("/api/secrets/../", ROUTE_EENCODING), "'../' is EENCODING");
	{
		struct route r;

		ok(parse("/api/secrets/../../../../../../etc/passwd", &r) != ROUTE_OK,
		   "a long dot-segment climb is refused");
	}
	ok(refused("/api//secrets", ROUTE_EENCODING), "an empty segment after the base");
	ok(refused("/api/secrets//a", ROUTE_EENCODING), "an empty segment before the name");
	ok(refused("/api/secrets/a//", ROUTE_EENCODING),
	   "two trailing slashes are an empty segment (only one trailing '/' is allowed)");
	ok(refused("/api/secrets/a//" V32, ROUTE_EENCODING), "an empty segment before the version");
	ok(refused("/api/secrets//", ROUTE_EENCODING), "/api/secrets// is an empty segment");

	ok(refused("/api/secrets/a\x01", ROUTE_EENCODING), "a control byte (\\x01) is EENCODING");
	ok(refused("/api/secrets/a\x7f", ROUTE_EENCODING), "DEL (\\x7f) is EENCODING");
	ok(refused("/api/secrets/a b", ROUTE_EENCODING), "a space is EENCODING");
	ok(refused("/api/secrets/a\tb", ROUTE_EENCODING), "a tab is EENCODING");
	ok(refused("/api/secrets/a\r\nX: y", ROUTE_EENCODING), "CR LF is EENCODING");
	ok(refused("/api/secrets/caf\xc3\xa9", ROUTE_EENCODING),
	   "non-ASCII bytes (UTF-8 e-acute) are EENCODING");
	ok(refused("/api/secrets/\xff", ROUTE_EENCODING), "a 0xff byte is EENCODING");
	ok(refused("/api/secrets#frag", ROUTE_EENCODING), "'#' is EENCODING");
	ok(refused("/api/secrets/a#b", ROUTE_EENCODING), "'#' inside a name is EENCODING");
	ok(refused("/api/secrets\\a", ROUTE_EENCODING), "a backslash is EENCODING");
	ok(refused("/api\\secrets", ROUTE_EENCODING), "a backslash as separator is EENCODING");
	ok(refused("/api/secrets?api-version=7.6\x01", ROUTE_EENCODING),
	   "a control byte in the query is EENCODING");
	ok(refused("/api/secrets?api-version=7.6 ", ROUTE_EENCODING),
	   "a space in the query is EENCODING");
	ok(refused("/api/secrets?api-version=\xc3\xa9", ROUTE_EENCODING),
	   "non-ASCII in the query is EENCODING");
	ok(refused("/api/secrets?api-version=7.6#x", ROUTE_EENCODING),
	   "a fragment after the query is EENCODING");
}

static void test_caps(void)
{
	struct route r;
	char *u, *t;
	enum route_err e;

	/* The path cap: "/api/secrets/" is 13 bytes. */
	u = mk("/api/secrets/", 'a', ROUTE_PATH_MAX - 13, "");
	e = parse(u, &r);
	ok(strlen(u) == ROUTE_PATH_MAX && e == ROUTE_ENAME,
	   "a path of exactly ROUTE_PATH_MAX bytes is not ETOOLONG (it fails on the name: %s)",
	   route_strerror(e));
	free(u);
	u = mk("/api/secrets/", 'a', ROUTE_PATH_MAX - 12, "");
	ok(strlen(u) == ROUTE_PATH_MAX + 1 && refused(u, ROUTE_ETOOLONG),
	   "a path of ROUTE_PATH_MAX + 1 bytes is ETOOLONG");
	free(u);
	u = mk("/api/secrets/", 'a', ROUTE_PATH_MAX - 12, "?api-version=7.6");
	ok(refused(u, ROUTE_ETOOLONG), "the path cap counts the path only, not the query");
	free(u);

	/* The query cap: a valid query of exactly ROUTE_QUERY_MAX bytes made of
	 * a full-size paging token and empty elements. */
	t = rep('A', ROUTE_SKIPTOKEN_MAX);
	{
		size_t pad = ROUTE_QUERY_MAX - strlen("$skiptoken=") - ROUTE_SKIPTOKEN_MAX;
		char *amps = rep('&', pad), *q;

		q = cat4("/api/secrets?", amps, "$skiptoken=", t);
		ok(strlen(q) - 13 == ROUTE_QUERY_MAX && parse(q, &r) == ROUTE_OK &&
		       strlen(r.skiptoken) == ROUTE_SKIPTOKEN_MAX,
		   "a valid query of exactly ROUTE_QUERY_MAX bytes is accepted (%s)", msg);
		free(q);
		q = cat4("/api/secrets?&", amps, "$skiptoken=", t);
		ok(strlen(q) - 13 == ROUTE_QUERY_MAX + 1 && refused(q, ROUTE_ETOOLONG),
		   "a query of ROUTE_QUERY_MAX + 1 bytes is ETOOLONG");
		free(amps);
		free(q);
	}
	free(t);

	/* The request-target cap: path and query each at or under their own
	 * caps, so that only the whole-URI cap can fire. */
	{
		char *path = mk("/api/secrets/", 'a', ROUTE_PATH_MAX - 13, "");
		char *q1 = rep('&', ROUTE_QUERY_MAX - 1), *q2 = rep('&', ROUTE_QUERY_MAX);

		u = cat4(path, "?", q1, "");
		e = parse(u, &r);
		ok(strlen(u) == ROUTE_URI_MAX && e != ROUTE_ETOOLONG,
		   "a request-target of exactly ROUTE_URI_MAX bytes is not ETOOLONG (%s)",
		   route_strerror(e));
		free(u);
		u = cat4(path, "?", q2, "");
		ok(strlen(u) == ROUTE_URI_MAX + 1 && refused(u, ROUTE_ETOOLONG),
		   "a request-target of ROUTE_URI_MAX + 1 bytes is ETOOLONG");
		free(u);
		free(path);
		free(q1);
		free(q2);
	}
	u = mk("/api/secrets?", '&', 100000, "");
	ok(refused(u, ROUTE_ETOOLONG), "a 100 KB request-target is ETOOLONG");
	free(u);
	u = mk("/api/secrets/", '/', 100000, "");
	ok(refused(u, ROUTE_ETOOLONG),
	   "100,000 slashes are ETOOLONG, not a segment-table overflow");
	free(u);
	u = mk("/api/secrets", '/', 500, "");
	{
		enum route_err got = parse(u, &r);

		ok(got == ROUTE_EPATH || got == ROUTE_EENCODING,
		   "500 slashes under the cap are refused (%s)", route_strerror(got));
	}
	free(u);
}

static void test_query(void)
{
	struct route r;
	char *u, *t;

	/* api-version */
	ok(parse("/api/secrets?api-version=7.6", &r) == ROUTE_OK &&
	       strcmp(r.api_version, "7.6") == 0,
	   "api-version=7.6 is kept");
	ok(parse("/api/secrets?api-version=2025-07-01", &r) == ROUTE_OK &&
	       strcmp(r.api_version, "2025-07-01") == 0,
	   "api-version=2025-07-01 is kept");
	ok(parse("/api/secrets/a?api-version=2026-03-01-preview", &r) == ROUTE_OK &&
	       strcmp(r.api_version, "2026-03-01-preview") == 0,
	   "api-version=2026-03-01-preview on a GET route is kept");
	u = mk("/api/secrets?api-version=", '7', ROUTE_API_VERSION_MAX, "");
	ok(parse(u, &r) == ROUTE_OK && strlen(r.api_version) == ROUTE_API_VERSION_MAX,
	   "an api-version of ROUTE_API_VERSION_MAX characters is accepted");
	free(u);
	u = mk("/api/secrets?api-version=", '7', ROUTE_API_VERSION_MAX + 1, "");
	ok(refused(u, ROUTE_EQUERY), "an api-version of ROUTE_API_VERSION_MAX + 1 is EQUERY");
	free(u);
	ok(refused("/api/secrets?api-version=", ROUTE_EQUERY), "an empty api-version is EQUERY");
	ok(refused("/api/secrets?api-version", ROUTE_EQUERY), "api-version without '=' is EQUERY");
	ok(refused("/api/secrets?api-version=7_6", ROUTE_EQUERY), "api-version with '_' is EQUERY");
	ok(parse("/api/secrets?api-version=7%2E6", &r) == ROUTE_OK &&
	       strcmp(r.api_version, "7.6") == 0,
	   "a percent-encoded api-version is decoded once (7%%2E6 is 7.6)");
	ok(refused("/api/secrets?api-version=7%252E6", ROUTE_EQUERY),
	   "a double-encoded value is refused: it decodes to a '%%'");
	ok(refused("/api/secrets?api-version=7%2", ROUTE_EQUERY),
	   "a truncated %% escape is EQUERY");
	ok(refused("/api/secrets?api-version=7%zz6", ROUTE_EQUERY), "a bad %% escape is EQUERY");
	ok(refused("/api/secrets?api-version=7%006", ROUTE_EQUERY), "an encoded NUL is EQUERY");
	ok(refused("/api/secrets?api-version=7.6/../x", ROUTE_EQUERY),
	   "api-version with '/' is EQUERY");
	ok(refused("/api/secrets?api-version=7.6&api-version=7.6", ROUTE_EQUERY),
	   "api-version given twice (even with the same value) is EQUERY");
	ok(refused("/api/secrets?api-version=7.6=1", ROUTE_EQUERY), "a second '=' is EQUERY");

	/* maxresults */
	ok(parse("/api/secrets?maxresults=1", &r) == ROUTE_OK && r.maxresults == 1,
	   "maxresults=1 is the smallest page");
	ok(parse("/api/secrets?maxresults=25", &r) == ROUTE_OK && r.maxresults == 25,
	   "maxresults=25 is the largest page");
	ok(parse("/api/secrets?maxresults=9", &r) == ROUTE_OK && r.maxresults == 9, "maxresults=9");
	ok(refused("/api/secrets?maxresults=0", ROUTE_EMAXRESULTS), "maxresults=0 is EMAXRESULTS");
	ok(refused("/api/secrets?maxresults=26", ROUTE_EMAXRESULTS),
	   "maxresults=26 is EMAXRESULTS");
	ok(refused("/api/secrets?maxresults=99", ROUTE_EMAXRESULTS),
	   "maxresults=99 is EMAXRESULTS");
	ok(refused("/api/secrets?maxresults=100", ROUTE_EMAXRESULTS),
	   "maxresults=100 is EMAXRESULTS");
	ok(refused("/api/secrets?maxresults=-1", ROUTE_EMAXRESULTS),
	   "maxresults=-1 is EMAXRESULTS");
	ok(refused("/api/secrets?maxresults=01", ROUTE_EMAXRESULTS),
	   "maxresults=01 (leading zero) is EMAXRESULTS");
	ok(refused("/api/secrets?maxresults=abc", ROUTE_EMAXRESULTS),
	   "maxresults=abc is EMAXRESULTS");
	ok(refused("/api/secrets?maxresults=1a", ROUTE_EMAXRESULTS),
	   "maxresults=1a is EMAXRESULTS");
	ok(refused("/api/secrets?maxresults=", ROUTE_EMAXRESULTS), "an empty maxresults");
	ok(refused("/api/secrets?maxresults=2.5", ROUTE_EMAXRESULTS), "maxresults=2.5");
	ok(refused("/api/secrets?maxresults=4294967297", ROUTE_EMAXRESULTS),
	   "maxresults that would wrap a 32-bit integer to 1");
	{
		enum route_err e = parse("/api/secrets?maxresults=+1", &r);

		ok(e == ROUTE_EQUERY || e == ROUTE_EMAXRESULTS,
		   "maxresults=+1 is refused ('+' is not allowed) (%s)", route_strerror(e));
		e = parse("/api/secrets?maxresults=%31", &r);
		ok(e == ROUTE_OK && r.maxresults == 1,
		   "maxresults=%%31 is an encoded '1': decoded once, the same URL (%s)",
		   route_strerror(e));
	}
	ok(refused("/api/secrets?maxresults", ROUTE_EQUERY), "maxresults without '='");
	ok(refused("/api/secrets?maxresults=5&maxresults=5", ROUTE_EQUERY),
	   "maxresults given twice is EQUERY");
	ok(refused("/api/secrets/a?maxresults=5", ROUTE_EQUERY),
	   "maxresults on a GET-latest route is EQUERY");
	ok(refused("/api/secrets/a/" V32 "?maxresults=5", ROUTE_EQUERY),
	   "maxresults on a GET-version route is EQUERY");

	/* $skiptoken */
	ok(parse("/api/secrets?$skiptoken=abc-_XYZ09", &r) == ROUTE_OK &&
	       strcmp(r.skiptoken, "abc-_XYZ09") == 0,
	   "$skiptoken of base64url characters is kept");
	ok(parse("/api/secrets?%24skiptoken=abc", &r) == ROUTE_OK &&
	       strcmp(r.skiptoken, "abc") == 0,
	   "%%24skiptoken (the encoded '$' some clients send) is $skiptoken");
	ok(parse("/api/secrets/x/versions?$skiptoken=abc&maxresults=2&api-version=7.6", &r) ==
	           ROUTE_OK &&
	       strcmp(r.skiptoken, "abc") == 0 && r.maxresults == 2 &&
	       strcmp(r.api_version, "7.6") == 0,
	   "all three parameters together, in any order, on the versions route");
	ok(refused("/api/secrets?$skiptoken=abc&%24skiptoken=abc", ROUTE_EQUERY),
	   "$skiptoken and %%24skiptoken together are a repeat");
	ok(refused("/api/secrets?$skiptoken=a&$skiptoken=b", ROUTE_EQUERY),
	   "$skiptoken given twice is EQUERY");
	ok(refused("/api/secrets?$skiptoken=", ROUTE_EQUERY), "an empty $skiptoken is EQUERY");
	ok(refused("/api/secrets?$skiptoken=a.b", ROUTE_EQUERY),
	   "a $skiptoken with '.' is EQUERY (not base64url)");
	ok(refused("/api/secrets?$skiptoken=a%2Bb", ROUTE_EQUERY),
	   "a $skiptoken with '%%' is EQUERY");
	ok(refused("/api/secrets?$skiptoken=a+b", ROUTE_EQUERY), "a $skiptoken with '+' is EQUERY");
	ok(refused("/api/secrets?$skiptoken=a/b", ROUTE_EQUERY), "a $skiptoken with '/' is EQUERY");
	ok(refused("/api/secrets?$skiptoken=ab==", ROUTE_EQUERY),
	   "a $skiptoken with padding '=' is EQUERY");
	ok(refused("/api/secrets/a?$skiptoken=abc", ROUTE_EQUERY),
	   "$skiptoken on a GET route is EQUERY");
	t = mk("/api/secrets?$skiptoken=", 'A', ROUTE_SKIPTOKEN_MAX, "");
	ok(parse(t, &r) == ROUTE_OK && strlen(r.skiptoken) == ROUTE_SKIPTOKEN_MAX,
	   "a $skiptoken of ROUTE_SKIPTOKEN_MAX characters is accepted");
	free(t);
	t = mk("/api/secrets?$skiptoken=", 'A', ROUTE_SKIPTOKEN_MAX + 1, "");
	ok(refused(t, ROUTE_EQUERY), "a $skiptoken of ROUTE_SKIPTOKEN_MAX + 1 is EQUERY");
	free(t);

	/* unknown parameters and empty elements */
	ok(refused("/api/secrets?foo=bar", ROUTE_EQUERY), "an unknown parameter is EQUERY");
	ok(refused("/api/secrets/a?foo=bar", ROUTE_EQUERY),
	   "an unknown parameter on a GET route is EQUERY");
	ok(refused("/api/secrets?api-version=7.6&foo=1", ROUTE_EQUERY),
	   "an unknown parameter after a good one is EQUERY");
	ok(refused("/api/secrets?Api-Version=7.6", ROUTE_EQUERY),
	   "parameter names are matched exactly (Api-Version is unknown)");
	ok(refused("/api/secrets?skiptoken=abc", ROUTE_EQUERY), "skiptoken without '$' is unknown");
	ok(parse("/api/secrets?%61pi-version=7.6", &r) == ROUTE_OK,
	   "an encoded parameter name is decoded once (%%61pi-version)");
	ok(parse("/api/secrets/x/?api%2Dversion=2025-07-01", &r) == ROUTE_OK &&
	       strcmp(r.api_version, "2025-07-01") == 0,
	   "api%%2Dversion, as the Azure SDK for JS sends it, is api-version");
	ok(parse("/api/secrets?api%2dversion=7.6", &r) == ROUTE_OK, "lower-case hex too");
	ok(refused("/api/secrets?api%2Dversion=7.6&api-version=7.6", ROUTE_EQUERY),
	   "an encoded and a plain api-version are the same parameter given twice");
	ok(refused("/api/secrets?api%5Fversion=7.6", ROUTE_EQUERY),
	   "a name decoding to a character outside names is unknown");
	ok(refused("/api/secrets?=x", ROUTE_EQUERY), "an empty parameter name is EQUERY");
	ok(refused("/api/secrets?x", ROUTE_EQUERY), "a bare word is EQUERY");
	ok(refused("/api/secrets?a?b=1", ROUTE_EQUERY), "a second '?' is EQUERY");
	ok(parse("/api/secrets?", &r) == ROUTE_OK && r.kind == ROUTE_LIST,
	   "an empty query is accepted");
	ok(parse("/api/secrets?&", &r) == ROUTE_OK, "a query of one empty element is accepted");
	ok(parse("/api/secrets?&&api-version=7.6&&maxresults=4&", &r) == ROUTE_OK &&
	       strcmp(r.api_version, "7.6") == 0 && r.maxresults == 4,
	   "empty elements between, before and after parameters are skipped");
	ok(parse("/api/secrets/?api-version=7.6", &r) == ROUTE_OK && r.kind == ROUTE_LIST,
	   "a trailing slash before the query");
	ok(parse("/api/secrets/a/?api-version=7.6", &r) == ROUTE_OK && r.kind == ROUTE_GET &&
	       strcmp(r.name, "a") == 0 && strcmp(r.api_version, "7.6") == 0,
	   "the SDK form /secrets/{name}/?api-version=7.6");
}

static void test_messages(void)
{
	struct route r;
	char small[8];
	enum route_err e;

	e = parse("/api/secrets/EVILMARKER_x", &r);
	ok(e == ROUTE_ENAME && msg[0] != '\0' && strstr(msg, "EVILMARKER") == NULL,
	   "the message does not quote the request (no reflection of caller input)");
	e = parse("/api/secrets?EVILMARKER=1", &r);
	ok(e == ROUTE_EQUERY && strstr(msg, "EVILMARKER") == NULL,
	   "the message for an unknown parameter does not quote it");
	memset(small, 'Z', sizeof(small));
	e = route_parse("/api/secrets/a_b", "/api", &r, small, 4);
	ok(e == ROUTE_ENAME && strlen(small) == 3 && small[4] == 'Z',
	   "a short message buffer is truncated, never overrun");
	ok(route_parse("/api/secrets/a_b", "/api", &r, NULL, 0) == ROUTE_ENAME,
	   "msg may be NULL with msglen 0");
	strcpy(msg, "stale");
	ok(parse("/api/secrets", &r) == ROUTE_OK && msg[0] == '\0',
	   "on success the message is emptied");
	memset(&r, 0x5a, sizeof(r));
	ok(parse("/api/secrets", &r) == ROUTE_OK && r.name[0] == '\0' && r.maxresults == 0 &&
	       r.api_version[0] == '\0' && r.skiptoken[0] == '\0',
	   "*out is zeroed on entry (no stale fields from a previous request)");

	for (int i = ROUTE_OK; i <= ROUTE_EMAXRESULTS; i++)
		for (int j = i + 1; j <= ROUTE_EMAXRESULTS; j++)
			if (strcmp(route_strerror((enum route_err)i),
			           route_strerror((enum route_err)j)) == 0)
				ok(0, "route_strerror(%d) and (%d) differ", i, j);
	ok(route_strerror((enum route_err)99) != NULL, "route_strerror of an unknown value");
}

static void test_api_version_valid(void)
{
	ok(route_api_version_valid("7.6") && route_api_version_valid("2025-07-01") &&
	       route_api_version_valid("2026-03-01-preview"),
	   "route_api_version_valid: the forms Key Vault uses");
	ok(!route_api_version_valid(""), "route_api_version_valid: empty is refused");
	ok(route_api_version_valid("01234567890123456789012345678901"),
	   "route_api_version_valid: 32 characters");
	ok(!route_api_version_valid("012345678901234567890123456789012"),
	   "route_api_version_valid: 33 characters are refused");
	ok(!route_api_version_valid("7_6") && !route_api_version_valid("7 6") &&
	       !route_api_version_valid("7/6") && !route_api_version_valid("7%6"),
	   "route_api_version_valid: '_', space, '/', '%%' are refused");
}

static void test_under_base(void)
{
	ok(route_under_base("/api", "/api"), "route_under_base: the base itself");
	ok(route_under_base("/api/", "/api"), "route_under_base: the base with a slash");
	ok(route_under_base("/api/secrets/x", "/api"), "route_under_base: a path below");
	ok(route_under_base("/api?x=1", "/api"), "route_under_base: the base with a query");
	ok(!route_under_base("/apix", "/api"), "route_under_base: /apix is not under /api");
	ok(!route_under_base("/ap", "/api"), "route_under_base: a prefix of the base");
	ok(!route_under_base("", "/api"), "route_under_base: empty");
	ok(!route_under_base("/", "/api"), "route_under_base: the root");
	ok(!route_under_base("/other/api", "/api"), "route_under_base: the base elsewhere");
	ok(!route_under_base("/API", "/api"), "route_under_base: case-sensitive");
	ok(route_under_base("/kv/v1/secrets", "/kv/v1"), "route_under_base: /kv/v1");
	ok(!route_under_base("/kv/v10", "/kv/v1"), "route_under_base: /kv/v10 is not under /kv/v1");
	ok(!route_under_base("/kv", "/kv/v1"), "route_under_base: /kv is not under /kv/v1");
	ok(!route_under_base("/api#x", "/api"),
	   "route_under_base: a fragment right after the base");
}

int main(void)
{
	test_kinds();
	test_base_paths();
	test_names();
	test_versions();
	test_encoding();
	test_caps();
	test_query();
	test_messages();
	test_api_version_valid();
	test_under_base();
	return tap_done();
}
