/*
 * test_glob.c: the [secrets] allow/deny patterns: `*` and `?`, ASCII case
 * ignored (Key Vault names are case-insensitive, so a deny must hide every
 * spelling), linear-ish time on hostile patterns, and glob_valid().
 */
#include <string.h>
#include <time.h>

#include "glob.h"
#include "tap.h"

static void match(const char *pattern, const char *name, int want)
{
	ok(glob_match(pattern, name) == (want != 0), "\"%s\" %s \"%s\"", pattern,
	   want ? "matches" : "does not match", name);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	char name[128], pattern[128];
	struct strlist l = {0};
	double t0, dt;
	int m;

	/* Literal patterns. */
	match("demo-key", "demo-key", 1);
	match("demo-key", "demo-ke", 0);
	match("demo-key", "demo-keys", 0);
	match("demo", "", 0);

	/* `*` at the ends, in the middle, alone, repeated. */
	match("*", "anything", 1);
	match("*", "", 1);
	match("public-*", "public-", 1);
	match("public-*", "public-api-key", 1);
	match("public-*", "xpublic-a", 0);
	match("*-internal", "db-internal", 1);
	match("*-internal", "db-internals", 0);
	match("a*b*c", "aXXbYYc", 1);
	match("a*b*c", "abc", 1);
	match("a*b*c", "acb", 0);
	match("a**b", "ab", 1);
	match("*a*", "bab", 1);
	match("*ab", "aab", 1); /* needs the backtrack to the last star */
	match("*aab", "aaab", 1);
	match("a*", "b", 0);

	/* `?` is exactly one character. */
	match("key-?", "key-1", 1);
	match("key-?", "key-", 0);
	match("key-?", "key-12", 0);
	match("?", "", 0);
	match("?\?-*", "ab-c", 1); /* "?\?": a ?? before - would be a C trigraph */

	/* ASCII case is ignored both ways. */
	match("admin-*", "ADMIN-key", 1);
	match("ADMIN-*", "admin-key", 1);
	match("Demo-Key", "dEMO-kEY", 1);

	/* Pathological: a naive backtracking matcher is exponential here. */
	memset(name, 'a', 127);
	name[127] = '\0';
	t0 = now();
	m = glob_match("*a*a*a*a*a*b", name);
	dt = now() - t0;
	ok(!m && dt < 0.5, "*a*a*a*a*a*b against 127 'a's fails fast (%.6f s)", dt);
	for (int i = 0; i < 126; i += 2) {
		pattern[i] = '*';
		pattern[i + 1] = 'a';
	}
	pattern[126] = 'b';
	pattern[127] = '\0';
	t0 = now();
	m = glob_match(pattern, name);
	dt = now() - t0;
	ok(!m && dt < 0.5, "63 stars then b against 127 'a's fails fast (%.6f s)", dt);
	pattern[126] = '*';
	ok(glob_match(pattern, name), "63 stars with 'a's and a final * matches 127 'a's");

	/* NULLs never match. */
	ok(!glob_match(NULL, "a") && !glob_match("a", NULL), "NULL pattern or name: no match");

	/* Any of a list. */
	ok(strlist_parse("public-* demo-*", &l) == 0, "parse a pattern list");
	ok(glob_match_any(&l, "DEMO-x"), "match_any: the second pattern matches");
	ok(!glob_match_any(&l, "admin-x"), "match_any: no pattern matches");
	strlist_free(&l);
	ok(!glob_match_any(&l, "x"), "match_any: an empty list matches nothing");
	ok(!glob_match_any(NULL, "x"), "match_any: a NULL list matches nothing");

	/* glob_valid: 1-127 of [0-9A-Za-z-*?]. */
	ok(glob_valid("*") && glob_valid("public-*") && glob_valid("Key-?\?-9"),
	   "valid: names with * and ?");
	ok(!glob_valid(""), "invalid: empty");
	ok(!glob_valid(NULL), "invalid: NULL");
	ok(glob_valid(name), "valid: 127 characters");
	name[126] = '\0';
	memset(pattern, 'a', 127);
	pattern[127] = '\0';
	ok(glob_valid(pattern), "valid: exactly 127 characters");
	{
		char long_pattern[129];

		memset(long_pattern, 'a', 128);
		long_pattern[128] = '\0';
		ok(!glob_valid(long_pattern), "invalid: 128 characters");
	}
	ok(!glob_valid("a.b") && !glob_valid("a/b") && !glob_valid("a_b") && !glob_valid("[ab]") &&
	       !glob_valid("a b") && !glob_valid("a,b"),
	   "invalid: . / _ [ ] space and comma are not in names");
	return tap_done();
}
