/*
 * strlist.c: lists of strings parsed from INI values. See strlist.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strlist.h"

/* Items are separated by runs of spaces, tabs and commas, in any mix. */
static const char strlist_seps[] = " \t,";

/*
 * Append a copy of s to l, growing the array by one slot. The lists kvgate
 * keeps are short (the policy caps them at a few hundred items), so a
 * realloc per item costs nothing and keeps the struct to {v, n}.
 * Returns 0, or -1 when out of memory (l is then unchanged).
 */
int strlist_add(struct strlist *l, const char *s)
{
	char **v, *copy;

	if (l->n >= SIZE_MAX / sizeof(*l->v) - 1)
		return -1;
	if ((copy = strdup(s)) == NULL)
		return -1;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		free(copy);
		return -1;
	}
	v[l->n++] = copy;
	l->v = v;
	return 0;
}

/*
 * Split s at spaces, tabs and commas into *out, dropping empty items, so
 * "a, b c,,d" is four items. A NULL or empty s gives an empty list.
 * Returns 0, or -1 when out of memory, in which case *out is left empty.
 */
int strlist_parse(const char *s, struct strlist *out)
{
	char *copy, *item, *save = NULL;

	out->v = NULL;
	out->n = 0;
	if (s == NULL || *s == '\0')
		return 0;
	if ((copy = strdup(s)) == NULL)
		return -1;
	for (item = strtok_r(copy, strlist_seps, &save); item != NULL;
	     item = strtok_r(NULL, strlist_seps, &save)) {
		if (strlist_add(out, item) == -1) {
			strlist_free(out);
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

/* Whether some item equals s byte for byte. */
bool strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* Whether some item equals s ignoring ASCII case (header names). */
bool strlist_contains_ci(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* Free every item and the array; the list is empty and reusable after. */
void strlist_free(struct strlist *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
