/*
 * test_identity: client credentials with a client secret, against a canned
 * token endpoint on 127.0.0.1.
 *
 * Pins down: the exact token request (path, form fields, a secret full of
 * form metacharacters arriving intact), the cache (no second request; a new
 * one IDENTITY_REFRESH_MARGIN before expiry, by an injected clock), the
 * mapping of every kind of failure, that a detail never quotes the secret or
 * the error description, and the configuration rules (auto, INI before
 * environment, methods not implemented yet). Nothing secret is printed: the
 * test compares, it never shows a token or the secret.
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

	/* auto with nothing to go on */
	p = load(s.port, "method = auto\ntenant_id = " TENANT "\nclient_id = " CLIENT "\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_OK;
	ok(e == IDENTITY_ECONFIG && id == NULL &&
	       strstr(err, "[identity] method = auto found no credential: set client_secret_file "
	                   "or AZURE_CLIENT_SECRET") != NULL,
	   "auto without any credential: ECONFIG naming what to set (%s)", err);
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

	/* methods that come with later issues */
	p = load(s.port, "method = managed_identity\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_OK;
	ok(e == IDENTITY_ECONFIG && id == NULL && strstr(err, "managed_identity") != NULL &&
	       strstr(err, "not implemented yet") != NULL,
	   "managed_identity: ECONFIG not implemented yet (%s)", err);
	policy_free(p);
	p = load(s.port, "method = workload_identity\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_OK;
	ok(e == IDENTITY_ECONFIG && strstr(err, "not implemented yet") != NULL,
	   "workload_identity: ECONFIG not implemented yet");
	policy_free(p);
	p = load(s.port, "method = client_certificate\n");
	e = p != NULL ? identity_new(p, h, &id, err, sizeof(err)) : IDENTITY_OK;
	ok(e == IDENTITY_ECONFIG && strstr(err, "not implemented yet") != NULL,
	   "client_certificate: ECONFIG not implemented yet");
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
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
