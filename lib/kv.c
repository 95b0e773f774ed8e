/*
 * kv.c: the Key Vault secrets client. See kv.h.
 *
 * Every call goes through kv_call(), which owns the policy for talking to
 * the vault: a deadline of [vault] timeout_ms for the whole call (token
 * included), one retry with a fresh token after a 401, and up to
 * [vault] max_retries retries of transient failures (408, 429, 500, 502,
 * 503, 504, failed connections, resets and token endpoint outages) with
 * exponential backoff and jitter, or after Retry-After when the vault sends
 * one, as long as the wait fits in what is left of the deadline. Statuses
 * and transport failures become enum kv_err in one place (kv_map_status()
 * and kv_map_http()); the answer's JSON shape is checked in kv_parse().
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
/* Backoff: BASE * 2^attempt, at most MAX, with the upper half jittered. */
#define KV_BACKOFF_BASE_MS 200L
#define KV_BACKOFF_MAX_MS 4000L
/* A retry is not started with less than this much of the deadline left. */
#define KV_ATTEMPT_MIN_MS 100L
/* Retry-After values beyond a day are not believed. */
#define KV_RETRY_AFTER_MAX 86400L

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
	long timeout_ms; /* deadline of one kv_get_secret() / kv_list() */
	long max_retries;
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
	}
	return "unknown kv error";
}

/* Milliseconds on the monotonic clock: deadlines must not jump with the
 * wall clock. */
static long kv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms milliseconds, resuming after signals. */
static void kv_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
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
	c->max_retries = v->max_retries > 0 ? v->max_retries : 0;
	c->jitter = ((uint64_t)getpid() << 32) ^ (uint64_t)kv_now_ms() ^ (uint64_t)(uintptr_t)c;
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
bool kv_next_link_valid(const struct kv_client *c, const char *url, const char *name)
{
	static const char query_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                  "0123456789$=&%._~+/-";
	const char *auth, *path, *q;
	size_t n, alen, hlen, plen, nlen;
	long port;

	if (c == NULL || url == NULL)
		return false;
	n = strnlen(url, KV_NEXTLINK_MAX + 1);
	if (n > KV_NEXTLINK_MAX || memchr(url, '#', n) != NULL)
		return false;
	if (c->tls && strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (!c->tls && strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else
		return false;

	alen = strcspn(auth, "/?");
	hlen = strlen(c->host);
	if (alen < hlen || strncasecmp(auth, c->host, hlen) != 0)
		return false;
	if (hlen == alen) {
		port = c->tls ? 443 : 80;
	} else {
		/* ':' then 1-5 digits, no leading zero */
		if (auth[hlen] != ':' || alen - hlen < 2 || alen - hlen > 6 ||
		    auth[hlen + 1] == '0')
			return false;
		port = 0;
		for (size_t i = hlen + 1; i < alen; i++) {
			if (auth[i] < '0' || auth[i] > '9')
				return false;
			port = port * 10 + (auth[i] - '0');
		}
	}
	if (port != c->port)
		return false;

	path = auth + alen;
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

/* Retry-After as delay-seconds (RFC 9110 10.2.3), -1 when absent or not a
 * plain number (the HTTP-date form is not used by Key Vault). */
static long kv_retry_after(const char *v)
{
	size_t n;
	long secs;

	if (v == NULL || (n = strlen(v)) == 0 || n > 9 || strspn(v, "0123456789") != n)
		return -1;
	secs = strtol(v, NULL, 10);
	return secs > KV_RETRY_AFTER_MAX ? KV_RETRY_AFTER_MAX : secs;
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
		json_object_put(j);
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
		json_object_put(j);
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

/* Map a transport failure of a vault request; *retry as above. */
static enum kv_err kv_map_http(struct kv_client *c, enum http_err he, struct kv_error *e,
                               bool *retry)
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
		return kv_fail(e, KV_EPROTO, "answer too big (over %d bytes)", KV_RESPONSE_MAX);
	case HTTP_ECONNECT:
		*retry = true;
		err = KV_EUNAVAILABLE;
		break;
	case HTTP_ETIMEOUT:
		*retry = true;
		err = KV_ETIMEOUT;
		break;
	case HTTP_ETRANSPORT:
		*retry = true;
		err = KV_EUPSTREAM;
		break;
	case HTTP_ETLS:
	case HTTP_EURL:
	default:
		err = KV_EUPSTREAM;
		break;
	}
	return kv_fail(e, err, "%s (%s)", http_strerror(he), why);
}

/*
 * One attempt before deadline (monotonic ms): a token (cached or fetched),
 * then GET url with it, each bounded by what is left of the deadline. Fills
 * e for this attempt (status, envelope, Retry-After) and leaves the answer
 * in resp. Returns KV_OK when the vault answered 200; *retry says whether a
 * failure is worth another attempt. The Authorization header is wiped after
 * the call.
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
	long left;

	*retry = false;
	kv_error_clear(e);
	http_response_free(resp);
	http_set_timeout(c->http, deadline - kv_now_ms());
	if ((ie = identity_token(c->id, &token, detail, sizeof(detail))) != IDENTITY_OK) {
		*retry = ie == IDENTITY_EUNAVAILABLE;
		return kv_fail(e, ie == IDENTITY_ENOMEM ? KV_ENOMEM : KV_EIDENTITY,
		               "identity: %s: %s", identity_strerror(ie), detail);
	}
	if ((left = deadline - kv_now_ms()) <= 0)
		return kv_fail(e, KV_ETIMEOUT, "no time left after fetching a token");
	buf_init(&auth, KV_AUTH_MAX);
	if (buf_printf(&auth, "Authorization: Bearer %s", token) != BUF_OK) {
		buf_free(&auth);
		return kv_fail(e, KV_ENOMEM, "out of memory");
	}
	headers[0] = auth.data;
	c->vault_calls++;
	http_set_timeout(c->http, left);
	he = http_request(c->http, "GET", url, headers, NULL, KV_RESPONSE_MAX, resp);
	buf_free(&auth);
	e->status = resp->status;
	if (he != HTTP_OK)
		return kv_map_http(c, he, e, retry);
	e->retry_after = kv_retry_after(resp->retry_after);
	if (resp->status != 200)
		kv_read_envelope(&resp->body, e);
	err = kv_map_status(resp, e, retry);
	if (err != KV_OK && e->message[0] == '\0')
		kv_say(e->message, sizeof(e->message), "the vault answered HTTP %ld", resp->status);
	return err;
}

/*
 * Where a 401 challenge lands. Today the token is dropped and a fresh one
 * fetched for the one retry. A later issue parses the challenge here
 * (WWW-Authenticate: Bearer authorization="…/{tenant}", resource="…"): to
 * check that the vault names the tenant and resource the identity uses, as
 * the Azure SDKs' challenge policy does, before sending it another token.
 */
static void kv_on_challenge(struct kv_client *c, const char *challenge)
{
	(void)challenge;
	identity_invalidate(c->id);
}

/* The wait before retry number attempt+1: Retry-After when the vault sent
 * one, else KV_BACKOFF_BASE_MS * 2^attempt (at most KV_BACKOFF_MAX_MS), of
 * which the upper half is random so that processes throttled together do
 * not come back together. */
static long kv_backoff_ms(struct kv_client *c, long attempt, long retry_after)
{
	long d = KV_BACKOFF_BASE_MS;

	if (retry_after > 0)
		return retry_after * 1000;
	while (attempt-- > 0 && d < KV_BACKOFF_MAX_MS)
		d *= 2;
	if (d > KV_BACKOFF_MAX_MS)
		d = KV_BACKOFF_MAX_MS;
	c->jitter ^= c->jitter << 13;
	c->jitter ^= c->jitter >> 7;
	c->jitter ^= c->jitter << 17;
	return d / 2 + (long)(c->jitter % (uint64_t)(d / 2 + 1));
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
	long deadline = kv_now_ms() + c->timeout_ms, delay, attempt = 0;
	bool refreshed = false, retry;
	enum kv_err err;

	for (;;) {
		if (deadline - kv_now_ms() <= 0) {
			kv_error_clear(e);
			err = kv_fail(e, KV_ETIMEOUT, "no time left for another attempt");
			break;
		}
		err = kv_attempt(c, url, deadline, &resp, e, &retry);
		if (err == KV_EUNAUTHORIZED && !refreshed) {
			refreshed = true;
			kv_on_challenge(c, resp.www_authenticate);
			continue;
		}
		if (err == KV_OK || !retry || attempt >= c->max_retries)
			break;
		delay = kv_backoff_ms(c, attempt, e->retry_after);
		if (delay + KV_ATTEMPT_MIN_MS > deadline - kv_now_ms())
			break;
		log_debug("vault: %s (HTTP %ld), retry %ld in %ld ms", kv_strerror(err), e->status,
		          attempt + 1, delay);
		kv_sleep_ms(delay);
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
