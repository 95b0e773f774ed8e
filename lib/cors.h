/*
 * cors: the CORS verdict for a request, and the Access-Control-* headers
 * that go with it (Fetch standard, "CORS protocol").
 *
 * Origins are compared byte for byte on their serialized form. The gateway's
 * own origin is always allowed. A disallowed origin gets no Access-Control-*
 * header at all; the caller answers it with 403. Request headers compare
 * ignoring case; `*` in allowed_headers never covers Authorization, which must
 * be named (as the Fetch standard says for Access-Control-Allow-Headers: *).
 * Unknown request headers are never reflected.
 */
#ifndef KVGATE_CORS_H
#define KVGATE_CORS_H

#include <stdbool.h>
#include "policy.h"
#include "response.h"

/* Caps on what a preflight may ask for, against hostile input. */
#define CORS_ORIGIN_MAX 512
#define CORS_REQUEST_HEADERS_MAX 4096

enum cors_verdict {
	CORS_NOT_CORS = 0,   /* no Origin header: not a CORS request */
	CORS_ALLOWED,        /* allowed; the CORS headers were added */
	CORS_ORIGIN_DENIED,  /* the origin is malformed or not allowed */
	CORS_METHOD_DENIED,  /* preflight: the method is not allowed */
	CORS_HEADERS_DENIED, /* preflight: a requested header is not allowed */
};

/* Whether s is a serialized origin as browsers send it: "http" or "https",
 * "://", a host (lower-case DNS name, IPv4, or [IPv6]), an optional port that
 * is not the scheme's default, nothing else: no path, no trailing '/', no
 * userinfo, at most CORS_ORIGIN_MAX bytes (RFC 6454 section 6.2). The string
 * "null" is not an origin here. */
bool cors_origin_valid(const char *s);

/* Whether origin may read answers: it is self_origin (the gateway's own
 * origin, may be NULL), or listed in allowed_origins, or allowed_origins holds
 * "*". */
bool cors_origin_allowed(const struct policy_cors *c, const char *origin, const char *self_origin);

/*
 * An actual (non-preflight) request. origin is the Origin header or NULL.
 * Adds Vary: Origin always; when the origin is allowed also
 * Access-Control-Allow-Origin, -Allow-Credentials and -Expose-Headers.
 */
enum cors_verdict cors_actual(const struct policy_cors *c, const char *origin,
                              const char *self_origin, struct response *r);

/*
 * A preflight: OPTIONS with Origin and a non-empty
 * Access-Control-Request-Method (acrm). acrh is the
 * Access-Control-Request-Headers value or NULL. Adds Vary: Origin,
 * Access-Control-Request-Method, Access-Control-Request-Headers always; when
 * everything asked for is allowed (all or nothing), also
 * Access-Control-Allow-Origin, -Allow-Methods, -Allow-Headers (the requested
 * headers, lower-cased), -Max-Age and -Allow-Credentials.
 */
enum cors_verdict cors_preflight(const struct policy_cors *c, const char *origin,
                                 const char *self_origin, const char *acrm, const char *acrh,
                                 struct response *r);

/* A short phrase for logs: "origin not allowed". */
const char *cors_strverdict(enum cors_verdict v);

#endif
