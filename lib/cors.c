/*
 * cors.c: CORS verdicts and headers. See cors.h for the rules.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "cors.h"

/*
 * A host as it appears in a serialized origin: a lower-case DNS name
 * (labels of [a-z0-9-], not starting or ending with '-'), or a bracketed
 * IPv6 literal. IPv4 literals are DNS-shaped and pass the same rule. Browsers
 * serialize hosts in lower case (URL standard, host serializer), so upper
 * case can only come from a hand-written Origin and never matches.
 */
static bool host_valid(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return false;
	if (s[0] == '[') {
		if (n < 4 || s[n - 1] != ']')
			return false;
		/* Browsers serialize IPv6 hexadecimal in lower case (URL
		 * standard, IPv6 serializer). */
		for (i = 1; i < n - 1; i++)
			if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f') &&
			    s[i] != ':' && s[i] != '.')
				return false;
		return true;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-';
}

bool cors_origin_valid(const char *s)
{
	const char *host, *colon, *end;
	size_t len, hostlen;
	long port;
	bool https;

	if (s == NULL)
		return false;
	len = strlen(s);
	if (len == 0 || len > CORS_ORIGIN_MAX)
		return false;
	if (strncmp(s, "https://", 8) == 0) {
		https = true;
		host = s + 8;
	} else if (strncmp(s, "http://", 7) == 0) {
		https = false;
		host = s + 7;
	} else {
		return false;
	}
	end = s + len;
	/* The port separator is the last ':' outside an IPv6 literal. */
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');

		if (rb == NULL)
			return false;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (colon == NULL && rb + 1 != end)
			return false;
	} else {
		colon = strchr(host, ':');
	}
	hostlen = (size_t)((colon ? colon : end) - host);
	if (!host_valid(host, hostlen))
		return false;
	if (colon == NULL)
		return true;
	/* A port: 1-5 digits, no leading zero, 1-65535, not the default. */
	if (colon[1] == '\0' || colon[1] == '0' || end - colon - 1 > 5)
		return false;
	port = 0;
	for (const char *p = colon + 1; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	if (port > 65535 || port == (https ? 443 : 80))
		return false;
	return true;
}

/* The length of s's scheme and "://" when s starts with "http://" or
 * "https://", else 0. */
static size_t scheme_len(const char *s)
{
	if (strncmp(s, "https://", 8) == 0)
		return 8;
	if (strncmp(s, "http://", 7) == 0)
		return 7;
	return 0;
}

bool cors_pattern_valid(const char *s)
{
	char probe[CORS_ORIGIN_MAX + 1];
	const char *suffix, *host_end, *last;
	size_t sl, n;

	if (s == NULL || (sl = scheme_len(s)) == 0 || strncmp(s + sl, "*.", 2) != 0)
		return false;
	suffix = s + sl + 2;
	n = strlen(s);
	if (n > CORS_ORIGIN_MAX || strchr(suffix, '*') != NULL || suffix[0] == '[')
		return false;
	/* The shape is an origin's with one label in place of the `*`. */
	memcpy(probe, s, n + 1);
	probe[sl] = 'x';
	if (!cors_origin_valid(probe))
		return false;
	host_end = suffix + strcspn(suffix, ":");
	/* Two or more labels after "*.": "*.com" matches nearly everything. */
	if (memchr(suffix, '.', (size_t)(host_end - suffix)) == NULL)
		return false;
	/* The last label is not all digits: "*.0.0.1" names no domain. */
	for (last = host_end; last > suffix && last[-1] != '.'; last--)
		;
	return strspn(last, "0123456789") < (size_t)(host_end - last);
}

/*
 * Names under which anyone can get a subdomain: shared hosting domains
 * (mostly from the Public Suffix List's private section, Azure's first),
 * and the generic second levels of country domains (co.uk, com.au). A
 * pattern on one of them reads "any customer of that service". This is a
 * short list of the names people actually write, not the Public Suffix
 * List: a pattern it misses is still scheme- and port-exact.
 */
/* clang-format off */
static const char *const broad_suffixes[] = {
    "azurewebsites.net",     "azurestaticapps.net",  "azure-api.net",
    "azurefd.net",           "azureedge.net",        "azurecontainerapps.io",
    "cloudapp.net",          "cloudapp.azure.com",   "trafficmanager.net",
    "blob.core.windows.net", "web.core.windows.net", "windows.net",
    "github.io",             "githubusercontent.com", "herokuapp.com",
    "appspot.com",           "firebaseapp.com",      "web.app",
    "netlify.app",           "vercel.app",           "pages.dev",
    "workers.dev",           "cloudfront.net",       "amazonaws.com",
    "onrender.com",          "fly.dev",              "ngrok.io",
    "ngrok-free.app",        "ngrok.app",            "glitch.me",
    "repl.co",               "gitlab.io",            "surge.sh",
    "blogspot.com",          "myshopify.com",        "wordpress.com",
};

/* Generic second-level labels under two-letter country domains. */
static const char *const broad_second_levels[] = {
    "ac", "co", "com", "edu", "gob", "go", "gov", "mil", "ne", "net", "or", "org",
};
/* clang-format on */

bool cors_pattern_broad(const char *s)
{
	const char *suffix, *dot;
	size_t n, sl;

	if (!cors_pattern_valid(s))
		return false;
	sl = scheme_len(s);
	suffix = s + sl + 2;
	n = strcspn(suffix, ":");
	for (size_t i = 0; i < sizeof(broad_suffixes) / sizeof(broad_suffixes[0]); i++)
		if (strlen(broad_suffixes[i]) == n && strncmp(suffix, broad_suffixes[i], n) == 0)
			return true;
	/* label.cc, with cc two letters and label a generic second level. */
	dot = memchr(suffix, '.', n);
	if (dot == NULL || memchr(dot + 1, '.', (size_t)(suffix + n - dot - 1)) != NULL ||
	    suffix + n - dot - 1 != 2)
		return false;
	for (size_t i = 0; i < sizeof(broad_second_levels) / sizeof(broad_second_levels[0]); i++)
		if (strlen(broad_second_levels[i]) == (size_t)(dot - suffix) &&
		    strncmp(suffix, broad_second_levels[i], (size_t)(dot - suffix)) == 0)
			return true;
	return false;
}

/*
 * Whether the valid origin matches the pattern p (scheme, "://", "*.", rest): the
 * same scheme, and the origin's host[:port] ends with ".rest" after at least
 * one byte. The dot is part of the suffix, so https://evilexample.com does
 * not match *.example.com under https; the port is part of it too, so it must
 * be the same (or absent from both). A valid origin's host is whole labels,
 * so what the `*` stands for is one or more labels. An item that is not a
 * pattern matches nothing here.
 */
static bool pattern_match(const char *p, const char *origin)
{
	size_t sl = scheme_len(p), rl, hl;
	const char *rest, *hostport;

	if (sl == 0 || p[sl] != '*' || p[sl + 1] != '.')
		return false;
	if (strncmp(origin, p, sl) != 0)
		return false;
	rest = p + sl + 1; /* ".example.com[:port]" */
	hostport = origin + sl;
	rl = strlen(rest);
	hl = strlen(hostport);
	return hostport[0] != '[' && hl > rl && strcmp(hostport + hl - rl, rest) == 0;
}

bool cors_origin_allowed(const struct policy_cors *c, const char *origin, const char *self_origin)
{
	if (!cors_origin_valid(origin))
		return false;
	if (self_origin != NULL && strcmp(origin, self_origin) == 0)
		return true;
	if (c->any_origin || strlist_contains(&c->allowed_origins, origin))
		return true;
	for (size_t i = 0; i < c->allowed_origins.n; i++)
		if (pattern_match(c->allowed_origins.v[i], origin))
			return true;
	return false;
}

/* Join a list into "a, b, c". Returns 0 or -1. */
static int join(const struct strlist *l, struct buf *b)
{
	for (size_t i = 0; i < l->n; i++)
		if ((i > 0 && buf_puts(b, ", ") != BUF_OK) || buf_puts(b, l->v[i]) != BUF_OK)
			return -1;
	return 0;
}

/* Access-Control-Allow-Origin and -Allow-Credentials for an allowed origin.
 * With credentials the origin is always echoed: browsers refuse `*` then. */
static int allow_origin(const struct policy_cors *c, const char *origin, struct response *r)
{
	if (c->any_origin && !c->allow_credentials)
		return response_header(r, "Access-Control-Allow-Origin", "*");
	if (response_header(r, "Access-Control-Allow-Origin", origin) != 0)
		return -1;
	if (c->allow_credentials)
		return response_header(r, "Access-Control-Allow-Credentials", "true");
	return 0;
}

enum cors_verdict cors_actual(const struct policy_cors *c, const char *origin,
                              const char *self_origin, struct response *r)
{
	struct buf b;
	int rc = 0;

	response_vary(r, "Origin");
	if (origin == NULL)
		return CORS_NOT_CORS;
	if (!cors_origin_allowed(c, origin, self_origin))
		return CORS_ORIGIN_DENIED;
	if (allow_origin(c, origin, r) != 0)
		return CORS_ORIGIN_DENIED;
	if (c->expose_headers.n > 0) {
		buf_init(&b, 4096);
		rc = join(&c->expose_headers, &b);
		if (rc == 0)
			rc = response_header(r, "Access-Control-Expose-Headers", b.data);
		buf_free(&b);
	}
	return rc == 0 ? CORS_ALLOWED : CORS_ORIGIN_DENIED;
}

/* RFC 9110 token characters (field names are tokens). */
static bool tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Whether one requested header name (lower-cased) is allowed. `*` covers
 * every name but Authorization (Fetch: "the wildcard does not cover
 * Authorization"), so that a credential header is only ever sent when the
 * operator named it. */
static bool header_allowed(const struct policy_cors *c, const char *name)
{
	if (strlist_contains_ci(&c->allowed_headers, name))
		return true;
	return c->any_header && strcmp(name, "authorization") != 0;
}

/*
 * Check Access-Control-Request-Headers, all or nothing, and collect the
 * allowed names, lower-cased, into out. The value is a comma-separated list
 * with optional white space and empty elements. One pass over a bounded
 * string: hostile input (thousands of commas) costs linear time.
 */
static bool request_headers_allowed(const struct policy_cors *c, const char *acrh, struct buf *out)
{
	char name[128];
	const char *p = acrh;

	if (strlen(acrh) > CORS_REQUEST_HEADERS_MAX)
		return false;
	while (*p != '\0') {
		size_t n = 0;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t') {
			unsigned char ch = (unsigned char)*p++;

			if (!tchar(ch) || n + 1 >= sizeof(name))
				return false;
			name[n++] = (char)ascii_lower(ch);
		}
		name[n] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0' && *p != ',')
			return false; /* white space inside a name */
		if (!header_allowed(c, name))
			return false;
		if ((out->len > 0 && buf_puts(out, ", ") != BUF_OK) ||
		    buf_puts(out, name) != BUF_OK)
			return false;
	}
	return true;
}

/* Whether the preflight's method may be used: listed (case-sensitive, as
 * methods are), or `*`, which stands for the methods the gateway serves. */
static bool method_allowed(const struct policy_cors *c, const char *m)
{
	if (strcmp(m, "*") == 0)
		return false; /* `*` in the policy is a wildcard, never a method */
	if (strlist_contains(&c->allowed_methods, m))
		return true;
	return strlist_contains(&c->allowed_methods, "*") &&
	       (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0);
}

enum cors_verdict cors_preflight(const struct policy_cors *c, const char *origin,
                                 const char *self_origin, const char *acrm, const char *acrh,
                                 struct response *r)
{
	return cors_preflight_pna(c, origin, self_origin, acrm, acrh, NULL, r);
}

enum cors_verdict cors_preflight_pna(const struct policy_cors *c, const char *origin,
                                     const char *self_origin, const char *acrm, const char *acrh,
                                     const char *acrpn, struct response *r)
{
	enum cors_verdict v = CORS_ALLOWED;
	struct buf hdrs, methods;
	char age[ASCII_DECIMAL_MAX + 1];
	/* Never with `*` (refused when the policy loads): a private network
	 * opened to every site on the Internet is what PNA exists to stop. */
	bool pna = c->allow_private_network && !c->any_origin;

	response_vary(r, "Origin");
	response_vary(r, "Access-Control-Request-Method");
	response_vary(r, "Access-Control-Request-Headers");
	if (pna)
		response_vary(r, "Access-Control-Request-Private-Network");
	if (origin == NULL)
		return CORS_NOT_CORS;
	if (!cors_origin_allowed(c, origin, self_origin))
		return CORS_ORIGIN_DENIED;
	if (acrm == NULL || !method_allowed(c, acrm))
		return CORS_METHOD_DENIED;
	buf_init(&hdrs, CORS_ALLOW_HEADERS_MAX);
	buf_init(&methods, 4096);
	if (acrh != NULL && !request_headers_allowed(c, acrh, &hdrs)) {
		v = CORS_HEADERS_DENIED;
		goto out;
	}
	if (strlist_contains(&c->allowed_methods, "*"))
		buf_puts(&methods, "GET, HEAD");
	else
		join(&c->allowed_methods, &methods);
	/* Every allowed preflight's, so no printf ([cors] max_age is 0 or more). */
	age[ascii_decimal(c->max_age > 0 ? (unsigned long)c->max_age : 0, age)] = '\0';
	if (allow_origin(c, origin, r) != 0 ||
	    response_header(r, "Access-Control-Allow-Methods", methods.data ? methods.data : "") ||
	    (hdrs.len > 0 && response_header(r, "Access-Control-Allow-Headers", hdrs.data)) ||
	    response_header(r, "Access-Control-Max-Age", age))
		v = CORS_ORIGIN_DENIED;
	/* PNA: the request header's only value is "true". */
	if (v == CORS_ALLOWED && pna && acrpn != NULL && strcmp(acrpn, "true") == 0 &&
	    response_header(r, "Access-Control-Allow-Private-Network", "true") != 0)
		v = CORS_ORIGIN_DENIED;
out:
	buf_free(&hdrs);
	buf_free(&methods);
	return v;
}

bool cors_refuse(const struct policy_cors *c, enum cors_verdict v)
{
	return v != CORS_NOT_CORS && v != CORS_ALLOWED && c->terminate_unmatched;
}

const char *cors_strverdict(enum cors_verdict v)
{
	switch (v) {
	case CORS_NOT_CORS:
		return "not a CORS request";
	case CORS_ALLOWED:
		return "allowed";
	case CORS_ORIGIN_DENIED:
		return "origin not allowed";
	case CORS_METHOD_DENIED:
		return "method not allowed";
	case CORS_HEADERS_DENIED:
		return "request header not allowed";
	}
	return "unknown verdict";
}
