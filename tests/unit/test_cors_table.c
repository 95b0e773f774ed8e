/*
 * test_cors_table: CORS decisions as one table, one row per case.
 *
 * Each row builds its policy with the real loader (policy_load() on
 * policy_ini.h's complete file plus the row's changes), so a policy the
 * loader refuses is a row too, checked for its exact error line. Every other
 * row sends one request through lib/cors.c and checks, together:
 *   - the verdict (enum cors_verdict);
 *   - the exact Access-Control-* headers produced, in order ("Access-Control-"
 *     left out of the names below, "" for none);
 *   - Vary (always; the private-network token only when the policy allows
 *     Private Network Access);
 *   - what the gateway answers: 403, 204 (a preflight answered), or 0
 *     (an actual request served), through cors_refuse() and
 *     [cors] terminate_unmatched.
 *
 * The comment on each row (or group) names where the case comes from: the
 * Fetch standard's CORS protocol, RFC 6454 and the URL standard on
 * serializing origins, RFC 9110, Private Network Access (WICG), the
 * published attacks (James Kettle, "Exploiting CORS misconfigurations for
 * Bitcoins and bounties", PortSwigger 2016, and PortSwigger's Web Security
 * Academy CORS labs), rs/cors (issue #170: hostile
 * Access-Control-Request-Headers), go-chi/cors (#36, the same), Spring's
 * CorsConfiguration (allowedOriginPatterns, gh-24763, and its refusal of `*`
 * with credentials), Express's cors (RegExp origins such as /example.com$/,
 * and reflecting any origin with credentials), Azure API Management's cors
 * policy and App Service CORS.
 *
 * Patterns are written https://STAR.example.com in comments below, since a
 * C comment cannot hold a slash followed by `*`.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cors.h"
#include "policy.h"
#include "policy_ini.h"
#include "tap.h"

/* The gateway's own origin in every row. */
#define SELF "https://gw.example.net"

/* ---- Policies: changes to policy_ini.h's complete file. ---- */

/* Exact origins: a host, a host with a port, IPv6, an IDN (punycode). */
#define EXACT                                                                                      \
	"[cors]\nallowed_origins = https://app.example.com http://localhost:8081 "                 \
	"http://[::1]:8080 https://xn--bcher-kva.example\n"                                        \
	"allowed_headers = x-ms-client-request-id\nexpose_headers = x-ms-request-id\n"
/* A subdomain pattern. */
#define PAT "[cors]\nallowed_origins = https://*.example.com\nexpose_headers = x-ms-request-id\n"
/* A subdomain pattern with a port. */
#define PATPORT "[cors]\nallowed_origins = https://*.example.com:8443\n"
/* Any origin, any header (no credentials). */
#define ANY "[cors]\nallowed_origins = *\nallowed_headers = *\n"
/* Credentials with an exact origin and a narrow pattern. */
#define CRED                                                                                       \
	"[cors]\nallowed_origins = https://app.example.com https://*.corp.example.com\n"           \
	"allowed_headers = Authorization x-ms-client-request-id\nallow_credentials = true\n"
/* Private Network Access. */
#define PNA "[cors]\nallowed_origins = https://app.example.com\nallow_private_network = true\n"
/* terminate_unmatched = false. */
#define NOTERM "[cors]\nallowed_origins = https://app.example.com\nterminate_unmatched = false\n"
#define MSTAR "[cors]\nallowed_origins = https://app.example.com\nallowed_methods = *\n"
#define GETONLY "[cors]\nallowed_origins = https://app.example.com\nallowed_methods = GET\n"
#define HSTAR "[cors]\nallowed_origins = https://app.example.com\nallowed_headers = *\n"
#define HONE "[cors]\nallowed_origins = https://app.example.com\nallowed_headers = a\n"
/* The documented policy: no allowed_origins, only the gateway's own. */
#define NONE ""

/* ---- Expected Access-Control-* headers. ---- */

#define AO(o) "Allow-Origin: " o
#define EXP " | Expose-Headers: x-ms-request-id"
#define CREDS " | Allow-Credentials: true"
#define GH " | Allow-Methods: GET, HEAD"
#define AGE " | Max-Age: 600"
#define PRE_OK(o) AO(o) GH AGE
#define PRE_H(o, h) AO(o) GH " | Allow-Headers: " h AGE
#define APP "https://app.example.com"

enum kind { LOAD, ACTUAL, PREFLIGHT };

struct row {
	int line;
	enum kind kind;
	const char *policy; /* changes for policy_ini() */
	const char *load;   /* LOAD: the one error, after "FILE: " */
	const char *origin; /* NULL: no Origin header */
	const char *acrm, *acrh, *acrpn;
	enum cors_verdict want;
	const char *ac; /* Access-Control-* headers, "Name: value | ..." */
	int status;     /* 403, 204, or 0: served */
};

#define ALLOWED CORS_ALLOWED
#define NOT_CORS CORS_NOT_CORS
#define O_DENIED CORS_ORIGIN_DENIED
#define M_DENIED CORS_METHOD_DENIED
#define H_DENIED CORS_HEADERS_DENIED

/* clang-format off */
/* An actual (GET) request. */
#define ACT(pol, o, v, h, st) {__LINE__, ACTUAL, pol, NULL, o, NULL, NULL, NULL, v, h, st}
/* A preflight: OPTIONS with Origin and Access-Control-Request-Method. */
#define PRE(pol, o, m, hdrs, v, h, st) {__LINE__, PREFLIGHT, pol, NULL, o, m, hdrs, NULL, v, h, st}
/* A preflight with Access-Control-Request-Private-Network. */
#define PRN(pol, o, pn, v, h, st) {__LINE__, PREFLIGHT, pol, NULL, o, "GET", NULL, pn, v, h, st}
/* A policy the loader refuses, with its one error line. */
#define BAD(pol, err) {__LINE__, LOAD, pol, err, NULL, NULL, NULL, NULL, 0, NULL, 0}
/* clang-format on */

/*
 * Tokens expanded before a row runs (generated input too long to write):
 *   @LONGORIGIN  a valid origin with a 252-byte host under example.com
 *   @LONG600     an origin of 600 bytes, over CORS_ORIGIN_MAX
 *   @COMMAS10000 10,000 commas
 *   @COMMAS4000  4,000 commas (under the cap; no names)
 *   @NAMES5000   5,000 copies of x-ms-client-request-id, comma-separated
 *   @A2048IN     "a,a,...,a": 2,048 names in 4,095 bytes
 *   @A2048OUT    its reflection, "a, a, ..., a" (6,142 bytes)
 *   @NAME200     one 200-byte header name
 */

/* clang-format off */
static const struct row rows[] = {
	/* ---- Exact origins, actual requests ---- */
	/* Fetch, CORS protocol: the allowed origin is echoed, with the
	 * exposed headers, on the actual response. */
	ACT(EXACT, APP, ALLOWED, AO(APP) EXP, 0),
	/* Fetch: no Origin, not a CORS request; served, no header. */
	ACT(EXACT, NULL, NOT_CORS, "", 0),
	/* design.md: the gateway's own origin is always allowed. */
	ACT(EXACT, SELF, ALLOWED, AO(SELF) EXP, 0),
	/* Kettle 2016, "post-domain wildcard": a trusted name followed by
	 * the attacker's domain. */
	ACT(EXACT, "https://app.example.com.evil.net", O_DENIED, "", 403),
	/* Kettle 2016, "pre-domain wildcard": the attacker registers a name
	 * ending in the trusted one. */
	ACT(EXACT, "https://evilapp.example.com", O_DENIED, "", 403),
	/* Kettle 2016: a startsWith() check passes a prefix of the name. */
	ACT(EXACT, "https://app.example.co", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.comm", O_DENIED, "", 403),
	/* RFC 6454 section 4: the port is part of the origin. */
	ACT(EXACT, "https://app.example.com:8443", O_DENIED, "", 403),
	/* PortSwigger lab "CORS vulnerability with trusted insecure
	 * protocols": http is another origin, and a network attacker's. */
	ACT(EXACT, "http://app.example.com", O_DENIED, "", 403),
	/* URL standard: a default port is never serialized, so ":443" is a
	 * hand-made Origin, refused rather than normalized. */
	ACT(EXACT, "https://app.example.com:443", O_DENIED, "", 403),
	/* URL standard: scheme and host are serialized in lower case. */
	ACT(EXACT, "HTTPS://app.example.com", O_DENIED, "", 403),
	ACT(EXACT, "https://APP.example.com", O_DENIED, "", 403),
	ACT(EXACT, "https://App.Example.Com", O_DENIED, "", 403),
	/* RFC 6454 section 6.2: an origin has no path, not even "/". */
	ACT(EXACT, "https://app.example.com/", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com/path", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com?x", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com#x", O_DENIED, "", 403),
	/* RFC 6454: no userinfo; "user@" is a classic parser confusion. */
	ACT(EXACT, "https://user@app.example.com", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com@evil.net", O_DENIED, "", 403),
	ACT(EXACT, "https://user:pw@app.example.com", O_DENIED, "", 403),
	/* PortSwigger lab "trusted null origin"; Fetch: opaque origins
	 * (sandboxed frames, file:, data:) serialize as "null". */
	ACT(EXACT, "null", O_DENIED, "", 403),
	ACT(EXACT, "Null", O_DENIED, "", 403),
	/* RFC 6454 section 7: an origin-list; lighttpd joins repeated Origin
	 * headers with ", ". Several origins are never one. */
	ACT(EXACT, "https://app.example.com, https://evil.net", O_DENIED, "", 403),
	ACT(EXACT, "https://evil.net, https://app.example.com", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com https://evil.net", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com,https://app.example.com", O_DENIED, "", 403),
	/* Byte for byte: white space around the value is not trimmed here. */
	ACT(EXACT, " https://app.example.com", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com ", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com\t", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com\r", O_DENIED, "", 403),
	/* URL standard: a trailing dot makes another host (and origin). */
	ACT(EXACT, "https://app.example.com.", O_DENIED, "", 403),
	/* Port games: empty, zero, out of range, leading zero. */
	ACT(EXACT, "https://app.example.com:", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com:0", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com:65536", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com:0443", O_DENIED, "", 403),
	ACT(EXACT, "https://app.example.com:-1", O_DENIED, "", 403),
	/* An exact origin with a port: that port only. */
	ACT(EXACT, "http://localhost:8081", ALLOWED, AO("http://localhost:8081") EXP, 0),
	ACT(EXACT, "http://localhost:8082", O_DENIED, "", 403),
	ACT(EXACT, "http://localhost", O_DENIED, "", 403),
	ACT(EXACT, "https://localhost:8081", O_DENIED, "", 403),
	/* URL standard, IPv6 serializer: compressed, lower case, bracketed. */
	ACT(EXACT, "http://[::1]:8080", ALLOWED, AO("http://[::1]:8080") EXP, 0),
	ACT(EXACT, "http://[::1]", O_DENIED, "", 403),
	ACT(EXACT, "http://[0:0:0:0:0:0:0:1]:8080", O_DENIED, "", 403),
	ACT(EXACT, "http://::1:8080", O_DENIED, "", 403),
	/* URL standard: IDN hosts are serialized as punycode A-labels. */
	ACT(EXACT, "https://xn--bcher-kva.example", ALLOWED, AO("https://xn--bcher-kva.example") EXP, 0),
	ACT(EXACT, "https://b\xc3\xbc" "cher.example", O_DENIED, "", 403),
	ACT(EXACT, "https://XN--BCHER-KVA.example", O_DENIED, "", 403),
	/* Not http(s): no scheme, other schemes, percent-encoding. */
	ACT(EXACT, "app.example.com", O_DENIED, "", 403),
	ACT(EXACT, "//app.example.com", O_DENIED, "", 403),
	ACT(EXACT, "ftp://app.example.com", O_DENIED, "", 403),
	ACT(EXACT, "file://", O_DENIED, "", 403),
	ACT(EXACT, "https://app%2eexample.com", O_DENIED, "", 403),
	/* A cap against hostile input: 600 bytes is over CORS_ORIGIN_MAX. */
	ACT(EXACT, "@LONG600", O_DENIED, "", 403),

	/* ---- Subdomain patterns (Spring allowedOriginPatterns, rs/cors
	 * AllowedOrigins with a wildcard, APIM has none) ---- */
	ACT(PAT, "https://a.example.com", ALLOWED, AO("https://a.example.com") EXP, 0),
	/* Decision: the `*` stands for one or more labels. */
	ACT(PAT, "https://a.b.example.com", ALLOWED, AO("https://a.b.example.com") EXP, 0),
	ACT(PAT, "https://1.example.com", ALLOWED, AO("https://1.example.com") EXP, 0),
	ACT(PAT, "https://xn--bcher-kva.example.com", ALLOWED,
	    AO("https://xn--bcher-kva.example.com") EXP, 0),
	/* A 252-byte host is still an origin, and still matches. */
	ACT(PAT, "@LONGORIGIN", ALLOWED, AO("@LONGORIGIN") EXP, 0),
	/* The apex is not included. */
	ACT(PAT, "https://example.com", O_DENIED, "", 403),
	/* Express cors with origin: /example.com$/ and Kettle 2016: the dot
	 * boundary is part of the pattern. */
	ACT(PAT, "https://evilexample.com", O_DENIED, "", 403),
	/* The unescaped-dot RegExp: "." matching any character. */
	ACT(PAT, "https://appXexample.com", O_DENIED, "", 403),
	ACT(PAT, "https://a.exampleXcom", O_DENIED, "", 403),
	/* Kettle 2016: suffix tricks on a pattern. */
	ACT(PAT, "https://a.example.com.evil.net", O_DENIED, "", 403),
	ACT(PAT, "https://example.com.evil", O_DENIED, "", 403),
	ACT(PAT, "https://a.example.community", O_DENIED, "", 403),
	/* Scheme and port are exact. */
	ACT(PAT, "http://a.example.com", O_DENIED, "", 403),
	ACT(PAT, "https://a.example.com:8443", O_DENIED, "", 403),
	ACT(PAT, "https://a.example.com:443", O_DENIED, "", 403),
	/* Only well-formed labels stand for the `*`. */
	ACT(PAT, "https://.example.com", O_DENIED, "", 403),
	ACT(PAT, "https://-a.example.com", O_DENIED, "", 403),
	ACT(PAT, "https://a..example.com", O_DENIED, "", 403),
	ACT(PAT, "https://a.example.com.", O_DENIED, "", 403),
	ACT(PAT, "https://A.example.com", O_DENIED, "", 403),
	ACT(PAT, "https://a b.example.com", O_DENIED, "", 403),
	ACT(PAT, "https://*.example.com", O_DENIED, "", 403),
	/* Issue 4: "null" is never allowed by a pattern. */
	ACT(PAT, "null", O_DENIED, "", 403),
	/* Several origins, each matching the pattern, are still not one. */
	ACT(PAT, "https://a.example.com, https://b.example.com", O_DENIED, "", 403),
	ACT(PAT, "https://user@a.example.com", O_DENIED, "", 403),
	ACT(PAT, "http://[::1]", O_DENIED, "", 403),
	/* A pattern with a port: that port only (Spring's
	 * https://STAR.domain1.com:[8080] form). */
	ACT(PATPORT, "https://a.example.com:8443", ALLOWED, AO("https://a.example.com:8443"), 0),
	ACT(PATPORT, "https://a.example.com", O_DENIED, "", 403),
	ACT(PATPORT, "https://a.example.com:844", O_DENIED, "", 403),
	ACT(PATPORT, "https://a.example.com:84430", O_DENIED, "", 403),
	ACT(PATPORT, "https://example.com:8443", O_DENIED, "", 403),

	/* ---- Refused when the policy loads ---- */
	/* Issue 4: a pattern on a single label matches nearly everything. */
	BAD("[cors]\nallowed_origins = https://*.com\n",
	    "[cors] allowed_origins: \"https://*.com\" matches nearly everything: `*.` must be "
	    "followed by two or more labels, as in https://*.example.com"),
	BAD("[cors]\nallowed_origins = http://*.localhost:3000\n",
	    "[cors] allowed_origins: \"http://*.localhost:3000\" matches nearly everything: `*.` "
	    "must be followed by two or more labels, as in https://*.example.com"),
	/* Only a leading "*." label is a wildcard: no partial labels, no
	 * inner or repeated wildcards, no scheme wildcard. */
	BAD("[cors]\nallowed_origins = *.example.com\n",
	    "[cors] allowed_origins: \"*.example.com\" is not a pattern: write the scheme, as in "
	    "https://*.example.com"),
	BAD("[cors]\nallowed_origins = https://*example.com\n",
	    "[cors] allowed_origins: \"https://*example.com\" is not a pattern: only a leading `*.` "
	    "label is a wildcard, as in https://*.example.com"),
	BAD("[cors]\nallowed_origins = https://app-*.example.com\n",
	    "[cors] allowed_origins: \"https://app-*.example.com\" is not a pattern: only a leading "
	    "`*.` label is a wildcard, as in https://*.example.com"),
	BAD("[cors]\nallowed_origins = https://a.*.example.com\n",
	    "[cors] allowed_origins: \"https://a.*.example.com\" is not a pattern: only a leading "
	    "`*.` label is a wildcard, as in https://*.example.com"),
	BAD("[cors]\nallowed_origins = https://*.*.example.com\n",
	    "[cors] allowed_origins: \"https://*.*.example.com\" is not a pattern: only a leading "
	    "`*.` label is a wildcard, as in https://*.example.com"),
	BAD("[cors]\nallowed_origins = *://app.example.com\n",
	    "[cors] allowed_origins: \"*://app.example.com\" is not a pattern: only a leading `*.` "
	    "label is a wildcard, as in https://*.example.com"),
	BAD("[cors]\nallowed_origins = https://*.example.com:*\n",
	    "[cors] allowed_origins: \"https://*.example.com:*\" is not a pattern: only a leading "
	    "`*.` label is a wildcard, as in https://*.example.com"),
	/* The rest of a pattern is an origin's: same mistakes, same words. */
	BAD("[cors]\nallowed_origins = https://*.example.com/\n",
	    "[cors] allowed_origins: \"https://*.example.com/\" is not a pattern: remove the "
	    "trailing '/'"),
	BAD("[cors]\nallowed_origins = https://*.example.com:443\n",
	    "[cors] allowed_origins: \"https://*.example.com:443\" is not a pattern: browsers leave "
	    "out the default port"),
	BAD("[cors]\nallowed_origins = https://*.Example.com\n",
	    "[cors] allowed_origins: \"https://*.Example.com\" is not a pattern: browsers send the "
	    "host in lower case"),
	BAD("[cors]\nallowed_origins = https://*.10.0.0.1\n",
	    "[cors] allowed_origins: \"https://*.10.0.0.1\" is not a pattern: an IP address has no "
	    "subdomains"),
	BAD("[cors]\nallowed_origins = https://*.[::1]\n",
	    "[cors] allowed_origins: \"https://*.[::1]\" is not a pattern: an IP address has no "
	    "subdomains"),
	/* RFC 6454: userinfo is never part of an origin. */
	BAD("[cors]\nallowed_origins = https://user@app.example.com\n",
	    "[cors] allowed_origins: \"https://user@app.example.com\" is not an origin: an origin "
	    "has no user name or password"),
	/* PortSwigger "trusted null origin": refused by name. */
	BAD("[cors]\nallowed_origins = null\n",
	    "[cors] allowed_origins: \"null\" cannot be allowed: sandboxed frames and file: pages "
	    "all send \"null\", so allowing it would let any site read"),
	/* Fetch, CORS protocol and credentials: `*` is not a wildcard with
	 * credentials (Spring 5.3 refuses it too). */
	BAD("[cors]\nallowed_origins = *\nallow_credentials = true\n",
	    "[cors] allowed_origins: `*` cannot be combined with allow_credentials = true; list the "
	    "origins"),
	/* Spring's allowedOriginPatterns("*") with credentials, Express cors
	 * origin: true with credentials: every site reads with the user's
	 * cookies. A pattern on a shared hosting domain is the same. */
	BAD("[cors]\nallowed_origins = https://*.azurewebsites.net\nallow_credentials = true\n",
	    "[cors] allowed_origins: \"https://*.azurewebsites.net\" matches nearly everything "
	    "(anyone can have a name there), so it cannot be combined with allow_credentials = "
	    "true; list the origins"),
	BAD("[cors]\nallowed_origins = https://*.github.io\nallow_credentials = true\n",
	    "[cors] allowed_origins: \"https://*.github.io\" matches nearly everything (anyone can "
	    "have a name there), so it cannot be combined with allow_credentials = true; list the "
	    "origins"),
	BAD("[cors]\nallowed_origins = https://*.co.uk\nallow_credentials = true\n",
	    "[cors] allowed_origins: \"https://*.co.uk\" matches nearly everything (anyone can have "
	    "a name there), so it cannot be combined with allow_credentials = true; list the "
	    "origins"),
	/* Fetch: with credentials `*` is literal in the other headers. */
	BAD("[cors]\nallowed_origins = https://app.example.com\nallowed_headers = *\n"
	    "allow_credentials = true\n",
	    "[cors] allowed_headers: `*` cannot be combined with allow_credentials = true; list "
	    "them"),
	BAD("[cors]\nallowed_origins = https://app.example.com\nexpose_headers = *\n"
	    "allow_credentials = true\n",
	    "[cors] expose_headers: `*` cannot be combined with allow_credentials = true; list "
	    "them"),
	BAD("[cors]\nallowed_origins = https://app.example.com\nallowed_methods = *\n"
	    "allow_credentials = true\n",
	    "[cors] allowed_methods: `*` cannot be combined with allow_credentials = true; list "
	    "them"),
	/* Chrome caps Access-Control-Max-Age at 7200, Firefox at 86400. */
	BAD("[cors]\nmax_age = 86401\n", "[cors] max_age: \"86401\" is not an integer in 0-86400"),
	/* RFC 9110 section 9.1: methods are case-sensitive. */
	BAD("[cors]\nallowed_methods = get\n",
	    "[cors] allowed_methods: \"get\" is not GET or HEAD: methods are case-sensitive"),
	/* PNA: a private network opened to every site is what it prevents. */
	BAD("[cors]\nallowed_origins = *\nallow_private_network = true\n",
	    "[cors] allow_private_network: cannot be true with allowed_origins = *; list the "
	    "origins"),
	BAD("[cors]\nallowed_origins = https://*.github.io\nallow_private_network = true\n",
	    "[cors] allow_private_network: cannot be true with \"https://*.github.io\" in "
	    "allowed_origins, which matches nearly everything; list the origins"),
	BAD("[cors]\nterminate_unmatched = maybe\n",
	    "[cors] terminate_unmatched: \"maybe\" is not a boolean: true or false (or yes/no, "
	    "on/off)"),
	/* A broad pattern without credentials is legal: it is narrower than
	 * `*` (App Service CORS allows *.azurewebsites.net-style entries). */
	ACT("[cors]\nallowed_origins = https://*.azurewebsites.net\n",
	    "https://anyone.azurewebsites.net", ALLOWED, AO("https://anyone.azurewebsites.net"), 0),
	/* One's own name under a shared domain is not broad. */
	ACT("[cors]\nallowed_origins = https://*.myapp.azurewebsites.net\nallow_credentials = true\n",
	    "https://a.myapp.azurewebsites.net", ALLOWED,
	    AO("https://a.myapp.azurewebsites.net") CREDS, 0),

	/* ---- Credentials ---- */
	/* Fetch: with credentials the origin is echoed, never `*`, with
	 * Access-Control-Allow-Credentials: true. */
	ACT(CRED, APP, ALLOWED, AO(APP) CREDS, 0),
	ACT(CRED, "https://x.corp.example.com", ALLOWED, AO("https://x.corp.example.com") CREDS, 0),
	ACT(CRED, "https://corp.example.com", O_DENIED, "", 403),
	ACT(CRED, "https://x.corp.example.com.evil.net", O_DENIED, "", 403),
	ACT(CRED, "null", O_DENIED, "", 403),
	/* Authorization named: allowed, reflected lower-case. */
	PRE(CRED, APP, "GET", "authorization", ALLOWED,
	    AO(APP) CREDS GH " | Allow-Headers: authorization" AGE, 204),
	PRE(CRED, APP, "GET", "Authorization, X-MS-Client-Request-Id", ALLOWED,
	    AO(APP) CREDS GH " | Allow-Headers: authorization, x-ms-client-request-id" AGE, 204),

	/* ---- Any origin (no credentials) ---- */
	/* Fetch: `*` without credentials. */
	ACT(ANY, "https://evil.net", ALLOWED, AO("*"), 0),
	ACT(ANY, SELF, ALLOWED, AO("*"), 0),
	/* Decision: "null" and malformed origins are refused even under `*`. */
	ACT(ANY, "null", O_DENIED, "", 403),
	ACT(ANY, "https://evil.net/", O_DENIED, "", 403),
	/* Fetch: the `*` of Access-Control-Allow-Headers never covers
	 * Authorization; all or nothing. */
	PRE(ANY, "https://evil.net", "GET", "authorization", H_DENIED, "", 403),
	PRE(ANY, "https://evil.net", "GET", "x-custom, Authorization", H_DENIED, "", 403),
	PRE(ANY, "https://evil.net", "GET", "x-custom", ALLOWED, AO("*") GH
	    " | Allow-Headers: x-custom" AGE, 204),
	PRE(HSTAR, APP, "GET", "AUTHORIZATION", H_DENIED, "", 403),
	PRE(HSTAR, APP, "GET", "x-a,x-b", ALLOWED, PRE_H(APP, "x-a, x-b"), 204),

	/* ---- Preflight: origin and method ---- */
	PRE(EXACT, APP, "GET", NULL, ALLOWED, PRE_OK(APP), 204),
	PRE(EXACT, APP, "HEAD", NULL, ALLOWED, PRE_OK(APP), 204),
	PRE(EXACT, SELF, "GET", NULL, ALLOWED, PRE_OK(SELF), 204),
	PRE(EXACT, "https://evil.net", "GET", NULL, O_DENIED, "", 403),
	PRE(EXACT, "null", "GET", NULL, O_DENIED, "", 403),
	PRE(EXACT, "https://app.example.com/", "GET", NULL, O_DENIED, "", 403),
	PRE(PAT, "https://a.b.example.com", "GET", NULL, ALLOWED,
	    PRE_OK("https://a.b.example.com"), 204),
	PRE(PAT, "https://evilexample.com", "GET", NULL, O_DENIED, "", 403),
	/* Fetch: a preflight needs Origin. */
	PRE(EXACT, NULL, "GET", NULL, NOT_CORS, "", 204),
	/* RFC 9110 section 9.1: methods are case-sensitive; Fetch
	 * normalizes only the request's own method, never this header. */
	PRE(EXACT, APP, "get", NULL, M_DENIED, "", 403),
	PRE(EXACT, APP, "Get", NULL, M_DENIED, "", 403),
	PRE(EXACT, APP, "POST", NULL, M_DENIED, "", 403),
	PRE(EXACT, APP, "DELETE", NULL, M_DENIED, "", 403),
	PRE(EXACT, APP, "OPTIONS", NULL, M_DENIED, "", 403),
	/* Fetch: `*` is a wildcard in Access-Control-Allow-Methods, never a
	 * method a request may ask for. */
	PRE(EXACT, APP, "*", NULL, M_DENIED, "", 403),
	PRE(EXACT, APP, "GET ", NULL, M_DENIED, "", 403),
	PRE(EXACT, APP, "GET, HEAD", NULL, M_DENIED, "", 403),
	/* allowed_methods = `*`: the methods the gateway serves. */
	PRE(MSTAR, APP, "GET", NULL, ALLOWED, PRE_OK(APP), 204),
	PRE(MSTAR, APP, "DELETE", NULL, M_DENIED, "", 403),
	PRE(MSTAR, APP, "*", NULL, M_DENIED, "", 403),
	PRE(GETONLY, APP, "GET", NULL, ALLOWED, AO(APP) " | Allow-Methods: GET" AGE, 204),
	PRE(GETONLY, APP, "HEAD", NULL, M_DENIED, "", 403),

	/* ---- Preflight: request headers ---- */
	PRE(EXACT, APP, "GET", "x-ms-client-request-id", ALLOWED,
	    PRE_H(APP, "x-ms-client-request-id"), 204),
	/* Fetch: header names compare byte-case-insensitively. */
	PRE(EXACT, APP, "GET", "X-MS-Client-Request-ID", ALLOWED,
	    PRE_H(APP, "x-ms-client-request-id"), 204),
	/* All or nothing: one unknown header fails the whole preflight, and
	 * nothing is reflected. */
	PRE(EXACT, APP, "GET", "x-ms-client-request-id, x-evil", H_DENIED, "", 403),
	PRE(EXACT, APP, "GET", "x-evil", H_DENIED, "", 403),
	PRE(EXACT, APP, "GET", "authorization", H_DENIED, "", 403),
	/* Fetch: safelisted headers are never asked for; when asked for
	 * (an unsafe value), they must be allowed like any other. */
	PRE(EXACT, APP, "GET", "content-type", H_DENIED, "", 403),
	/* RFC 9110 section 5.6.1: optional white space, empty elements. */
	PRE(EXACT, APP, "GET", " x-ms-client-request-id ,, ", ALLOWED,
	    PRE_H(APP, "x-ms-client-request-id"), 204),
	PRE(EXACT, APP, "GET", ",,,x-ms-client-request-id,,,", ALLOWED,
	    PRE_H(APP, "x-ms-client-request-id"), 204),
	PRE(EXACT, APP, "GET", "x-ms-client-request-id\t,\tX-Ms-Client-Request-Id", ALLOWED,
	    PRE_H(APP, "x-ms-client-request-id, x-ms-client-request-id"), 204),
	/* Split header fields, joined by the web server with ", ". */
	PRE(EXACT, APP, "GET", "x-ms-client-request-id, x-ms-client-request-id", ALLOWED,
	    PRE_H(APP, "x-ms-client-request-id, x-ms-client-request-id"), 204),
	/* An empty list asks for nothing: no Allow-Headers. */
	PRE(EXACT, APP, "GET", "", ALLOWED, PRE_OK(APP), 204),
	PRE(EXACT, APP, "GET", " , ,\t", ALLOWED, PRE_OK(APP), 204),
	/* Not a token: white space inside a name, separators. */
	PRE(EXACT, APP, "GET", "x-ms client-request-id", H_DENIED, "", 403),
	PRE(EXACT, APP, "GET", "x-ms-client-request-id;", H_DENIED, "", 403),
	PRE(EXACT, APP, "GET", "x-ms-client-request-id:", H_DENIED, "", 403),
	PRE(EXACT, APP, "GET", "x-ms-client-request-id\r\nx-evil", H_DENIED, "", 403),
	/* rs/cors #170, go-chi/cors #36: floods, bounded in time and memory. */
	PRE(EXACT, APP, "GET", "@COMMAS10000", H_DENIED, "", 403),
	PRE(EXACT, APP, "GET", "@COMMAS4000", ALLOWED, PRE_OK(APP), 204),
	PRE(EXACT, APP, "GET", "@NAMES5000", H_DENIED, "", 403),
	PRE(EXACT, APP, "GET", "@NAME200", H_DENIED, "", 403),
	/* The reflection "a, a" is longer than the request "a,a": a request
	 * under the cap must not be refused for it. */
	PRE(HONE, APP, "GET", "@A2048IN", ALLOWED, PRE_H(APP, "@A2048OUT"), 204),

	/* ---- Private Network Access (WICG) ---- */
	PRN(PNA, APP, "true", ALLOWED, PRE_OK(APP) " | Allow-Private-Network: true", 204),
	PRN(PNA, APP, NULL, ALLOWED, PRE_OK(APP), 204),
	PRN(PNA, APP, "false", ALLOWED, PRE_OK(APP), 204),
	PRN(PNA, APP, "TRUE", ALLOWED, PRE_OK(APP), 204),
	PRN(PNA, "https://evil.net", "true", O_DENIED, "", 403),
	{__LINE__, PREFLIGHT, PNA, NULL, APP, "POST", NULL, "true", M_DENIED, "", 403},
	/* Off (the default): the CORS verdict stands, without the PNA
	 * header, so the browser refuses only the private-network part. */
	PRN(EXACT, APP, "true", ALLOWED, PRE_OK(APP), 204),
	/* The PNA header belongs to preflights only. */
	ACT(PNA, APP, ALLOWED, AO(APP), 0),

	/* ---- terminate_unmatched = false (APIM's
	 * terminate-unmatched-request="false") ---- */
	ACT(NOTERM, "https://evil.net", O_DENIED, "", 0),
	ACT(NOTERM, "null", O_DENIED, "", 0),
	ACT(NOTERM, "https://app.example.com, https://evil.net", O_DENIED, "", 0),
	ACT(NOTERM, APP, ALLOWED, AO(APP), 0),
	PRE(NOTERM, "https://evil.net", "GET", NULL, O_DENIED, "", 204),
	PRE(NOTERM, APP, "POST", NULL, M_DENIED, "", 204),
	PRE(NOTERM, APP, "GET", "x-evil", H_DENIED, "", 204),
	PRE(NOTERM, APP, "GET", NULL, ALLOWED, PRE_OK(APP), 204),

	/* ---- The documented policy: only the gateway's own origin ---- */
	ACT(NONE, SELF, ALLOWED, AO(SELF), 0),
	ACT(NONE, "https://gw.example.net:443", O_DENIED, "", 403),
	ACT(NONE, "http://gw.example.net", O_DENIED, "", 403),
	ACT(NONE, "https://gw.example.net.evil.net", O_DENIED, "", 403),
	ACT(NONE, "https://app.example.com", O_DENIED, "", 403),
	PRE(NONE, SELF, "GET", NULL, ALLOWED, PRE_OK(SELF), 204),
	PRE(NONE, SELF, "GET", "x-ms-client-request-id", H_DENIED, "", 403),
};
/* clang-format on */
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static char dir[PATH_MAX];
static char ini[PATH_MAX + 16];

/* malloc or die. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/* n copies of item joined by sep: a new string. */
static char *repeat(const char *item, const char *sep, size_t n)
{
	size_t il = strlen(item), sl = strlen(sep), len = n * il + (n ? (n - 1) * sl : 0);
	char *out = xmalloc(len + 1), *w = out;

	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			memcpy(w, sep, sl);
			w += sl;
		}
		memcpy(w, item, il);
		w += il;
	}
	*w = '\0';
	return out;
}

/* The value of token (without '@'), a new string. */
static char *token_value(const char *token)
{
	char *s, *t;

	if (strcmp(token, "LONGORIGIN") == 0) {
		s = xmalloc(300);
		snprintf(s, 300, "https://%063d.%063d.%063d.%048d.example.com", 0, 0, 0, 0);
		for (t = s + 8; *t != '\0'; t++)
			if (*t == '0')
				*t = 'a';
		return s;
	}
	if (strcmp(token, "LONG600") == 0) {
		s = xmalloc(601);
		memset(s, 'a', 600);
		memcpy(s, "https://", 8);
		memcpy(s + 596, ".com", 4);
		s[600] = '\0';
		return s;
	}
	if (strcmp(token, "COMMAS10000") == 0)
		return repeat(",", "", 10000);
	if (strcmp(token, "COMMAS4000") == 0)
		return repeat(",", "", 4000);
	if (strcmp(token, "NAMES5000") == 0)
		return repeat("x-ms-client-request-id", ",", 5000);
	if (strcmp(token, "A2048IN") == 0)
		return repeat("a", ",", 2048);
	if (strcmp(token, "A2048OUT") == 0)
		return repeat("a", ", ", 2048);
	if (strcmp(token, "NAME200") == 0)
		return repeat("x", "", 200);
	fprintf(stderr, "unknown token @%s\n", token);
	exit(2);
}

/* s with every @TOKEN replaced (tokens are upper-case letters and digits):
 * a new string, or NULL for NULL. */
static char *expand(const char *s)
{
	struct buf b;
	const char *at;
	char token[32], *v, *out;

	if (s == NULL)
		return NULL;
	buf_init(&b, 0);
	while ((at = strchr(s, '@')) != NULL) {
		size_t n = strspn(at + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

		buf_append(&b, s, (size_t)(at - s));
		snprintf(token, sizeof(token), "%.*s", (int)n, at + 1);
		if (n == 0) {
			buf_append(&b, "@", 1);
		} else {
			v = token_value(token);
			buf_puts(&b, v);
			free(v);
		}
		s = at + 1 + n;
	}
	buf_puts(&b, s);
	out = strdup(b.data != NULL ? b.data : "");
	buf_free(&b);
	return out;
}

/* s shortened and with control and non-ASCII bytes escaped, for a test
 * name; one of two rotating buffers. */
static const char *printable(const char *s)
{
	static char bufs[2][160];
	static int k;
	char *out = bufs[k = !k];
	size_t o = 0, n = 0;

	if (s == NULL)
		return "(none)";
	for (; *s != '\0' && o + 8 < sizeof(bufs[0]); s++, n++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(out + o, sizeof(bufs[0]) - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	if (*s != '\0')
		o += (size_t)snprintf(out + o, sizeof(bufs[0]) - o, "...");
	out[o] = '\0';
	return out;
}

/* The Access-Control-* headers of r, in order, "Name: value | ...", with
 * "Access-Control-" left out: a new string. */
static char *ac_headers(const struct response *r)
{
	struct buf b;
	char *out;

	buf_init(&b, 0);
	for (size_t i = 0; i < r->nheaders; i++) {
		if (strncasecmp(r->headers[i].name, "Access-Control-", 15) != 0)
			continue;
		buf_printf(&b, "%s%s: %s", b.len > 0 ? " | " : "", r->headers[i].name + 15,
		           r->headers[i].value);
	}
	out = strdup(b.data != NULL ? b.data : "");
	buf_free(&b);
	return out;
}

/* A load-time row: the policy is refused with exactly one error. */
static void run_load(const struct row *w, size_t i)
{
	struct strlist e = {0};
	struct policy *p = NULL;
	char *text = policy_ini(w->policy), want[PATH_MAX + 2048];
	FILE *f = fopen(ini, "w");
	int n;

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(ini);
		exit(2);
	}
	snprintf(want, sizeof(want), "%s: %s", ini, w->load);
	n = policy_load(ini, &p, &e);
	if (!ok(n == 1 && p == NULL && e.n == 1 && strcmp(e.v[0], want) == 0,
	        "row %zu (line %d): refused at load: %s", i + 1, w->line, w->load))
		for (size_t k = 0; k < e.n; k++)
			printf("#   got: %s\n", e.v[k]);
	policy_free(p);
	strlist_free(&e);
	free(text);
}

/* What the gateway answers for verdict v (see gateway.c serve() and
 * answer_options()): 403 when cors_refuse() says so, else 204 for a
 * preflight and 0 (served by the route) for an actual request. */
static int status_for(const struct policy_cors *c, enum kind kind, enum cors_verdict v)
{
	if (cors_refuse(c, v))
		return 403;
	return kind == PREFLIGHT ? 204 : 0;
}

static void run_request(const struct row *w, size_t i)
{
	struct strlist e = {0};
	struct policy *p = NULL;
	const struct policy_cors *c;
	struct response r;
	char *text = policy_ini(w->policy), *origin, *acrh, *want_ac, *got_ac;
	const char *want_vary;
	enum cors_verdict v;
	FILE *f = fopen(ini, "w");
	int status;
	bool pass;

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(ini);
		exit(2);
	}
	free(text);
	if (policy_load(ini, &p, &e) != 0) {
		ok(0, "row %zu (line %d): the policy loads", i + 1, w->line);
		for (size_t k = 0; k < e.n; k++)
			printf("#   got: %s\n", e.v[k]);
		strlist_free(&e);
		return;
	}
	c = policy_cors(p);
	origin = expand(w->origin);
	acrh = expand(w->acrh);
	want_ac = expand(w->ac);
	response_init(&r);
	if (w->kind == PREFLIGHT)
		v = cors_preflight_pna(c, origin, SELF, w->acrm, acrh, w->acrpn, &r);
	else
		v = cors_actual(c, origin, SELF, &r);
	status = status_for(c, w->kind, v);
	got_ac = ac_headers(&r);
	if (w->kind == ACTUAL)
		want_vary = "Origin";
	else if (c->allow_private_network)
		want_vary =
		    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
		    "Access-Control-Request-Private-Network";
	else
		want_vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
	pass = v == w->want && strcmp(got_ac, want_ac) == 0 && status == w->status &&
	       r.vary.data != NULL && strcmp(r.vary.data, want_vary) == 0;
	if (!ok(pass, "row %zu (line %d): %s %s%s%s%s%s%s: %s, %d", i + 1, w->line,
	        w->kind == PREFLIGHT ? "preflight" : "GET", printable(origin),
	        w->acrm ? " method " : "", w->acrm ? w->acrm : "", acrh ? " headers " : "",
	        acrh ? printable(acrh) : "", w->acrpn ? " private-network" : "",
	        cors_strverdict(w->want), w->status)) {
		printf("#   verdict: got %s, want %s\n", cors_strverdict(v),
		       cors_strverdict(w->want));
		printf("#   headers: got \"%s\"\n#            want \"%s\"\n", printable(got_ac),
		       printable(want_ac));
		printf("#   status: got %d, want %d\n", status, w->status);
		printf("#   vary: got \"%s\"\n", r.vary.data ? r.vary.data : "");
	}
	response_free(&r);
	free(got_ac);
	free(want_ac);
	free(origin);
	free(acrh);
	policy_free(p);
	strlist_free(&e);
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

int main(void)
{
	char tmpl[] = "/tmp/kvgate-test-cors-table-XXXXXX";
	size_t nload = 0, nreq = 0;
	long t0;

	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_CLIENT_SECRET");
	if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(ini, sizeof(ini), "%s/t.ini", dir);
	t0 = now_us();
	for (size_t i = 0; i < NROWS; i++) {
		if (rows[i].kind == LOAD) {
			run_load(&rows[i], i);
			nload++;
		} else {
			run_request(&rows[i], i);
			nreq++;
		}
	}
	ok(NROWS >= 100, "the table has %zu rows (%zu requests, %zu load-time refusals)", NROWS,
	   nreq, nload);
	ok(now_us() - t0 < 5000000, "the whole table, floods included, runs in %ld ms",
	   (now_us() - t0) / 1000);
	unlink(ini);
	rmdir(dir);
	return tap_done();
}
