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

#endif
