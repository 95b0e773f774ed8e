/*
 * glob.c: the name patterns of [secrets] allow and deny. See glob.h.
 */
#include <string.h>

#include "ascii.h"
#include "glob.h"

/* Longest pattern: a secret name is at most 127 characters, and a pattern
 * longer than any name it could match is a mistake. */
#define GLOB_PATTERN_MAX 127

/*
 * A pattern is 1-127 characters of [0-9A-Za-z-] (Key Vault's secret name
 * alphabet) plus the wildcards `*` and `?`. Anything else, such as `/`, `.`
 * or `[`, could never match a name and is refused as a typo.
 */
bool glob_valid(const char *pattern)
{
	size_t n;

	if (pattern == NULL)
		return false;
	n = strlen(pattern);
	if (n == 0 || n > GLOB_PATTERN_MAX)
		return false;
	for (const char *p = pattern; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '-' || c == '*' || c == '?'))
			return false;
	}
	return true;
}

/*
 * Match name against pattern without recursion. On a mismatch after a `*`,
 * only the most recent `*` is retried one character further: an earlier
 * star can never do better, because the later star could absorb whatever
 * the earlier one would. So the work is at most len(pattern) * len(name)
 * steps, and `*a*a*a*a*b` against a long run of `a` stays cheap instead of
 * blowing up exponentially as a naive recursive matcher does.
 */
bool glob_match(const char *pattern, const char *name)
{
	const unsigned char *p = (const unsigned char *)pattern;
	const unsigned char *s = (const unsigned char *)name;
	const unsigned char *star = NULL, *resume = NULL;

	if (pattern == NULL || name == NULL)
		return false;
	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p != '\0' && (*p == '?' || ascii_lower(*p) == ascii_lower(*s))) {
			p++;
			s++;
		} else if (star != NULL) {
			/* Let the last star absorb one more character. */
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Whether name matches some pattern of the list; false for an empty list. */
bool glob_match_any(const struct strlist *patterns, const char *name)
{
	if (patterns == NULL)
		return false;
	for (size_t i = 0; i < patterns->n; i++)
		if (glob_match(patterns->v[i], name))
			return true;
	return false;
}
