/*
 * fuzz_pagetoken: the $skiptoken a caller sends back, opened with a fixed
 * key (pagetoken.h), and tokens sealed from any text.
 *
 * Input: a flags byte, then the rest as a C string. Bits 0-1 pick the scope
 * the token is opened or sealed for ("secrets", "versions:my-secret",
 * "versions:other"). With bit 2 clear the rest is a token: it is opened,
 * and what it opens to is judged as the nextLink kv_list() would follow.
 * With bit 2 set the rest is a plain text (a vault nextLink): it is sealed,
 * carried through a request-target as the gateway's nextLink would carry it
 * (route_parse()), and opened again.
 *
 * Invariants beyond memory safety (pagetoken.h, route.h): a token opens to
 * 1-PAGETOKEN_PLAIN_MAX bytes, and only for the scope it was sealed for;
 * any text of 1-PAGETOKEN_PLAIN_MAX bytes seals to base64url that fits a
 * route's $skiptoken, survives route_parse() unchanged, and opens to the
 * same text; changing one character of it makes it fail to open; longer or
 * empty text is not sealed.
 */
#include "fuzz_common.h"

#include "kv.h"
#include "pagetoken.h"
#include "route.h"

static const char *const scopes[] = {"secrets", "versions:my-secret", "versions:other", "secrets"};

static const char policy_ini[] =
    "[gateway]\nbase_path = /api\npublic_url =\n"
    "[vault]\nurl = https://" FUZZ_VAULT_HOST "\napi_version = 7.6\nca_file =\n"
    "timeout_ms = 5000\nmax_retries = 3\n"
    "[identity]\nmethod = client_secret\ntenant_id = " FUZZ_TENANT "\n"
    "client_id = " FUZZ_CLIENT "\nclient_secret_file = client-secret\n"
    "authority_host = https://login.microsoftonline.com\n"
    "[cors]\nallowed_origins =\nallowed_methods = GET HEAD\nallowed_headers =\n"
    "expose_headers =\nallow_credentials = false\nmax_age = 600\n"
    "[secrets]\nallow = *\ndeny =\n[cache]\nttl = 60\n";

static struct pagetoken_key key;
static struct policy *policy;
static struct kv_client *client;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	fuzz_setup();
	/* The key the committed seeds were sealed with. */
	memset(key.k, 0x42, sizeof(key.k));
	policy = fuzz_policy("pagetoken.ini", policy_ini);
	if (kv_client_new(policy, &client, err, sizeof(err)) != KV_OK)
		fuzz_die("kv_client_new", err);
	return 0;
}

/* The scope that is not s (for "opens only for its own scope"). */
static const char *other_scope(const char *s)
{
	return strcmp(s, "secrets") == 0 ? "versions:my-secret" : "secrets";
}

static void open_token(const char *scope, const char *token)
{
	char *plain = pagetoken_open(&key, scope, token), *again;
	size_t n;

	if (plain == NULL)
		return;
	n = strlen(plain);
	FUZZ_CHECK(n >= 1 && n <= PAGETOKEN_PLAIN_MAX);
	FUZZ_CHECK((again = pagetoken_open(&key, other_scope(scope), token)) == NULL);
	/* What list-secrets does next: follow it only if it is this vault's. */
	(void)kv_next_link_valid(client, plain,
	                         strncmp(scope, "versions:", 9) == 0 ? scope + 9 : NULL);
	free(plain);
}

static void seal(const char *scope, const char *plain)
{
	char uri[ROUTE_URI_MAX + 64], msg[256], *token, *back;
	size_t n = strlen(plain), tn;
	struct route r;

	token = pagetoken_seal(&key, scope, plain);
	if (n == 0 || n > PAGETOKEN_PLAIN_MAX) {
		FUZZ_CHECK(token == NULL);
		return;
	}
	FUZZ_CHECK(token != NULL);
	tn = strlen(token);
	FUZZ_CHECK(tn > 0 && tn <= ROUTE_SKIPTOKEN_MAX);
	FUZZ_CHECK(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                         "0123456789-_") == tn);

	snprintf(uri, sizeof(uri), "/api/secrets?api-version=7.6&$skiptoken=%s&maxresults=5",
	         token);
	FUZZ_CHECK(route_parse(uri, "/api", &r, msg, sizeof(msg)) == ROUTE_OK);
	FUZZ_CHECK(strcmp(r.skiptoken, token) == 0);

	back = pagetoken_open(&key, scope, r.skiptoken);
	FUZZ_CHECK(back != NULL && strcmp(back, plain) == 0);
	free(back);
	FUZZ_CHECK((back = pagetoken_open(&key, other_scope(scope), token)) == NULL);
	/* One character changed, anywhere: the tag no longer verifies (or the
	 * text is no longer strict base64url). */
	token[tn / 2] = token[tn / 2] == 'A' ? 'B' : 'A';
	FUZZ_CHECK((back = pagetoken_open(&key, scope, token)) == NULL);
	free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *scope;
	char *rest;

	if (size == 0)
		return 0;
	scope = scopes[data[0] & 3];
	rest = fuzz_string(data + 1, size - 1);
	if (data[0] & 4)
		seal(scope, rest);
	else
		open_token(scope, rest);
	free(rest);
	return 0;
}
