/*
 * fuzz_token: a token endpoint's answer body, as identity.c reads it.
 *
 * Input: the body. It is taken as a 200 answer (identity_take_token()) by a
 * client-secret identity (Entra ID's v2.0 endpoint: expires_in) and by a
 * managed identity (App Service and IMDS: expires_in or expires_on, numbers
 * as strings), and as the body of error statuses (identity_map_status()).
 * identity.c is included to reach its statics; the identities are made by
 * identity_new() from fixed policies and never send anything.
 *
 * Invariants beyond memory safety (identity.h): a token is taken only when
 * it is 1-IDENTITY_TOKEN_MAX visible ASCII characters and is then exactly
 * the answer's access_token, refreshed after it was asked for and before it
 * stops being used, within IDENTITY_EXPIRES_MAX; an answer that is refused
 * leaves the cached token as it was; a detail is one line, and a 200
 * answer's never quotes the access token or the client secret.
 */
#include "../../lib/identity.c"
#include "fuzz_common.h"

#define SECRET "fuzz-client-secret-value"
#define ASKED ((time_t)1750000000)
#define PREVIOUS "previous.cached.token"

#define POLICY_INI(IDENTITY)                                                                       \
	"[gateway]\nbase_path = /api\npublic_url =\n"                                              \
	"[vault]\nurl = https://" FUZZ_VAULT_HOST "\napi_version = 7.6\nca_file =\n"               \
	"timeout_ms = 5000\nmax_retries = 3\n"                                                     \
	"[identity]\n" IDENTITY "authority_host = https://login.microsoftonline.com\n"             \
	"[cors]\nallowed_origins =\nallowed_methods = GET HEAD\nallowed_headers =\n"               \
	"expose_headers =\nallow_credentials = false\nmax_age = 600\n"                             \
	"[secrets]\nallow = *\ndeny =\n[cache]\nttl = 60\n"

static struct policy *policies[2];
static struct identity *ids[2]; /* client secret, managed identity */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	fuzz_setup();
	policies[0] = fuzz_policy("secret.ini", POLICY_INI("method = client_secret\n"
	                                                   "tenant_id = " FUZZ_TENANT "\n"
	                                                   "client_id = " FUZZ_CLIENT "\n"
	                                                   "client_secret_file = client-secret\n"));
	policies[1] = fuzz_policy("managed.ini", POLICY_INI("method = managed_identity\n"
	                                                    "tenant_id =\nclient_id =\n"
	                                                    "client_secret_file =\n"));
	for (size_t i = 0; i < 2; i++)
		if (identity_new(policies[i], NULL, &ids[i], err, sizeof(err)) != IDENTITY_OK)
			fuzz_die("identity_new", err);
	return 0;
}

/* Whether detail may be shown: one line, quoting neither the token (when
 * it is long enough to be told apart from the words around it) nor the
 * client secret. */
static void check_detail(const char *detail, const char *token)
{
	FUZZ_CHECK(strpbrk(detail, "\r\n") == NULL);
	FUZZ_CHECK(strstr(detail, SECRET) == NULL);
	if (token != NULL && strlen(token) >= 12)
		FUZZ_CHECK(strstr(detail, token) == NULL);
}

/* The answer's access_token as a new string, or NULL. */
static char *access_token(const struct buf *body)
{
	struct json_object *j = jsonparse_strict(body, IDENTITY_JSON_DEPTH), *v;
	char *t = NULL;

	if (j != NULL && json_object_object_get_ex(j, "access_token", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    (t = strdup(json_object_get_string(v))) == NULL)
		fuzz_die("strdup", NULL);
	json_object_put(j);
	return t;
}

static void take(struct identity *id, const struct buf *body, const char *token)
{
	char detail[192] = "";
	enum identity_err err;

	identity_free_secret(&id->token);
	if ((id->token = strdup(PREVIOUS)) == NULL)
		fuzz_die("strdup", NULL);
	id->refresh_at = id->valid_until = 0;
	err = identity_take_token(id, body, ASKED, detail, sizeof(detail));
	check_detail(detail, token);
	if (err != IDENTITY_OK) {
		FUZZ_CHECK(err == IDENTITY_EPROTO);
		FUZZ_CHECK(strcmp(id->token, PREVIOUS) == 0 && id->refresh_at == 0);
		return;
	}
	FUZZ_CHECK(token != NULL && strcmp(id->token, token) == 0);
	FUZZ_CHECK(identity_token_valid(id->token, strlen(id->token)));
	for (const char *p = id->token; *p != '\0'; p++)
		FUZZ_CHECK(*p > 0x20 && *p < 0x7f);
	FUZZ_CHECK(ASKED < id->refresh_at && id->refresh_at <= id->valid_until);
	FUZZ_CHECK(id->valid_until <= ASKED + IDENTITY_EXPIRES_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {400, 401, 403, 404, 429, 500, 503, 302};
	struct http_response r = {0};
	char detail[192], *token;
	enum identity_err err;

	buf_init(&r.body, IDENTITY_RESPONSE_MAX);
	if (size > 0 && buf_append(&r.body, data, size) != BUF_OK) {
		buf_free(&r.body);
		return 0;
	}
	token = access_token(&r.body);
	for (size_t i = 0; i < 2; i++) {
		take(ids[i], &r.body, token);
		for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
			r.status = statuses[s];
			detail[0] = '\0';
			err = identity_map_status(ids[i], &r, detail, sizeof(detail));
			FUZZ_CHECK(err == IDENTITY_EUNAVAILABLE || err == IDENTITY_EREJECTED ||
			           err == IDENTITY_EPROTO);
			/* The detail quotes the answer's error code, which the
			 * input may make equal to anything: one line is all
			 * there is to check. */
			FUZZ_CHECK(strpbrk(detail, "\r\n") == NULL);
		}
	}
	free(token);
	buf_free(&r.body);
	return 0;
}
