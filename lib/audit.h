/*
 * audit: one JSON line per request on stderr (the web server's error log),
 * for the operator: who asked for what, and what they got.
 *
 *   {"audit":"kvgate","time":"2026-11-23T04:05:06.789Z","request_id":"…",
 *    "program":"get-secret","pid":1234,"method":"GET","route":"get","secret":"spa-config",
 *    "version":null,"caller":"key:spa-prod","caller_name":"spa-prod",
 *    "auth":"api_key","grants":1,"client":"203.0.113.9",
 *    "origin":"https://app.example.com","decision":"allow","status":200,
 *    "cache":"hit","upstream_ms":0,"duration_ms":1,"items":null,
 *    "client_request_id":null,"reason":null}
 *
 * Never a secret value, a token or a key: the record has no field that
 * could hold one, and callers.c's reasons name only why. Every string is
 * cut at AUDIT_FIELD_MAX bytes and written as printable ASCII (anything
 * else \u00XX-escaped), so a hostile header can neither forge nor split a
 * line.
 */
#ifndef KVGATE_AUDIT_H
#define KVGATE_AUDIT_H

#include <stddef.h>

#define AUDIT_FIELD_MAX 512
#define AUDIT_LINE_MAX 8192
#define AUDIT_REQUEST_ID_LEN 36 /* a UUID, as Key Vault's x-ms-request-id */

/* One request. NULL strings are written as null; numbers below 0 too. */
struct audit_record {
	const char *request_id;
	const char *program;
	const char *method;
	const char *route; /* "get", "list", "versions", "options", or NULL */
	const char *secret;
	const char *version;
	const char *caller; /* "anonymous", "user:…", "key:…", "jwt:…"; NULL before auth */
	const char *caller_name;
	const char *auth; /* the mode that authenticated the caller */
	long grants;      /* grants the caller holds; -1 without [callers] */
	const char *client;
	const char *origin;
	const char *decision; /* allow, deny, not_found, unauthenticated, rate_limited,
	                         forbidden_origin, bad_request, error, preflight */
	int status;
	const char *cache; /* hit, miss, stale, negative, bypass, or NULL */
	long upstream_ms;
	long duration_ms;
	long items; /* list items answered */
	const char *client_request_id;
	const char *reason;
};

/* Format r as one JSON line (with its '\n') into out. Returns the length,
 * or 0 when it does not fit (never a partial line). */
size_t audit_format(const struct audit_record *r, char *out, size_t len);

/* Write r to stderr as one line, in one write(2). */
void audit_write(const struct audit_record *r);

/* A fresh request id: a random (version 4) UUID, lower case, into out
 * (AUDIT_REQUEST_ID_LEN + 1 bytes). */
void audit_request_id(char *out);

/* The cache field for a Cache-Status value ("" or NULL: NULL). */
const char *audit_cache(const char *cache_status);

#endif
