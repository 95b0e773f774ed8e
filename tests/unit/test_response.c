/*
 * test_response: building and formatting one answer (lib/response.c).
 *
 * response_format() is the only writer of what goes back to the web server,
 * so these tests compare its output byte for byte: the Status line, the
 * headers every answer must carry (design.md: Content-Type, Cache-Control:
 * no-store, X-Content-Type-Options: nosniff, Vary: Origin merged), HEAD
 * without a body, and the refusal of anything that could split a response.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "response.h"
#include "tap.h"

/* malloc or die: a test has no use for a NULL. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/* Format r into a fresh string (malloc'd); NULL when formatting fails. */
static char *fmt(struct response *r, bool head)
{
	struct buf out;
	char *s;

	buf_init(&out, 4 * 1024 * 1024);
	if (response_format(r, head, &out) != 0) {
		buf_free(&out);
		return NULL;
	}
	s = strdup(out.data != NULL ? out.data : "");
	buf_free(&out);
	return s;
}

/* How many times needle occurs in s. */
static int count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The header block of a formatted answer (up to and excluding the blank
 * line), malloc'd. */
static char *head_of(const char *s)
{
	const char *end = strstr(s, "\r\n\r\n");

	return end != NULL ? strndup(s, (size_t)(end - s) + 2) : strdup(s);
}

static void test_format_exact(void)
{
	struct response r;
	struct json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "a", json_object_new_int(1));
	response_init(&r);
	ok(r.status == 500, "a fresh response is a 500 until a handler decides otherwise");
	ok(response_json(&r, 200, o) == 0 && r.status == 200, "response_json sets the status");
	s = fmt(&r, false);
	ok(s != NULL && strcmp(s, "Status: 200 OK\r\n"
	                          "Content-Type: application/json; charset=utf-8\r\n"
	                          "Content-Length: 7\r\n"
	                          "Cache-Control: no-store\r\n"
	                          "X-Content-Type-Options: nosniff\r\n"
	                          "Vary: Origin\r\n"
	                          "\r\n"
	                          "{\"a\":1}") == 0,
	   "GET 200: exact Status line, JSON headers, Vary: Origin, blank line, body");
	free(s);
	s = fmt(&r, false);
	ok(s != NULL && count(s, "Origin") == 1,
	   "formatting twice does not add Origin to Vary twice");
	free(s);

	s = fmt(&r, true);
	ok(s != NULL && strcmp(s, "Status: 200 OK\r\n"
	                          "Content-Type: application/json; charset=utf-8\r\n"
	                          "Content-Length: 7\r\n"
	                          "Cache-Control: no-store\r\n"
	                          "X-Content-Type-Options: nosniff\r\n"
	                          "Vary: Origin\r\n"
	                          "\r\n") == 0,
	   "HEAD: the same headers, Content-Length of the GET body, and no body");
	free(s);

	response_header(&r, "ETag", "\"x\"");
	s = fmt(&r, false);
	ok(s != NULL && strstr(s, "Vary: Origin\r\nETag: \"x\"\r\n\r\n{\"a\":1}") != NULL,
	   "a handler's header follows the fixed ones, before the blank line");
	free(s);
	json_object_put(o);
	response_free(&r);

	response_init(&r);
	response_empty(&r, 204);
	s = fmt(&r, false);
	ok(s != NULL && strcmp(s, "Status: 204 No Content\r\n"
	                          "Cache-Control: no-store\r\n"
	                          "X-Content-Type-Options: nosniff\r\n"
	                          "Vary: Origin\r\n"
	                          "\r\n") == 0,
	   "empty 204: no Content-Type, no Content-Length, no body, the rest present");
	free(s);
	s = fmt(&r, true);
	ok(s != NULL && strstr(s, "\r\nContent-") == NULL,
	   "empty 204 to HEAD: no Content-* either");
	free(s);
	response_free(&r);

	/* An answer that had a body and then became an empty preflight. */
	response_init(&r);
	response_error(&r, 404, "SecretNotFound", "x");
	response_empty(&r, 204);
	s = fmt(&r, false);
	ok(s != NULL && r.body.len == 0 && strstr(s, "\r\nContent-") == NULL &&
	       strstr(s, "error") == NULL,
	   "response_empty drops a body set earlier");
	free(s);
	response_free(&r);
}

static void test_status_lines(void)
{
	static const struct {
		int status;
		const char *line;
	} t[] = {
	    {200, "Status: 200 OK\r\n"},
	    {204, "Status: 204 No Content\r\n"},
	    {400, "Status: 400 Bad Request\r\n"},
	    {401, "Status: 401 Unauthorized\r\n"},
	    {403, "Status: 403 Forbidden\r\n"},
	    {404, "Status: 404 Not Found\r\n"},
	    {405, "Status: 405 Method Not Allowed\r\n"},
	    {429, "Status: 429 Too Many Requests\r\n"},
	    {500, "Status: 500 Internal Server Error\r\n"},
	    {502, "Status: 502 Bad Gateway\r\n"},
	    {503, "Status: 503 Service Unavailable\r\n"},
	    {504, "Status: 504 Gateway Timeout\r\n"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct response r;
		char *s;

		response_init(&r);
		response_error(&r, t[i].status, "Code", "m");
		s = fmt(&r, false);
		ok(s != NULL && strncmp(s, t[i].line, strlen(t[i].line)) == 0 &&
		       strstr(s, "Content-Type: application/json; charset=utf-8\r\n") != NULL &&
		       strstr(s, "Cache-Control: no-store\r\n") != NULL &&
		       strstr(s, "X-Content-Type-Options: nosniff\r\n") != NULL &&
		       strstr(s, "Vary: Origin\r\n") != NULL,
		   "status %d: '%.*s' and every fixed header, errors included", t[i].status,
		   (int)strlen(t[i].line) - 2, t[i].line);
		free(s);
		response_free(&r);
	}
	ok(strcmp(response_reason(599), "Unknown") == 0, "an unlisted status has a reason phrase");
}

static void test_content_length(void)
{
	struct response r;
	char *s, *h, want[64];
	const char *body;

	/* Content-Length counts bytes, not characters: a UTF-8 message. */
	response_init(&r);
	response_error(&r, 400, "BadParameter", "caf\xc3\xa9 \xe2\x82\xac \"q\" \\ /");
	s = fmt(&r, false);
	body = s != NULL ? strstr(s, "\r\n\r\n") + 4 : "";
	snprintf(want, sizeof(want), "Content-Length: %zu\r\n", strlen(body));
	ok(s != NULL && strstr(s, want) != NULL && strlen(body) == r.body.len,
	   "Content-Length is the body's length in bytes (UTF-8 message)");
	free(s);
	s = fmt(&r, true);
	h = s != NULL ? head_of(s) : NULL;
	ok(s != NULL && strstr(s, want) != NULL && strcmp(s + strlen(h), "\r\n") == 0,
	   "HEAD of an error: same Content-Length, nothing after the blank line");
	free(h);
	free(s);
	response_free(&r);
}

static void test_headers(void)
{
	struct response r;
	char *s;
	int n;

	response_init(&r);
	ok(response_header(&r, "X-A", "1") == 0 && response_header(&r, "x-a", "2") == 0 &&
	       r.nheaders == 1,
	   "setting a header twice (any case) replaces it");
	ok(strcmp(response_get_header(&r, "X-A"), "2") == 0 &&
	       strcmp(response_get_header(&r, "X-a"), "2") == 0,
	   "response_get_header finds the last value, ignoring case");
	ok(response_get_header(&r, "X-B") == NULL, "response_get_header of a missing header");
	s = fmt(&r, false);
	ok(s != NULL && count(s, "X-A: ") == 1 && strstr(s, "X-A: 2\r\n") != NULL &&
	       strstr(s, "x-a") == NULL,
	   "the replaced header appears once, with the first name's spelling and the new value");
	free(s);

	ok(response_header(&r, "X-Bad", "a\r\nSet-Cookie: x=1") == -1,
	   "a value with CR LF is refused (response splitting)");
	ok(response_header(&r, "X-Bad", "a\nSet-Cookie: x=1") == -1, "a value with LF is refused");
	ok(response_header(&r, "X-Bad", "a\rb") == -1, "a value with CR is refused");
	ok(response_header(&r, "X-Bad\r\nSet-Cookie", "x") == -1, "a name with CR LF is refused");
	ok(response_header(&r, "X-A", "evil\r\n\r\n<html>") == -1 &&
	       strcmp(response_get_header(&r, "X-A"), "2") == 0,
	   "a refused replacement leaves the old value in place");
	s = fmt(&r, false);
	ok(s != NULL && strstr(s, "Set-Cookie") == NULL && strstr(s, "X-Bad") == NULL &&
	       strstr(s, "<html>") == NULL,
	   "nothing of a refused header reaches the output");
	free(s);
	response_free(&r);

	/* The header table is bounded. */
	response_init(&r);
	n = 0;
	for (int i = 0; i < RESPONSE_MAX_HEADERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "X-H%d", i);
		if (response_header(&r, name, "v") == 0)
			n++;
	}
	ok(n == RESPONSE_MAX_HEADERS, "RESPONSE_MAX_HEADERS distinct headers fit");
	ok(response_header(&r, "X-One-Too-Many", "v") == -1 && r.nheaders == RESPONSE_MAX_HEADERS,
	   "one more distinct header is refused at the cap");
	ok(response_header(&r, "x-h0", "w") == 0 &&
	       strcmp(response_get_header(&r, "X-H0"), "w") == 0,
	   "replacing a header still works at the cap");
	s = fmt(&r, false);
	ok(s != NULL && strstr(s, "X-One-Too-Many") == NULL &&
	       count(s, "X-H") == RESPONSE_MAX_HEADERS,
	   "the formatted answer holds exactly the headers that fit");
	free(s);
	response_free(&r);
	ok(r.nheaders == 0, "response_free drops the headers");
	response_init(&r);
	ok(response_header(&r, "X-Again", "1") == 0, "a freed response can be initialised again");
	response_free(&r);

	/* Names and values live in the response's own store until it is
	 * full, then on the heap: all of them read back and format the same,
	 * replaced values included (valgrind, in make valgrind, sees that
	 * every heap copy is freed). */
	{
		char big[700], name[16], want[16];
		bool all = true;

		memset(big, 'b', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		response_init(&r);
		for (int i = 0; i < 8; i++) {
			snprintf(name, sizeof(name), "X-Big%d", i);
			all = all && response_header(&r, name, big) == 0;
		}
		ok(all && r.headers[0].value_heap == false && r.headers[7].value_heap == true,
		   "past the store's %d bytes, headers are copied to the heap", RESPONSE_STORE);
		for (int i = 0; i < 8; i++) {
			snprintf(name, sizeof(name), "x-big%d", i);
			snprintf(want, sizeof(want), "v%d", i);
			all = all && response_header(&r, name, want) == 0 &&
			      strcmp(response_get_header(&r, name), want) == 0;
		}
		ok(all && r.nheaders == 8, "each replaced, in the store or on the heap");
		s = fmt(&r, false);
		ok(s != NULL && strstr(s, "X-Big0: v0\r\n") != NULL &&
		       strstr(s, "X-Big7: v7\r\n") != NULL && count(s, "X-Big") == 8,
		   "and formatted with their last values");
		free(s);
		response_free(&r);
	}
}

static void test_vary(void)
{
	struct response r;
	char *s;

	response_init(&r);
	response_vary(&r, "Accept-Encoding");
	s = fmt(&r, false);
	ok(s != NULL && strstr(s, "Vary: Accept-Encoding, Origin\r\n") != NULL &&
	       count(s, "Vary:") == 1,
	   "another Vary token is merged with Origin into one Vary header");
	free(s);
	response_vary(&r, "origin");
	response_vary(&r, "ACCEPT-ENCODING");
	s = fmt(&r, false);
	ok(s != NULL && strstr(s, "Vary: Accept-Encoding, Origin\r\n") != NULL,
	   "tokens already present are not added again, ignoring case");
	free(s);
	response_free(&r);

	response_init(&r);
	response_vary(&r, "Origin");
	response_vary(&r, "Access-Control-Request-Method");
	response_vary(&r, "Access-Control-Request-Headers");
	response_vary(&r, "Origin");
	response_vary(&r, "access-control-request-method");
	s = fmt(&r, false);
	ok(s != NULL && strstr(s, "Vary: Origin, Access-Control-Request-Method, "
	                          "Access-Control-Request-Headers\r\n") != NULL,
	   "the preflight's three Vary tokens, each once, in order");
	free(s);
	response_free(&r);

	/* A token that is a prefix or suffix of another is still its own. */
	response_init(&r);
	response_vary(&r, "Origin-X");
	response_vary(&r, "X-Origin");
	response_vary(&r, "Origin");
	s = fmt(&r, false);
	ok(s != NULL && strstr(s, "Vary: Origin-X, X-Origin, Origin\r\n") != NULL,
	   "Origin-X and X-Origin do not count as Origin");
	free(s);
	response_free(&r);

	/* Vary is a header like any other: a token must not be able to end it
	 * and start another (response splitting), as response_header() refuses. */
	response_init(&r);
	ok(response_vary(&r, "X\r\nSet-Cookie: a=b") == -1, "a Vary token with CR LF is refused");
	ok(response_vary(&r, "X\nY") == -1, "a Vary token with LF is refused");
	s = fmt(&r, false);
	ok(s != NULL && strstr(s, "Set-Cookie") == NULL && count(s, "\r\n") == 7,
	   "nothing of a refused Vary token reaches the output");
	free(s);
	response_free(&r);

	/* Vary is bounded. */
	response_init(&r);
	for (int i = 0; i < 100; i++) {
		char tok[32];

		snprintf(tok, sizeof(tok), "X-Token-%d", i);
		response_vary(&r, tok);
	}
	ok(r.vary.len <= 256, "Vary stays within its cap (%zu bytes)", r.vary.len);
	response_free(&r);
}

static void test_error_envelope(void)
{
	struct response r;
	struct json_object *root, *err, *v;
	char message[64];
	int shape;

	snprintf(message, sizeof(message), "A \"quoted\" name\nand a line / end");
	response_init(&r);
	response_error(&r, 404, "SecretNotFound", message);
	message[0] = 'Z';
	root = json_tokener_parse(r.body.data);
	shape = root != NULL && json_object_is_type(root, json_type_object) &&
	        json_object_object_length(root) == 1 &&
	        json_object_object_get_ex(root, "error", &err) &&
	        json_object_is_type(err, json_type_object) && json_object_object_length(err) == 2;
	ok(r.status == 404 && shape,
	   "the error body is {\"error\":{\"code\",\"message\"}} and nothing else");
	ok(shape && json_object_object_get_ex(err, "code", &v) &&
	       json_object_is_type(v, json_type_string) &&
	       strcmp(json_object_get_string(v), "SecretNotFound") == 0,
	   "error.code is the code given");
	ok(shape && json_object_object_get_ex(err, "message", &v) &&
	       json_object_is_type(v, json_type_string) &&
	       strcmp(json_object_get_string(v), "A \"quoted\" name\nand a line / end") == 0,
	   "error.message is the message given, escaped and copied (later changes to the "
	   "caller's buffer do not show)");
	json_object_put(root);

	response_error(&r, 503, "ServiceUnavailable", "retry");
	root = json_tokener_parse(r.body.data);
	ok(r.status == 503 && root != NULL && json_object_object_get_ex(root, "error", &err) &&
	       json_object_object_get_ex(err, "code", &v) &&
	       strcmp(json_object_get_string(v), "ServiceUnavailable") == 0 &&
	       strstr(r.body.data, "SecretNotFound") == NULL,
	   "a second response_error replaces the first body entirely");
	json_object_put(root);
	response_free(&r);
}

static void test_body_cap(void)
{
	struct response r;
	struct json_object *o, *root, *err, *v;
	size_t n = RESPONSE_BODY_MAX + 100;
	char *big = xmalloc(n);

	memset(big, 'x', n);
	o = json_object_new_string_len(big, (int)n);
	response_init(&r);
	ok(response_json(&r, 200, o) == -1, "a body over RESPONSE_BODY_MAX is refused");
	root = json_tokener_parse(r.body.data);
	ok(r.status == 500 && root != NULL && json_object_object_get_ex(root, "error", &err) &&
	       json_object_object_get_ex(err, "code", &v) &&
	       strcmp(json_object_get_string(v), "InternalError") == 0,
	   "...and the answer becomes a 500 InternalError envelope, not a truncated body");
	json_object_put(root);
	json_object_put(o);
	free(big);
	response_free(&r);

	/* A caller's output buffer that is too small. */
	{
		struct buf out;

		response_init(&r);
		response_error(&r, 400, "BadParameter", "m");
		buf_init(&out, 32);
		ok(response_format(&r, false, &out) == -1,
		   "response_format reports a full out buffer");
		buf_free(&out);
		response_free(&r);
	}
}

int main(void)
{
	test_format_exact();
	test_status_lines();
	test_content_length();
	test_headers();
	test_vary();
	test_error_envelope();
	test_body_cap();
	return tap_done();
}
