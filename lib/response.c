/*
 * response.c: building and writing one HTTP answer. See response.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "jsonparse.h"
#include "log.h"
#include "response.h"

/* Vary tokens a response can carry: Origin and the two preflight headers. */
#define RESPONSE_VARY_MAX 256

void response_init(struct response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 500;
	buf_init(&r->vary, RESPONSE_VARY_MAX);
	buf_init(&r->body, RESPONSE_BODY_MAX);
}

/* A header value must not be able to end the header block or start another
 * header: no CR, LF or NUL may pass (response splitting). */
static bool value_safe(const char *v)
{
	for (; *v != '\0'; v++)
		if (*v == '\r' || *v == '\n')
			return false;
	return true;
}

/* Headers response_format() writes itself: a handler may not set them, so
 * that no answer can carry two of them. */
static bool header_reserved(const char *name)
{
	static const char *const fixed[] = {
	    "Status",        "Content-Type",           "Content-Length",
	    "Cache-Control", "X-Content-Type-Options", "Vary"};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcasecmp(name, fixed[i]) == 0)
			return true;
	return false;
}

/* A copy of s in r's store, or else on the heap (*heap true); NULL when
 * out of memory. */
static char *keep(struct response *r, const char *s, bool *heap)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n <= sizeof(r->store) - r->stored) {
		p = r->store + r->stored;
		memcpy(p, s, n);
		r->stored += n;
		*heap = false;
		return p;
	}
	*heap = true;
	return strdup(s);
}

int response_header(struct response *r, const char *name, const char *value)
{
	struct response_header *h;
	bool vheap;
	char *v;
	size_t i;

	if (!value_safe(value) || !value_safe(name) || name[0] == '\0' ||
	    strpbrk(name, ": \t") != NULL || header_reserved(name))
		return -1;
	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			break;
	if (i == RESPONSE_MAX_HEADERS)
		return -1;
	if ((v = keep(r, value, &vheap)) == NULL)
		return -1;
	h = &r->headers[i];
	if (i < r->nheaders) {
		/* Replaced: an old value in the store stays there, unused. */
		if (h->value_heap)
			free(h->value);
	} else if ((h->name = keep(r, name, &h->name_heap)) == NULL) {
		if (vheap)
			free(v);
		return -1;
	} else {
		r->nheaders++;
	}
	h->value = v;
	h->value_heap = vheap;
	return 0;
}

const char *response_get_header(const struct response *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* Whether the comma-separated list holds token, ignoring case. */
static bool list_has(const char *list, const char *token)
{
	size_t n = strlen(token);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, token, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

int response_vary(struct response *r, const char *token)
{
	if (!value_safe(token) || strchr(token, ',') != NULL)
		return -1;
	if (r->vary.data != NULL && list_has(r->vary.data, token))
		return 0;
	if (r->vary.len > 0 && buf_puts(&r->vary, ", ") != BUF_OK)
		return -1;
	return buf_puts(&r->vary, token) == BUF_OK ? 0 : -1;
}

int response_json_text(struct response *r, int status, const char *text, size_t len)
{
	buf_reset(&r->body);
	if (buf_append(&r->body, text, len) != BUF_OK) {
		log_error("response body too big (%zu bytes)", len);
		response_error(r, 500, "InternalError", "The response could not be formed.");
		return -1;
	}
	r->status = status;
	return 0;
}

int response_json(struct response *r, int status, struct json_object *obj)
{
	const char *s;
	size_t n;

	buf_reset(&r->body);
	s = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL || buf_append(&r->body, s, n) != BUF_OK) {
		jsonparse_wipe_text(s, n);
		log_error("response body could not be serialized (%zu bytes)", n);
		response_error(r, 500, "InternalError", "The response could not be formed.");
		return -1;
	}
	/* json-c keeps the text in obj until obj is freed: it may hold a
	 * secret value, so it is wiped now that the body has it. */
	jsonparse_wipe_text(s, n);
	r->status = status;
	return 0;
}

void response_error(struct response *r, int status, const char *code, const char *message)
{
	response_error_inner(r, status, code, NULL, message);
}

void response_error_inner(struct response *r, int status, const char *code, const char *inner,
                          const char *message)
{
	struct json_object *root, *err, *in = NULL;
	const char *s;

	buf_reset(&r->body);
	r->status = status;
	root = json_object_new_object();
	err = json_object_new_object();
	if (inner != NULL)
		in = json_object_new_object();
	if (root == NULL || err == NULL || (inner != NULL && in == NULL)) {
		json_object_put(root);
		json_object_put(err);
		json_object_put(in);
		buf_puts(&r->body, "{\"error\":{\"code\":\"InternalError\",\"message\":\"\"}}");
		return;
	}
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	if (in != NULL) {
		json_object_object_add(in, "code", json_object_new_string(inner));
		json_object_object_add(err, "innererror", in);
	}
	json_object_object_add(root, "error", err);
	s = json_object_to_json_string_ext(root,
	                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL || buf_puts(&r->body, s) != BUF_OK)
		buf_puts(&r->body, "{\"error\":{\"code\":\"InternalError\",\"message\":\"\"}}");
	json_object_put(root);
}

void response_empty(struct response *r, int status)
{
	buf_reset(&r->body);
	r->status = status;
}

const char *response_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	}
	return "Unknown";
}

/* n in decimal. */
static enum buf_err put_decimal(struct buf *out, size_t n)
{
	char t[ASCII_DECIMAL_MAX];

	return buf_append(out, t, ascii_decimal(n, t));
}

/* A header line, "name: value\r\n". */
static enum buf_err put_header(struct buf *out, const char *name, const char *value)
{
	enum buf_err e = buf_puts(out, name);

	if (e == BUF_OK)
		e = buf_append(out, ": ", 2);
	if (e == BUF_OK)
		e = buf_puts(out, value);
	if (e == BUF_OK)
		e = buf_append(out, "\r\n", 2);
	return e;
}

/*
 * The CGI response: a Status line, the handler's headers, the headers every
 * answer carries, then the body unless this is HEAD. An empty 204 carries no
 * Content-Type; every other answer is JSON (an error envelope at least).
 * Content-Length is the GET body's length for HEAD too (RFC 9110 9.3.2).
 * Every answer is formatted here, a cached secret's included: plain
 * appends, no printf.
 */
int response_format(struct response *r, bool head, struct buf *out)
{
	static const char json[] = "\r\nContent-Type: application/json; charset=utf-8\r\n"
	                           "Content-Length: ";
	static const char fixed[] = "Cache-Control: no-store\r\n"
	                            "X-Content-Type-Options: nosniff\r\n";
	enum buf_err e;
	size_t i;

	response_vary(r, "Origin");
	e = buf_append(out, "Status: ", 8);
	if (e == BUF_OK)
		e = put_decimal(out, r->status > 0 ? (size_t)r->status : 0);
	if (e == BUF_OK)
		e = buf_append(out, " ", 1);
	if (e == BUF_OK)
		e = buf_puts(out, response_reason(r->status));
	if (e == BUF_OK && (r->body.len > 0 || r->status != 204)) {
		e = buf_append(out, json, sizeof(json) - 1);
		if (e == BUF_OK)
			e = put_decimal(out, r->body.len);
	}
	if (e == BUF_OK)
		e = buf_append(out, "\r\n", 2);
	if (e == BUF_OK)
		e = buf_append(out, fixed, sizeof(fixed) - 1);
	if (e == BUF_OK)
		e = put_header(out, "Vary", r->vary.data);
	for (i = 0; e == BUF_OK && i < r->nheaders; i++)
		e = put_header(out, r->headers[i].name, r->headers[i].value);
	if (e == BUF_OK)
		e = buf_append(out, "\r\n", 2);
	if (e == BUF_OK && !head && r->body.len > 0)
		e = buf_append(out, r->body.data, r->body.len);
	return e == BUF_OK ? 0 : -1;
}

void response_free(struct response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		if (r->headers[i].name_heap)
			free(r->headers[i].name);
		if (r->headers[i].value_heap)
			free(r->headers[i].value);
	}
	r->nheaders = 0;
	r->stored = 0;
	buf_free(&r->vary);
	buf_free(&r->body);
}
