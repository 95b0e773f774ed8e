/*
 * http: the one libcurl easy handle a process uses for every upstream call
 * (Key Vault and the identity endpoint), so that connections and TLS
 * sessions are reused across requests. In the programs the handle lives in
 * kvgate-fetch, which makes the call (lib/fetch.h, [vault] fetcher); the
 * interface, the rules and the answers are the same either way.
 *
 * TLS peer and host verification are always on; ca_file adds a CA bundle.
 * Plain http:// is refused except to loopback hosts (the dev vault and test
 * stand-ins). Every response body goes into a buf with a cap named by the
 * caller. The total time of one call is bounded by timeout_ms.
 */
#ifndef KVGATE_HTTP_H
#define KVGATE_HTTP_H

#include <stddef.h>
#include "buf.h"

enum http_err {
	HTTP_OK = 0,
	HTTP_ENOMEM,     /* out of memory */
	HTTP_EURL,       /* the URL is malformed or its scheme not allowed */
	HTTP_ECONNECT,   /* could not resolve or connect */
	HTTP_ETLS,       /* TLS handshake or certificate verification failed */
	HTTP_ETIMEOUT,   /* the call took longer than timeout_ms */
	HTTP_ETOOBIG,    /* the body exceeded its cap */
	HTTP_ETRANSPORT, /* any other transfer failure (reset, bad framing) */
};

struct http_options {
	const char *ca_file; /* NULL or "" for the system store only */
	long timeout_ms;
};

struct http_response {
	long status;            /* HTTP status, 0 when none was received */
	struct buf body;        /* capped */
	char *retry_after;      /* Retry-After header value or NULL */
	char *retry_after_ms;   /* retry-after-ms or x-ms-retry-after-ms value, or NULL */
	char *www_authenticate; /* WWW-Authenticate header value or NULL */
	char *content_type;     /* Content-Type header value or NULL */
};

struct http;

/* Make the per-process handle. Returns HTTP_OK and sets *out, or an error
 * with *out NULL. */
enum http_err http_new(const struct http_options *o, struct http **out);
void http_free(struct http *h);

/*
 * Perform one request. method is "GET" or "POST"; body (form data, may be
 * NULL) is sent with Content-Type application/x-www-form-urlencoded.
 * headers is a NULL-terminated array of "Name: value" lines (may be NULL).
 * resp must be zeroed or freed with http_response_free(); its body gets cap
 * max_body. A non-2xx status is not an error here: look at resp->status.
 * The request body (it may hold a client secret) is wiped by the caller.
 */
enum http_err http_request(struct http *h, const char *method, const char *url,
                           const char *const *headers, const char *body, size_t max_body,
                           struct http_response *resp);

void http_response_free(struct http_response *resp);

/* Bound each following call to timeout_ms in total (the Key Vault client
 * shrinks it to what is left of its own deadline); 0 restores the timeout_ms
 * given to http_new(). */
void http_set_timeout(struct http *h, long timeout_ms);

/* What the next call may take in total (see http_set_timeout()). */
long http_get_timeout(const struct http *h);

/* libcurl's description of why the last call failed ("" after a success),
 * for logs: it names hosts and TLS problems, never a header or a body. */
const char *http_last_error(const struct http *h);

const char *http_strerror(enum http_err e);

/* Whether url may be called: https://, or http:// to a loopback host
 * (127.0.0.0/8, [::1], localhost). */
int http_url_allowed(const char *url);

/* Whether url is plain http:// to the Azure Instance Metadata Service,
 * 169.254.169.254 (link-local: a token fetched there never leaves the
 * machine's own network interface). */
int http_url_is_imds(const char *url);

/* Let this handle call http://169.254.169.254 (IMDS) too. Only the identity
 * module's managed-identity path asks for it; the vault never gets it. */
void http_allow_imds(struct http *h, int allow);

#endif
