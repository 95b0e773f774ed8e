/*
 * test_strlist.c: INI lists split at spaces and/or commas (design.md), empty
 * items dropped, and the two membership tests.
 */
#include <string.h>

#include "strlist.h"
#include "tap.h"

/* Whether l holds exactly the n items of want, in order. */
static int same(const struct strlist *l, const char *const *want, size_t n)
{
	if (l->n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(l->v[i], want[i]) != 0)
			return 0;
	return 1;
}

static void parses(const char *s, const char *const *want, size_t n, const char *what)
{
	struct strlist l = {0};

	ok(strlist_parse(s, &l) == 0 && same(&l, want, n), "%s", what);
	strlist_free(&l);
}

int main(void)
{
	static const char *const abc[] = {"a", "b", "c"};
	static const char *const one[] = {"GET"};
	struct strlist l = {0};

	parses("a b c", abc, 3, "spaces separate items");
	parses("a,b,c", abc, 3, "commas separate items");
	parses("a, b c", abc, 3, "\"a, b c\" is three items: spaces and commas mix");
	parses(" ,a ,, b\t,c, ", abc, 3, "runs of separators and tabs give no empty items");
	parses("GET", one, 1, "one item without separators");
	parses("", NULL, 0, "an empty string is an empty list");
	parses(NULL, NULL, 0, "NULL is an empty list");
	parses(" , ,, ", NULL, 0, "separators only is an empty list");

	ok(strlist_parse("x-Ms-Client-Request-Id GET", &l) == 0 && l.n == 2, "parse for lookups");
	ok(strlist_contains(&l, "GET"), "contains: exact match found");
	ok(!strlist_contains(&l, "get"), "contains: is case-sensitive (methods)");
	ok(!strlist_contains(&l, "GE"), "contains: a prefix is not a match");
	ok(strlist_contains_ci(&l, "X-MS-CLIENT-REQUEST-ID"),
	   "contains_ci: ignores ASCII case (header names)");
	ok(!strlist_contains_ci(&l, "x-ms-client-request"), "contains_ci: a prefix is not a match");
	strlist_free(&l);
	ok(l.n == 0 && l.v == NULL, "free leaves an empty, reusable list");
	strlist_free(&l);
	ok(1, "free of an empty list is harmless");

	ok(strlist_add(&l, "one") == 0 && strlist_add(&l, "two") == 0 && l.n == 2 &&
	       strcmp(l.v[1], "two") == 0,
	   "add appends copies in order");
	ok(!strlist_contains(&l, "three") && !strlist_contains_ci(&l, ""),
	   "absent items are not found");
	strlist_free(&l);
	return tap_done();
}
