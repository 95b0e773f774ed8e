/*
 * http.c: the per-process libcurl handle. See http.h.
 *
 * One easy handle is made per process and reused for every call: libcurl
 * keeps the connection to each host alive in the handle's pool and resumes
 * TLS sessions, so a long-lived FastCGI process pays for a TLS handshake once
 * rather than per request. The options that never change (TLS verification,
 * allowed protocols, no redirects, caps) are set once in http_new(); the
 * ones that vary per call (URL, method, body, headers, timeout) are set in
 * http_request() and reset after it, so that no call sees a previous call's
 * body or headers.
 *
 * When the process uses kvgate-fetch (fetch_enabled()), http_request()
 * checks the method and URL here, then sends the call to the helper, where
 * this same code makes it with the helper's handle for this connection.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "fetch.h"
#include "http.h"

/* Cap on each response header kvgate keeps (Retry-After, WWW-Authenticate,
 * Content-Type). Key Vault's challenge is about 150 bytes. */
#define HTTP_HEADER_MAX 1024
/* The connect phase (DNS, TCP and TLS handshake) gets at most this much of
 * the call's time, so that a black-holed address fails early enough for a
 * retry to fit in the caller's deadline. */
#define HTTP_CONNECT_TIMEOUT_MS 3000L
/* Where Debian's OpenSSL looks up system CAs by hash; used when libcurl
 * does not report its own default. */
#define HTTP_SYSTEM_CAPATH "/etc/ssl/certs"

#define HTTP_USER_AGENT "kvgate/0.1"

struct http {
	CURL *curl;
	long timeout_ms;            /* from http_options */
	long timeout_cur;           /* what the next call gets (http_set_timeout) */
	struct http_response *resp; /* the response being filled, during a call */
	size_t body_max;            /* its body cap */
	enum http_err fail;         /* set by a callback that aborted the transfer */
	int allow_imds;             /* http://169.254.169.254 allowed (http_allow_imds) */
	char *ca_file;              /* from http_options, NULL for none */
	int fetch_fd;               /* connection to kvgate-fetch, or -1 */
	char errbuf[CURL_ERROR_SIZE];
};

/* curl_global_init() runs once per process (kvgate-fetch calls from
 * several threads); libcurl's global state lives as long as the process. */
static pthread_once_t http_global_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc;

static void http_global_init(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Whether the n bytes at host name a loopback host: [::1], localhost, or a
 * dotted-quad IPv4 literal in 127.0.0.0/8. */
static bool http_host_loopback(const char *host, size_t n)
{
	int dots = 0;

	if (n == 5 && strncmp(host, "[::1]", 5) == 0)
		return true;
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return true;
	if (n < 7 || n > 15 || strncmp(host, "127.", 4) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (host[i] == '.')
			dots++;
		else if (host[i] < '0' || host[i] > '9')
			return false;
	}
	return dots == 3;
}

/*
 * Whether url may be called: https:// anywhere, http:// only to a loopback
 * host, because a bearer token or client secret must never cross a network in
 * clear. Loopback is 127.0.0.0/8, [::1] and localhost. The authority (what
 * precedes the first '/', '?' or '#') is a host, or a bracketed IPv6 literal,
 * and an optional ":digits" port; it must not carry user information:
 * "http://127.0.0.1:80@evil.example/" names the host evil.example, and
 * kvgate never puts credentials in a URL anyway.
 */
int http_url_allowed(const char *url)
{
	const char *auth, *p;
	size_t alen, hlen;
	bool tls;

	if (url == NULL)
		return 0;
	if (strncmp(url, "https://", 8) == 0) {
		tls = true;
		auth = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		tls = false;
		auth = url + 7;
	} else {
		return 0;
	}
	alen = strcspn(auth, "/?#");
	if (memchr(auth, '@', alen) != NULL || memchr(auth, '\\', alen) != NULL)
		return 0;
	if (auth[0] == '[') {
		if ((p = memchr(auth, ']', alen)) == NULL)
			return 0;
		hlen = (size_t)(p - auth) + 1;
	} else {
		hlen = strcspn(auth, ":/?#");
	}
	if (hlen == 0)
		return 0;
	if (hlen < alen) {
		/* What follows the host must be a port: ':' and digits. */
		if (auth[hlen] != ':' || hlen + 1 == alen)
			return 0;
		for (p = auth + hlen + 1; p < auth + alen; p++)
			if (*p < '0' || *p > '9')
				return 0;
	}
	return tls || http_host_loopback(auth, hlen);
}

int http_url_is_imds(const char *url)
{
	static const char imds[] = "http://169.254.169.254";
	char c;

	if (strncmp(url, imds, sizeof(imds) - 1) != 0)
		return 0;
	c = url[sizeof(imds) - 1];
	return c == '\0' || c == '/' || c == ':';
}

void http_allow_imds(struct http *h, int allow)
{
	h->allow_imds = allow;
}

/* A short English description of e, for logs. Static storage. */
const char *http_strerror(enum http_err e)
{
	switch (e) {
	case HTTP_OK:
		return "no error";
	case HTTP_ENOMEM:
		return "out of memory";
	case HTTP_EURL:
		return "URL malformed or not allowed";
	case HTTP_ECONNECT:
		return "could not resolve or connect";
	case HTTP_ETLS:
		return "TLS handshake or certificate verification failed";
	case HTTP_ETIMEOUT:
		return "timed out";
	case HTTP_ETOOBIG:
		return "response too big";
	case HTTP_ETRANSPORT:
		return "transfer failed";
	}
	return "unknown http error";
}

/*
 * Body callback: append to the response's capped buffer. Returning less than
 * was offered makes libcurl abort the transfer with CURLE_WRITE_ERROR; the
 * reason is kept in h->fail so that the caller reports HTTP_ETOOBIG or
 * HTTP_ENOMEM rather than a generic write error.
 */
static size_t http_on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http *h = arg;
	size_t n = size * nmemb;
	struct buf *b = &h->resp->body;

	if (n > h->body_max || b->len > h->body_max - n) {
		h->fail = HTTP_ETOOBIG;
		return 0;
	}
	switch (buf_append(b, p, n)) {
	case BUF_OK:
		return n;
	case BUF_ETOOBIG:
		h->fail = HTTP_ETOOBIG;
		return 0;
	case BUF_ENOMEM:
		break;
	}
	h->fail = HTTP_ENOMEM;
	return 0;
}

/*
 * Store one header value into *slot: a fresh copy, or, when the header was
 * already seen in this response, the two values joined with ", " as HTTP
 * combines repeated fields. A value (or the join) longer than HTTP_HEADER_MAX
 * is its own error. Returns HTTP_OK, HTTP_ETOOBIG or HTTP_ENOMEM.
 */
static enum http_err http_keep_header(char **slot, const char *v, size_t n)
{
	size_t old = *slot != NULL ? strlen(*slot) : 0;
	size_t total = old != 0 ? old + 2 + n : n;
	char *p;

	if (total > HTTP_HEADER_MAX)
		return HTTP_ETOOBIG;
	if ((p = malloc(total + 1)) == NULL)
		return HTTP_ENOMEM;
	if (old != 0) {
		memcpy(p, *slot, old);
		memcpy(p + old, ", ", 2);
		memcpy(p + old + 2, v, n);
	} else {
		memcpy(p, v, n);
	}
	p[total] = '\0';
	free(*slot);
	*slot = p;
	return HTTP_OK;
}

/* Forget the headers captured so far (a new status line starts a new
 * response, e.g. after "100 Continue"). */
static void http_drop_headers(struct http_response *r)
{
	free(r->retry_after);
	free(r->retry_after_ms);
	free(r->www_authenticate);
	free(r->content_type);
	r->retry_after = r->retry_after_ms = r->www_authenticate = r->content_type = NULL;
}

/*
 * Header callback: libcurl hands over one complete line at a time, status
 * line and final empty line included. Keep the three headers the callers
 * look at, value trimmed of surrounding white space; ignore the rest.
 */
static size_t http_on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	static const char *const names[] = {"retry-after", "retry-after-ms", "x-ms-retry-after-ms",
	                                    "www-authenticate", "content-type"};
	struct http *h = arg;
	struct http_response *r = h->resp;
	/* retry-after-ms and x-ms-retry-after-ms mean the same (azure-core reads
	 * both); the second one seen wins, which is as good as either. */
	char **slots[] = {&r->retry_after, &r->retry_after_ms, &r->retry_after_ms,
	                  &r->www_authenticate, &r->content_type};
	size_t n = size * nmemb, i, name_len;
	const char *colon, *v, *end;
	enum http_err e;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		http_drop_headers(r);
		return n;
	}
	if ((colon = memchr(p, ':', n)) == NULL)
		return n;
	name_len = (size_t)(colon - p);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == name_len && strncasecmp(p, names[i], name_len) == 0)
			break;
	}
	if (i == sizeof(names) / sizeof(names[0]))
		return n;
	v = colon + 1;
	end = p + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if ((e = http_keep_header(slots[i], v, (size_t)(end - v))) != HTTP_OK) {
		h->fail = e;
		return 0;
	}
	return n;
}

/*
 * The system's CA directory, so that a ca_file adds to the system store
 * instead of replacing it. With OpenSSL, libcurl loads both CURLOPT_CAINFO
 * and CURLOPT_CAPATH (checked on Debian 12: a server signed by a CA found
 * only in the directory verifies while CAINFO names another CA). The
 * directory holds the system CAs under hashed names (update-ca-certificates
 * maintains them).
 */
static const char *http_system_capath(CURL *curl)
{
	char *path = NULL;
	struct stat st;

#if LIBCURL_VERSION_NUM >= 0x075400
	if (curl_easy_getinfo(curl, CURLINFO_CAPATH, &path) == CURLE_OK && path != NULL &&
	    path[0] != '\0')
		return path;
#endif
	(void)path;
	if (stat(HTTP_SYSTEM_CAPATH, &st) == 0 && S_ISDIR(st.st_mode))
		return HTTP_SYSTEM_CAPATH;
	return NULL;
}

/* Map a libcurl option failure: only allocation can make setopt fail once
 * the option is known to this libcurl. */
static enum http_err http_setopt_err(CURLcode rc)
{
	return rc == CURLE_OUT_OF_MEMORY ? HTTP_ENOMEM : HTTP_ETRANSPORT;
}

/*
 * Make h's libcurl handle with every option that never changes, on the
 * first request rather than in http_new(): a process that never calls the
 * vault (one answering from the shared cache) then never initialises, nor
 * in the programs even loads, libcurl (lib/lazy/curl.c). TLS peer and host
 * verification are set explicitly on and no option turns them off.
 */
static enum http_err http_handle(struct http *h)
{
	CURLcode rc = CURLE_OK;
	const char *capath;

	if (h->curl != NULL)
		return HTTP_OK;
	pthread_once(&http_global_once, http_global_init);
	if ((rc = http_global_rc) != CURLE_OK) {
		snprintf(h->errbuf, sizeof(h->errbuf), "libcurl: %s", curl_easy_strerror(rc));
		return rc == CURLE_OUT_OF_MEMORY ? HTTP_ENOMEM : HTTP_ETRANSPORT;
	}
	if ((h->curl = curl_easy_init()) == NULL) {
		snprintf(h->errbuf, sizeof(h->errbuf), "libcurl: no handle");
		return HTTP_ENOMEM;
	}

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if ((rc = curl_easy_setopt(h->curl, opt, val)) != CURLE_OK)                        \
			goto setopt_failed;                                                        \
	} while (0)

	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_PROTOCOLS_STR, "https,http");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_USERAGENT, HTTP_USER_AGENT);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (h->ca_file != NULL) {
		capath = http_system_capath(h->curl);
		SET(CURLOPT_CAINFO, h->ca_file);
		if (capath != NULL)
			SET(CURLOPT_CAPATH, capath);
	}
	/* Requests to the loopback stand-ins never go through a proxy taken
	 * from the environment: it would see the token in clear. */
	SET(CURLOPT_NOPROXY, "localhost,127.0.0.0/8,::1");
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_KEEPIDLE, 60L);
	SET(CURLOPT_TCP_KEEPINTVL, 30L);
	SET(CURLOPT_WRITEFUNCTION, http_on_body);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_HEADERFUNCTION, http_on_header);
	SET(CURLOPT_HEADERDATA, h);
#undef SET
	return HTTP_OK;

setopt_failed:
	curl_easy_cleanup(h->curl);
	h->curl = NULL;
	snprintf(h->errbuf, sizeof(h->errbuf), "libcurl: %s", curl_easy_strerror(rc));
	return http_setopt_err(rc);
}

/*
 * A handle for o; libcurl's own is made by the first request. Returns
 * HTTP_OK and sets *out (free with http_free()), or HTTP_ENOMEM with *out
 * NULL.
 */
enum http_err http_new(const struct http_options *o, struct http **out)
{
	struct http *h;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return HTTP_ENOMEM;
	h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	h->timeout_cur = h->timeout_ms;
	h->fetch_fd = -1;
	if (o->ca_file != NULL && o->ca_file[0] != '\0' &&
	    (h->ca_file = strdup(o->ca_file)) == NULL) {
		free(h);
		return HTTP_ENOMEM;
	}
	*out = h;
	return HTTP_OK;
}

/* Release the handle and its pooled connections. Accepts NULL. */
void http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	fetch_close(&h->fetch_fd);
	free(h->ca_file);
	free(h);
}

/* Set the total time each following call may take; 0 (or less) goes back
 * to the timeout_ms given to http_new(). Read by http_request() per call. */
void http_set_timeout(struct http *h, long timeout_ms)
{
	h->timeout_cur = timeout_ms > 0 ? timeout_ms : h->timeout_ms;
}

/* The total time the next call may take, in milliseconds: what
 * http_set_timeout() last set, else timeout_ms. The identity module reads it
 * to keep its own retries (IMDS) inside the caller's deadline. */
long http_get_timeout(const struct http *h)
{
	return h->timeout_cur;
}

/* libcurl's words for the last failure (its error buffer, or our own
 * reason), "" after a success. Owned by the handle, valid until the next
 * call. */
const char *http_last_error(const struct http *h)
{
	return h->errbuf;
}

/* Release what a response holds (wiping the body) and zero it. Accepts a
 * zeroed response. */
void http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	buf_free(&resp->body);
	http_drop_headers(resp);
	resp->status = 0;
}

/*
 * Free a header list after wiping its strings: one of them may be an
 * Authorization header carrying a bearer token.
 */
static void http_free_headers(struct curl_slist *l)
{
	for (struct curl_slist *i = l; i != NULL; i = i->next)
		buf_wipe(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

/*
 * Build the header list for one call: the caller's lines, then for a POST
 * the form content type and an empty Expect (no "100-continue" round trip).
 * Returns NULL when out of memory, or when there is nothing to send (then
 * *empty is set).
 */
static struct curl_slist *http_make_headers(const char *const *headers, bool post, bool *empty)
{
	struct curl_slist *l = NULL, *n;
	static const char *const post_lines[] = {"Content-Type: application/x-www-form-urlencoded",
	                                         "Expect:", NULL};
	const char *const *lists[2] = {headers, post ? post_lines : NULL};

	*empty = false;
	for (size_t k = 0; k < 2; k++) {
		for (const char *const *h = lists[k]; h != NULL && *h != NULL; h++) {
			if ((n = curl_slist_append(l, *h)) == NULL) {
				http_free_headers(l);
				return NULL;
			}
			l = n;
		}
	}
	*empty = l == NULL;
	return l;
}

/*
 * Map what libcurl returned for a transfer to our error. A callback that
 * aborted the transfer has the last word (h->fail). A timeout during the
 * connect phase that came before the call's own timeout means the host could
 * not be reached: that is HTTP_ECONNECT, not HTTP_ETIMEOUT.
 */
static enum http_err http_map(struct http *h, CURLcode rc)
{
	curl_off_t connect_us = 0, total_us = 0;

	if (h->fail != HTTP_OK)
		return h->fail;
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_OUT_OF_MEMORY:
		return HTTP_ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return HTTP_EURL;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_ECONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(h->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
		curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME_T, &total_us);
		if (connect_us == 0 && total_us / 1000 < h->timeout_cur - 50)
			return HTTP_ECONNECT;
		return HTTP_ETIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return HTTP_ETLS;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_ETOOBIG;
	default:
		return HTTP_ETRANSPORT;
	}
}

/*
 * Perform one request (see http.h). The per-call options are set here and
 * reset before returning, whatever happened, so the handle never keeps a
 * pointer to the caller's body or to a freed header list.
 */
enum http_err http_request(struct http *h, const char *method, const char *url,
                           const char *const *headers, const char *body, size_t max_body,
                           struct http_response *resp)
{
	struct curl_slist *hdrs = NULL;
	enum http_err err = HTTP_OK;
	CURLcode rc;
	bool post, empty;
	long status = 0;
	long connect_ms;

	http_response_free(resp);
	buf_init(&resp->body, max_body);
	h->errbuf[0] = '\0';
	if (strcmp(method, "GET") == 0) {
		post = false;
	} else if (strcmp(method, "POST") == 0) {
		post = true;
	} else {
		snprintf(h->errbuf, sizeof(h->errbuf), "method %s not supported", method);
		return HTTP_EURL;
	}
	if (!http_url_allowed(url) && !(h->allow_imds && http_url_is_imds(url))) {
		snprintf(h->errbuf, sizeof(h->errbuf),
		         "URL not allowed (https, or http to loopback)");
		return HTTP_EURL;
	}
	if (fetch_enabled()) {
		const struct fetch_call c = {
		    .method = method,
		    .url = url,
		    .headers = headers,
		    .body = body,
		    .ca_file = h->ca_file,
		    .max_body = max_body,
		    .timeout_ms = h->timeout_cur,
		    .allow_imds = h->allow_imds != 0,
		};
		int got = fetch_request(&h->fetch_fd, &c, resp, h->errbuf, sizeof(h->errbuf));

		if (got >= 0)
			return (enum http_err)got;
		/* kvgate-fetch cannot be reached: this process calls itself. */
		h->errbuf[0] = '\0';
	}
	if ((err = http_handle(h)) != HTTP_OK)
		return err;
	hdrs = http_make_headers(headers, post, &empty);
	if (hdrs == NULL && !empty)
		return HTTP_ENOMEM;

	h->resp = resp;
	h->body_max = max_body;
	h->fail = HTTP_OK;
	connect_ms =
	    h->timeout_cur < HTTP_CONNECT_TIMEOUT_MS ? h->timeout_cur : HTTP_CONNECT_TIMEOUT_MS;
	if ((rc = curl_easy_setopt(h->curl, CURLOPT_URL, url)) != CURLE_OK ||
	    (rc = curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->timeout_cur)) != CURLE_OK ||
	    (rc = curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms)) != CURLE_OK ||
	    (rc = curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body)) !=
	        CURLE_OK ||
	    (rc = curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs)) != CURLE_OK) {
		err = http_setopt_err(rc);
		goto out;
	}
	if (post) {
		if ((rc = curl_easy_setopt(h->curl, CURLOPT_POST, 1L)) != CURLE_OK ||
		    (rc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		                           (curl_off_t)(body != NULL ? strlen(body) : 0))) !=
		        CURLE_OK ||
		    (rc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS,
		                           body != NULL ? body : "")) != CURLE_OK) {
			err = http_setopt_err(rc);
			goto out;
		}
	} else if ((rc = curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L)) != CURLE_OK) {
		err = http_setopt_err(rc);
		goto out;
	}

	rc = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	err = http_map(h, rc);
	if (err == HTTP_OK)
		h->errbuf[0] = '\0';
	else if (h->errbuf[0] == '\0')
		snprintf(h->errbuf, sizeof(h->errbuf), "%s",
		         h->fail != HTTP_OK ? http_strerror(h->fail) : curl_easy_strerror(rc));

out:
	/* Drop every per-call pointer before the caller wipes and frees. */
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (char *)NULL);
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	h->resp = NULL;
	http_free_headers(hdrs);
	return err;
}
