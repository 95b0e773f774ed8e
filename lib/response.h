/*
 * response: one HTTP answer being built by a route handler, then written to
 * the FastCGI stream.
 *
 * Every answer carries the headers design.md promises (Content-Type, unless
 * the body is empty; Cache-Control: no-store; X-Content-Type-Options:
 * nosniff; Vary: Origin merged with any other Vary); response_write() adds
 * them, so no handler can forget one. Errors use Key Vault's envelope
 * {"error":{"code":…,"message":…}}.
 */
#ifndef KVGATE_RESPONSE_H
#define KVGATE_RESPONSE_H

#include <stdbool.h>
#include <json-c/json.h>
#include "buf.h"

#define RESPONSE_MAX_HEADERS 24
/* A response body is at most one list page of 25 items or one secret of
 * 25 KB, JSON-escaped; 1 MiB leaves a wide margin and still bounds memory. */
#define RESPONSE_BODY_MAX (1024 * 1024)

/* Bytes of header names and values kept in the response itself: every
 * answer's headers fit, so setting one costs no malloc (past it, strdup). */
#define RESPONSE_STORE 2048

struct response_header {
	char *name;
	char *value;
	bool name_heap, value_heap; /* strdup'd, else in the response's store */
};

struct response {
	int status;
	struct response_header headers[RESPONSE_MAX_HEADERS];
	size_t nheaders;
	char store[RESPONSE_STORE];
	size_t stored;
	struct buf vary; /* comma-separated Vary tokens, merged */
	struct buf body;
};

void response_init(struct response *r);

/* Set a header, replacing one of the same name (case-insensitive). Values
 * must not hold CR or LF; such a header is refused. Returns 0 or -1. */
int response_header(struct response *r, const char *name, const char *value);

/* The value of a header already set, or NULL. */
const char *response_get_header(const struct response *r, const char *name);

/* Add a token to Vary unless it is already there. */
int response_vary(struct response *r, const char *token);

/* Answer with status and obj serialized as the body. Returns 0, or -1 (the
 * response is then a 500 error). Does not take ownership of obj. */
int response_json(struct response *r, int status, struct json_object *obj);

/* The same with the body already serialized (len bytes of JSON text). */
int response_json_text(struct response *r, int status, const char *text, size_t len);

/* Answer with status and Key Vault's error envelope. message is copied. */
void response_error(struct response *r, int status, const char *code, const char *message);

/* The same with Key Vault's innererror: {"error":{"code":…,"message":…,
 * "innererror":{"code":inner}}}, so that a caller can tell upstream failures
 * apart (inner NULL leaves it out). Strings are copied. */
void response_error_inner(struct response *r, int status, const char *code, const char *inner,
                          const char *message);

/* An empty answer (204, preflights): no body and no Content-Type. */
void response_empty(struct response *r, int status);

/* Format the CGI answer (Status line, headers, and the body unless head)
 * into out, which the caller writes to the FastCGI stream or stdout.
 * Returns 0, or -1 when out's cap is reached. */
int response_format(struct response *r, bool head, struct buf *out);

/* Release everything the response holds, wiping the body (it may have held a
 * secret value). The response can be initialised again. */
void response_free(struct response *r);

/* The reason phrase of a status code ("Not Found"). */
const char *response_reason(int status);

#endif
