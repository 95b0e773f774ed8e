/*
 * strlist: a list of strings parsed from an INI value, where items are
 * separated by spaces and/or commas ("a, b c" is three items). Empty items
 * are dropped. The list owns its strings.
 */
#ifndef KVGATE_STRLIST_H
#define KVGATE_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

struct strlist {
	char **v;
	size_t n;
};

/* Parse s (may be NULL or empty: an empty list) into *out, which must be
 * zeroed or freed before. Returns 0, or -1 when out of memory (then *out is
 * empty). */
int strlist_parse(const char *s, struct strlist *out);

/* Append a copy of s. Returns 0, or -1 when out of memory. */
int strlist_add(struct strlist *l, const char *s);

/* Whether some item equals s, byte for byte / ignoring ASCII case. */
bool strlist_contains(const struct strlist *l, const char *s);
bool strlist_contains_ci(const struct strlist *l, const char *s);

/* Release the items; the list is empty again. Accepts a zeroed list. */
void strlist_free(struct strlist *l);

#endif
