/*
 * jsonparse: strict parsing of a whole upstream answer as one JSON value.
 *
 * json_tokener_parse() accepts trailing garbage, invalid UTF-8 and
 * unbounded nesting; answers from the vault and the identity endpoint get
 * none of that: RFC 8259 strictly, valid UTF-8, a nesting cap, and nothing
 * but white space after the value.
 */
#ifndef KVGATE_JSONPARSE_H
#define KVGATE_JSONPARSE_H

#include <json-c/json.h>
#include "buf.h"

/* Parse all of b. Returns a new reference (caller puts it), or NULL when b
 * is empty, not strict JSON, nested deeper than depth, or followed by
 * anything but white space. */
struct json_object *jsonparse_strict(const struct buf *b, int depth);

/* Parse text (len bytes) that this program serialized itself (a cached
 * answer): no strictness checks, but json-c's buffer is wiped as above.
 * Returns a new reference or NULL. */
struct json_object *jsonparse_text(const char *text, size_t len);

/* Put j (the caller's last reference) after wiping every string in it,
 * recursively: for answers that may hold a secret value or a token, whose
 * bytes json-c would otherwise free as they are. Accepts NULL. */
void jsonparse_put_wiped(struct json_object *j);

/* Wipe the text json_object_to_json_string_length() returned for an object
 * (json-c keeps it in the object until the object is freed), once it has
 * been copied. */
void jsonparse_wipe_text(const char *s, size_t len);

#endif
