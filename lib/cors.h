/*
 * cors: the CORS verdict for a request, and the Access-Control-* headers
 * that go with it (Fetch standard, "CORS protocol").
 *
 * Origins are compared byte for byte on their serialized form, against exact
 * origins and subdomain patterns (*.example.com after "https://": scheme and
 * port exact, one or more labels in place of the `*`, never the apex). The
 * gateway's own origin is always allowed; "null" and anything that is not
 * one serialized origin never are, not even under `*`. A disallowed origin
 * gets no Access-Control-* header at all; the caller answers it with 403, or
 * serves it without CORS headers when [cors] terminate_unmatched is false
 * (cors_refuse()). Request headers compare ignoring case; `*` in
 * allowed_headers never covers Authorization, which must be named (as the
 * Fetch standard says for Access-Control-Allow-Headers: *). Unknown request
 * headers are never reflected.
 */
#ifndef KVGATE_CORS_H
#define KVGATE_CORS_H

#include <stdbool.h>
#include "policy.h"
#include "response.h"

/* Caps on what a preflight may ask for, against hostile input. The
 * reflected Access-Control-Allow-Headers ("a, b") may be longer than the
 * request ("a,b"): at most CORS_ALLOW_HEADERS_MAX, which no allowed request
 * can exceed (k names take at least 2k - 1 bytes, their reflection at most
 * the request's bytes plus k - 1). */
#define CORS_ORIGIN_MAX 512
#define CORS_REQUEST_HEADERS_MAX 4096
#define CORS_ALLOW_HEADERS_MAX (CORS_REQUEST_HEADERS_MAX * 3 / 2 + 2)

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

/*
 * Whether s is an origin pattern: "http://" or "https://", then "*.", then a
 * host of two or more DNS labels whose last label is not all digits (an IP
 * address has no subdomains), then an optional port, each as in a
 * serialized origin. The `*` stands for one or more whole labels, so
 * *.example.com under https matches https://a.example.com and
 * https://a.b.example.com, never https://example.com (the apex),
 * https://evilexample.com, http://a.example.com or
 * https://a.example.com:8443. *.com (one label after "*.") is not a
 * pattern: it would match nearly everything. (Comments here write patterns
 * without their scheme, since C comments cannot hold a slash then `*`.)
 */
bool cors_pattern_valid(const char *s);

/*
 * Whether the pattern s (cors_pattern_valid()) matches nearly everything:
 * the part after "*." is a name under which anyone can get a subdomain,
 * either a shared hosting domain (azurewebsites.net, github.io, ...) or a
 * country's generic second level (co.uk, com.au, ...). Such a pattern may
 * not be combined with credentials or Private Network Access.
 */
bool cors_pattern_broad(const char *s);

/* Whether origin may read answers: it is a valid serialized origin, and it
 * is self_origin (the gateway's own origin, may be NULL), or listed in
 * allowed_origins, or matched by a pattern there, or allowed_origins holds
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

/*
 * cors_preflight() for a preflight that may also carry
 * Access-Control-Request-Private-Network (acrpn, NULL when absent; Private
 * Network Access, WICG draft). With [cors] allow_private_network, an allowed
 * preflight whose acrpn is "true" also gets
 * Access-Control-Allow-Private-Network: true, and every preflight answer
 * adds Access-Control-Request-Private-Network to Vary. Without it, the
 * header is never sent and the CORS verdict is unchanged: the browser then
 * refuses the private-network request on its own.
 */
enum cors_verdict cors_preflight_pna(const struct policy_cors *c, const char *origin,
                                     const char *self_origin, const char *acrm, const char *acrh,
                                     const char *acrpn, struct response *r);

/*
 * Whether a request with verdict v is refused (403 Forbidden) rather than
 * served: v is a refusal and [cors] terminate_unmatched is true. With
 * terminate_unmatched false (APIM's terminate-unmatched-request="false"), an
 * actual request is served without Access-Control-* headers and a refused
 * preflight gets an empty 204 without them; either way the browser keeps
 * the answer from the page.
 */
bool cors_refuse(const struct policy_cors *c, enum cors_verdict v);

/* A short phrase for logs: "origin not allowed". */
const char *cors_strverdict(enum cors_verdict v);

#endif
