/*
 * test_jsonparse.c: strict whole-buffer parsing (lib/jsonparse.c) and the
 * wiping of parsed answers: trailing garbage, invalid UTF-8, depth and
 * empty input refused; every string of a tree wiped before it is freed
 * (including inside objects and arrays); serialized text wiped in place.
 */
#include <stdbool.h>
#include <string.h>

#include "../../lib/jsonparse.h"
#include "tap.h"

static struct json_object *parse(const char *text, int depth)
{
	struct json_object *j;
	struct buf b;

	buf_init(&b, 1 << 20);
	buf_puts(&b, text);
	j = jsonparse_strict(&b, depth);
	buf_free(&b);
	return j;
}

static bool all_zero(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\0')
			return false;
	return true;
}

int main(void)
{
	struct json_object *j, *v, *a;
	const char *value, *inner, *text;
	size_t vlen, ilen, tlen;

	j = parse("{\"value\":\"s3cret\"} \n", 8);
	ok(j != NULL, "an object with trailing white space parses");
	json_object_put(j);
	ok(parse("{\"value\":\"x\"} x", 8) == NULL, "trailing garbage is refused");
	ok(parse("{\"value\":\"\xc3\x28\"}", 8) == NULL, "invalid UTF-8 is refused");
	ok(parse("[[[[[[[[[[1]]]]]]]]]]", 4) == NULL, "nesting deeper than the cap is refused");
	ok(parse("", 8) == NULL, "empty input is refused");
	ok(parse("{'a':1}", 8) == NULL, "single-quoted strings are refused (json-c takes them)");
	ok(parse("{\"a\":[1,{\"b\":NaN}]}", 8) == NULL && parse("{\"a\":Infinity}", 8) == NULL,
	   "NaN and Infinity are refused (json-c takes them)");
	j = parse("{\"a\":\"it's \\\" quoted\",\"n\":1.5e3}", 8);
	ok(j != NULL, "a single quote inside a string, escapes and exponents are fine");
	json_object_put(j);
	ok(parse("{a:1}", 8) == NULL && parse("[1,]", 8) == NULL, "bare keys, trailing commas refused");

	/* A bundle whose value is long enough to be stored out of line, and
	 * a short one stored inline, in an object and an array. */
	j = parse("{\"value\":\"a-secret-value-longer-than-any-inline-string-storage\","
	          "\"tags\":{\"k\":\"inner-secret\"},\"list\":[\"s1\",{\"t\":\"s2\"}]}",
	          8);
	json_object_object_get_ex(j, "value", &v);
	value = json_object_get_string(v);
	vlen = (size_t)json_object_get_string_len(v);
	json_object_object_get_ex(j, "tags", &a);
	json_object_object_get_ex(a, "k", &v);
	inner = json_object_get_string(v);
	ilen = (size_t)json_object_get_string_len(v);
	json_object_get(j); /* keep the tree alive to look at it afterwards */
	jsonparse_put_wiped(j);
	ok(all_zero(value, vlen), "the value's bytes are wiped");
	ok(all_zero(inner, ilen), "a nested object's strings are wiped");
	json_object_object_get_ex(j, "list", &a);
	ok(json_object_get_string_len(json_object_array_get_idx(a, 0)) == 2 &&
	       all_zero(json_object_get_string(json_object_array_get_idx(a, 0)), 2),
	   "an array's strings are wiped");
	json_object_put(j);
	jsonparse_put_wiped(NULL);
	ok(1, "jsonparse_put_wiped accepts NULL");

	j = parse("{\"value\":\"serialized-secret\"}", 8);
	text = json_object_to_json_string_length(j, JSON_C_TO_STRING_PLAIN, &tlen);
	ok(strstr(text, "serialized-secret") != NULL, "the serialization holds the value");
	jsonparse_wipe_text(text, tlen);
	ok(all_zero(text, tlen), "and is wiped in place once copied");
	jsonparse_put_wiped(j);
	return tap_done();
}
