/*
 * fuzz_cors: origins, methods and request-header lists against fixed CORS
 * policies (cors.h).
 *
 * Input: a flags byte, then up to four fields separated by NUL bytes:
 * Origin, Access-Control-Request-Method, Access-Control-Request-Headers,
 * Access-Control-Request-Private-Network. A field the input does not reach
 * is an absent header. Flags: bit 0 picks the policy (listed origins and
 * patterns with credentials and Private Network Access; or `*` origins and
 * headers without credentials), bit 1 passes the gateway's own origin.
 * Every input is judged both as an actual request and as a preflight.
 *
 * Invariants beyond memory safety (cors.h): a valid origin is at most
 * CORS_ORIGIN_MAX bytes; an allowed verdict means the origin was allowed and
 * the answer carries Access-Control-Allow-Origin (the origin itself, or `*`
 * only without credentials); a refusal carries no Access-Control-Allow-*
 * header at all; a reflected Access-Control-Allow-Headers fits
 * CORS_ALLOW_HEADERS_MAX, is lower case and never holds authorization
 * unless the policy names it; no header value holds CR or LF.
 */
#include "fuzz_common.h"

#include "cors.h"
#include "response.h"

static struct policy *policies[2];

/* Listed origins, two patterns, named headers, credentials, PNA. */
static const char named_ini[] =
    "[gateway]\nbase_path = /api\npublic_url = " FUZZ_ORIGIN "\n"
    "[vault]\nurl = https://" FUZZ_VAULT_HOST "\napi_version = 7.6\nca_file =\n"
    "timeout_ms = 5000\nmax_retries = 3\n"
    "[identity]\nmethod = auto\ntenant_id =\nclient_id =\nclient_secret_file =\n"
    "authority_host = https://login.microsoftonline.com\n"
    "[cors]\nallowed_origins = https://app.example.com, http://localhost:8081 "
    "https://*.apps.example.org https://*.example.net:8443 http://[::1]:3000\n"
    "allowed_methods = GET HEAD\n"
    "allowed_headers = x-ms-client-request-id, Authorization, Content-Type\n"
    "expose_headers = Retry-After x-ms-request-id\nallow_credentials = true\n"
    "max_age = 600\nallow_private_network = true\nterminate_unmatched = true\n"
    "[secrets]\nallow = *\ndeny =\n[cache]\nttl = 60\n";

/* Any origin, any header, any method the gateway serves. */
static const char any_ini[] =
    "[gateway]\nbase_path = /api\npublic_url =\n"
    "[vault]\nurl = https://" FUZZ_VAULT_HOST "\napi_version = 7.6\nca_file =\n"
    "timeout_ms = 5000\nmax_retries = 3\n"
    "[identity]\nmethod = auto\ntenant_id =\nclient_id =\nclient_secret_file =\n"
    "authority_host = https://login.microsoftonline.com\n"
    "[cors]\nallowed_origins = *\nallowed_methods = *\nallowed_headers = *\n"
    "expose_headers =\nallow_credentials = false\nmax_age = 0\n"
    "terminate_unmatched = false\n"
    "[secrets]\nallow = *\ndeny =\n[cache]\nttl = 60\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup();
	policies[0] = fuzz_policy("named.ini", named_ini);
	policies[1] = fuzz_policy("any.ini", any_ini);
	return 0;
}

/* Whether r carries any Access-Control-Allow-* or -Expose-* header. */
static bool grants(const struct response *r)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strncasecmp(r->headers[i].name, "Access-Control-Allow-", 21) == 0 ||
		    strncasecmp(r->headers[i].name, "Access-Control-Expose-", 22) == 0)
			return true;
	return false;
}

/* What every answer must hold, allowed or not. */
static void check_answer(const struct policy_cors *c, const struct response *r, enum cors_verdict v,
                         const char *origin, const char *self)
{
	const char *acao = response_get_header(r, "Access-Control-Allow-Origin");

	for (size_t i = 0; i < r->nheaders; i++)
		FUZZ_CHECK(strpbrk(r->headers[i].value, "\r\n") == NULL);
	FUZZ_CHECK(strstr(r->vary.data != NULL ? r->vary.data : "", "Origin") != NULL);
	if (v != CORS_ALLOWED) {
		FUZZ_CHECK(!grants(r));
		return;
	}
	FUZZ_CHECK(origin != NULL && cors_origin_allowed(c, origin, self));
	FUZZ_CHECK(acao != NULL);
	if (strcmp(acao, "*") == 0)
		FUZZ_CHECK(c->any_origin && !c->allow_credentials);
	else
		FUZZ_CHECK(strcmp(acao, origin) == 0);
	FUZZ_CHECK((response_get_header(r, "Access-Control-Allow-Credentials") != NULL) ==
	           c->allow_credentials);
}

static void check_preflight(const struct policy_cors *c, const struct response *r,
                            enum cors_verdict v, const char *acrm)
{
	const char *acah = response_get_header(r, "Access-Control-Allow-Headers"), *p;
	struct strlist names = {0};

	if (v != CORS_ALLOWED)
		return;
	FUZZ_CHECK(acrm != NULL && strcmp(acrm, "*") != 0);
	FUZZ_CHECK(response_get_header(r, "Access-Control-Allow-Methods") != NULL);
	FUZZ_CHECK(response_get_header(r, "Access-Control-Max-Age") != NULL);
	if (acah == NULL)
		return;
	FUZZ_CHECK(strlen(acah) <= CORS_ALLOW_HEADERS_MAX);
	for (p = acah; *p != '\0'; p++)
		FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
	FUZZ_CHECK(strlist_parse(acah, &names) == 0);
	for (size_t i = 0; i < names.n; i++)
		FUZZ_CHECK(strlist_contains_ci(&c->allowed_headers, names.v[i]) ||
		           (c->any_header && strcmp(names.v[i], "authorization") != 0));
	strlist_free(&names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[4], *origin, *acrm, *acrh, *acrpn, *self;
	const struct policy_cors *c;
	struct response r;
	enum cors_verdict v;
	char *copy;
	uint8_t flags;

	if (size == 0)
		return 0;
	flags = data[0];
	copy = fuzz_fields(data + 1, size - 1, f, 4);
	origin = f[0];
	acrm = f[1];
	acrh = f[2];
	acrpn = f[3];
	c = policy_cors(policies[flags & 1]);
	self = flags & 2 ? FUZZ_ORIGIN : NULL;

	if (origin != NULL) {
		if (cors_origin_valid(origin))
			FUZZ_CHECK(strlen(origin) <= CORS_ORIGIN_MAX);
		if (cors_pattern_valid(origin))
			FUZZ_CHECK(!cors_origin_valid(origin));
		else
			FUZZ_CHECK(!cors_pattern_broad(origin));
		if (strcmp(origin, "null") == 0)
			FUZZ_CHECK(!cors_origin_allowed(c, origin, self));
	}

	response_init(&r);
	v = cors_actual(c, origin, self, &r);
	FUZZ_CHECK((v == CORS_NOT_CORS) == (origin == NULL));
	FUZZ_CHECK(v == CORS_NOT_CORS || v == CORS_ALLOWED || v == CORS_ORIGIN_DENIED);
	check_answer(c, &r, v, origin, self);
	(void)cors_refuse(c, v);
	(void)cors_strverdict(v);
	response_free(&r);

	response_init(&r);
	v = cors_preflight_pna(c, origin, self, acrm, acrh, acrpn, &r);
	FUZZ_CHECK((v == CORS_NOT_CORS) == (origin == NULL));
	check_answer(c, &r, v, origin, self);
	check_preflight(c, &r, v, acrm);
	if (response_get_header(&r, "Access-Control-Allow-Private-Network") != NULL)
		FUZZ_CHECK(v == CORS_ALLOWED && c->allow_private_network && acrpn != NULL &&
		           strcmp(acrpn, "true") == 0);
	(void)cors_refuse(c, v);
	response_free(&r);

	free(copy);
	return 0;
}
