/*
 * test_identity: every identity method against a canned token endpoint on
 * 127.0.0.1.
 *
 * Pins down: the exact token request of each method (client secret form
 * with metacharacters intact; the certificate's client-assertion JWT, its
 * x5t/x5t#S256, claims and RS256 signature checked with libcrypto against
 * the certificate; the federated token file, re-read after 5 minutes by an
 * injected clock and after a refusal; App Service and IMDS managed identity
 * request lines, headers and answers, IMDS retries on 404/429/5xx within the
 * budget), the cache (refresh 5 minutes ahead for 1 h tokens, at half-life
 * for 24 h and short ones; a failed refresh keeps the old token and backs
 * off 30 s, then 60 s), the mapping of every kind of failure, that a detail
 * never quotes the secret or the error description, and the configuration
 * rules (auto in DefaultAzureCredential's order, INI before environment).
 * Nothing secret is printed: the test compares, it never shows a token or
 * the secret.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/identity.c"
#include "canned.h"
#include "policy.h"
#include "policy_ini.h"
#include "tap.h"

#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define CLIENT "11111111-2222-3333-4444-555555555555"
/* Every form metacharacter, a space and a non-ASCII letter. */
#define SECRET "Ab1~.-_ &=+%/?#\xc3\xa9"
#define SECRET_FORM "Ab1~.-_%20%26%3D%2B%25%2F%3F%23%C3%A9"
#define SECRET_ENV "env-Secret+1"

#define TOKEN_A "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL3ZhdWx0LmF6dXJlLm5ldCJ9.c2lnQQ"
#define TOKEN_B "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL3ZhdWx0LmF6dXJlLm5ldCJ9.c2lnQg"
#define OK_A                                                                                       \
	"{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":" \
	"\"" TOKEN_A "\"}"
#define OK_B "{\"token_type\":\"bearer\",\"expires_in\":3599,\"access_token\":\"" TOKEN_B "\"}"
#define JSON "Content-Type: application/json; charset=utf-8\r\n"

static char dir[] = "/tmp/kvgate-identity-XXXXXX";
static time_t fake_now = 1700000000;

static time_t fake_clock(void)
{
	return fake_now;
}

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

/* Load a complete policy (policy_ini.h) whose [identity] keys are set by
 * `identity` (the others at their documented values; authority_host is the
 * canned server on port). Returns NULL and prints the problems on failure. */
static struct policy *load(int port, const char *identity)
{
	char changes[2048], path[128], *ini;
	struct strlist errors = {0};
	struct policy *p = NULL;

	if (strstr(identity, "authority_host") != NULL)
		snprintf(changes, sizeof(changes),
		         "[vault]\nurl = http://127.0.0.1:%d\ntimeout_ms = 2000\n"
		         "[identity]\n%s"
		         "[cors]\nallowed_origins = https://app.example\n",
		         port, identity);
	else
		snprintf(changes, sizeof(changes),
		         "[vault]\nurl = http://127.0.0.1:%d\ntimeout_ms = 2000\n"
		         "[identity]\n%s%s%d\n"
		         "[cors]\nallowed_origins = https://app.example\n",
		         port, identity, "authority_host = http://127.0.0.1:", port);
	ini = policy_ini(changes);
	put("kvgate.ini", ini);
	free(ini);
	snprintf(path, sizeof(path), "%s/kvgate.ini", dir);
	if (policy_load(path, &p, &errors) != 0)
		for (size_t i = 0; i < errors.n; i++)
			printf("# policy: %s\n", errors.v[i]);
	strlist_free(&errors);
	return p;
}

/* The body of request n (after the blank line), malloc'd, or NULL. */
static char *request_body(const struct canned_server *s, int n)
{
	char *req = canned_request(s, n), *b, *out = NULL;

	if (req != NULL && (b = strstr(req, "\r\n\r\n")) != NULL)
		out = strdup(b + 4);
	free(req);
	return out;
}

/* Whether the form body has exactly these four fields in this order. */
static bool form_is(const char *body, const char *secret_form)
{
	char want[512];

	snprintf(want, sizeof(want),
	         "client_id=" CLIENT "&scope=https%%3A%%2F%%2Fvault.azure.net%%2F.default"
	         "&grant_type=client_credentials&client_secret=%s",
	         secret_form);
	return body != NULL && strcmp(body, want) == 0;
}

static void test_form_encoding(void)
{
	struct buf b;

	buf_init(&b, 64);
	ok(identity_form_add(&b, "a", "x y&z=1+2%") == BUF_OK &&
	       identity_form_add(&b, "b", "") == BUF_OK &&
	       strcmp(b.data, "a=x%20y%26z%3D1%2B2%25&b=") == 0,
	   "form values are percent-encoded, pairs joined with &");
	buf_free(&b);
	buf_init(&b, 8);
	ok(identity_form_add(&b, "k", "0123456789") == BUF_ETOOBIG, "form body has a cap");
	buf_free(&b);
}

static void test_strerror(void)
{
	for (int e = IDENTITY_OK; e <= IDENTITY_EPROTO; e++)
		ok(strstr(identity_strerror((enum identity_err)e), "unknown") == NULL,
		   "identity_strerror(%d): %s", e, identity_strerror((enum identity_err)e));
}

/* The request, the cache and the refresh. */
static void test_token_and_cache(void)
{
	struct canned_reply tokens[] = {
	    {200, JSON, OK_A, 0, 0, 0},
	    {200, JSON, OK_B, 0, 0, 0},
	};
	struct http_options o = {NULL, 2000};
	struct canned_server s;
	struct identity *id = NULL;
	struct policy *p = NULL;
	struct http *h = NULL;
	const char *tok;
	char err[256], detail[256], *req, *body;
	enum identity_err e;
	time_t t0;

	if (canned_start(&s, NULL, 0, tokens, 2) != 0)
		return;
	put("secret", SECRET "\n");
	snprintf(err, sizeof(err),
	         "method = client_secret\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_secret_file = %s/secret\n",
	         dir);
	p = load(s.port, err);
	ok(p != NULL, "policy with method = client_secret loads");
	if (p == NULL || http_new(&o, &h) != HTTP_OK)
		goto out;
	e = identity_new(p, h, &id, err, sizeof(err));
	ok(e == IDENTITY_OK && id != NULL, "identity_new: %s", err);
	if (id == NULL)
		goto out;
	ok(strcmp(identity_describe(id), "client_secret") == 0, "describe: client_secret");
	ok(identity_requests(id) == 0 && canned_count(&s) == 0, "no token fetched at start");
	identity_set_clock(id, fake_clock);
	t0 = fake_now;

	e = identity_token(id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_OK && tok != NULL && strcmp(tok, TOKEN_A) == 0,
	   "token from the endpoint (%s)", identity_strerror(e));
	req = canned_request(&s, 0);
	ok(req != NULL && strncmp(req, "POST /" TENANT "/oauth2/v2.0/token HTTP/1.1\r\n",
	                          strlen("POST /" TENANT "/oauth2/v2.0/token HTTP/1.1\r\n")) == 0,
	   "POST {authority}/{tenant}/oauth2/v2.0/token");
	ok(req != NULL &&
	       strstr(req, "\r\nContent-Type: application/x-www-form-urlencoded\r\n") != NULL,
	   "form content type");
	ok(req != NULL && strstr(req, "\r\nAccept: application/json\r\n") != NULL, "Accept json");
	ok(req != NULL && strstr(req, "Authorization") == NULL, "no Authorization header");
	free(req);
	body = request_body(&s, 0);
	ok(form_is(body, SECRET_FORM),
	   "form: client_id, scope, grant_type, client_secret url-encoded (special chars intact)");
	free(body);

	e = identity_token(id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_OK && tok != NULL && strcmp(tok, TOKEN_A) == 0 && canned_count(&s) == 1 &&
	       identity_requests(id) == 1,
	   "second call served from the cache, no request");

	fake_now = t0 + 3599 - IDENTITY_REFRESH_MARGIN - 1;
	e = identity_token(id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_OK && canned_count(&s) == 1, "still cached 1 s before expiry - margin");
	fake_now = t0 + 3599 - IDENTITY_REFRESH_MARGIN;
	e = identity_token(id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_OK && tok != NULL && strcmp(tok, TOKEN_B) == 0 && canned_count(&s) == 2,
	   "refreshed at expiry - %d s (token_type compared ignoring case)",
	   IDENTITY_REFRESH_MARGIN);
	identity_invalidate(id);
	ok(id->token == NULL && id->refresh_at == 0, "identity_invalidate drops the token");
out:
	identity_free(id);
	http_free(h);
	policy_free(p);
	canned_stop(&s);
}

/* One bad answer: what identity_token makes of it. */
struct bad_case {
	struct canned_reply reply;
	enum identity_err want;
	const char *detail; /* expected substring of the detail, or NULL */
	const char *what;
};

static void test_errors(void)
{
	static const struct bad_case cases[] = {
	    {{401, JSON,
	      "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client "
	      "secret provided. Ensure the secret being sent is the client secret value, not "
	      "the client secret ID.\",\"error_codes\":[7000215],\"timestamp\":\"2025-01-01\"}",
	      0, 0, 0},
	     IDENTITY_EREJECTED,
	     "HTTP 401 invalid_client AADSTS7000215",
	     "401 invalid_client"},
	    {{400, JSON,
	      "{\"error\":\"unauthorized_client\",\"error_description\":\"AADSTS700016: "
	      "Application not found\",\"error_codes\":[700016]}",
	      0, 0, 0},
	     IDENTITY_EREJECTED,
	     "HTTP 400 unauthorized_client AADSTS700016",
	     "400 unauthorized_client"},
	    {{503, NULL, "<html>Service Unavailable</html>", 0, 0, 0},
	     IDENTITY_EUNAVAILABLE,
	     "HTTP 503",
	     "503"},
	    {{429, JSON, "{\"error\":\"temporarily_unavailable\"}", 0, 0, 0},
	     IDENTITY_EUNAVAILABLE,
	     "HTTP 429 temporarily_unavailable",
	     "429"},
	    {{500, JSON, "{\"error\":\"server_error\",\"error_codes\":[50000]}", 0, 0, 0},
	     IDENTITY_EUNAVAILABLE,
	     "HTTP 500 server_error AADSTS50000",
	     "500"},
	    {{404, NULL, "<html>Not Found</html>", 0, 0, 0},
	     IDENTITY_EPROTO,
	     "HTTP 404 without an OAuth error",
	     "404 without an OAuth error"},
	    {{302, "Location: https://evil.example/\r\n", "", 0, 0, 0},
	     IDENTITY_EPROTO,
	     "HTTP 302",
	     "redirect not followed"},
	    {{200, NULL, "this is not json", 0, 0, 0}, IDENTITY_EPROTO, NULL, "garbage"},
	    {{200, JSON, "[1,2]", 0, 0, 0}, IDENTITY_EPROTO, NULL, "not an object"},
	    {{200, JSON, "{\"token_type\":\"Bearer\",\"expires_in\":3599}", 0, 0, 0},
	     IDENTITY_EPROTO,
	     "access_token",
	     "missing access_token"},
	    {{200, JSON, "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"\"}", 0,
	      0, 0},
	     IDENTITY_EPROTO,
	     "access_token",
	     "empty access_token"},
	    {{200, JSON, "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"a b\"}",
	      0, 0, 0},
	     IDENTITY_EPROTO,
	     "access_token",
	     "access_token with a space"},
	    {{200, JSON,
	      "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"a\\r\\nX: y\"}", 0,
	      0, 0},
	     IDENTITY_EPROTO,
	     "access_token",
	     "access_token with CRLF (header injection)"},
	    {{200, JSON, "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":7}", 0, 0,
	      0},
	     IDENTITY_EPROTO,
	     "access_token",
	     "access_token not a string"},
	    {{200, JSON, "{\"token_type\":\"pop\",\"expires_in\":3599,\"access_token\":\"abc\"}", 0,
	      0, 0},
	     IDENTITY_EPROTO,
	     "Bearer",
	     "token_type pop"},
	    {{200, JSON, "{\"expires_in\":3599,\"access_token\":\"abc\"}", 0, 0, 0},
	     IDENTITY_EPROTO,
	     "Bearer",
	     "token_type missing"},
	    {{200, JSON, "{\"token_type\":\"Bearer\",\"access_token\":\"abc\"}", 0, 0, 0},
	     IDENTITY_EPROTO,
	     "expires_in",
	     "expires_in missing"},
	    {{200, JSON, "{\"token_type\":\"Bearer\",\"expires_in\":0,\"access_token\":\"abc\"}", 0,
	      0, 0},
	     IDENTITY_EPROTO,
	     "expires_in",
	     "expires_in 0"},
	    {{200, JSON,
	      "{\"token_type\":\"Bearer\",\"expires_in\":999999,\"access_token\":\"abc\"}", 0, 0,
	      0},
	     IDENTITY_EPROTO,
	     "expires_in",
	     "expires_in too large"},
	    {{200, JSON,
	      "{\"token_type\":\"Bearer\",\"expires_in\":\"12x\",\"access_token\":\"abc\"}", 0, 0,
	      0},
	     IDENTITY_EPROTO,
	     "expires_in",
	     "expires_in not numeric"},
	    {{200, JSON,
	      "{\"token_type\":\"Bearer\",\"expires_in\":3599.5,\"access_token\":\"abc\"}", 0, 0,
	      0},
	     IDENTITY_EPROTO,
	     "expires_in",
	     "expires_in fractional"},
	    {{200, JSON,
	      "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"abc\"} x", 0, 0,
	      0},
	     IDENTITY_EPROTO,
	     NULL,
	     "trailing garbage after the JSON"},
	    {{200, JSON,
	      "{\"token_type\":\"Bearer\",\"expires_in\":\"3599\",\"access_token\":\"abc\"}", 0, 0,
	      0},
	     IDENTITY_OK,
	     NULL,
	     "expires_in as a string accepted"},
	    {{200, JSON,
	      "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"abc\"}\r\n", 0, 0,
	      0},
	     IDENTITY_OK,
	     NULL,
	     "trailing white space accepted"},
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct canned_reply tokens[N];
	struct http_options o = {NULL, 2000};
	struct canned_server s;
	struct identity *id = NULL;
	struct policy *p = NULL;
	struct http *h = NULL;
	const char *tok;
	char cfg[512], err[256], detail[256];
	enum identity_err e;

	for (size_t i = 0; i < N; i++)
		tokens[i] = cases[i].reply;
	if (canned_start(&s, NULL, 0, tokens, N) != 0)
		return;
	put("secret", SECRET);
	snprintf(cfg, sizeof(cfg),
	         "method = client_secret\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_secret_file = %s/secret\n",
	         dir);
	if ((p = load(s.port, cfg)) == NULL || http_new(&o, &h) != HTTP_OK ||
	    identity_new(p, h, &id, err, sizeof(err)) != IDENTITY_OK) {
		ok(0, "set up for the error cases");
		goto out;
	}
	for (size_t i = 0; i < N; i++) {
		identity_invalidate(id);
		tok = "stale";
		e = identity_token(id, &tok, detail, sizeof(detail));
		ok(e == cases[i].want && (e == IDENTITY_OK) == (tok != NULL) &&
		       (cases[i].detail == NULL || strstr(detail, cases[i].detail) != NULL),
		   "%s: %s, detail \"%s\"", cases[i].what, identity_strerror(e), detail);
		ok(strstr(detail, "Invalid client secret") == NULL &&
		       strstr(detail, "Application not found") == NULL &&
		       strstr(detail, "&=+") == NULL,
		   "%s: detail quotes neither error_description nor the secret", cases[i].what);
	}
	ok(canned_count(&s) == (int)N, "one request per case");
out:
	identity_free(id);
	http_free(h);
	policy_free(p);
	canned_stop(&s);
}

/* Timeouts and unreachable endpoints. */
static void test_transport(void)
{
	struct canned_reply tokens[] = {{200, JSON, OK_A, 1500, 0, 0}};
	struct http_options o = {NULL, 300};
	struct canned_server s;
	struct identity *id = NULL;
	struct policy *p = NULL;
	struct http *h = NULL;
	const char *tok;
	char cfg[512], err[256], detail[256];
	enum identity_err e;

	if (canned_start(&s, NULL, 0, tokens, 1) != 0)
		return;
	put("secret", SECRET);
	snprintf(cfg, sizeof(cfg),
	         "method = client_secret\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_secret_file = %s/secret\n",
	         dir);
	if ((p = load(s.port, cfg)) == NULL || http_new(&o, &h) != HTTP_OK ||
	    identity_new(p, h, &id, err, sizeof(err)) != IDENTITY_OK) {
		ok(0, "set up for the transport cases");
		goto out;
	}
	e = identity_token(id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_ETIMEOUT && tok == NULL, "slow endpoint: IDENTITY_ETIMEOUT (%s)", detail);
	identity_free(id);
	id = NULL;
	policy_free(p);
	canned_stop(&s);

	p = load(canned_dead_port(), cfg);
	if (p == NULL || identity_new(p, h, &id, err, sizeof(err)) != IDENTITY_OK) {
		ok(0, "set up for the refused case");
		goto out;
	}
	e = identity_token(id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_EUNAVAILABLE && tok == NULL,
	   "refused connection: IDENTITY_EUNAVAILABLE (%s)", detail);
out:
	identity_free(id);
	http_free(h);
	policy_free(p);
	canned_stop(&s);
}

/* A token shorter than twice the margin is used for half its life. */
static void test_short_token(void)
{
	struct canned_reply tokens[] = {
	    {200, JSON, "{\"token_type\":\"Bearer\",\"expires_in\":60,\"access_token\":\"abc\"}", 0,
	     0, 0},
	    {200, JSON, "{\"token_type\":\"Bearer\",\"expires_in\":60,\"access_token\":\"def\"}", 0,
	     0, 0},
	};
	struct http_options o = {NULL, 2000};
	struct canned_server s;
	struct identity *id = NULL;
	struct policy *p = NULL;
	struct http *h = NULL;
	const char *tok;
	char cfg[512], err[256], detail[256];
	time_t t0 = fake_now;

	if (canned_start(&s, NULL, 0, tokens, 2) != 0)
		return;
	snprintf(cfg, sizeof(cfg),
	         "method = client_secret\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_secret_file = %s/secret\n",
	         dir);
	if ((p = load(s.port, cfg)) == NULL || http_new(&o, &h) != HTTP_OK ||
	    identity_new(p, h, &id, err, sizeof(err)) != IDENTITY_OK) {
		ok(0, "set up for the short token");
		goto out;
	}
	identity_set_clock(id, fake_clock);
	identity_token(id, &tok, detail, sizeof(detail));
	fake_now = t0 + 29;
	identity_token(id, &tok, detail, sizeof(detail));
	ok(tok != NULL && strcmp(tok, "abc") == 0 && canned_count(&s) == 1,
	   "60 s token cached for 29 s");
	fake_now = t0 + 30;
	identity_token(id, &tok, detail, sizeof(detail));
	ok(tok != NULL && strcmp(tok, "def") == 0 && canned_count(&s) == 2,
	   "60 s token refreshed after 30 s");
out:
	fake_now = t0;
	identity_free(id);
	http_free(h);
	policy_free(p);
	canned_stop(&s);
}

/* method = auto, the environment, and what is refused at start. */
static void test_config(void)
{
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}, {200, JSON, OK_A, 0, 0, 0}};
	struct http_options o = {NULL, 2000};
	struct canned_server s;
	struct identity *id = NULL;
	struct policy *p = NULL;
	struct http *h = NULL;
	const char *tok;
	char cfg[512], err[256], detail[256], *req, *body;
	enum identity_err e;

	if (canned_start(&s, NULL, 0, tokens, 2) != 0)
		return;
	if (http_new(&o, &h) != HTTP_OK)
		goto out;
	unsetenv("AZURE_CLIENT_SECRET");
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");

	/* auto with nothing to go on: managed identity (IMDS), as
	 * DefaultAzureCredential ends with it */
	p = load(s.port, "method = auto\ntenant_id = " TENANT "\nclient_id = " CLIENT "\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_ECONFIG;
	ok(e == IDENTITY_OK && id != NULL &&
	       strcmp(identity_describe(id), "managed_identity (IMDS, user-assigned)") == 0,
	   "auto without any credential: managed identity through IMDS (%s)",
	   id != NULL ? identity_describe(id) : err);
	identity_free(id);
	id = NULL;
	policy_free(p);

	/* auto with AZURE_CLIENT_SECRET, tenant and client from the environment */
	setenv("AZURE_CLIENT_SECRET", SECRET_ENV, 1);
	setenv("AZURE_TENANT_ID", "contoso.onmicrosoft.com", 1);
	setenv("AZURE_CLIENT_ID", CLIENT, 1);
	p = load(s.port, "method = auto\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_ECONFIG;
	ok(e == IDENTITY_OK && id != NULL && strcmp(identity_describe(id), "client_secret") == 0,
	   "auto with AZURE_CLIENT_SECRET: client_secret (%s)", err);
	if (id != NULL) {
		e = identity_token(id, &tok, detail, sizeof(detail));
		ok(e == IDENTITY_OK, "token with the environment's secret");
		req = canned_request(&s, 0);
		ok(req != NULL &&
		       strncmp(req, "POST /contoso.onmicrosoft.com/oauth2/v2.0/token ", 48) == 0,
		   "tenant from AZURE_TENANT_ID");
		free(req);
		body = request_body(&s, 0);
		ok(form_is(body, "env-Secret%2B1"), "client_id from AZURE_CLIENT_ID, secret from "
		                                    "AZURE_CLIENT_SECRET");
		free(body);
	}
	identity_free(id);
	id = NULL;
	policy_free(p);

	/* the INI wins over the environment */
	put("secret", SECRET);
	snprintf(cfg, sizeof(cfg),
	         "method = auto\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_secret_file = %s/secret\n",
	         dir);
	setenv("AZURE_CLIENT_ID", "99999999-2222-3333-4444-555555555555", 1);
	p = load(s.port, cfg);
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_ECONFIG;
	ok(e == IDENTITY_OK, "auto with client_secret_file and the environment set");
	if (id != NULL && identity_token(id, &tok, detail, sizeof(detail)) == IDENTITY_OK) {
		req = canned_request(&s, 1);
		ok(req != NULL && strncmp(req, "POST /" TENANT "/", 7 + strlen(TENANT)) == 0,
		   "INI tenant_id wins over AZURE_TENANT_ID");
		free(req);
		body = request_body(&s, 1);
		ok(form_is(body, SECRET_FORM),
		   "INI client_id and secret file win over the environment");
		free(body);
	} else {
		ok(0, "token with INI settings");
	}
	identity_free(id);
	id = NULL;
	policy_free(p);

	/* auto with a secret but no tenant anywhere */
	unsetenv("AZURE_TENANT_ID");
	p = load(s.port, "method = auto\nclient_id = " CLIENT "\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_OK;
	ok(e == IDENTITY_ECONFIG && id == NULL && strstr(err, "tenant_id") != NULL,
	   "no tenant anywhere: ECONFIG (%s)", err);
	policy_free(p);

	/* a hostile tenant from the environment cannot change the URL path */
	setenv("AZURE_TENANT_ID", "../../evil", 1);
	p = load(s.port, "method = auto\nclient_id = " CLIENT "\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_OK;
	ok(e == IDENTITY_ECONFIG && id == NULL && strstr(err, "tenant_id") != NULL,
	   "AZURE_TENANT_ID ../../evil refused (%s)", err);
	policy_free(p);
	setenv("AZURE_TENANT_ID", TENANT, 1);

	/* the other methods refuse to start without their credential */
	unsetenv("AZURE_CLIENT_CERTIFICATE_PATH");
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	p = load(s.port, "method = workload_identity\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_OK;
	ok(e == IDENTITY_ECONFIG && id == NULL &&
	       strstr(err, "federated_token_file or AZURE_FEDERATED_TOKEN_FILE") != NULL,
	   "workload_identity without a token file: ECONFIG (%s)", err);
	policy_free(p);
	p = load(s.port, "method = client_certificate\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_OK;
	ok(e == IDENTITY_ECONFIG && id == NULL &&
	       strstr(err, "client_certificate_file or AZURE_CLIENT_CERTIFICATE_PATH") != NULL,
	   "client_certificate without a certificate: ECONFIG (%s)", err);
	policy_free(p);
	p = NULL;
	ok(strstr(err, SECRET_ENV) == NULL, "no message quotes the secret");
	ok(canned_count(&s) == 2, "refused configurations sent nothing");
	unsetenv("AZURE_CLIENT_SECRET");
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
out:
	identity_free(id);
	http_free(h);
	policy_free(p);
	canned_stop(&s);
}

/* ------------------------------------------------------------------ */
/* Issue 3: certificate, workload identity, managed identity, auto,     */
/* refresh ahead and failed refreshes.                                  */
/* ------------------------------------------------------------------ */

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* The request line App Service's endpoint must get. */
#define MSI_LINE                                                                                   \
	"GET /msi/token?resource=https%3A%2F%2Fvault.azure.net&api-version=2019-08-01 "            \
	"HTTP/1.1\r\n"
/* A day-long token as a managed identity endpoint sends it. */
#define TOKEN_MI "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJtaSJ9.c2lnTUk"

/* The value of form field name in body, percent-decoded; malloc'd or NULL. */
static char *form_field(const char *body, const char *name)
{
	size_t n = strlen(name), o = 0;
	const char *p = body;
	char *out;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			p += n + 1;
			if ((out = malloc(strlen(p) + 1)) == NULL)
				return NULL;
			while (*p != '\0' && *p != '&') {
				if (*p == '%' && p[1] != '\0' && p[2] != '\0') {
					char hex[3] = {p[1], p[2], 0};
					out[o++] = (char)strtol(hex, NULL, 16);
					p += 3;
				} else {
					out[o++] = *p++;
				}
			}
			out[o] = '\0';
			return out;
		}
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* Make dir/name: a self-signed certificate and its key (newkey is an
 * openssl -newkey argument: rsa:2048, ec -pkeyopt ...), cert first. */
static bool make_pem(const char *name, const char *newkey, bool with_key)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
	         "cd %s && openssl req -x509 -newkey %s -nodes -keyout %s.key -out %s.crt "
	         "-days 2 -subj /CN=kvgate-test >/dev/null 2>&1 && cat %s.crt %s > %s",
	         dir, newkey, name, name, name, with_key ? "" : "", name);
	if (with_key)
		snprintf(cmd, sizeof(cmd),
		         "cd %s && openssl req -x509 -newkey %s -nodes -keyout %s.key -out %s.crt "
		         "-days 2 -subj /CN=kvgate-test >/dev/null 2>&1 && cat %s.crt %s.key > %s",
		         dir, newkey, name, name, name, name, name);
	return system(cmd) == 0;
}

/* The certificate in dir/name, or NULL. */
static X509 *read_cert(const char *name)
{
	char path[256];
	X509 *x = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	return x;
}

/* base64url of the md digest of x's DER encoding (malloc'd). */
static char *thumb(X509 *x, const EVP_MD *md)
{
	unsigned char *der = NULL, d[EVP_MAX_MD_SIZE];
	unsigned int dn = 0;
	int n = i2d_X509(x, &der);
	char *out = NULL;

	if (n > 0 && EVP_Digest(der, (size_t)n, d, &dn, md, NULL) == 1)
		out = base64url_encode(d, dn);
	OPENSSL_free(der);
	return out;
}

/* Decode one base64url JWT segment of length n into a JSON object. */
static struct json_object *jwt_part(const char *p, size_t n)
{
	char *seg = strndup(p, n);
	unsigned char *raw;
	struct json_object *j = NULL;
	size_t len;

	if (seg != NULL && (raw = base64url_decode(seg, 8192, &len)) != NULL) {
		j = json_tokener_parse((const char *)raw);
		free(raw);
	}
	free(seg);
	return j;
}

/* The string member key of j ("" when absent). */
static const char *jstr(struct json_object *j, const char *key)
{
	struct json_object *v;

	if (j != NULL && json_object_object_get_ex(j, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

/* The integer member key of j (-1 when absent). */
static long long jint(struct json_object *j, const char *key)
{
	struct json_object *v;

	if (j != NULL && json_object_object_get_ex(j, key, &v) &&
	    json_object_is_type(v, json_type_int))
		return (long long)json_object_get_int64(v);
	return -1;
}

/* Whether sig (base64url) is an RS256 signature of the n bytes at data by
 * x's key. */
static bool rs256_ok(X509 *x, const char *data, size_t n, const char *sig64)
{
	EVP_PKEY *pub = X509_get0_pubkey(x);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig;
	size_t slen;
	bool good = false;

	if (ctx != NULL && pub != NULL && (sig = base64url_decode(sig64, 4096, &slen)) != NULL) {
		good = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
		       EVP_DigestVerify(ctx, sig, slen, (const unsigned char *)data, n) == 1;
		free(sig);
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return good;
}

/* A policy, http handle and identity for one case; NULLs on failure. */
struct rig {
	struct policy *p;
	struct http *h;
	struct identity *id;
	char err[512];
};

static bool rig_up(struct rig *r, int port, const char *cfg, long timeout_ms)
{
	struct http_options o = {NULL, timeout_ms};

	memset(r, 0, sizeof(*r));
	if ((r->p = load(port, cfg)) == NULL || http_new(&o, &r->h) != HTTP_OK)
		return false;
	if (identity_new(r->p, r->h, &r->id, r->err, sizeof(r->err)) != IDENTITY_OK)
		return false;
	identity_set_clock(r->id, fake_clock);
	return true;
}

static void rig_down(struct rig *r)
{
	identity_free(r->id);
	http_free(r->h);
	policy_free(r->p);
	memset(r, 0, sizeof(*r));
}

/* The certificate credential: the JWT's structure, thumbprints, claims and
 * signature, checked with libcrypto against the certificate's public key;
 * a new JWT (jti) per request; aud follows identity_use_tenant(). */
static void test_certificate(void)
{
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}, {200, JSON, OK_B, 0, 0, 0}};
	struct canned_server s;
	struct rig r;
	char cfg[512], aud[256], *body = NULL, *jwt = NULL, *jwt2 = NULL, *type = NULL;
	struct json_object *hdr = NULL, *claims = NULL;
	char *x5t = NULL, *x5t256 = NULL;
	X509 *cert = NULL;
	const char *tok, *d1, *d2;
	char detail[256];
	time_t t0 = fake_now;

	if (!make_pem("client.pem", "rsa:2048", true) || (cert = read_cert("client.pem")) == NULL) {
		ok(0, "openssl made a test certificate");
		return;
	}
	x5t = thumb(cert, EVP_sha1());
	x5t256 = thumb(cert, EVP_sha256());
	if (canned_start(&s, NULL, 0, tokens, 2) != 0)
		goto out;
	unsetenv("AZURE_CLIENT_SECRET");
	snprintf(cfg, sizeof(cfg),
	         "method = client_certificate\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_certificate_file = %s/client.pem\n",
	         dir);
	if (!rig_up(&r, s.port, cfg, 2000)) {
		ok(0, "client_certificate identity: %s", r.err);
		rig_down(&r);
		canned_stop(&s);
		goto out;
	}
	ok(strcmp(identity_describe(r.id), "client_certificate") == 0,
	   "describe: client_certificate");
	ok(identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_OK && tok != NULL &&
	       strcmp(tok, TOKEN_A) == 0,
	   "token with a certificate (%s)", detail);
	body = request_body(&s, 0);
	type = body != NULL ? form_field(body, "client_assertion_type") : NULL;
	jwt = body != NULL ? form_field(body, "client_assertion") : NULL;
	ok(body != NULL &&
	       strncmp(body, "client_id=" CLIENT "&scope=", 10 + strlen(CLIENT) + 7) == 0 &&
	       strstr(body, "&grant_type=client_credentials&") != NULL &&
	       strstr(body, "client_secret") == NULL,
	   "form: client_id, scope, grant_type, no client_secret");
	ok(type != NULL &&
	       strcmp(type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") == 0,
	   "client_assertion_type is jwt-bearer");
	if (jwt != NULL) {
		d1 = strchr(jwt, '.');
		d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
		ok(d1 != NULL && d2 != NULL && strchr(d2 + 1, '.') == NULL,
		   "client_assertion is a compact JWS (three segments)");
		if (d1 != NULL && d2 != NULL) {
			hdr = jwt_part(jwt, (size_t)(d1 - jwt));
			claims = jwt_part(d1 + 1, (size_t)(d2 - d1 - 1));
			ok(strcmp(jstr(hdr, "alg"), "RS256") == 0 &&
			       strcmp(jstr(hdr, "typ"), "JWT") == 0,
			   "header alg RS256, typ JWT");
			ok(x5t256 != NULL && strcmp(jstr(hdr, "x5t#S256"), x5t256) == 0,
			   "header x5t#S256 is base64url(SHA-256 of the DER certificate)");
			ok(x5t != NULL && strcmp(jstr(hdr, "x5t"), x5t) == 0,
			   "header x5t is base64url(SHA-1 of the DER certificate)");
			snprintf(aud, sizeof(aud),
			         "http://127.0.0.1:%d/" TENANT "/oauth2/v2.0/token", s.port);
			ok(strcmp(jstr(claims, "aud"), aud) == 0,
			   "claim aud is the token endpoint");
			ok(strcmp(jstr(claims, "iss"), CLIENT) == 0 &&
			       strcmp(jstr(claims, "sub"), CLIENT) == 0,
			   "claims iss = sub = client_id");
			ok(strlen(jstr(claims, "jti")) == 36, "claim jti is a UUID");
			ok(jint(claims, "nbf") == (long long)t0 &&
			       jint(claims, "iat") == (long long)t0 &&
			       jint(claims, "exp") == (long long)t0 + 600,
			   "claims nbf = iat = now, exp = now + 10 min");
			ok(rs256_ok(cert, jwt, (size_t)(d2 - jwt), d2 + 1),
			   "RS256 signature verifies with the certificate's public key");
			ok(!rs256_ok(cert, jwt, (size_t)(d2 - jwt) - 1, d2 + 1),
			   "the check is real: a changed input does not verify");
		}
	} else {
		ok(0, "client_assertion in the form");
	}
	ok(identity_use_tenant(r.id, "contoso.onmicrosoft.com") == IDENTITY_OK &&
	       identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_OK,
	   "identity_use_tenant works for client_certificate");
	free(body);
	body = request_body(&s, 1);
	jwt2 = body != NULL ? form_field(body, "client_assertion") : NULL;
	json_object_put(claims);
	claims = NULL;
	if (jwt2 != NULL && (d1 = strchr(jwt2, '.')) != NULL && (d2 = strchr(d1 + 1, '.')) != NULL)
		claims = jwt_part(d1 + 1, (size_t)(d2 - d1 - 1));
	snprintf(aud, sizeof(aud), "http://127.0.0.1:%d/contoso.onmicrosoft.com/oauth2/v2.0/token",
	         s.port);
	ok(claims != NULL && strcmp(jstr(claims, "aud"), aud) == 0,
	   "after identity_use_tenant the JWT's aud is the new tenant's endpoint");
	ok(jwt != NULL && jwt2 != NULL && strcmp(jwt, jwt2) != 0, "a fresh JWT per request");
	rig_down(&r);
	canned_stop(&s);
out:
	json_object_put(hdr);
	json_object_put(claims);
	free(body);
	free(type);
	free(jwt);
	free(jwt2);
	free(x5t);
	free(x5t256);
	X509_free(cert);
}

/* What is refused at start for a certificate, and the environment. */
static void test_certificate_config(void)
{
	struct canned_reply tokens[] = {{200, JSON, OK_A, 0, 0, 0}};
	struct canned_server s;
	struct rig r;
	char cfg[512], path[256];
	const char *tok;
	char detail[256], *body;

	if (canned_start(&s, NULL, 0, tokens, 1) != 0)
		return;
	unsetenv("AZURE_CLIENT_SECRET");
	/* a certificate without its key */
	make_pem("nokey.pem", "rsa:2048", false);
	snprintf(cfg, sizeof(cfg),
	         "method = client_certificate\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_certificate_file = %s/nokey.pem\n",
	         dir);
	ok(!rig_up(&r, s.port, cfg, 2000) && r.id == NULL &&
	       strstr(r.err, "no private key") != NULL,
	   "certificate without a key: refused (%s)", r.err);
	rig_down(&r);
	/* a key that belongs to another certificate */
	make_pem("other.pem", "rsa:2048", true);
	snprintf(cfg, sizeof(cfg), "cd %s && cat nokey.pem.crt other.pem.key > mismatch.pem", dir);
	if (system(cfg) != 0)
		ok(0, "made mismatch.pem");
	snprintf(cfg, sizeof(cfg),
	         "method = client_certificate\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_certificate_file = %s/mismatch.pem\n",
	         dir);
	ok(!rig_up(&r, s.port, cfg, 2000) && strstr(r.err, "does not match") != NULL,
	   "key of another certificate: refused (%s)", r.err);
	rig_down(&r);
	/* an EC key cannot sign RS256 */
	make_pem("ec.pem", "ec -pkeyopt ec_paramgen_curve:P-256", true);
	snprintf(cfg, sizeof(cfg),
	         "method = client_certificate\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_certificate_file = %s/ec.pem\n",
	         dir);
	ok(!rig_up(&r, s.port, cfg, 2000) && strstr(r.err, "not an RSA key") != NULL,
	   "EC key: refused (%s)", r.err);
	rig_down(&r);
	/* key first, then certificate; from AZURE_CLIENT_CERTIFICATE_PATH */
	snprintf(cfg, sizeof(cfg), "cd %s && cat client.pem.key client.pem.crt > keyfirst.pem",
	         dir);
	if (system(cfg) != 0)
		ok(0, "made keyfirst.pem");
	snprintf(path, sizeof(path), "%s/keyfirst.pem", dir);
	setenv("AZURE_CLIENT_CERTIFICATE_PATH", path, 1);
	ok(rig_up(&r, s.port,
	          "method = client_certificate\ntenant_id = " TENANT "\nclient_id = " CLIENT "\n",
	          2000) &&
	       identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_OK,
	   "AZURE_CLIENT_CERTIFICATE_PATH, key before certificate: token (%s)", r.err);
	body = request_body(&s, 0);
	ok(body != NULL && strstr(body, "client_assertion=") != NULL, "sent an assertion");
	free(body);
	rig_down(&r);
	unsetenv("AZURE_CLIENT_CERTIFICATE_PATH");
	canned_stop(&s);
}

/* Workload identity: the file is the assertion, re-read when the copy is
 * over 5 minutes old (by the injected clock), and after a refusal;
 * AZURE_* variables and an AZURE_AUTHORITY_HOST with a trailing '/'. */
static void test_workload(void)
{
	struct canned_reply tokens[] = {
	    {200, JSON, OK_A, 0, 0, 0},
	    {200, JSON, OK_A, 0, 0, 0},
	    {200, JSON, OK_A, 0, 0, 0},
	    {401, JSON, "{\"error\":\"invalid_client\",\"error_codes\":[700024]}", 0, 0, 0},
	    {200, JSON, OK_A, 0, 0, 0},
	    {200, JSON, OK_A, 0, 0, 0},
	};
	struct canned_server s;
	struct rig r;
	char cfg[512], path[256], env[128], *body, *a;
	const char *tok;
	char detail[256];
	time_t t0 = fake_now;

	if (canned_start(&s, NULL, 0, tokens, 6) != 0)
		return;
	put("federated", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbmUifQ.c2lnMQ\n");
	snprintf(cfg, sizeof(cfg),
	         "method = workload_identity\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nfederated_token_file = %s/federated\n",
	         dir);
	if (!rig_up(&r, s.port, cfg, 2000)) {
		ok(0, "workload identity: %s", r.err);
		goto out;
	}
	ok(strcmp(identity_describe(r.id), "workload_identity") == 0,
	   "describe: workload_identity");
	identity_token(r.id, &tok, detail, sizeof(detail));
	body = request_body(&s, 0);
	a = body != NULL ? form_field(body, "client_assertion") : NULL;
	ok(a != NULL && strcmp(a, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbmUifQ.c2lnMQ") == 0 &&
	       strstr(body, "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-"
	                    "type%3Ajwt-bearer") != NULL,
	   "the file's token (trimmed) is the client assertion, jwt-bearer type");
	free(a);
	free(body);
	put("federated", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0d28ifQ.c2lnMg");
	fake_now = t0 + 300;
	identity_invalidate(r.id);
	identity_token(r.id, &tok, detail, sizeof(detail));
	body = request_body(&s, 1);
	ok(body != NULL && strstr(body, "c2lnMQ") != NULL, "a copy 5 minutes old is still used");
	free(body);
	fake_now = t0 + 301;
	identity_invalidate(r.id);
	identity_token(r.id, &tok, detail, sizeof(detail));
	body = request_body(&s, 2);
	ok(body != NULL && strstr(body, "c2lnMg") != NULL,
	   "over 5 minutes old: the file is read again (rotation)");
	free(body);
	put("federated", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0aHJlZSJ9.c2lnMw");
	identity_invalidate(r.id);
	ok(identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_OK &&
	       canned_count(&s) == 5,
	   "refused assertion, file rotated meanwhile: read again and sent at once (%s)", detail);
	body = request_body(&s, 3);
	ok(body != NULL && strstr(body, "c2lnMg") != NULL, "the refused request had the old token");
	free(body);
	body = request_body(&s, 4);
	ok(body != NULL && strstr(body, "c2lnMw") != NULL, "the retry has the rotated token");
	free(body);
	rig_down(&r);

	/* everything from the environment; authority with a trailing '/' */
	snprintf(path, sizeof(path), "%s/federated", dir);
	setenv("AZURE_FEDERATED_TOKEN_FILE", path, 1);
	setenv("AZURE_TENANT_ID", TENANT, 1);
	setenv("AZURE_CLIENT_ID", CLIENT, 1);
	snprintf(env, sizeof(env), "http://127.0.0.1:%d/", s.port);
	setenv("AZURE_AUTHORITY_HOST", env, 1);
	ok(rig_up(&r, s.port, "method = auto\nauthority_host = https://login.microsoftonline.com\n",
	          2000) &&
	       strcmp(identity_describe(r.id), "workload_identity") == 0 &&
	       identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_OK,
	   "auto with AZURE_FEDERATED_TOKEN_FILE: workload identity, token (%s%s)", r.err, detail);
	body = canned_request(&s, 5);
	ok(body != NULL &&
	       strncmp(body, "POST /" TENANT "/oauth2/v2.0/token ", 6 + strlen(TENANT) + 19) == 0,
	   "AZURE_AUTHORITY_HOST with a trailing '/' gives a clean token URL");
	free(body);
	rig_down(&r);
	unsetenv("AZURE_AUTHORITY_HOST");
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");

	/* a missing token file stops the start */
	snprintf(cfg, sizeof(cfg),
	         "method = workload_identity\ntenant_id = " TENANT "\nclient_id = " CLIENT "\n");
	setenv("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/kvgate-token", 1);
	ok(!rig_up(&r, s.port, cfg, 2000) && strstr(r.err, "/nonexistent/kvgate-token") != NULL,
	   "unreadable AZURE_FEDERATED_TOKEN_FILE: refused at start (%s)", r.err);
	rig_down(&r);
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
out:
	fake_now = t0;
	canned_stop(&s);
}

/* App Service managed identity: the request's shape, expires_on as a
 * string, the 24 h token refreshed at half-life, user-assigned client_id. */
static void test_managed_appservice(void)
{
	char ok_mi[512], url[128];
	struct canned_reply main_script[3];
	struct canned_server s;
	struct rig r;
	const char *tok;
	char detail[256], *req;
	time_t t0 = fake_now;

	snprintf(ok_mi, sizeof(ok_mi),
	         "{\"access_token\":\"" TOKEN_MI "\",\"expires_on\":\"%lld\",\"resource\":"
	         "\"https://vault.azure.net\",\"token_type\":\"Bearer\",\"client_id\":\"" CLIENT
	         "\"}",
	         (long long)t0 + 86400);
	for (int i = 0; i < 3; i++)
		main_script[i] = (struct canned_reply){200, JSON, ok_mi, 0, 0, 0};
	if (canned_start(&s, main_script, 3, NULL, 0) != 0)
		return;
	unsetenv("AZURE_CLIENT_ID");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/msi/token", s.port);
	setenv("IDENTITY_ENDPOINT", url, 1);
	setenv("IDENTITY_HEADER", "hdr-0123456789", 1);
	if (!rig_up(&r, s.port, "method = managed_identity\n", 2000)) {
		ok(0, "managed identity (App Service): %s", r.err);
		goto out;
	}
	ok(strcmp(identity_describe(r.id), "managed_identity (App Service)") == 0,
	   "describe: managed_identity (App Service)");
	ok(identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_OK && tok != NULL &&
	       strcmp(tok, TOKEN_MI) == 0,
	   "App Service token, expires_on as a string (%s)", detail);
	req = canned_request(&s, 0);
	ok(req != NULL && strncmp(req, MSI_LINE, strlen(MSI_LINE)) == 0,
	   "GET {IDENTITY_ENDPOINT}?resource=https://vault.azure.net&api-version=2019-08-01");
	ok(req != NULL && strstr(req, "\r\nX-IDENTITY-HEADER: hdr-0123456789\r\n") != NULL &&
	       strstr(req, "Metadata:") == NULL,
	   "X-IDENTITY-HEADER sent, no Metadata header");
	free(req);
	fake_now = t0 + 43199;
	identity_token(r.id, &tok, detail, sizeof(detail));
	ok(canned_count(&s) == 1, "24 h token still cached just before half-life");
	fake_now = t0 + 43200;
	identity_token(r.id, &tok, detail, sizeof(detail));
	ok(canned_count(&s) == 2, "24 h token refreshed at half-life (12 h)");
	ok(identity_use_tenant(r.id, TENANT) == IDENTITY_ECONFIG,
	   "identity_use_tenant: managed identity has no tenant");
	rig_down(&r);
	fake_now = t0;

	ok(rig_up(&r, s.port, "method = managed_identity\nclient_id = " CLIENT "\n", 2000) &&
	       strcmp(identity_describe(r.id), "managed_identity (App Service, user-assigned)") ==
	           0 &&
	       identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_OK,
	   "user-assigned App Service identity");
	req = canned_request(&s, 2);
	ok(req != NULL &&
	       strstr(req, "&api-version=2019-08-01&client_id=" CLIENT " HTTP/1.1") != NULL,
	   "client_id selects the user-assigned identity");
	free(req);
	rig_down(&r);
out:
	fake_now = t0;
	unsetenv("IDENTITY_ENDPOINT");
	unsetenv("IDENTITY_HEADER");
	canned_stop(&s);
}

/* IMDS: the request's shape, numbers as strings, retries on 404, 429 and
 * 5xx within the budget, none on 400; plain http to 169.254.169.254 allowed
 * only during the identity's own call. */
static void test_managed_imds(void)
{
	char ok_mi[512], cfg[256];
	struct canned_reply tokens[10];
	struct canned_server s;
	struct rig r;
	struct http_response resp = {0};
	const char *tok;
	char detail[256], *req;
	long t;
	int n = 0;

	snprintf(ok_mi, sizeof(ok_mi),
	         "{\"access_token\":\"" TOKEN_MI "\",\"client_id\":\"" CLIENT "\",\"expires_in\":"
	         "\"86399\",\"expires_on\":\"%lld\",\"ext_expires_in\":\"86399\",\"not_before\":"
	         "\"%lld\",\"resource\":\"https://vault.azure.net\",\"token_type\":\"Bearer\"}",
	         (long long)fake_now + 86399, (long long)fake_now);
	tokens[n++] = (struct canned_reply){404, JSON, "{\"error\":\"not_found\"}", 0, 0, 0};
	tokens[n++] = (struct canned_reply){429, JSON, "{\"error\":\"throttled\"}", 0, 0, 0};
	tokens[n++] = (struct canned_reply){503, NULL, "busy", 0, 0, 0};
	tokens[n++] = (struct canned_reply){200, JSON, ok_mi, 0, 0, 0};
	tokens[n++] = (struct canned_reply){
	    400,
	    JSON,
	    "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}",
	    0,
	    0,
	    0};
	for (int i = 0; i < 4; i++)
		tokens[n++] = (struct canned_reply){500, NULL, "down", 0, 0, 0};
	if (canned_start(&s, NULL, 0, tokens, (size_t)n) != 0)
		return;
	unsetenv("IDENTITY_ENDPOINT");
	unsetenv("IDENTITY_HEADER");
	unsetenv("AZURE_CLIENT_ID");
	snprintf(cfg, sizeof(cfg),
	         "method = managed_identity\nmanaged_identity_endpoint = "
	         "http://127.0.0.1:%d/metadata/identity/oauth2/token\n",
	         s.port);
	if (!rig_up(&r, s.port, cfg, 3000)) {
		ok(0, "managed identity (IMDS): %s", r.err);
		goto out;
	}
	ok(strcmp(identity_describe(r.id), "managed_identity (IMDS, managed_identity_endpoint)") ==
	       0,
	   "describe: %s", identity_describe(r.id));
	t = canned_now_ms();
	ok(identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_OK && tok != NULL &&
	       strcmp(tok, TOKEN_MI) == 0 && canned_count(&s) == 4,
	   "404, 429 and 503 retried, then the token (numbers as strings) (%s)", detail);
	t = canned_now_ms() - t;
	ok(t >= 1400 && t < 2500, "backoff 200, 400, 800 ms (%ld ms)", t);
	ok(identity_requests(r.id) == 4, "every try counts as a token request");
	req = canned_request(&s, 0);
	ok(req != NULL &&
	       strncmp(
	           req,
	           "GET "
	           "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%"
	           "2Fvault.azure.net HTTP/1.1\r\n",
	           104) == 0,
	   "GET {endpoint}?api-version=2018-02-01&resource=https://vault.azure.net");
	ok(req != NULL && strstr(req, "\r\nMetadata: true\r\n") != NULL &&
	       strstr(req, "X-IDENTITY-HEADER") == NULL,
	   "Metadata: true sent");
	free(req);
	fake_now += 43199;
	identity_token(r.id, &tok, detail, sizeof(detail));
	ok(canned_count(&s) == 4, "IMDS 24 h token cached until half-life");
	fake_now += 1;
	identity_invalidate(r.id);
	ok(identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_EREJECTED &&
	       canned_count(&s) == 5 && strstr(detail, "Identity not found") == NULL,
	   "400 is not retried: IDENTITY_EREJECTED (%s)", detail);
	rig_down(&r);

	/* a budget too small for every retry: stop in time */
	if (!rig_up(&r, s.port, cfg, 500)) {
		ok(0, "managed identity (IMDS) with 500 ms");
		goto out;
	}
	t = canned_now_ms();
	ok(identity_token(r.id, &tok, detail, sizeof(detail)) == IDENTITY_EUNAVAILABLE,
	   "5xx until the budget is spent: IDENTITY_EUNAVAILABLE (%s)", detail);
	t = canned_now_ms() - t;
	ok(t < 700 && canned_count(&s) == 7,
	   "retries stay within the 500 ms budget (%ld ms, %d calls)", t, canned_count(&s) - 5);
	rig_down(&r);

	/* the real IMDS address: allowed for the identity's call only */
	if (!rig_up(&r, s.port, "method = managed_identity\n", 300)) {
		ok(0, "managed identity (IMDS default)");
		goto out;
	}
	ok(strcmp(r.id->mi_url,
	          "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&"
	          "resource=https%3A%2F%2Fvault.azure.net") == 0,
	   "IMDS default URL");
	ok(identity_token(r.id, &tok, detail, sizeof(detail)) != IDENTITY_ECONFIG,
	   "the identity may call http://169.254.169.254 (%s)", detail);
	ok(http_request(r.h, "GET", "http://169.254.169.254/metadata/instance", NULL, NULL, 1024,
	                &resp) == HTTP_EURL,
	   "after it, the shared handle refuses http://169.254.169.254 again");
	http_response_free(&resp);
	rig_down(&r);
out:
	canned_stop(&s);
}

/* method = auto: DefaultAzureCredential's order, INI before environment. */
static void test_auto_order(void)
{
	static const char *const vars[] = {
	    "AZURE_CLIENT_SECRET",
	    "AZURE_CLIENT_CERTIFICATE_PATH",
	    "AZURE_FEDERATED_TOKEN_FILE",
	    "IDENTITY_ENDPOINT",
	    "IDENTITY_HEADER",
	    "AZURE_TENANT_ID",
	    "AZURE_CLIENT_ID",
	};
	struct rig r;
	char cert[256], fed[256], cfg[512];
	int port = canned_dead_port();

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	snprintf(cert, sizeof(cert), "%s/client.pem", dir);
	snprintf(fed, sizeof(fed), "%s/federated", dir);
	setenv("AZURE_TENANT_ID", TENANT, 1);
	setenv("AZURE_CLIENT_ID", CLIENT, 1);

	setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token", 1);
	setenv("IDENTITY_HEADER", "h", 1);
	ok(rig_up(&r, port, "method = auto\n", 1000) &&
	       strcmp(identity_describe(r.id), "managed_identity (App Service, user-assigned)") ==
	           0,
	   "auto, IDENTITY_ENDPOINT + IDENTITY_HEADER: App Service managed identity (%s)", r.err);
	rig_down(&r);
	setenv("AZURE_FEDERATED_TOKEN_FILE", fed, 1);
	ok(rig_up(&r, port, "method = auto\n", 1000) &&
	       strcmp(identity_describe(r.id), "workload_identity") == 0,
	   "auto: workload identity before managed identity");
	rig_down(&r);
	setenv("AZURE_CLIENT_CERTIFICATE_PATH", cert, 1);
	ok(rig_up(&r, port, "method = auto\n", 1000) &&
	       strcmp(identity_describe(r.id), "client_certificate") == 0,
	   "auto: certificate before workload identity");
	rig_down(&r);
	setenv("AZURE_CLIENT_SECRET", SECRET_ENV, 1);
	ok(rig_up(&r, port, "method = auto\n", 1000) &&
	       strcmp(identity_describe(r.id), "client_secret") == 0,
	   "auto: client secret first");
	rig_down(&r);
	/* INI keys win over every variable */
	snprintf(cfg, sizeof(cfg), "method = auto\nfederated_token_file = %s\n", fed);
	ok(rig_up(&r, port, cfg, 1000) && strcmp(identity_describe(r.id), "workload_identity") == 0,
	   "auto: INI federated_token_file wins over AZURE_CLIENT_SECRET");
	rig_down(&r);
	snprintf(cfg, sizeof(cfg), "method = auto\nclient_certificate_file = %s\n", cert);
	ok(rig_up(&r, port, cfg, 1000) &&
	       strcmp(identity_describe(r.id), "client_certificate") == 0,
	   "auto: INI client_certificate_file wins over AZURE_CLIENT_SECRET");
	rig_down(&r);
	ok(rig_up(&r, port,
	          "method = auto\nmanaged_identity_endpoint = http://127.0.0.1:9/metadata/identity/"
	          "oauth2/token\nclient_id = 22222222-2222-3333-4444-555555555555\n",
	          1000) &&
	       strcmp(identity_describe(r.id),
	              "managed_identity (App Service, managed_identity_endpoint, user-assigned)") ==
	           0 &&
	       strstr(r.id->mi_url, "client_id=22222222-2222-3333-4444-555555555555") != NULL,
	   "auto: INI managed_identity_endpoint wins; INI client_id over AZURE_CLIENT_ID (%s)",
	   r.id != NULL ? identity_describe(r.id) : r.err);
	rig_down(&r);
	/* a bad variable is named */
	unsetenv("AZURE_CLIENT_SECRET");
	unsetenv("AZURE_CLIENT_CERTIFICATE_PATH");
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	setenv("IDENTITY_ENDPOINT", "http://evil.example/msi/token", 1);
	ok(!rig_up(&r, port, "method = auto\n", 1000) &&
	       strstr(r.err, "IDENTITY_ENDPOINT") != NULL &&
	       strstr(r.err, "method = auto chose managed_identity") != NULL,
	   "auto: plain http IDENTITY_ENDPOINT off loopback refused (%s)", r.err);
	rig_down(&r);
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

/* Refresh ahead, and a failing refresh: the old token goes on being used
 * while valid, with a backoff between tries (30 s, then 60 s); past its
 * validity the error comes through. */
static void test_refresh_failure(void)
{
	static const char ok_day[] =
	    "{\"token_type\":\"Bearer\",\"expires_in\":86399,\"access_token\":\"" TOKEN_B "\"}";
	struct canned_reply tokens[] = {
	    {200, JSON, OK_A, 0, 0, 0}, {503, NULL, "down", 0, 0, 0}, {503, NULL, "down", 0, 0, 0},
	    {200, JSON, OK_B, 0, 0, 0}, {503, NULL, "down", 0, 0, 0}, {200, JSON, ok_day, 0, 0, 0},
	    {200, JSON, OK_A, 0, 0, 0},
	};
	struct canned_server s;
	struct rig r;
	char cfg[512], detail[256];
	const char *tok;
	enum identity_err e;
	time_t t0 = fake_now, t1;

	if (canned_start(&s, NULL, 0, tokens, 7) != 0)
		return;
	put("secret", SECRET);
	snprintf(cfg, sizeof(cfg),
	         "method = client_secret\ntenant_id = " TENANT "\nclient_id = " CLIENT
	         "\nclient_secret_file = %s/secret\n",
	         dir);
	if (!rig_up(&r, s.port, cfg, 2000)) {
		ok(0, "set up for refresh failures: %s", r.err);
		goto out;
	}
	identity_token(r.id, &tok, detail, sizeof(detail));
	fake_now = t0 + 3299;
	e = identity_token(r.id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_OK && tok != NULL && strcmp(tok, TOKEN_A) == 0 && canned_count(&s) == 2,
	   "1 h token: refresh 5 min ahead fails, the old token is used");
	fake_now = t0 + 3299 + 29;
	identity_token(r.id, &tok, detail, sizeof(detail));
	ok(canned_count(&s) == 2, "no new try for 30 s");
	fake_now = t0 + 3299 + 30;
	e = identity_token(r.id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_OK && strcmp(tok, TOKEN_A) == 0 && canned_count(&s) == 3,
	   "tried again after 30 s, fails again, old token still used");
	fake_now = t0 + 3299 + 30 + 59;
	identity_token(r.id, &tok, detail, sizeof(detail));
	ok(canned_count(&s) == 3, "then no new try for 60 s (backoff doubles)");
	fake_now = t0 + 3299 + 30 + 60;
	e = identity_token(r.id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_OK && strcmp(tok, TOKEN_B) == 0 && canned_count(&s) == 4,
	   "the next try succeeds: the new token");
	t1 = fake_now;
	/* TOKEN_B: 3599 s from t1; refresh at t1 + 3299 fails; valid until
	 * t1 + 3569 */
	fake_now = t1 + 3299;
	identity_token(r.id, &tok, detail, sizeof(detail));
	ok(canned_count(&s) == 5, "after a success the backoff starts again at 30 s");
	fake_now = t1 + 3569;
	e = identity_token(r.id, &tok, detail, sizeof(detail));
	ok(e == IDENTITY_OK && tok != NULL && strcmp(tok, TOKEN_B) == 0 && canned_count(&s) == 6,
	   "at the end of validity a fetch is forced (24 h token now)");
	t1 = fake_now;
	fake_now = t1 + 43199;
	identity_token(r.id, &tok, detail, sizeof(detail));
	ok(canned_count(&s) == 6, "24 h token from the token endpoint cached until half-life");
	fake_now = t1 + 43200;
	identity_token(r.id, &tok, detail, sizeof(detail));
	ok(canned_count(&s) == 7, "24 h token refreshed at half-life");
	rig_down(&r);
	canned_stop(&s);

	/* no valid token and the endpoint down: the error comes through */
	{
		struct canned_reply down[] = {{200, JSON, OK_A, 0, 0, 0},
		                              {503, NULL, "down", 0, 0, 0}};

		if (canned_start(&s, NULL, 0, down, 2) != 0)
			goto done;
		fake_now = t0;
		if (!rig_up(&r, s.port, cfg, 2000)) {
			ok(0, "set up for an expired token");
			goto out;
		}
		identity_token(r.id, &tok, detail, sizeof(detail));
		fake_now = t0 + 3569;
		tok = "stale";
		e = identity_token(r.id, &tok, detail, sizeof(detail));
		ok(e == IDENTITY_EUNAVAILABLE && tok == NULL && r.id->token == NULL,
		   "expired token and a failing refresh: IDENTITY_EUNAVAILABLE, no token (%s)",
		   detail);
		rig_down(&r);
	}
out:
	canned_stop(&s);
done:
	fake_now = t0;
}

int main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_form_encoding();
	test_strerror();
	test_token_and_cache();
	test_errors();
	test_transport();
	test_short_token();
	test_config();
	test_certificate();
	test_certificate_config();
	test_workload();
	test_managed_appservice();
	test_managed_imds();
	test_auto_order();
	test_refresh_failure();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
