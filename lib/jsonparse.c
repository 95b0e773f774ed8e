/*
 * jsonparse.c: strict whole-buffer JSON parsing. See jsonparse.h.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "buf.h"
#include "jsonparse.h"

/* Whether text has a single quote outside double-quoted strings: json-c's
 * strict mode still takes 'strings' (json-c 0.16). */
static bool single_quoted(const char *text, size_t len)
{
	bool in = false;

	for (size_t i = 0; i < len; i++) {
		if (in && text[i] == '\\')
			i++;
		else if (text[i] == '"')
			in = !in;
		else if (!in && text[i] == '\'')
			return true;
	}
	return false;
}

/* Whether j holds a number that is not finite: json-c takes NaN and
 * Infinity, which RFC 8259 does not have. */
static bool not_finite(struct json_object *j)
{
	struct json_object_iterator it, end;
	size_t n;

	switch (json_object_get_type(j)) {
	case json_type_double:
		return !isfinite(json_object_get_double(j));
	case json_type_object:
		it = json_object_iter_begin(j);
		end = json_object_iter_end(j);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			if (not_finite(json_object_iter_peek_value(&it)))
				return true;
		return false;
	case json_type_array:
		n = json_object_array_length(j);
		for (size_t i = 0; i < n; i++)
			if (not_finite(json_object_array_get_idx(j, i)))
				return true;
		return false;
	default:
		return false;
	}
}

struct json_object *jsonparse_strict(const struct buf *b, int depth)
{
	struct json_tokener *tok;
	struct json_object *j;
	size_t end;

	if (b->data == NULL || b->len == 0 || b->len > INT_MAX || single_quoted(b->data, b->len))
		return NULL;
	if ((tok = json_tokener_new_ex(depth)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	j = json_tokener_parse_ex(tok, b->data, (int)b->len);
	if (j != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		end = json_tokener_get_parse_end(tok);
		while (end < b->len && strchr(" \t\r\n", b->data[end]) != NULL)
			end++;
		if (end != b->len || not_finite(j)) {
			jsonparse_put_wiped(j);
			j = NULL;
		}
	} else {
		jsonparse_put_wiped(j);
		j = NULL;
	}
	/* The tokener keeps the strings it parsed (a secret value, a token)
	 * in its buffer: wiped before it is freed. struct json_tokener is
	 * still public in json-c 0.16, and nothing else reaches that buffer. */
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		buf_wipe(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	return j;
}

struct json_object *jsonparse_text(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *j;

	if (text == NULL || len == 0 || len > INT_MAX || (tok = json_tokener_new()) == NULL)
		return NULL;
	j = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		jsonparse_put_wiped(j);
		j = NULL;
	}
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		buf_wipe(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	return j;
}

static void wipe_strings(struct json_object *j)
{
	struct json_object_iterator it, end;
	size_t n;

	switch (json_object_get_type(j)) {
	case json_type_string:
		buf_wipe((char *)json_object_get_string(j), (size_t)json_object_get_string_len(j));
		break;
	case json_type_object:
		it = json_object_iter_begin(j);
		end = json_object_iter_end(j);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			wipe_strings(json_object_iter_peek_value(&it));
		break;
	case json_type_array:
		n = json_object_array_length(j);
		for (size_t i = 0; i < n; i++)
			wipe_strings(json_object_array_get_idx(j, i));
		break;
	default:
		break;
	}
}

void jsonparse_put_wiped(struct json_object *j)
{
	if (j == NULL)
		return;
	wipe_strings(j);
	json_object_put(j);
}

void jsonparse_wipe_text(const char *s, size_t len)
{
	if (s != NULL)
		buf_wipe((char *)s, len);
}
