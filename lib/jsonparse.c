/*
 * jsonparse.c: strict whole-buffer JSON parsing. See jsonparse.h.
 */
#include <limits.h>
#include <string.h>

#include "jsonparse.h"

struct json_object *jsonparse_strict(const struct buf *b, int depth)
{
	struct json_tokener *tok;
	struct json_object *j;
	size_t end;

	if (b->data == NULL || b->len == 0 || b->len > INT_MAX)
		return NULL;
	if ((tok = json_tokener_new_ex(depth)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	j = json_tokener_parse_ex(tok, b->data, (int)b->len);
	if (j != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		end = json_tokener_get_parse_end(tok);
		while (end < b->len && strchr(" \t\r\n", b->data[end]) != NULL)
			end++;
		if (end != b->len) {
			json_object_put(j);
			j = NULL;
		}
	} else {
		json_object_put(j);
		j = NULL;
	}
	json_tokener_free(tok);
	return j;
}
