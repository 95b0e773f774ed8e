/*
 * test_kv: the Key Vault client against a canned vault and token endpoint
 * on 127.0.0.1 (one server: token requests go to its token script).
 *
 * Pins down: the exact requests (path, api-version, maxresults, Bearer
 * token, Accept), nextLink followed verbatim and only when it points at this
 * vault's list, the token sent nowhere but the vault, the status mapping
 * (Key Vault's envelope kept), one retry with a fresh token after a 401 whose
 * challenge passed verification (tenant taken from it, foreign resources and
 * malformed challenges refused without a token request), retries of
 * transient failures with full-jitter backoff inside one deadline
 * (retry-after-ms, x-ms-retry-after-ms and Retry-After in both forms
 * honoured, or given up on at once when they do not fit), and the caps.
 * Nothing secret is printed: tokens are compared, never shown.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/kv.c"
#include "canned.h"
#include "policy_ini.h"
#include "tap.h"

#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define CLIENT "11111111-2222-3333-4444-555555555555"
#define TOKEN_A "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJrdi1hIn0.c2lnQQ"
#define TOKEN_B "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJrdi1iIn0.c2lnQg"
#define OK_A "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"" TOKEN_A "\"}"
#define OK_B "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"" TOKEN_B "\"}"
#define JSON "Content-Type: application/json; charset=utf-8\r\n"
#define VERSION "4387e9f3d6e14c459867679a90fd0f79"
#define BUNDLE                                                                                     \
	"{\"value\":\"mysecretvalue\",\"id\":\"https://myvault.vault.azure.net/secrets/"           \
	"mysecret/" VERSION                                                                        \
	"\",\"attributes\":{\"enabled\":true,\"created\":1493938410,\"updated\":"                  \
	"1493938410,\"recoveryLevel\":\"Recoverable+Purgeable\"}}"
#define LIST                                                                                       \
	"{\"value\":[{\"id\":\"https://myvault.vault.azure.net/secrets/a\",\"attributes\":"        \
	"{\"enabled\":true}}],\"nextLink\":null}"
#define NOT_FOUND                                                                                  \
	"{\"error\":{\"code\":\"SecretNotFound\",\"message\":\"A secret with (name/id) nope was "  \
	"not found in this key vault. If you recently deleted this secret you may be able to "     \
	"recover it using the correct recovery command.\"}}"
#define DISABLED                                                                                   \
	"{\"error\":{\"code\":\"Forbidden\",\"message\":\"Operation get is not allowed on a "      \
	"disabled secret.\",\"innererror\":{\"code\":\"SecretDisabled\"}}}"
#define RBAC                                                                                       \
	"{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform "    \
	"action on resource.\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}"
#define UNAUTH "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"AKV10032: Invalid issuer.\"}}"
#define CHALLENGE                                                                                  \
	"WWW-Authenticate: Bearer authorization=\"https://login.microsoftonline.com/" TENANT       \
	"\", resource=\"https://vault.azure.net\"\r\n"
#define THROTTLED                                                                                  \
	"{\"error\":{\"code\":\"Throttled\",\"message\":\"Request was not processed because too "  \
	"many requests were received.\"}}"

static char dir[] = "/tmp/kvgate-kv-XXXXXX";
/* [vault] deadline_ms of the next client() when not 0; otherwise the
 * timeout given, so that one attempt's bound is the whole call's. */
static long deadline_override;
/* [vault] verify_challenge_resource of the next client(). */
static bool verify_on;

/* Write dir/name. */
static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* A client for vault_url with a client secret identity whose token
 * endpoint is the canned server on token_port. */
static struct kv_client *client(const char *vault_url, int token_port, long timeout_ms,
                                long max_retries, struct policy **pp)
{
	char changes[2048], path[128], err[256], *ini;
	struct strlist errors = {0};
	struct policy *p = NULL;
	struct kv_client *c = NULL;

	put("secret", "not-the-real-secret\n");
	snprintf(changes, sizeof(changes),
	         "[vault]\nurl = %s\ntimeout_ms = %ld\nmax_retries = %ld\ndeadline_ms = %ld\n"
	         "verify_challenge_resource = %s\n"
	         "[identity]\nmethod = client_secret\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_secret_file = %s/secret\nauthority_host = http://127.0.0.1:%d\n"
	         "[secrets]\nallow = *\n",
	         vault_url, timeout_ms, max_retries,
	         deadline_override > 0 ? deadline_override : timeout_ms,
	         verify_on ? "true" : "false", dir, token_port);
	ini = policy_ini(changes); /* every other key at its documented value */
	put("kvgate.ini", ini);
	free(ini);
	snprintf(path, sizeof(path), "%s/kvgate.ini", dir);
	if (policy_load(path, &p, &errors) != 0) {
		for (size_t i = 0; i < errors.n; i++)
			printf("# policy: %s\n", errors.v[i]);
	} else if (kv_client_new(p, &c, err, sizeof(err)) != KV_OK) {
		printf("# kv_client_new: %s\n", err);
	}
	strlist_free(&errors);
	*pp = p;
	return c;
}

/* One canned scenario: a fresh server and client; free with done(). */
struct scene {
	struct canned_server s;
	struct policy *p;
	struct kv_client *c;
	char url[64];
};

static bool start(struct scene *sc, const struct canned_reply *vault, size_t nvault,
                  const struct canned_reply *tokens, size_t ntokens, long timeout_ms,
                  long max_retries)
{
	memset(sc, 0, sizeof(*sc));
	if (canned_start(&sc->s, vault, nvault, tokens, ntokens) != 0)
		return false;
	snprintf(sc->url, sizeof(sc->url), "http://127.0.0.1:%d", sc->s.port);
	sc->c = client(sc->url, sc->s.port, timeout_ms, max_retries, &sc->p);
	return ok(sc->c != NULL, "client for %s", sc->url);
}

static void done(struct scene *sc)
{
	kv_client_free(sc->c);
	policy_free(sc->p);
	canned_stop(&sc->s);
}

/* Whether request n's request line is exactly "GET target HTTP/1.1". */
static bool request_line_is(const struct canned_server *s, int n, const char *target)
{
	char *req = canned_request(s, n), want[2200];
	bool yes;

	snprintf(want, sizeof(want), "GET %s HTTP/1.1\r\n", target);
	yes = req != NULL && strncmp(req, want, strlen(want)) == 0;
	free(req);
	return yes;
}

/* Whether request n carries header line (e.g. "Accept: application/json"). */
static bool request_has(const struct canned_server *s, int n, const char *line)
{
	char *req = canned_request(s, n), want[256];
	bool yes;

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	yes = req != NULL && strstr(req, want) != NULL;
	free(req);
	return yes;
}

/* Whether e's message is free of the tokens. */
static bool clean(const struct kv_error *e)
{
	return strstr(e->message, TOKEN_A) == NULL && strstr(e->message, TOKEN_B) == NULL &&
	       strstr(e->message, "eyJ") == NULL;
}

static void test_strerror(void)
{
	for (int e = KV_OK; e <= KV_ERR_LAST; e++)
		ok(strstr(kv_strerror((enum kv_err)e), "unknown") == NULL, "kv_strerror(%d): %s", e,
		   kv_strerror((enum kv_err)e));
}

/* The helpers that shape what reaches the logs and the retry timing. */
static void test_helpers(void)
{
	char dst[8], msg[300];
	struct kv_client c = {.jitter = 12345};
	bool in_range = true;
	long d;

	kv_copy_text(dst, sizeof(dst), "abc\r\ndef", false);
	ok(strcmp(dst, "abc  de") == 0, "control characters become spaces, text cut at the cap");
	kv_copy_text(dst, sizeof(dst), "abcdef\xc3\xa9", false);
	ok(strcmp(dst, "abcdef") == 0, "a cut never splits a UTF-8 sequence");
	kv_copy_text(dst, sizeof(dst), "ab\xc3\xa9", true);
	ok(strcmp(dst, "ab??") == 0, "codes keep printable ASCII only");
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	{
		struct kv_error e;
		struct buf b;

		kv_error_clear(&e);
		buf_init(&b, 0);
		buf_printf(&b, "{\"error\":{\"code\":\"Throttled\",\"message\":\"%s\"}}", msg);
		kv_read_envelope(&b, &e);
		ok(strcmp(e.code, "Throttled") == 0 && strlen(e.message) == sizeof(e.message) - 1,
		   "a long vault message is truncated to the field");
		buf_free(&b);
	}
	{
		/* 2015-10-21 07:28:00 UTC */
		time_t t0 = 1445412480;

		ok(kv_retry_after_ms(NULL, "7", t0) == 7000 &&
		       kv_retry_after_ms(NULL, "0", t0) == 0 &&
		       kv_retry_after_ms(NULL, NULL, t0) == -1 &&
		       kv_retry_after_ms(NULL, "", t0) == -1 &&
		       kv_retry_after_ms(NULL, "-1", t0) == -1 &&
		       kv_retry_after_ms(NULL, "1.5", t0) == -1 &&
		       kv_retry_after_ms(NULL, "999999999", t0) == KV_RETRY_AFTER_MAX * 1000,
		   "Retry-After delay-seconds, in ms, capped; junk ignored");
		ok(kv_retry_after_ms(NULL, "Wed, 21 Oct 2015 07:28:05 GMT", t0) == 5000 &&
		       kv_retry_after_ms(NULL, "Wed, 21 Oct 2015 07:27:00 GMT", t0) == 0 &&
		       kv_retry_after_ms(NULL, "Wed, 21 Oct 2025 07:28:00 GMT", t0) ==
		           KV_RETRY_AFTER_MAX * 1000 &&
		       kv_retry_after_ms(NULL, "Wed, 21 Oct 2015 07:28:05 UTC", t0) == -1 &&
		       kv_retry_after_ms(NULL, "Wed, 21 Oct 2015 07:28:05 GMTx", t0) == -1,
		   "Retry-After HTTP-date: seconds from now, the past is 0, capped, junk ignored");
		ok(kv_retry_after_ms("250", "7", t0) == 250 &&
		       kv_retry_after_ms("0", NULL, t0) == 0 &&
		       kv_retry_after_ms("x", "7", t0) == 7000 &&
		       kv_retry_after_ms("999999999", NULL, t0) == KV_RETRY_AFTER_MAX * 1000,
		   "retry-after-ms / x-ms-retry-after-ms preferred over Retry-After");
	}
	ok(kv_backoff_ms(&c, 0, 3000) == 3000 && kv_backoff_ms(&c, 5, 0) == 0,
	   "the vault's wait wins over the backoff");
	{
		long lo = KV_BACKOFF_MAX_MS, hi = 0;

		for (int i = 0; i < 400; i++) {
			d = kv_backoff_ms(&c, 0, -1);
			in_range = in_range && d >= 0 && d <= 200;
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			d = kv_backoff_ms(&c, 2, -1);
			in_range = in_range && d >= 0 && d <= 800;
			d = kv_backoff_ms(&c, 30, -1);
			in_range = in_range && d >= 0 && d <= KV_BACKOFF_MAX_MS;
		}
		ok(in_range && lo < 40 && hi > 160,
		   "backoff: full jitter in [0, 200 * 2^attempt], capped (first retry %ld..%ld ms)",
		   lo, hi);
	}
}

static void test_next_link(void)
{
	static char too_long[KV_NEXTLINK_MAX + 2], at_max[KV_NEXTLINK_MAX + 1];
	struct {
		const char *url, *name;
		bool want;
		const char *what;
	} t[] = {
	    {"https://myvault.vault.azure.net:443/secrets?api-version=7.6&$skiptoken="
	     "eyJOZXh0TWFya2VyIjoiMiE4OCFNREF3TURJeUlYTmxZM0psZEM5TVNWTlVVMFZEVWtWVVZFVlRWREVoTURBd"
	     "01ESTRJVEl3TVRZdE1USXRNVGxVTWpNNk1UQTZORFV1T0RneE9ERXhNRm9oIiwiVGFyZ2V0TG9jYXRpb24iO"
	     "jB9&maxresults=1",
	     NULL, true, "Key Vault's own nextLink (explicit :443, vault URL without port)"},
	    {"https://myvault.vault.azure.net/secrets?api-version=7.6&$skiptoken=abc", NULL, true,
	     "no port"},
	    {"https://myvault.vault.azure.net/secrets", NULL, true, "no query"},
	    {"https://MyVault.Vault.Azure.Net/secrets?x=1", NULL, true, "host ignoring case"},
	    {"https://myvault.vault.azure.net:443/secrets/MySecret/versions?api-version=7.6&"
	     "$skiptoken=Sanitized&maxresults=6",
	     "mysecret", true, "versions, name ignoring case"},
	    {"https://myvault.vault.azure.net:443/secrets/mysecret/versions?api-version=7.6", NULL,
	     false, "versions link for the secrets list"},
	    {"https://myvault.vault.azure.net/secrets?api-version=7.6", "mysecret", false,
	     "secrets link for a versions list"},
	    {"https://myvault.vault.azure.net/secrets/other/versions?api-version=7.6", "mysecret",
	     false, "versions of another secret"},
	    {"https://myvault.vault.azure.net/secrets/mysecretx/versions", "mysecret", false,
	     "versions of a longer name"},
	    {"https://evil.vault.azure.net/secrets?api-version=7.6", NULL, false, "other host"},
	    {"https://myvault.vault.azure.net.evil.com/secrets", NULL, false, "host suffix"},
	    {"https://myvault.vault.azure.ne/secrets", NULL, false, "host prefix"},
	    {"https://myvault.vault.azure.net@evil.com/secrets", NULL, false, "userinfo"},
	    {"https://myvault.vault.azure.net:443@evil.com/secrets", NULL, false,
	     "userinfo after port"},
	    {"https://myvault.vault.azure.net:8443/secrets", NULL, false, "other port"},
	    {"https://myvault.vault.azure.net:0443/secrets", NULL, false, "port with leading zero"},
	    {"https://myvault.vault.azure.net:/secrets", NULL, false, "empty port"},
	    {"https://myvault.vault.azure.net:443443/secrets", NULL, false, "port too long"},
	    {"http://myvault.vault.azure.net/secrets", NULL, false, "http instead of https"},
	    {"http://myvault.vault.azure.net:443/secrets", NULL, false, "http on :443"},
	    {"//myvault.vault.azure.net/secrets", NULL, false, "scheme-relative"},
	    {"https://myvault.vault.azure.net/secrets/../keys?x=1", NULL, false, "path traversal"},
	    {"https://myvault.vault.azure.net/secrets/mysecret/versions/../../../keys", "mysecret",
	     false, "path traversal after versions"},
	    {"https://myvault.vault.azure.net/secrets/%2e%2e/versions", "..", false,
	     "encoded dots"},
	    {"https://myvault.vault.azure.net/secrets/", NULL, false, "trailing slash"},
	    {"https://myvault.vault.azure.net/keys?api-version=7.6", NULL, false,
	     "other collection"},
	    {"https://myvault.vault.azure.net/deletedsecrets", NULL, false, "deleted secrets"},
	    {"https://myvault.vault.azure.net/secrets?api-version=7.6#frag", NULL, false, "'#'"},
	    {"https://myvault.vault.azure.net/secrets#", NULL, false, "bare '#'"},
	    {"https://myvault.vault.azure.net/secrets?a=<script>", NULL, false, "'<' in query"},
	    {"https://myvault.vault.azure.net/secrets?a=b c", NULL, false, "space in query"},
	    {"https://myvault.vault.azure.net/secrets?a=\"b\"", NULL, false, "quote in query"},
	    {"https://myvault.vault.azure.net/secrets?a=b\r\nX: y", NULL, false, "CRLF in query"},
	    {"https://myvault.vault.azure.net/secrets?a=b?c", NULL, false, "second '?'"},
	    {"https://myvault.vault.azure.net/secrets?a=b\\c", NULL, false, "backslash in query"},
	    {too_long, NULL, false, "longer than KV_NEXTLINK_MAX"},
	    {at_max, NULL, true, "exactly KV_NEXTLINK_MAX"},
	    {"", NULL, false, "empty"},
	};
	struct policy *p = NULL, *p2 = NULL;
	struct kv_client *c, *c2;
	size_t k;

	k = (size_t)snprintf(too_long, sizeof(too_long),
	                     "https://myvault.vault.azure.net/secrets?$skiptoken=");
	memset(too_long + k, 'A', sizeof(too_long) - 1 - k);
	memcpy(at_max, too_long, KV_NEXTLINK_MAX);

	c = client("https://myvault.vault.azure.net", 1, 5000, 0, &p);
	ok(c != NULL, "client for an https vault");
	if (c == NULL)
		goto out;
	ok(strcmp(kv_vault_url(c), "https://myvault.vault.azure.net") == 0, "kv_vault_url");
	ok(!kv_next_link_valid(c, NULL, NULL), "NULL nextLink refused");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(kv_next_link_valid(c, t[i].url, t[i].name) == t[i].want, "nextLink %s: %s",
		   t[i].want ? "accepted" : "refused", t[i].what);

	c2 = client("https://myvault.vault.azure.net:8443", 1, 5000, 0, &p2);
	ok(c2 != NULL, "client for a vault on port 8443");
	if (c2 != NULL) {
		ok(kv_next_link_valid(c2, "https://myvault.vault.azure.net:8443/secrets?x=1", NULL),
		   "vault with port: same port accepted");
		ok(!kv_next_link_valid(c2, "https://myvault.vault.azure.net/secrets?x=1", NULL),
		   "vault with port: missing port refused");
		ok(!kv_next_link_valid(c2, "https://myvault.vault.azure.net:443/secrets?x=1", NULL),
		   "vault with port: default port refused");
	}
	kv_client_free(c2);
	policy_free(p2);
out:
	kv_client_free(c);
	policy_free(p);
}

static void test_get(void)
{
	struct canned_reply vault[] = {
	    {200, JSON, BUNDLE, 0, 0, 0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	    {404, JSON, NOT_FOUND, 0, 0, 0},
	    {403, JSON, DISABLED, 0, 0, 0},
	    {403, JSON, RBAC, 0, 0, 0},
	    {400, JSON, "{\"error\":{\"code\":\"BadParameter\",\"message\":\"bad\"}}", 0, 0, 0},
	    {200, JSON, "{\"value\":\"x\"", 0, 0, 0},
	    {200, JSON, "{\"value\":\"x\"}", 0, 0, 0},
	    {200, JSON, "[]", 0, 0, 0},
	    {501, NULL, "nope", 0, 0, 0},
	    {404, JSON, NOT_FOUND, 0, 0, 0},
	};
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct json_object *b = NULL, *v;
	struct kv_error e;
	struct scene sc;
	unsigned long ntok, nvault;
	enum kv_err err;

	if (!start(&sc, vault, sizeof(vault) / sizeof(vault[0]), tokens, 1, 5000, 2))
		goto out;
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_OK && b != NULL, "get latest: %s", kv_strerror(err));
	ok(b != NULL && json_object_object_get_ex(b, "value", &v) &&
	       strcmp(json_object_get_string(v), "mysecretvalue") == 0,
	   "bundle parsed");
	json_object_put(b);
	b = NULL;
	ok(canned_count_matching(&sc.s, "POST /" TENANT "/oauth2/v2.0/token ") == 1,
	   "one token request");
	ok(request_line_is(&sc.s, 1, "/secrets/mysecret?api-version=7.6"),
	   "GET /secrets/mysecret?api-version=7.6");
	ok(request_has(&sc.s, 1, "Authorization: Bearer " TOKEN_A), "Bearer token sent");
	ok(request_has(&sc.s, 1, "Accept: application/json"), "Accept: application/json sent");

	err = kv_get_secret(sc.c, "mysecret", VERSION, &b, &e);
	ok(err == KV_OK && b != NULL, "get a version");
	ok(request_line_is(&sc.s, 2, "/secrets/mysecret/" VERSION "?api-version=7.6"),
	   "GET /secrets/mysecret/{version}?api-version=7.6");
	ok(canned_count_matching(&sc.s, "/oauth2/") == 1, "token reused from the cache");
	json_object_put(b);
	b = NULL;

	err = kv_get_secret(sc.c, "nope", "", &b, &e);
	ok(err == KV_ENOTFOUND && b == NULL && e.err == KV_ENOTFOUND && e.status == 404 &&
	       strcmp(e.code, "SecretNotFound") == 0 &&
	       strncmp(e.message, "A secret with", 13) == 0,
	   "404: KV_ENOTFOUND with code SecretNotFound and the vault's message");
	ok(strlen(e.message) < sizeof(e.message) && e.retry_after == -1,
	   "long message truncated, retry_after -1");

	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EDISABLED && e.status == 403 && strcmp(e.code, "Forbidden") == 0 &&
	       strcmp(e.inner, "SecretDisabled") == 0,
	   "403 SecretDisabled: KV_EDISABLED");
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EFORBIDDEN && strcmp(e.inner, "ForbiddenByRbac") == 0,
	   "403 ForbiddenByRbac: KV_EFORBIDDEN");
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EBADREQUEST && strcmp(e.code, "BadParameter") == 0, "400: KV_EBADREQUEST");
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EPROTO && b == NULL, "malformed JSON: KV_EPROTO (%s)", e.message);
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EPROTO && b == NULL, "bundle without id: KV_EPROTO (%s)", e.message);
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EPROTO && b == NULL, "array instead of object: KV_EPROTO");
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EUPSTREAM && e.status == 501, "501: KV_EUPSTREAM, not retried");
	kv_stats(sc.c, &ntok, &nvault);
	ok(ntok == 1 && nvault == 10 && canned_count(&sc.s) == 11,
	   "kv_stats: 1 token call, 10 vault calls (%lu, %lu)", ntok, nvault);

	/* Refused before any call. */
	err = kv_get_secret(sc.c, "bad/name", NULL, &b, &e);
	ok(err == KV_EBADREQUEST, "name with '/' refused without a call");
	err = kv_get_secret(sc.c, "", NULL, &b, &e);
	ok(err == KV_EBADREQUEST, "empty name refused");
	err = kv_get_secret(sc.c, "mysecret", "../../keys", &b, &e);
	ok(err == KV_EBADREQUEST, "bad version refused");
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, NULL);
	ok(err == KV_ENOTFOUND && b == NULL, "e may be NULL");
	ok(canned_count(&sc.s) == 12, "refused calls sent nothing");
out:
	done(&sc);
}

static void test_unauthorized(void)
{
	struct canned_reply vault[] = {
	    {401, CHALLENGE JSON, UNAUTH, 0, 0, 0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	    {401, CHALLENGE JSON, UNAUTH, 0, 0, 0},
	    {401, CHALLENGE JSON, UNAUTH, 0, 0, 0},
	};
	struct canned_reply tokens[] = {
	    {200, JSON, OK_A, 0, 0, 0},
	    {200, JSON, OK_B, 0, 0, 0},
	    {200, JSON, OK_A, 0, 0, 0},
	};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	unsigned long ntok, nvault;
	enum kv_err err;

	if (!start(&sc, vault, 4, tokens, 3, 5000, 2))
		goto out;
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_OK && b != NULL, "401 then 200: success");
	kv_stats(sc.c, &ntok, &nvault);
	ok(ntok == 2 && nvault == 2, "one token refresh, one retry (%lu tokens, %lu calls)", ntok,
	   nvault);
	ok(request_has(&sc.s, 1, "Authorization: Bearer " TOKEN_A) &&
	       request_has(&sc.s, 3, "Authorization: Bearer " TOKEN_B),
	   "the retry carries the fresh token");
	json_object_put(b);
	b = NULL;

	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EUNAUTHORIZED && b == NULL && e.status == 401 &&
	       strcmp(e.code, "Unauthorized") == 0 && clean(&e),
	   "401 twice: KV_EUNAUTHORIZED (%s)", e.message);
	kv_stats(sc.c, &ntok, &nvault);
	ok(ntok == 3 && nvault == 4, "only one refresh per call (%lu tokens, %lu calls)", ntok,
	   nvault);
out:
	done(&sc);
}

static void test_retries(void)
{
	struct canned_reply vault[] = {
	    /* 500 then 200 */
	    {500, JSON, "{\"error\":{\"code\":\"InternalServerError\",\"message\":\"x\"}}", 0, 0,
	     0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	    /* 429 with Retry-After: 1 that fits the 3 s deadline */
	    {429, "Retry-After: 1\r\n" JSON, THROTTLED, 0, 0, 0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	    /* 429 with Retry-After: 30 that does not */
	    {429, "Retry-After: 30\r\n" JSON, THROTTLED, 0, 0, 0},
	    /* 429 without Retry-After, every time */
	    {429, JSON, THROTTLED, 0, 0, 0},
	    {429, JSON, THROTTLED, 0, 0, 0},
	    {429, JSON, THROTTLED, 0, 0, 0},
	    /* 503 every time */
	    {503, "Retry-After: 0\r\n", "", 0, 0, 0},
	    {503, NULL, "", 0, 0, 0},
	    {503, NULL, "", 0, 0, 0},
	    /* 502, 504, then 200 */
	    {502, NULL, "", 0, 0, 0},
	    {504, NULL, "", 0, 0, 0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	};
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	unsigned long nvault;
	enum kv_err err;
	long t0, dt;

	if (!start(&sc, vault, sizeof(vault) / sizeof(vault[0]), tokens, 1, 3000, 2))
		goto out;
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_OK && b != NULL, "500 then 200: retried, success");
	json_object_put(b);
	b = NULL;

	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	ok(err == KV_OK && b != NULL && dt >= 950 && dt < 2000,
	   "429 Retry-After: 1 honoured, then success (%ld ms)", dt);
	json_object_put(b);
	b = NULL;

	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	ok(err == KV_ETHROTTLED && e.retry_after == 30 && e.status == 429 &&
	       strcmp(e.code, "Throttled") == 0 && dt < 500,
	   "429 Retry-After: 30 beyond the deadline: KV_ETHROTTLED at once, retry_after 30 "
	   "(%ld ms)",
	   dt);

	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	ok(err == KV_ETHROTTLED && e.retry_after == -1 && dt < 1500,
	   "429 without Retry-After: backoff, max_retries, then KV_ETHROTTLED (%ld ms)", dt);

	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_EUNAVAILABLE && e.status == 503, "503 three times: KV_EUNAVAILABLE");

	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_OK, "502, 504, then 200: success");
	json_object_put(b);
	b = NULL;
	kv_stats(sc.c, &nvault, &nvault);
	ok(nvault == 14 && canned_count(&sc.s) == 15, "every retry counted (%lu vault calls)",
	   nvault);
out:
	done(&sc);
}

/* The whole call stays within timeout_ms. */
static void test_deadline(void)
{
	struct canned_reply vault[] = {
	    {500, NULL, "", 0, 0, 0},
	    {200, JSON, BUNDLE, 3000, 0, 0},
	};
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	enum kv_err err;
	long t0, dt;

	if (!start(&sc, vault, 2, tokens, 1, 1000, 5))
		goto out;
	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	ok(err == KV_EDEADLINE && b == NULL && dt >= 900 && dt < 1300,
	   "500, then a slow answer: KV_EDEADLINE at the 1 s deadline (%ld ms)", dt);
	ok(canned_count_matching(&sc.s, "GET /secrets/") == 2,
	   "no third attempt past the deadline");
out:
	done(&sc);
}

/* The token fetch counts against the same deadline as the vault call. */
static void test_deadline_token(void)
{
	struct canned_reply vault[] = {{200, JSON, BUNDLE, 700, 0, 0}};
	struct canned_reply tokens[] = {{200, JSON, OK_A, 700, 0, 0}};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	enum kv_err err;
	long t0, dt;

	if (!start(&sc, vault, 1, tokens, 1, 1000, 0))
		goto out;
	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	ok(err == KV_EDEADLINE && b == NULL && dt >= 900 && dt < 1300,
	   "slow token, then slow vault: KV_EDEADLINE at the 1 s deadline, not 1.4 s (%ld ms)", dt);
out:
	json_object_put(b);
	done(&sc);
}

static void test_transport(void)
{
	struct canned_reply tokens[] = {
	    {200, JSON, OK_A, 0, 0, 0},
	    {401, JSON,
	     "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client "
	     "secret provided.\",\"error_codes\":[7000215]}",
	     0, 0, 0},
	    {503, NULL, "", 0, 0, 0},
	    {200, JSON, OK_A, 0, 0, 0},
	};
	struct canned_reply vault[] = {{200, JSON, BUNDLE, 0, 0, 0}};
	struct canned_server s;
	struct json_object *b = NULL;
	struct policy *p = NULL;
	struct kv_client *c = NULL;
	struct kv_error e;
	char url[64];
	enum kv_err err;
	unsigned long ntok, nvault;

	if (canned_start(&s, vault, 1, tokens, 4) != 0)
		return;
	/* The vault is a dead port; the token endpoint answers. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", canned_dead_port());
	c = client(url, s.port, 3000, 1, &p);
	ok(c != NULL, "client for an unreachable vault");
	if (c == NULL)
		goto out;
	err = kv_get_secret(c, "mysecret", NULL, &b, &e);
	kv_stats(c, &ntok, &nvault);
	ok(err == KV_EUNAVAILABLE && e.status == 0 && nvault == 2,
	   "connection refused: retried once, then KV_EUNAVAILABLE (%s)", e.message);
	kv_client_free(c);
	policy_free(p);

	/* The token endpoint refuses the credential. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
	c = client(url, s.port, 3000, 1, &p);
	if (c == NULL)
		goto out;
	err = kv_get_secret(c, "mysecret", NULL, &b, &e);
	kv_stats(c, &ntok, &nvault);
	ok(err == KV_EIDREJECTED && strstr(e.message, "invalid_client AADSTS7000215") != NULL &&
	       strstr(e.message, "Invalid client secret") == NULL && nvault == 0,
	   "token refused: KV_EIDREJECTED, not retried, no vault call (%s)", e.message);
	err = kv_get_secret(c, "mysecret", NULL, &b, &e);
	kv_stats(c, &ntok, &nvault);
	ok(err == KV_OK && ntok == 3 && nvault == 1,
	   "token endpoint 503: retried like the vault, then success");
	json_object_put(b);
out:
	kv_client_free(c);
	policy_free(p);
	canned_stop(&s);
}

static void test_too_big(void)
{
	static char big[KV_RESPONSE_MAX + 100];
	struct canned_reply vault[] = {
	    {200, JSON, big, 0, 0, 0},
	    {200, JSON, big, 0, 1, 0},
	};
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	enum kv_err err;
	size_t k;

	k = (size_t)snprintf(big, sizeof(big), "{\"id\":\"x\",\"value\":\"");
	memset(big + k, 'v', sizeof(big) - 3 - k);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	if (!start(&sc, vault, 2, tokens, 1, 5000, 2))
		goto out;
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_ETOOBIG && b == NULL && strstr(e.message, "too big") != NULL,
	   "oversize answer: KV_ETOOBIG, \"too big\" (%s)", e.message);
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_ETOOBIG && b == NULL && strstr(e.message, "too big") != NULL,
	   "oversize answer without Content-Length: KV_ETOOBIG, not retried");
	ok(canned_count_matching(&sc.s, "GET /secrets/") == 2, "oversize answers are not retried");
out:
	done(&sc);
}

static void test_list(void)
{
	struct canned_reply vault[] = {
	    {200, JSON, LIST, 0, 0, 0},
	    {200, JSON, LIST, 0, 0, 0},
	    {200, JSON, LIST, 0, 0, 0},
	    {200, JSON, LIST, 0, 0, 0},
	    {200, JSON, "{\"nextLink\":null}", 0, 0, 0},
	    {200, JSON, "{\"value\":[],\"nextLink\":5}", 0, 0, 0},
	};
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct json_object *pg = NULL, *v;
	char next[256];
	struct kv_error e;
	struct scene sc;
	enum kv_err err;

	if (!start(&sc, vault, sizeof(vault) / sizeof(vault[0]), tokens, 1, 5000, 0))
		goto out;
	err = kv_list(sc.c, NULL, 2, NULL, &pg, &e);
	ok(err == KV_OK && request_line_is(&sc.s, 1, "/secrets?api-version=7.6&maxresults=2"),
	   "GET /secrets?api-version=7.6&maxresults=2");
	ok(request_has(&sc.s, 1, "Authorization: Bearer " TOKEN_A), "list carries the token");
	json_object_put(pg);
	pg = NULL;

	/* Key Vault's nextLink shape: explicit port, $skiptoken, maxresults. */
	snprintf(next, sizeof(next),
	         "%s/secrets?api-version=7.6&$skiptoken=eyJOZXh0TWFya2VyIjoiMiE4OCJ9&maxresults=2",
	         sc.url);
	err = kv_list(sc.c, NULL, 0, next, &pg, &e);
	ok(err == KV_OK && pg != NULL &&
	       request_line_is(&sc.s, 2,
	                       "/secrets?api-version=7.6&$skiptoken=eyJOZXh0TWFya2VyIjoiMiE4OCJ9"
	                       "&maxresults=2"),
	   "nextLink followed verbatim");
	ok(pg != NULL && json_object_object_get_ex(pg, "value", &v) &&
	       json_object_array_length(v) == 1,
	   "page parsed");
	json_object_put(pg);
	pg = NULL;

	err = kv_list(sc.c, "MySecret", 0, NULL, &pg, &e);
	ok(err == KV_OK && request_line_is(&sc.s, 3, "/secrets/MySecret/versions?api-version=7.6"),
	   "GET /secrets/{name}/versions?api-version=7.6 (maxresults 0 omitted)");
	json_object_put(pg);
	pg = NULL;

	err = kv_list(sc.c, "MySecret", 25, NULL, &pg, &e);
	ok(err == KV_OK &&
	       request_line_is(&sc.s, 4,
	                       "/secrets/MySecret/versions?api-version=7.6&maxresults=25"),
	   "versions with maxresults=25");
	json_object_put(pg);
	pg = NULL;

	err = kv_list(sc.c, NULL, 0, NULL, &pg, &e);
	ok(err == KV_EPROTO && pg == NULL, "list without value: KV_EPROTO (%s)", e.message);
	err = kv_list(sc.c, NULL, 0, NULL, &pg, &e);
	ok(err == KV_EPROTO && pg == NULL, "nextLink neither string nor null: KV_EPROTO");

	err = kv_list(sc.c, NULL, 0, "https://evil.example/secrets?x=1", &pg, &e);
	ok(err == KV_ENEXTLINK && pg == NULL, "foreign nextLink: KV_ENEXTLINK");
	snprintf(next, sizeof(next), "%s/secrets/other/versions?api-version=7.6", sc.url);
	err = kv_list(sc.c, "MySecret", 0, next, &pg, &e);
	ok(err == KV_ENEXTLINK, "nextLink of another secret's versions: KV_ENEXTLINK");
	err = kv_list(sc.c, NULL, 26, NULL, &pg, &e);
	ok(err == KV_EBADREQUEST, "maxresults 26 refused");
	err = kv_list(sc.c, "a/b", 0, NULL, &pg, &e);
	ok(err == KV_EBADREQUEST, "bad name refused");
	ok(canned_count(&sc.s) == 7, "refused lists sent nothing");
out:
	done(&sc);
}

/* The challenge parser: Key Vault's form and the variants the Azure SDKs
 * accept (authorization_uri, scope, any order, no spaces, other
 * challenges), and every malformed header refused as a whole. */
static void test_challenge_parse(void)
{
	struct kv_challenge ch;
	char big[1100];
	const char *why;

	why = kv_parse_challenge("Bearer authorization=\"https://login.microsoftonline.com/" TENANT
	                         "\", resource=\"https://vault.azure.net\"",
	                         &ch);
	ok(why == NULL &&
	       strcmp(ch.authorization, "https://login.microsoftonline.com/" TENANT) == 0 &&
	       strcmp(ch.resource, "https://vault.azure.net") == 0 && ch.scope[0] == '\0',
	   "Key Vault's challenge parsed");
	why = kv_parse_challenge("bearer scope=\"https://vault.azure.net/.default\","
	                         "authorization_uri=\"https://login.microsoftonline.com/x\"",
	                         &ch);
	ok(why == NULL && strcmp(ch.authorization, "https://login.microsoftonline.com/x") == 0 &&
	       strcmp(ch.scope, "https://vault.azure.net/.default") == 0,
	   "authorization_uri and scope, other order, no space, scheme ignoring case");
	why = kv_parse_challenge("Basic realm=\"x\", Bearer realm=\"\", error=\"invalid_token\", "
	                         "resource=https://vault.azure.net , "
	                         "authorization=\"https://a.example/t\\\"x\"",
	                         &ch);
	ok(why == NULL && strcmp(ch.resource, "https://vault.azure.net") == 0 &&
	       strcmp(ch.authorization, "https://a.example/t\"x") == 0,
	   "another challenge first, unquoted value, escapes, other parameters ignored");
	why = kv_parse_challenge("Basic realm=\"x\", resource=\"https://evil.example\"", &ch);
	ok(why != NULL && strstr(why, "no Bearer") != NULL, "no Bearer challenge: refused");
	ok(kv_parse_challenge("Bearer resource=\"a\", resource=\"b\"", &ch) != NULL,
	   "a parameter given twice: refused");
	ok(kv_parse_challenge("Bearer authorization=\"https://x/t", &ch) != NULL,
	   "unterminated quoted string: refused");
	ok(kv_parse_challenge("Bearer authorization=\"a\x01\"", &ch) != NULL,
	   "control character in a value: refused");
	ok(kv_parse_challenge("Bearer resource=", &ch) != NULL, "empty value: refused");
	ok(kv_parse_challenge("Bearer resource=\"a\"x", &ch) != NULL,
	   "junk after a value: refused");
	ok(kv_parse_challenge("Bearer {resource}=a", &ch) != NULL, "non-token name: refused");
	ok(kv_parse_challenge("Bearer a=1, Bearer b=2", &ch) != NULL,
	   "two Bearer challenges: refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "Bearer resource=\"", 17);
	big[sizeof(big) - 2] = '"';
	ok(kv_parse_challenge(big, &ch) != NULL, "a value over KV_CHALLENGE_VALUE_MAX: refused");
}

/* The tenant from the authorization URL, and the resource's host against
 * the vault's. */
static void test_challenge_checks(void)
{
	struct kv_client c = {.host = "MyVault.vault.azure.net"};
	struct kv_client cn = {.host = "x.vault.azure.cn"};
	char t[KV_TENANT_MAX + 1];
	struct {
		const char *url, *tenant;
	} tenants[] = {
	    {"https://login.microsoftonline.com/" TENANT, TENANT},
	    {"https://login.microsoftonline.com/contoso.onmicrosoft.com/",
	     "contoso.onmicrosoft.com"},
	    {"https://login.windows.net/" TENANT "/oauth2/authorize", TENANT},
	    {"https://127.0.0.1:8443/" TENANT, TENANT},
	    {"http://login.microsoftonline.com/" TENANT, NULL},
	    {"https://login.microsoftonline.com", NULL},
	    {"https://login.microsoftonline.com/", NULL},
	    {"https://login.microsoftonline.com/a/b", NULL},
	    {"https://login.microsoftonline.com/-x", NULL},
	    {"https://login.microsoftonline.com/a_b", NULL},
	    {"https://login.microsoftonline.com/" TENANT "?x=1", NULL},
	    {"https://evil@login.microsoftonline.com/" TENANT, NULL},
	};
	struct {
		const struct kv_client *c;
		const char *resource;
		bool want;
	} res[] = {
	    {&c, "https://vault.azure.net", true},
	    {&c, "https://vault.azure.net/", true},
	    {&c, "https://VAULT.Azure.NET:443", true},
	    {&c, "https://myvault.vault.azure.net", true},
	    {&c, "https://azure.net", true},
	    {&c, "https://net", false},
	    {&c, "https://ault.azure.net", false},
	    {&c, "https://evil.vault.azure.net", false},
	    {&c, "https://myvault.vault.azure.net.evil.com", false},
	    {&c, "https://vault.azure.cn", false},
	    {&c, "http://vault.azure.net", false},
	    {&c, "https://user@vault.azure.net", false},
	    {&c, "vault.azure.net", false},
	    {&cn, "https://vault.azure.cn", true},
	    {&cn, "https://vault.azure.net", false},
	};

	for (size_t i = 0; i < sizeof(tenants) / sizeof(tenants[0]); i++) {
		bool got = kv_challenge_tenant(tenants[i].url, t, sizeof(t));

		ok(tenants[i].tenant != NULL ? got && strcmp(t, tenants[i].tenant) == 0 : !got,
		   "authorization %s: %s", tenants[i].url,
		   tenants[i].tenant != NULL ? "tenant taken" : "refused");
	}
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++)
		ok(kv_resource_matches(res[i].c, res[i].resource) == res[i].want,
		   "resource %s for vault %s: %s", res[i].resource, res[i].c->host,
		   res[i].want ? "accepted" : "refused");
}

#define OTHER_TENANT "0f0f0f0f-1111-2222-3333-444444444444"
#define CHALLENGE_OTHER                                                                            \
	"WWW-Authenticate: Bearer authorization=\"https://login.microsoftonline.com/" OTHER_TENANT \
	"\", resource=\"https://vault.azure.net\"\r\n"
#define CHALLENGE_LOOPBACK                                                                         \
	"WWW-Authenticate: Bearer scope=\"https://127.0.0.1/.default\", "                          \
	"authorization_uri=\"https://login.microsoftonline.com/" TENANT "\"\r\n"

/* A challenge is verified before any token is fetched for it, and its
 * tenant is the one asked from then on. */
static void test_challenge(void)
{
	struct canned_reply vault[] = {
	    /* 1: a challenge for another tenant: fresh token from that tenant */
	    {401, CHALLENGE_OTHER JSON, UNAUTH, 0, 0, 0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	    /* 2: no WWW-Authenticate at all: plain refresh */
	    {401, JSON, UNAUTH, 0, 0, 0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	    /* 3: a malformed challenge: refused, no token */
	    {401, "WWW-Authenticate: Bearer authorization=\"https://x/" TENANT "\r\n" JSON, UNAUTH,
	     0, 0, 0},
	    /* 4: no tenant in it: refused */
	    {401, "WWW-Authenticate: Bearer resource=\"https://vault.azure.net\"\r\n" JSON, UNAUTH,
	     0, 0, 0},
	};
	struct canned_reply tokens[] = {
	    {200, JSON, OK_A, 0, 0, 0},
	    {200, JSON, OK_B, 0, 0, 0},
	    {200, JSON, OK_A, 0, 0, 0},
	};
	struct canned_reply vault2[] = {
	    /* verify on: vault.azure.net does not name 127.0.0.1 */
	    {401, CHALLENGE JSON, UNAUTH, 0, 0, 0},
	    /* verify on: a scope naming 127.0.0.1 does */
	    {401, CHALLENGE_LOOPBACK JSON, UNAUTH, 0, 0, 0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	unsigned long ntok, nvault;
	enum kv_err err;

	if (!start(&sc, vault, 6, tokens, 3, 5000, 2))
		goto out;
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_OK && b != NULL, "challenge for another tenant: fresh token, retry, 200");
	ok(canned_count_matching(&sc.s, "POST /" OTHER_TENANT "/oauth2/v2.0/token ") == 1,
	   "the fresh token was asked from the challenge's tenant");
	ok(request_has(&sc.s, 3, "Authorization: Bearer " TOKEN_B), "the retry carries it");
	json_object_put(b);
	b = NULL;
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	ok(err == KV_OK && canned_count_matching(&sc.s, "POST /" OTHER_TENANT "/oauth2/") == 2,
	   "401 without a challenge: plain refresh (from the tenant in use), retry, 200");
	json_object_put(b);
	b = NULL;
	kv_stats(sc.c, &ntok, NULL);
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	kv_stats(sc.c, &nvault, NULL);
	ok(err == KV_ECHALLENGE && e.status == 401 && nvault == ntok && clean(&e),
	   "malformed challenge: KV_ECHALLENGE, no token fetched (%s)", e.message);
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	kv_stats(sc.c, &nvault, NULL);
	ok(err == KV_ECHALLENGE && strstr(e.message, "authorization") != NULL && nvault == ntok,
	   "challenge without an authorization URL: KV_ECHALLENGE, no token (%s)", e.message);
	done(&sc);

	verify_on = true;
	if (!start(&sc, vault2, 3, tokens, 3, 5000, 2))
		goto out;
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	kv_stats(sc.c, &ntok, &nvault);
	ok(err == KV_ECHALLENGE && ntok == 1 && nvault == 1 &&
	       strstr(e.message, "vault.azure.net") != NULL &&
	       strstr(e.message, "127.0.0.1") != NULL,
	   "verify on, foreign resource: KV_ECHALLENGE, no second token, no retry (%s)", e.message);
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	kv_stats(sc.c, &ntok, &nvault);
	ok(err == KV_OK && ntok == 2 && nvault == 3,
	   "verify on, scope naming the vault's host: fresh token, retry, 200");
	json_object_put(b);
	b = NULL;
out:
	verify_on = false;
	done(&sc);
}

/* retry-after-ms and x-ms-retry-after-ms are honoured (and preferred), a
 * far Retry-After HTTP-date ends the call at once, and every attempt is
 * bounded by min(timeout_ms, what is left of deadline_ms). */
static void test_retry_headers(void)
{
	static char far_date[64], far_hdr[128];
	struct canned_reply vault[] = {
	    {429, "x-ms-retry-after-ms: 300\r\nRetry-After: 30\r\n" JSON, THROTTLED, 0, 0, 0},
	    {200, JSON, BUNDLE, 0, 0, 0},
	    {503, "retry-after-ms: 5000\r\n", "", 0, 0, 0},
	    {429, far_hdr, THROTTLED, 0, 0, 0},
	};
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	enum kv_err err;
	time_t t = time(NULL) + 120;
	struct tm tm;
	long t0, dt;

	gmtime_r(&t, &tm);
	strftime(far_date, sizeof(far_date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(far_hdr, sizeof(far_hdr), "Retry-After: %s\r\n" JSON, far_date);
	deadline_override = 2000;
	if (!start(&sc, vault, 4, tokens, 1, 1000, 3))
		goto out;
	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	ok(err == KV_OK && dt >= 280 && dt < 900,
	   "x-ms-retry-after-ms: 300 wins over Retry-After: 30 (%ld ms)", dt);
	json_object_put(b);
	b = NULL;
	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	ok(err == KV_EUNAVAILABLE && e.retry_after == 5 && dt < 300,
	   "503 retry-after-ms: 5000 beyond the 2 s deadline: KV_EUNAVAILABLE at once, "
	   "retry_after 5 (%ld ms)",
	   dt);
	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	ok(err == KV_ETHROTTLED && e.retry_after >= 118 && e.retry_after <= 121 && dt < 300,
	   "429 Retry-After as an HTTP-date 2 minutes away: KV_ETHROTTLED at once, retry_after "
	   "%ld (%ld ms)",
	   e.retry_after, dt);
out:
	deadline_override = 0;
	done(&sc);
}

/* A vault that never answers: each attempt gets timeout_ms, the last one
 * what is left, and the call ends by deadline_ms with KV_EDEADLINE (at
 * once when the next backoff would not fit in what is left). */
static void test_deadline_attempts(void)
{
	struct canned_reply vault[] = {
	    {200, JSON, BUNDLE, 5000, 0, 1},
	};
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	unsigned long nvault;
	enum kv_err err;
	long t0, dt;

	deadline_override = 1300;
	if (!start(&sc, vault, 1, tokens, 1, 500, 10))
		goto out;
	t0 = canned_now_ms();
	err = kv_get_secret(sc.c, "mysecret", NULL, &b, &e);
	dt = canned_now_ms() - t0;
	kv_stats(sc.c, NULL, &nvault);
	ok(err == KV_EDEADLINE && dt >= 1000 && dt < 1450 && nvault >= 2 && nvault <= 3,
	   "hanging vault: attempts of 500 ms, then KV_EDEADLINE by the 1.3 s deadline (ends "
	   "early when the next wait would not fit) (%ld ms, %lu attempts)",
	   dt, nvault);
out:
	deadline_override = 0;
	done(&sc);
}

/* The token goes to the vault's scheme, host and port and nowhere else,
 * whatever URL reaches kv_call(). */
static void test_token_only_to_vault(void)
{
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct json_object *b = NULL;
	struct kv_error e;
	struct scene sc;
	unsigned long ntok, nvault;
	char url[128];
	enum kv_err err;
	bool all = true;

	if (!start(&sc, NULL, 0, tokens, 1, 2000, 0))
		goto out;
	for (int i = 0; i < 5; i++) {
		/* Another host, scheme, port, host suffix, user information. */
		if (i == 0)
			snprintf(url, sizeof(url), "http://127.0.0.2:%d/secrets/x", sc.s.port);
		else if (i == 1)
			snprintf(url, sizeof(url), "https://127.0.0.1:%d/secrets/x", sc.s.port);
		else if (i == 2)
			snprintf(url, sizeof(url), "http://127.0.0.1:%d0/secrets/x", sc.s.port);
		else if (i == 3)
			snprintf(url, sizeof(url), "http://127.0.0.1.evil:%d/secrets", sc.s.port);
		else
			snprintf(url, sizeof(url), "http://127.0.0.1:%d@evil/secrets", sc.s.port);
		kv_error_clear(&e);
		err = kv_call(sc.c, url, KV_SHAPE_BUNDLE, &b, &e);
		all = all && err == KV_ENEXTLINK && b == NULL;
	}
	kv_stats(sc.c, &ntok, &nvault);
	ok(all && ntok == 0 && nvault == 0 && canned_count(&sc.s) == 0,
	   "URLs off the vault's scheme, host or port: refused before any token or call");
out:
	done(&sc);
}

int main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_strerror();
	test_helpers();
	test_next_link();
	test_get();
	test_unauthorized();
	test_retries();
	test_deadline();
	test_deadline_token();
	test_transport();
	test_too_big();
	test_list();
	test_challenge_parse();
	test_challenge_checks();
	test_challenge();
	test_retry_headers();
	test_deadline_attempts();
	test_token_only_to_vault();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
