/*
 * glob: the name patterns of [secrets] allow and deny.
 *
 * `*` matches any run of characters (also none), `?` exactly one; every other
 * character matches itself ignoring ASCII case, because Key Vault secret names
 * are case-insensitive: a deny of `admin-*` must also hide `ADMIN-key`.
 */
#ifndef KVGATE_GLOB_H
#define KVGATE_GLOB_H

#include <stdbool.h>
#include "strlist.h"

/* Whether a pattern is well formed: 1-127 characters of [0-9A-Za-z-*?]. */
bool glob_valid(const char *pattern);

/* Whether name matches pattern. Runs in O(len(pattern) * len(name)). */
bool glob_match(const char *pattern, const char *name);

/* Whether name matches any pattern of the list. */
bool glob_match_any(const struct strlist *patterns, const char *name);

#endif
