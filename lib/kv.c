/*
 * kv.c: the Key Vault secrets client. See kv.h.
 *
 * Every call goes through kv_call(), which owns the policy for talking to
 * the vault: one deadline of [vault] deadline_ms for the whole call (token,
 * attempts and waits), each attempt bounded by min(timeout_ms, what is
 * left); one retry with a fresh token after a 401 whose challenge passed
 * kv_on_challenge(); and up to [vault] max_retries retries of transient
 * failures (408, 429, 500, 502, 503, 504, failed or dropped connections,
 * attempt timeouts and token endpoint outages) with exponential backoff and
 * full jitter, or after the vault's retry-after-ms / x-ms-retry-after-ms /
 * Retry-After, as long as the wait fits in what is left of the deadline.
 * The bearer token is attached only to URLs on the vault's own scheme, host
 * and port (kv_on_vault()). Statuses and transport failures become enum
 * kv_err in one place (kv_map_status() and kv_map_http()); the answer's
 * JSON shape is checked in kv_parse().
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ascii.h"
#include "mono.h"
#include "buf.h"
#include "jsonparse.h"
#include "http.h"
#include "identity.h"
#include "kv.h"
#include "log.h"

/* Cap on a URL the client builds (vault URL, a 127-character name, a
 * version, api-version and maxresults fit easily). */
#define KV_URL_MAX 4096
/* "Authorization: Bearer " and a token of at most 16 KB. */
#define KV_AUTH_MAX (17 * 1024)
/* Key Vault's JSON nests three levels (attributes, tags); leave room. */
#define KV_JSON_DEPTH 16
/* Backoff: a random wait in [0, BASE * 2^attempt], the bound at most MAX
 * ("full jitter"), so that processes throttled together spread out. */
#define KV_BACKOFF_BASE_MS 200L
#define KV_BACKOFF_MAX_MS 4000L
/* A retry is not started with less than this much of the deadline left. */
#define KV_ATTEMPT_MIN_MS 100L
/* Retry-After values beyond a day are not believed. */
#define KV_RETRY_AFTER_MAX 86400L
/* Cap on one value of a WWW-Authenticate challenge (the header itself is
 * capped by http.c at 1 KB). */
#define KV_CHALLENGE_VALUE_MAX 512
/* A tenant id in a challenge: a GUID or a domain name. */
#define KV_TENANT_MAX 128

/* What a 200 answer must look like. */
enum kv_shape {
	KV_SHAPE_BUNDLE, /* SecretBundle: an object with a string "id" */
	KV_SHAPE_LIST,   /* SecretListResult: an object with an array "value" */
};

struct kv_client {
	struct http *http;
	struct identity *id;
	char *vault_url; /* scheme://host[:port], no trailing '/' */
	char *api_version;
	long timeout_ms;  /* bound of one attempt */
	long deadline_ms; /* bound of one kv_get_secret() / kv_list(), all attempts */
	long max_retries;
	bool verify_resource; /* [vault] verify_challenge_resource */
	/* The vault URL's parts, for kv_next_link_valid(). */
	bool tls;
	char *host; /* as written in the URL, brackets included for IPv6 */
	long port;  /* explicit, or the scheme's default */
	unsigned long vault_calls;
	uint64_t jitter; /* xorshift state for backoff jitter */
};

/* A short English description of e, for logs. Static storage. */
const char *kv_strerror(enum kv_err e)
{
	switch (e) {
	case KV_OK:
		return "no error";
	case KV_ENOMEM:
		return "out of memory";
	case KV_ENOTFOUND:
		return "secret not found";
	case KV_EDISABLED:
		return "secret disabled";
	case KV_EFORBIDDEN:
		return "the gateway's identity may not read it";
	case KV_EBADREQUEST:
		return "the vault refused the request as malformed";
	case KV_EUNAUTHORIZED:
		return "the vault refused the gateway's token";
	case KV_ETHROTTLED:
		return "the vault is throttling requests";
	case KV_EUNAVAILABLE:
		return "the vault is unavailable";
	case KV_ETIMEOUT:
		return "the vault did not answer in time";
	case KV_EUPSTREAM:
		return "the vault failed";
	case KV_EPROTO:
		return "the vault's answer is not what was expected";
	case KV_EIDENTITY:
		return "no token for the vault";
	case KV_ENEXTLINK:
		return "nextLink does not point at this vault's list";
	case KV_ETOOBIG:
		return "the vault's answer is too large";
	case KV_ECHALLENGE:
		return "the vault's 401 challenge failed verification";
	case KV_EIDREJECTED:
		return "the identity endpoint refused the gateway's credential";
	case KV_EDROPPED:
		return "the connection to the vault dropped";
	case KV_EDEADLINE:
		return "the request's deadline was spent";
	}
	return "unknown kv error";
}

/* printf into a fixed buffer, when there is one. */
__attribute__((format(printf, 3, 4))) static void kv_say(char *buf, size_t len, const char *fmt,
                                                         ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/*
 * Copy text from the vault into a fixed field for logs: control characters
 * become spaces, and a cut never splits a UTF-8 sequence. With ascii set,
 * bytes outside printable ASCII become '?' (for error codes, which are
 * identifiers).
 */
static void kv_copy_text(char *dst, size_t len, const char *src, bool ascii)
{
	size_t n = strlen(src), i;

	if (n > len - 1) {
		n = len - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (ch < 0x20 || ch == 0x7f)
			ch = ' ';
		else if (ascii && ch >= 0x80)
			ch = '?';
		dst[i] = (char)ch;
	}
	dst[n] = '\0';
}

/* Start a kv_error afresh. */
static void kv_error_clear(struct kv_error *e)
{
	e->err = KV_OK;
	e->status = 0;
	e->code[0] = e->inner[0] = e->message[0] = '\0';
	e->retry_after = -1;
}

/* Set e's error, keeping its message. Returns err. */
static enum kv_err kv_set(struct kv_error *e, enum kv_err err)
{
	e->err = err;
	return err;
}

/* Set e's error and message. Returns err. */
__attribute__((format(printf, 3, 4))) static enum kv_err
kv_fail(struct kv_error *e, enum kv_err err, const char *fmt, ...)
{
	va_list ap;

	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * Split a vault URL, scheme://host[:port] with nothing after it, into the
 * client's tls/host/port. Returns false when it is not of that form.
 */
static bool kv_split_url(struct kv_client *c, const char *url)
{
	const char *auth, *p;
	size_t alen, hlen;
	char *end;

	if (strncasecmp(url, "https://", 8) == 0) {
		c->tls = true;
		auth = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		c->tls = false;
		auth = url + 7;
	} else {
		return false;
	}
	alen = strlen(auth);
	if (alen == 0 || strpbrk(auth, "/?#@\\") != NULL)
		return false;
	if (auth[0] == '[') {
		if ((p = strchr(auth, ']')) == NULL)
			return false;
		hlen = (size_t)(p - auth) + 1;
	} else {
		hlen = strcspn(auth, ":");
	}
	if (hlen == 0 || (c->host = strndup(auth, hlen)) == NULL)
		return false;
	c->port = c->tls ? 443 : 80;
	if (hlen < alen) {
		if (auth[hlen] != ':' || auth[hlen + 1] < '0' || auth[hlen + 1] > '9')
			return false;
		errno = 0;
		c->port = strtol(auth + hlen + 1, &end, 10);
		if (errno != 0 || *end != '\0' || c->port < 1 || c->port > 65535)
			return false;
	}
	return true;
}

/* Whether s is an api-version Key Vault could accept: 1-32 characters of
 * [0-9A-Za-z.-] ("7.6", "2025-07-01", "7.4-preview.1"). It goes into every
 * URL, so nothing else may pass. */
static bool kv_api_version_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 32 &&
	       strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-") == n;
}

/*
 * Make the client for policy p (see kv.h): the http handle with [vault]
 * ca_file and timeout_ms, and the identity. Nothing is sent yet. On error
 * *out stays NULL and errbuf says why (an identity problem names the INI key
 * or environment variable to set).
 */
enum kv_err kv_client_new(const struct policy *p, struct kv_client **out, char *errbuf,
                          size_t errlen)
{
	const struct policy_vault *v = policy_vault(p);
	struct http_options o = {v->ca_file, v->timeout_ms};
	struct kv_client *c;
	enum kv_err err = KV_ENOMEM;
	enum identity_err ie;
	enum http_err he;

	*out = NULL;
	kv_say(errbuf, errlen, "%s", "");
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		kv_say(errbuf, errlen, "out of memory");
		return KV_ENOMEM;
	}
	c->timeout_ms = v->timeout_ms > 0 ? v->timeout_ms : 5000;
	c->deadline_ms = v->deadline_ms > 0 ? v->deadline_ms : 10000;
	c->verify_resource = v->verify_challenge_resource;
	c->max_retries = v->max_retries > 0 ? v->max_retries : 0;
	c->jitter = ((uint64_t)getpid() << 32) ^ (uint64_t)mono_ms() ^ (uint64_t)(uintptr_t)c;
	if (c->jitter == 0)
		c->jitter = 0x9E3779B97F4A7C15ULL;
	if (v->url == NULL || !http_url_allowed(v->url) || !kv_split_url(c, v->url)) {
		kv_say(errbuf, errlen,
		       "[vault] url must be https://host[:port] (http:// only to loopback)");
		err = KV_EUPSTREAM;
		goto fail;
	}
	if (v->api_version == NULL || !kv_api_version_valid(v->api_version)) {
		kv_say(errbuf, errlen, "[vault] api_version must be 1-32 of [0-9A-Za-z.-]");
		err = KV_EBADREQUEST;
		goto fail;
	}
	if ((c->vault_url = strdup(v->url)) == NULL ||
	    (c->api_version = strdup(v->api_version)) == NULL) {
		kv_say(errbuf, errlen, "out of memory");
		goto fail;
	}
	if ((he = http_new(&o, &c->http)) != HTTP_OK) {
		kv_say(errbuf, errlen, "cannot set up libcurl: %s", http_strerror(he));
		err = he == HTTP_ENOMEM ? KV_ENOMEM : KV_EUPSTREAM;
		goto fail;
	}
	if ((ie = identity_new(p, c->http, &c->id, errbuf, errlen)) != IDENTITY_OK) {
		err = ie == IDENTITY_ENOMEM ? KV_ENOMEM : KV_EIDENTITY;
		goto fail;
	}
	*out = c;
	return KV_OK;

fail:
	kv_client_free(c);
	return err;
}

/* Release the client, its identity (wiping token and secret) and its
 * connections. Accepts NULL. */
void kv_client_free(struct kv_client *c)
{
	if (c == NULL)
		return;
	identity_free(c->id);
	http_free(c->http);
	free(c->vault_url);
	free(c->api_version);
	free(c->host);
	free(c);
}

/* The vault's base URL as the policy gave it; owned by the client. */
void kv_share_tokens(struct kv_client *c, const struct identity_share *s)
{
	identity_share(c->id, s);
}

const char *kv_vault_url(const struct kv_client *c)
{
	return c->vault_url;
}

/* Upstream calls so far: the identity's token requests and the vault
 * requests (every attempt counts). Either pointer may be NULL. */
void kv_stats(const struct kv_client *c, unsigned long *token_calls, unsigned long *vault_calls)
{
	if (token_calls != NULL)
		*token_calls = identity_requests(c->id);
	if (vault_calls != NULL)
		*vault_calls = c->vault_calls;
}

/*
 * Whether url is a nextLink this vault could have produced (see kv.h):
 * - at most KV_NEXTLINK_MAX bytes, no '#';
 * - the vault's scheme and host (both compared ignoring case);
 * - the vault's port: explicit or the scheme's default, so Key Vault's
 *   "https://NAME.vault.azure.net:443/…" matches a vault URL without port;
 *   a port is 1-5 digits without a leading zero, and nothing else (no
 *   user information) may sit in the authority;
 * - the path exactly /secrets (name NULL) or /secrets/{name}/versions, the
 *   name compared ignoring case as Key Vault does, so no "..", no encoded
 *   character and no other collection can be reached;
 * - a query (optional) of [A-Za-z0-9$=&%._~+/-] only, which is what
 *   api-version, $skiptoken (base64) and maxresults are made of.
 */
/*
 * Where the path of url starts when url is on the vault itself: the vault's
 * scheme and host (both compared ignoring case) and its port, explicit or the
 * scheme's default (a port is 1-5 digits without a leading zero, and nothing
 * else, no user information, may sit in the authority). NULL when url is
 * anywhere else. This is the one check that decides where the bearer token
 * may go.
 */
static const char *kv_on_vault(const struct kv_client *c, const char *url)
{
	const char *auth;
	size_t alen, hlen;
	long port;

	if (c->tls && strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (!c->tls && strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else
		return NULL;

	alen = strcspn(auth, "/?#");
	hlen = strlen(c->host);
	if (alen < hlen || strncasecmp(auth, c->host, hlen) != 0)
		return NULL;
	if (hlen == alen) {
		port = c->tls ? 443 : 80;
	} else {
		/* ':' then 1-5 digits, no leading zero */
		if (auth[hlen] != ':' || alen - hlen < 2 || alen - hlen > 6 ||
		    auth[hlen + 1] == '0')
			return NULL;
		port = 0;
		for (size_t i = hlen + 1; i < alen; i++) {
			if (auth[i] < '0' || auth[i] > '9')
				return NULL;
			port = port * 10 + (auth[i] - '0');
		}
	}
	if (port != c->port)
		return NULL;
	return auth + alen;
}

bool kv_next_link_valid(const struct kv_client *c, const char *url, const char *name)
{
	static const char query_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                  "0123456789$=&%._~+/-";
	const char *path, *q;
	size_t n, plen, nlen;

	if (c == NULL || url == NULL)
		return false;
	n = strnlen(url, KV_NEXTLINK_MAX + 1);
	if (n > KV_NEXTLINK_MAX || memchr(url, '#', n) != NULL)
		return false;
	if ((path = kv_on_vault(c, url)) == NULL)
		return false;
	plen = strcspn(path, "?");
	if (name == NULL) {
		if (plen != 8 || strncmp(path, "/secrets", 8) != 0)
			return false;
	} else {
		nlen = strlen(name);
		if (plen != 9 + nlen + 9 || strncmp(path, "/secrets/", 9) != 0 ||
		    strncasecmp(path + 9, name, nlen) != 0 ||
		    strncmp(path + 9 + nlen, "/versions", 9) != 0)
			return false;
	}
	q = path + plen;
	if (*q == '?' && strspn(q + 1, query_chars) != strlen(q + 1))
		return false;
	return true;
}

/* Whether name is a secret name: 1-127 of [0-9A-Za-z-] (design.md). The
 * caller has checked it already; checked again because it goes into a URL. */
static bool kv_name_valid(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	return n > 0 && n <= 127 &&
	       strspn(name, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == n;
}

/* Whether version is a secret version: 32 hex characters. */
static bool kv_version_valid(const char *v)
{
	return strlen(v) == 32 && strspn(v, "0123456789abcdefABCDEF") == 32;
}

/* A number of 1-9 digits, or -1. */
static long kv_digits(const char *v)
{
	size_t n;

	if (v == NULL || (n = strlen(v)) == 0 || n > 9 || strspn(v, "0123456789") != n)
		return -1;
	return strtol(v, NULL, 10);
}

/*
 * How long the vault asks the client to wait, in milliseconds, -1 when it
 * does not say (or says nothing that parses). retry_after_ms holds
 * retry-after-ms or x-ms-retry-after-ms (milliseconds; preferred, as
 * azure-core does); retry_after holds Retry-After (RFC 9110 10.2.3):
 * delay-seconds, or an HTTP-date (IMF-fixdate, e.g. "Wed, 21 Oct 2015
 * 07:28:00 GMT") compared with now, a date in the past meaning 0. Values are
 * capped at KV_RETRY_AFTER_MAX seconds.
 */
static long kv_retry_after_ms(const char *retry_after_ms, const char *retry_after, time_t now)
{
	struct tm tm;
	const char *end;
	long v;
	time_t t;

	if ((v = kv_digits(retry_after_ms)) >= 0)
		return v > KV_RETRY_AFTER_MAX * 1000 ? KV_RETRY_AFTER_MAX * 1000 : v;
	if ((v = kv_digits(retry_after)) >= 0)
		return v > KV_RETRY_AFTER_MAX ? KV_RETRY_AFTER_MAX * 1000 : v * 1000;
	if (retry_after == NULL || strlen(retry_after) != 29)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(retry_after, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	if (t <= now)
		return 0;
	return t - now > KV_RETRY_AFTER_MAX ? KV_RETRY_AFTER_MAX * 1000 : (long)(t - now) * 1000;
}

/* The string member key of object o, or NULL. */
static const char *kv_member_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Fill e's code, inner and message from Key Vault's error envelope
 * {"error":{"code","message","innererror":{"code"}}}, when the body is one. */
static void kv_read_envelope(const struct buf *body, struct kv_error *e)
{
	struct json_object *j = jsonparse_strict(body, KV_JSON_DEPTH), *err = NULL, *inner = NULL;
	const char *s;

	if (j == NULL || !json_object_is_type(j, json_type_object) ||
	    !json_object_object_get_ex(j, "error", &err) ||
	    !json_object_is_type(err, json_type_object))
		goto out;
	if ((s = kv_member_string(err, "code")) != NULL)
		kv_copy_text(e->code, sizeof(e->code), s, true);
	if ((s = kv_member_string(err, "message")) != NULL)
		kv_copy_text(e->message, sizeof(e->message), s, false);
	if (json_object_object_get_ex(err, "innererror", &inner) &&
	    json_object_is_type(inner, json_type_object) &&
	    (s = kv_member_string(inner, "code")) != NULL)
		kv_copy_text(e->inner, sizeof(e->inner), s, true);
out:
	json_object_put(j);
}

/*
 * Check a 200 answer's shape and hand it over: a SecretBundle is an object
 * with a string "id"; a SecretListResult an object with an array "value"
 * and a nextLink that, when present, is a string or null.
 */
static enum kv_err kv_parse(const struct buf *body, enum kv_shape shape, struct json_object **out,
                            struct kv_error *e)
{
	struct json_object *j = jsonparse_strict(body, KV_JSON_DEPTH), *v;
	bool good;

	if (j == NULL || !json_object_is_type(j, json_type_object)) {
		jsonparse_put_wiped(j);
		return kv_fail(e, KV_EPROTO, "HTTP 200 without a JSON object");
	}
	if (shape == KV_SHAPE_BUNDLE) {
		good = kv_member_string(j, "id") != NULL;
	} else {
		good = json_object_object_get_ex(j, "value", &v) &&
		       json_object_is_type(v, json_type_array);
		if (good && json_object_object_get_ex(j, "nextLink", &v))
			good = v == NULL || json_object_is_type(v, json_type_string);
	}
	if (!good) {
		jsonparse_put_wiped(j);
		return kv_fail(e, KV_EPROTO, "HTTP 200 but not a %s",
		               shape == KV_SHAPE_BUNDLE ? "SecretBundle" : "SecretListResult");
	}
	*out = j;
	return KV_OK;
}

/*
 * The one place where the vault's statuses and transport failures become
 * enum kv_err. *retry says whether the failure is transient (408, 429,
 * 500, 502, 503, 504, connection failures, resets and timeouts).
 */
static enum kv_err kv_map_status(const struct http_response *r, struct kv_error *e, bool *retry)
{
	*retry = false;
	switch (r->status) {
	case 200:
		return KV_OK;
	case 400:
		return kv_set(e, KV_EBADREQUEST);
	case 401:
		return kv_set(e, KV_EUNAUTHORIZED);
	case 403:
		return kv_set(e, strcmp(e->inner, "SecretDisabled") == 0 ? KV_EDISABLED
		                                                         : KV_EFORBIDDEN);
	case 404:
		return kv_set(e, KV_ENOTFOUND);
	case 429:
		*retry = true;
		return kv_set(e, KV_ETHROTTLED);
	case 503:
		*retry = true;
		return kv_set(e, KV_EUNAVAILABLE);
	case 408:
	case 500:
	case 502:
	case 504:
		*retry = true;
		return kv_set(e, KV_EUPSTREAM);
	default:
		return kv_set(e, KV_EUPSTREAM);
	}
}

/* Map a transport failure of a vault request; *retry as above. A timeout
 * of an attempt that the deadline (not timeout_ms) bounded is the end of
 * the call: KV_EDEADLINE. */
static enum kv_err kv_map_http(struct kv_client *c, enum http_err he, bool capped,
                               struct kv_error *e, bool *retry)
{
	const char *why = http_last_error(c->http);
	enum kv_err err;

	*retry = false;
	switch (he) {
	case HTTP_OK:
		return KV_OK;
	case HTTP_ENOMEM:
		return kv_fail(e, KV_ENOMEM, "out of memory");
	case HTTP_ETOOBIG:
		return kv_fail(e, KV_ETOOBIG, "answer too big (over %d bytes)", KV_RESPONSE_MAX);
	case HTTP_ECONNECT:
		*retry = true;
		err = KV_EUNAVAILABLE;
		break;
	case HTTP_ETIMEOUT:
		if (capped)
			return kv_fail(e, KV_EDEADLINE, "no answer within the %ld ms deadline",
			               c->deadline_ms);
		*retry = true;
		err = KV_ETIMEOUT;
		break;
	case HTTP_ETRANSPORT:
		*retry = true;
		err = KV_EDROPPED;
		break;
	case HTTP_ETLS:
	case HTTP_EURL:
	default:
		err = KV_EUPSTREAM;
		break;
	}
	return kv_fail(e, err, "%s (%s)", http_strerror(he), why);
}

/* Map a failure to get a token; *retry as above. */
static enum kv_err kv_map_identity(struct kv_client *c, enum identity_err ie, bool capped,
                                   const char *detail, struct kv_error *e, bool *retry)
{
	enum kv_err err;

	*retry = false;
	switch (ie) {
	case IDENTITY_OK:
		return KV_OK;
	case IDENTITY_ENOMEM:
		return kv_fail(e, KV_ENOMEM, "out of memory");
	case IDENTITY_ETIMEOUT:
		if (capped)
			return kv_fail(e, KV_EDEADLINE,
			               "identity: no token within the %ld ms deadline: %s",
			               c->deadline_ms, detail);
		*retry = true;
		err = KV_EIDENTITY;
		break;
	case IDENTITY_EUNAVAILABLE:
		*retry = true;
		err = KV_EIDENTITY;
		break;
	case IDENTITY_EREJECTED:
	case IDENTITY_ECONFIG:
		err = KV_EIDREJECTED;
		break;
	case IDENTITY_EPROTO:
	default:
		err = KV_EIDENTITY;
		break;
	}
	return kv_fail(e, err, "identity: %s: %s", identity_strerror(ie), detail);
}

/* Time left before deadline, and the bound of the next call in it:
 * min(timeout_ms, left). *capped says whether the deadline is the bound. */
static long kv_bound(const struct kv_client *c, long deadline, bool *capped)
{
	long left = deadline - mono_ms();

	*capped = left < c->timeout_ms;
	return *capped ? left : c->timeout_ms;
}

/*
 * One attempt before deadline (monotonic ms): a token (cached or fetched),
 * then GET url with it, each bounded by min(timeout_ms, what is left of the
 * deadline). The token goes only to the vault: a URL anywhere else is
 * refused before any token is looked at. Fills e for this attempt (status,
 * envelope, Retry-After) and leaves the answer in resp. Returns KV_OK when
 * the vault answered 200; *retry says whether a failure is worth another
 * attempt. The Authorization header is wiped after the call.
 */
static enum kv_err kv_attempt(struct kv_client *c, const char *url, long deadline,
                              struct http_response *resp, struct kv_error *e, bool *retry)
{
	const char *headers[3] = {NULL, "Accept: application/json", NULL};
	char detail[192];
	struct buf auth;
	const char *token;
	enum identity_err ie;
	enum http_err he;
	enum kv_err err;
	bool capped;
	long bound, wait_ms;

	*retry = false;
	kv_error_clear(e);
	http_response_free(resp);
	if (kv_on_vault(c, url) == NULL)
		return kv_fail(e, KV_ENEXTLINK, "refused to send the token outside the vault");
	if ((bound = kv_bound(c, deadline, &capped)) <= 0)
		return kv_fail(e, KV_EDEADLINE, "the %ld ms deadline was spent", c->deadline_ms);
	http_set_timeout(c->http, bound);
	ie = identity_token(c->id, &token, detail, sizeof(detail));
	if (ie != IDENTITY_OK)
		return kv_map_identity(c, ie, capped, detail, e, retry);
	if ((bound = kv_bound(c, deadline, &capped)) <= 0)
		return kv_fail(e, KV_EDEADLINE, "the %ld ms deadline was spent fetching a token",
		               c->deadline_ms);
	buf_init(&auth, KV_AUTH_MAX);
	if (buf_printf(&auth, "Authorization: Bearer %s", token) != BUF_OK) {
		buf_free(&auth);
		return kv_fail(e, KV_ENOMEM, "out of memory");
	}
	headers[0] = auth.data;
	c->vault_calls++;
	http_set_timeout(c->http, bound);
	he = http_request(c->http, "GET", url, headers, NULL, KV_RESPONSE_MAX, resp);
	buf_free(&auth);
	e->status = resp->status;
	if (he != HTTP_OK)
		return kv_map_http(c, he, capped, e, retry);
	wait_ms = kv_retry_after_ms(resp->retry_after_ms, resp->retry_after, time(NULL));
	e->retry_after = wait_ms < 0 ? -1 : (wait_ms + 999) / 1000;
	if (resp->status != 200)
		kv_read_envelope(&resp->body, e);
	err = kv_map_status(resp, e, retry);
	if (err != KV_OK && e->message[0] == '\0')
		kv_say(e->message, sizeof(e->message), "the vault answered HTTP %ld", resp->status);
	return err;
}

/* A challenge's parameters, as far as Key Vault's challenge policy reads
 * them. Empty when absent. */
struct kv_challenge {
	char authorization[KV_CHALLENGE_VALUE_MAX + 1]; /* authorization or authorization_uri */
	char resource[KV_CHALLENGE_VALUE_MAX + 1];
	char scope[KV_CHALLENGE_VALUE_MAX + 1];
};

/* Whether ch is an RFC 9110 tchar. */
static bool kv_tchar(char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/*
 * Parse a WWW-Authenticate value (RFC 9110 11.6.1) into ch: challenges of
 * the form scheme [param=value, ...], values tokens or quoted strings
 * (backslash escapes), parameters in any order, separated by commas and
 * white space. Only the parameters of the Bearer challenge are kept
 * (names compared ignoring case); a parameter given twice, a value over
 * KV_CHALLENGE_VALUE_MAX, or anything that is not this syntax makes the
 * whole header refused. Returns NULL, or why it was refused.
 */
static const char *kv_parse_challenge(const char *h, struct kv_challenge *ch)
{
	const char *p = h, *name;
	char value[KV_CHALLENGE_VALUE_MAX + 1], *slot;
	size_t nlen, vlen;
	bool bearer = false, seen_bearer = false;

	memset(ch, 0, sizeof(*ch));
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		name = p;
		while (kv_tchar(*p))
			p++;
		if ((nlen = (size_t)(p - name)) == 0)
			return "a character that is not HTTP syntax";
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=') {
			/* A new challenge's scheme. */
			bearer = nlen == 6 && strncasecmp(name, "Bearer", 6) == 0;
			if (bearer && seen_bearer)
				return "two Bearer challenges";
			seen_bearer = seen_bearer || bearer;
			continue;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		vlen = 0;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (*p == '\0' || (unsigned char)*p < 0x20 || *p == 0x7f)
					return "an unterminated or binary quoted string";
				if (vlen == KV_CHALLENGE_VALUE_MAX)
					return "a value too long";
				value[vlen++] = *p;
			}
			p++;
		} else {
			while (kv_tchar(*p) || *p == '/' || *p == ':') {
				if (vlen == KV_CHALLENGE_VALUE_MAX)
					return "a value too long";
				value[vlen++] = *p++;
			}
			if (vlen == 0)
				return "a parameter without a value";
		}
		value[vlen] = '\0';
		if (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			return "junk after a value";
		if (!bearer)
			continue;
		slot = NULL;
		if ((nlen == 13 && strncasecmp(name, "authorization", 13) == 0) ||
		    (nlen == 17 && strncasecmp(name, "authorization_uri", 17) == 0))
			slot = ch->authorization;
		else if (nlen == 8 && strncasecmp(name, "resource", 8) == 0)
			slot = ch->resource;
		else if (nlen == 5 && strncasecmp(name, "scope", 5) == 0)
			slot = ch->scope;
		if (slot == NULL)
			continue;
		if (slot[0] != '\0')
			return "a parameter given twice";
		memcpy(slot, value, vlen + 1);
	}
	if (!seen_bearer)
		return "no Bearer challenge";
	return NULL;
}

/*
 * Split an https:// URL into its host (lower-cased, port left out) and the
 * path after it. Returns false when url is not https://host[:port][/path]
 * with a host of [A-Za-z0-9.-] (no user information, IP literals in
 * brackets refused) and no query or fragment.
 */
static bool kv_https_url(const char *url, char *host, size_t hlen, const char **path)
{
	const char *a, *colon;
	size_t n, i;

	if (strncasecmp(url, "https://", 8) != 0)
		return false;
	a = url + 8;
	n = strcspn(a, "/");
	if (strpbrk(url, "?#@\\") != NULL)
		return false;
	colon = memchr(a, ':', n);
	if (colon != NULL) {
		if (colon[1] == '/' || colon[1] == '\0' ||
		    strspn(colon + 1, "0123456789") != n - (size_t)(colon + 1 - a))
			return false;
		n = (size_t)(colon - a);
	}
	if (n == 0 || n >= hlen ||
	    strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789.-") < n)
		return false;
	for (i = 0; i < n; i++)
		host[i] = (char)ascii_lower((unsigned char)a[i]);
	host[n] = '\0';
	*path = a + strcspn(a, "/");
	return true;
}

/*
 * The tenant an authorization URL names: https://{authority}/{tenant}, or
 * https://{authority}/{tenant}/oauth2/... (the older authorization_uri
 * form), the tenant being a GUID or a domain name ([A-Za-z0-9.-], not
 * starting with '.' or '-'). Returns false when there is none.
 */
static bool kv_challenge_tenant(const char *url, char *tenant, size_t tlen)
{
	char host[256];
	const char *path, *seg, *end;
	size_t n;

	if (!kv_https_url(url, host, sizeof(host), &path) || *path != '/')
		return false;
	seg = path + 1;
	end = seg + strcspn(seg, "/");
	n = (size_t)(end - seg);
	/* The tenant is the last segment, unless an /oauth2/... tail follows it. */
	if (*end == '/' && end[1] != '\0' && strncmp(end, "/oauth2/", 8) != 0)
		return false;
	if (n == 0 || n >= tlen || seg[0] == '.' || seg[0] == '-' ||
	    strspn(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") < n)
		return false;
	memcpy(tenant, seg, n);
	tenant[n] = '\0';
	return true;
}

/*
 * Whether a challenge's resource (or scope, "/.default" removed) names this
 * vault: an https URL whose host, of two labels at least, is the vault's
 * host or a suffix of it on a dot boundary (vault.azure.net for
 * myvault.vault.azure.net; the sovereign clouds' hosts by the same rule).
 */
static bool kv_resource_matches(const struct kv_client *c, const char *resource)
{
	char host[256], vhost[256];
	const char *path;
	size_t hn, vn;

	if (!kv_https_url(resource, host, sizeof(host), &path) || strchr(host, '.') == NULL)
		return false;
	vn = strlen(c->host);
	if (vn >= sizeof(vhost))
		return false;
	memcpy(vhost, c->host, vn + 1);
	ascii_lower_n(vhost, vn);
	hn = strlen(host);
	if (hn == vn)
		return strcmp(host, vhost) == 0;
	return hn < vn && vhost[vn - hn - 1] == '.' && strcmp(vhost + vn - hn, host) == 0;
}

/*
 * Where a 401 lands, before the one retry with a fresh token. Without a
 * WWW-Authenticate header the token is simply dropped. With one, the
 * challenge must parse (kv_parse_challenge()), name a tenant in its
 * authorization URL, and, unless [vault] verify_challenge_resource = false,
 * name this vault in its resource (or scope) as the Azure SDKs' challenge
 * policy checks; then the token is dropped and the identity asks the
 * challenge's tenant from now on (a method without a tenant, managed
 * identity, keeps its own). A challenge that fails gives KV_ECHALLENGE with
 * the reason in e, and no token is fetched for it.
 */
static enum kv_err kv_on_challenge(struct kv_client *c, const char *challenge, struct kv_error *e)
{
	struct kv_challenge ch;
	char tenant[KV_TENANT_MAX + 1], resource[KV_CHALLENGE_VALUE_MAX + 1], shown[80];
	const char *why;
	size_t n;

	if (challenge == NULL) {
		identity_invalidate(c->id);
		return KV_OK;
	}
	if ((why = kv_parse_challenge(challenge, &ch)) != NULL)
		return kv_fail(e, KV_ECHALLENGE, "401 challenge refused: %s", why);
	if (ch.authorization[0] == '\0')
		return kv_fail(e, KV_ECHALLENGE, "401 challenge refused: no authorization URL");
	if (!kv_challenge_tenant(ch.authorization, tenant, sizeof(tenant)))
		return kv_fail(e, KV_ECHALLENGE,
		               "401 challenge refused: its authorization URL names no tenant");
	if (c->verify_resource) {
		snprintf(resource, sizeof(resource), "%s", ch.resource);
		if (resource[0] == '\0' && ch.scope[0] != '\0') {
			snprintf(resource, sizeof(resource), "%s", ch.scope);
			n = strlen(resource);
			if (n > 9 && strcmp(resource + n - 9, "/.default") == 0)
				resource[n - 9] = '\0';
		}
		if (resource[0] == '\0')
			return kv_fail(e, KV_ECHALLENGE,
			               "401 challenge refused: no resource or scope");
		if (!kv_resource_matches(c, resource)) {
			kv_copy_text(shown, sizeof(shown), resource, true);
			return kv_fail(e, KV_ECHALLENGE,
			               "401 challenge refused: resource %s does not name the "
			               "vault's host %s",
			               shown, c->host);
		}
	}
	switch (identity_use_tenant(c->id, tenant)) {
	case IDENTITY_OK:
		break;
	case IDENTITY_ENOMEM:
		return kv_fail(e, KV_ENOMEM, "out of memory");
	default:
		/* No tenant to switch (managed identity): the token is dropped
		 * all the same. */
		identity_invalidate(c->id);
		break;
	}
	log_info("vault answered 401 with a challenge for tenant %s: fetching a fresh token",
	         tenant);
	return KV_OK;
}

/* The wait before retry number attempt+1, in milliseconds: what the vault
 * asked for (retry_after_ms >= 0), else a random wait in [0, bound] where
 * bound = KV_BACKOFF_BASE_MS * 2^attempt, at most KV_BACKOFF_MAX_MS ("full
 * jitter", so that processes throttled together do not come back together). */
static long kv_backoff_ms(struct kv_client *c, long attempt, long retry_after_ms)
{
	long d = KV_BACKOFF_BASE_MS;

	if (retry_after_ms >= 0)
		return retry_after_ms;
	while (attempt-- > 0 && d < KV_BACKOFF_MAX_MS)
		d *= 2;
	if (d > KV_BACKOFF_MAX_MS)
		d = KV_BACKOFF_MAX_MS;
	c->jitter ^= c->jitter << 13;
	c->jitter ^= c->jitter >> 7;
	c->jitter ^= c->jitter << 17;
	return (long)(c->jitter % (uint64_t)(d + 1));
}

/*
 * The call ends because the next wait (delay ms) does not fit in what is
 * left of the deadline. Throttling (429) and an unavailable vault (503,
 * refused connections) stay what they are, with retry_after set so the
 * caller can say when to come back; anything else is the deadline spent.
 */
static enum kv_err kv_out_of_time(struct kv_client *c, struct kv_error *e, long delay)
{
	char last[sizeof(e->message)];

	if (e->err == KV_ETHROTTLED || e->err == KV_EUNAVAILABLE) {
		if (e->retry_after < 1)
			e->retry_after = delay / 1000 + 1;
		return e->err;
	}
	memcpy(last, e->message, sizeof(last));
	return kv_fail(e, KV_EDEADLINE, "the %ld ms deadline was spent; last attempt: %s",
	               c->deadline_ms, last);
}

/*
 * GET url from the vault under the client's deadline and retry rules (see
 * the top of this file) and check the 200 answer's shape. On success *out
 * is the parsed answer; on failure e says what the last attempt met.
 */
static enum kv_err kv_call(struct kv_client *c, const char *url, enum kv_shape shape,
                           struct json_object **out, struct kv_error *e)
{
	struct http_response resp = {0};
	long deadline = mono_ms() + c->deadline_ms, delay, attempt = 0, wait_ms;
	bool refreshed = false, retry;
	enum kv_err err;

	for (;;) {
		err = kv_attempt(c, url, deadline, &resp, e, &retry);
		if (err == KV_EUNAUTHORIZED && !refreshed) {
			refreshed = true;
			if ((err = kv_on_challenge(c, resp.www_authenticate, e)) != KV_OK)
				break;
			continue;
		}
		if (err == KV_OK || !retry || attempt >= c->max_retries)
			break;
		wait_ms = kv_retry_after_ms(resp.retry_after_ms, resp.retry_after, time(NULL));
		delay = kv_backoff_ms(c, attempt, wait_ms);
		if (delay + KV_ATTEMPT_MIN_MS > deadline - mono_ms()) {
			err = kv_out_of_time(c, e, delay);
			break;
		}
		log_debug("vault: %s (HTTP %ld), retry %ld in %ld ms", kv_strerror(err), e->status,
		          attempt + 1, delay);
		mono_sleep_ms(delay);
		attempt++;
	}
	http_set_timeout(c->http, 0);
	if (err == KV_OK)
		err = kv_parse(&resp.body, shape, out, e);
	http_response_free(&resp);
	return err;
}

/*
 * GET {vault}/secrets/{name}[/{version}] (see kv.h). An invalid name or
 * version is refused without a call (KV_EBADREQUEST).
 */
enum kv_err kv_get_secret(struct kv_client *c, const char *name, const char *version,
                          struct json_object **bundle, struct kv_error *e)
{
	struct kv_error scratch;
	struct buf url;
	enum kv_err err;

	*bundle = NULL;
	if (e == NULL)
		e = &scratch;
	kv_error_clear(e);
	if (version == NULL)
		version = "";
	if (!kv_name_valid(name) || (version[0] != '\0' && !kv_version_valid(version)))
		return kv_fail(e, KV_EBADREQUEST, "invalid secret name or version");
	buf_init(&url, KV_URL_MAX);
	if (buf_printf(&url, "%s/secrets/%s%s%s?api-version=%s", c->vault_url, name,
	               version[0] != '\0' ? "/" : "", version, c->api_version) != BUF_OK) {
		buf_free(&url);
		return kv_fail(e, KV_ENOMEM, "out of memory");
	}
	err = kv_call(c, url.data, KV_SHAPE_BUNDLE, bundle, e);
	buf_free(&url);
	return err;
}

/*
 * One page of a list (see kv.h). A next_link must pass kv_next_link_valid()
 * for the same name and is then called verbatim; otherwise the URL is built
 * from the name, api-version and maxresults.
 */
enum kv_err kv_list(struct kv_client *c, const char *name, int maxresults, const char *next_link,
                    struct json_object **page, struct kv_error *e)
{
	struct kv_error scratch;
	struct buf url;
	enum kv_err err;
	enum buf_err be;

	*page = NULL;
	if (e == NULL)
		e = &scratch;
	kv_error_clear(e);
	if (name != NULL && !kv_name_valid(name))
		return kv_fail(e, KV_EBADREQUEST, "invalid secret name");
	if (next_link != NULL) {
		if (!kv_next_link_valid(c, next_link, name))
			return kv_fail(e, KV_ENEXTLINK,
			               "nextLink does not point at this vault's list");
		return kv_call(c, next_link, KV_SHAPE_LIST, page, e);
	}
	if (maxresults < 0 || maxresults > 25)
		return kv_fail(e, KV_EBADREQUEST, "maxresults must be 1-25");
	buf_init(&url, KV_URL_MAX);
	if (name != NULL)
		be = buf_printf(&url, "%s/secrets/%s/versions?api-version=%s", c->vault_url, name,
		                c->api_version);
	else
		be = buf_printf(&url, "%s/secrets?api-version=%s", c->vault_url, c->api_version);
	if (be == BUF_OK && maxresults > 0)
		be = buf_printf(&url, "&maxresults=%d", maxresults);
	if (be != BUF_OK) {
		buf_free(&url);
		return kv_fail(e, KV_ENOMEM, "out of memory");
	}
	err = kv_call(c, url.data, KV_SHAPE_LIST, page, e);
	buf_free(&url);
	return err;
}
