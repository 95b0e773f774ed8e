/*
 * route.c: the request-target of an API call, checked at the edge. See
 * route.h for the routes and limits.
 */
#include <stdio.h>
#include <string.h>

#include "route.h"

#define SEGMENTS_MAX 4

/* RFC 3986 unreserved characters minus '~', the only ones a valid kvgate
 * path or query value can hold besides the separators. */
static bool is_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* Key Vault: "The name must be a 1-127 character string, starting with a
 * letter and containing only 0-9, a-z, A-Z, and -." The service accepts names
 * starting with a digit too, so kvgate checks the character set and length. */
bool route_name_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
		if (n >= ROUTE_NAME_MAX)
			return false;
	}
	return n > 0;
}

/* Key Vault versions are 32 hexadecimal digits (a GUID without dashes). */
bool route_version_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
		if (n >= ROUTE_VERSION_LEN)
			return false;
	}
	return n == ROUTE_VERSION_LEN;
}

/* api-version values are dates or numbers with an optional "-preview". */
bool route_api_version_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
		if (n >= ROUTE_API_VERSION_MAX)
			return false;
	}
	return n > 0;
}

bool route_under_base(const char *uri, const char *base_path)
{
	size_t n = strlen(base_path);

	return strncmp(uri, base_path, n) == 0 &&
	       (uri[n] == '\0' || uri[n] == '/' || uri[n] == '?');
}

static enum route_err fail(enum route_err e, char *msg, size_t msglen, const char *text)
{
	snprintf(msg, msglen, "%s", text);
	return e;
}

/* Characters of the parameter names kvgate knows. */
static bool is_key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '$';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode the n bytes at s into out (size outlen, NUL-terminated).
 * Every decoded byte must pass ok(); a '%' must be followed by two hex
 * digits. Returns the decoded length, or (size_t)-1 when a byte is refused
 * or out is too small.
 */
static size_t pct_decode(const char *s, size_t n, char *out, size_t outlen,
                         bool (*ok)(unsigned char))
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return (size_t)-1;
			hi = hex_value((unsigned char)s[i + 1]);
			lo = hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return (size_t)-1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (!ok(c) || o + 1 >= outlen)
			return (size_t)-1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

/*
 * Parse the query string q (without '?'). Only the three parameters kvgate
 * knows are accepted, each at most once, with values of plain characters:
 * nothing a caller sends is ever forwarded upstream as it came.
 */
static enum route_err parse_query(const char *q, struct route *out, char *msg, size_t msglen)
{
	bool seen_api = false, seen_max = false, seen_skip = false;
	char key[16], val[ROUTE_SKIPTOKEN_MAX + 1];
	const char *p = q;

	while (*p != '\0') {
		const char *end = p + strcspn(p, "&");
		const char *eq = memchr(p, '=', (size_t)(end - p));
		size_t klen, vlen;
		const char *v;

		if (end == p) { /* an empty element, as in "a=1&&b=2" */
			p++;
			continue;
		}
		if (eq == NULL)
			return fail(ROUTE_EQUERY, msg, msglen, "A query parameter has no value.");
		/* Names and values may be percent-encoded (the Azure SDK for JS
		 * sends "api%2Dversion"); they are decoded once, and what they
		 * decode to must still be plain characters. */
		klen = pct_decode(p, (size_t)(eq - p), key, sizeof(key), is_key_char);
		if (klen == (size_t)-1)
			return fail(ROUTE_EQUERY, msg, msglen,
			            "Unknown query parameter: only api-version, maxresults and "
			            "$skiptoken are accepted.");
		vlen = pct_decode(eq + 1, (size_t)(end - eq - 1), val, sizeof(val), is_plain);
		if (vlen == (size_t)-1)
			return fail(ROUTE_EQUERY, msg, msglen,
			            "A query parameter value has a character that is not allowed.");
		v = val;
		if (klen == 11 && memcmp(key, "api-version", 11) == 0) {
			if (seen_api)
				return fail(
				    ROUTE_EQUERY, msg, msglen,
				    "The query parameter api-version is given more than once.");
			seen_api = true;
			if (vlen > ROUTE_API_VERSION_MAX)
				return fail(ROUTE_EQUERY, msg, msglen,
				            "The api-version value is not valid.");
			memcpy(out->api_version, v, vlen);
			out->api_version[vlen] = '\0';
			if (!route_api_version_valid(out->api_version))
				return fail(ROUTE_EQUERY, msg, msglen,
				            "The api-version value is not valid.");
		} else if (klen == 10 && memcmp(key, "maxresults", 10) == 0) {
			int m = 0;

			if (seen_max)
				return fail(
				    ROUTE_EQUERY, msg, msglen,
				    "The query parameter maxresults is given more than once.");
			seen_max = true;
			/* 1-25 written plainly: no sign, no leading zero. */
			if (vlen == 0 || vlen > 2 || v[0] == '0')
				return fail(ROUTE_EMAXRESULTS, msg, msglen,
				            "maxresults must be an integer from 1 to 25.");
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9')
					return fail(ROUTE_EMAXRESULTS, msg, msglen,
					            "maxresults must be an integer from 1 to 25.");
				m = m * 10 + (v[i] - '0');
			}
			if (m < 1 || m > ROUTE_MAXRESULTS_MAX)
				return fail(ROUTE_EMAXRESULTS, msg, msglen,
				            "maxresults must be an integer from 1 to 25.");
			out->maxresults = m;
		} else if (klen == 10 && memcmp(key, "$skiptoken", 10) == 0) {
			if (seen_skip)
				return fail(
				    ROUTE_EQUERY, msg, msglen,
				    "The query parameter $skiptoken is given more than once.");
			seen_skip = true;
			if (vlen == 0 || vlen > ROUTE_SKIPTOKEN_MAX || memchr(v, '.', vlen))
				return fail(ROUTE_EQUERY, msg, msglen,
				            "The paging token is not valid.");
			memcpy(out->skiptoken, v, vlen);
			out->skiptoken[vlen] = '\0';
		} else {
			return fail(ROUTE_EQUERY, msg, msglen,
			            "Unknown query parameter: only api-version, maxresults and "
			            "$skiptoken are accepted.");
		}
		p = *end == '&' ? end + 1 : end;
	}
	if (out->kind == ROUTE_GET && (seen_max || seen_skip))
		return fail(ROUTE_EQUERY, msg, msglen,
		            "maxresults and $skiptoken apply to lists only.");
	return ROUTE_OK;
}

/* src into dst (size bytes), cut to fit: a name or version, known valid
 * here, so this is the copy alone. */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

enum route_err route_parse(const char *uri, const char *base_path, struct route *out, char *msg,
                           size_t msglen)
{
	char path[ROUTE_PATH_MAX + 1];
	const char *seg[SEGMENTS_MAX + 1], *q;
	size_t ulen, plen, blen, nseg = 0;
	char *p;

	memset(out, 0, sizeof(*out));
	if (msglen > 0)
		msg[0] = '\0';
	ulen = strlen(uri);
	if (ulen > ROUTE_URI_MAX)
		return fail(ROUTE_ETOOLONG, msg, msglen, "The request URI is too long.");
	/* Raw bytes first: no control bytes, spaces, non-ASCII or fragment. */
	for (size_t i = 0; i < ulen; i++) {
		unsigned char c = (unsigned char)uri[i];

		if (c <= 0x20 || c >= 0x7f || c == '#' || c == '\\')
			return fail(ROUTE_EENCODING, msg, msglen,
			            "The request URI holds a character that is not allowed.");
	}
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : ulen;
	if (plen > ROUTE_PATH_MAX)
		return fail(ROUTE_ETOOLONG, msg, msglen, "The request path is too long.");
	if (q != NULL && strlen(q + 1) > ROUTE_QUERY_MAX)
		return fail(ROUTE_ETOOLONG, msg, msglen, "The query string is too long.");
	/* Names and versions never need percent-encoding, so none is decoded:
	 * an encoded '/', '.' or NUL can never become part of a name. */
	if (memchr(uri, '%', plen) != NULL)
		return fail(ROUTE_EENCODING, msg, msglen,
		            "Percent-encoding is not allowed in the request path.");
	blen = strlen(base_path);
	if (plen < blen || strncmp(uri, base_path, blen) != 0 || (plen > blen && uri[blen] != '/'))
		return fail(ROUTE_EPATH, msg, msglen, "The request path is not under the API.");
	memcpy(path, uri + blen, plen - blen);
	path[plen - blen] = '\0';

	/* Split "/secrets/…" into segments; one trailing '/' is allowed. */
	plen = strlen(path);
	if (plen > 0 && path[plen - 1] == '/')
		path[--plen] = '\0';
	p = path;
	while (*p == '/') {
		*p++ = '\0';
		if (nseg == SEGMENTS_MAX)
			return fail(ROUTE_EPATH, msg, msglen,
			            "The request path has too many segments.");
		seg[nseg++] = p;
		p += strcspn(p, "/");
	}
	for (size_t i = 0; i < nseg; i++) {
		if (seg[i][0] == '\0')
			return fail(ROUTE_EENCODING, msg, msglen,
			            "The request path has an empty segment.");
		if (strcmp(seg[i], ".") == 0 || strcmp(seg[i], "..") == 0)
			return fail(ROUTE_EENCODING, msg, msglen,
			            "Dot segments are not allowed in the request path.");
	}
	if (nseg == 0 || strcmp(seg[0], "secrets") != 0)
		return fail(ROUTE_EPATH, msg, msglen,
		            "Unknown route: the API serves /secrets, /secrets/{name}, "
		            "/secrets/{name}/{version} and /secrets/{name}/versions.");
	if (nseg == 1) {
		out->kind = ROUTE_LIST;
	} else {
		if (!route_name_valid(seg[1]))
			return fail(ROUTE_ENAME, msg, msglen,
			            "The secret name is not valid: it must be 1-127 characters "
			            "of 0-9, a-z, A-Z and -.");
		copy(out->name, sizeof(out->name), seg[1]);
		if (nseg == 2) {
			out->kind = ROUTE_GET;
		} else if (strcmp(seg[2], "versions") == 0) {
			if (nseg > 3)
				return fail(ROUTE_EPATH, msg, msglen,
				            "The request path has too many segments.");
			out->kind = ROUTE_VERSIONS;
		} else {
			if (nseg > 3)
				return fail(ROUTE_EPATH, msg, msglen,
				            "The request path has too many segments.");
			if (!route_version_valid(seg[2]))
				return fail(ROUTE_EVERSION, msg, msglen,
				            "The secret version is not valid: it must be 32 "
				            "hexadecimal characters.");
			copy(out->version, sizeof(out->version), seg[2]);
			out->kind = ROUTE_GET;
		}
	}
	return q ? parse_query(q + 1, out, msg, msglen) : ROUTE_OK;
}

const char *route_strerror(enum route_err e)
{
	switch (e) {
	case ROUTE_OK:
		return "no error";
	case ROUTE_ETOOLONG:
		return "request too long";
	case ROUTE_EPATH:
		return "unknown route";
	case ROUTE_EENCODING:
		return "bad encoding in path";
	case ROUTE_ENAME:
		return "bad secret name";
	case ROUTE_EVERSION:
		return "bad secret version";
	case ROUTE_EQUERY:
		return "bad query";
	case ROUTE_EMAXRESULTS:
		return "maxresults out of range";
	}
	return "unknown route error";
}
