/*
 * fuzz_kvjson: a Key Vault answer body, through everything that reads one.
 *
 * Input: the body, as the vault would send it. Every input is read three
 * ways, as kv.c does for the status it came with: as a SecretBundle (strict
 * parse, shape check, then exposure_bundle_servable() and shape_bundle()
 * with and without the vault's host), as a SecretListResult (then
 * shape_list() for the list of secrets and for one secret's versions, under
 * two policies, and kv_next_link_valid() on its nextLink), and as an error
 * envelope (kv_read_envelope()). kv.c is included to reach its statics.
 *
 * Invariants beyond memory safety (kv.h, shape.h, exposure.h): a shaped id
 * is {origin}/secrets/{name}[/{version}] with the vault's name and version,
 * and a kid is on the gateway's origin too; with expose_vault_url the id is
 * left as it was; a shaped list holds only items whose names the rules show
 * (and, for versions, of that secret); its nextLink is null when the vault's
 * was, else a gateway URL whose $skiptoken opens to the vault's nextLink
 * exactly; an envelope's code and inner code are printable ASCII, its
 * message has no control characters and stays valid UTF-8 when cut.
 */
#include "../../lib/kv.c"
#include "fuzz_common.h"

#include "exposure.h"
#include "pagetoken.h"
#include "route.h"
#include "shape.h"

#define POLICY_INI(EXPOSE)                                                                         \
	"[gateway]\nbase_path = /api\npublic_url = " FUZZ_ORIGIN "\n"                              \
	"[vault]\nurl = https://" FUZZ_VAULT_HOST "\napi_version = 7.6\nca_file =\n"               \
	"timeout_ms = 5000\nmax_retries = 3\n"                                                     \
	"[identity]\nmethod = client_secret\ntenant_id = " FUZZ_TENANT "\n"                        \
	"client_id = " FUZZ_CLIENT "\nclient_secret_file = client-secret\n"                        \
	"authority_host = https://login.microsoftonline.com\n"                                     \
	"[cors]\nallowed_origins = https://app.example.com https://admin.example.com\n"            \
	"allowed_methods = GET HEAD\nallowed_headers =\nexpose_headers =\n"                        \
	"allow_credentials = false\nmax_age = 600\n"                                               \
	"[secrets]\nallow = *\ndeny = *-internal admin-*\nallow_versions = true\n"                 \
	"hide_disabled = true\nserve_expired = false\nexpose_vault_url = " EXPOSE "\n"             \
	"[cache]\nttl = 60\n"                                                                      \
	"[origin \"https://admin.example.com\"]\nallow = admin-* livekv*\ndeny =\n"                \
	"require_tags = foo=bar\nhide_disabled = false\nserve_expired = true\n"

static struct policy *policies[2]; /* expose_vault_url false, true */
static struct kv_client *client;
static struct pagetoken_key key;
static const time_t times[] = {1750000000, 2000000000};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	fuzz_setup();
	policies[0] = fuzz_policy("hidden.ini", POLICY_INI("false"));
	policies[1] = fuzz_policy("exposed.ini", POLICY_INI("true"));
	if (kv_client_new(policies[0], &client, err, sizeof(err)) != KV_OK)
		fuzz_die("kv_client_new", err);
	memset(key.k, 0xa5, sizeof(key.k));
	return 0;
}

/* The string member key of o, or NULL. */
static const char *member(struct json_object *o, const char *k)
{
	return kv_member_string(o, k);
}

/* Whether s starts with prefix. */
static bool starts(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A bundle, shaped for the gateway's origin and with the vault's host. */
static void bundle(const struct buf *body)
{
	char name[ROUTE_NAME_MAX + 1], version[ROUTE_VERSION_LEN + 1];
	char name2[ROUTE_NAME_MAX + 1], version2[ROUTE_VERSION_LEN + 1];
	struct json_object *b = NULL, *b2 = NULL;
	struct kv_error e;
	const char *id, *kid;
	char *orig = NULL;
	bool parses;

	kv_error_clear(&e);
	if (kv_parse(body, KV_SHAPE_BUNDLE, &b, &e) != KV_OK) {
		FUZZ_CHECK(b == NULL && e.err == KV_EPROTO);
		return;
	}
	FUZZ_CHECK(b != NULL && (id = member(b, "id")) != NULL);
	if ((orig = strdup(id)) == NULL)
		fuzz_die("strdup", NULL);
	parses = shape_parse_id(orig, name, version) == 0;
	if (parses)
		FUZZ_CHECK(route_name_valid(name) &&
		           (version[0] == '\0' || route_version_valid(version)));
	for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
		const struct policy *p = policies[0];
		const struct policy_secrets *s;
		const char *o;

		(void)exposure_bundle_servable(policy_secrets(p), b, times[t]);
		for (size_t i = 0; (s = policy_origin_secrets(p, i, &o)) != NULL; i++)
			(void)exposure_bundle_servable(s, b, times[t]);
	}

	FUZZ_CHECK((shape_bundle(b, FUZZ_ORIGIN) == 0) == parses);
	if (parses) {
		id = member(b, "id");
		FUZZ_CHECK(starts(id, FUZZ_ORIGIN "/secrets/"));
		FUZZ_CHECK(shape_parse_id(id, name2, version2) == 0);
		FUZZ_CHECK(strcmp(name, name2) == 0 && strcmp(version, version2) == 0);
		if ((kid = member(b, "kid")) != NULL)
			FUZZ_CHECK(starts(kid, FUZZ_ORIGIN "/"));
		FUZZ_CHECK(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN) != NULL);
	}

	FUZZ_CHECK(kv_parse(body, KV_SHAPE_BUNDLE, &b2, &e) == KV_OK);
	FUZZ_CHECK((shape_bundle(b2, NULL) == 0) == parses);
	if (parses)
		FUZZ_CHECK(strcmp(member(b2, "id"), orig) == 0);
	free(orig);
	json_object_put(b);
	json_object_put(b2);
}

/* The $skiptoken of a gateway nextLink, copied into out, or false. */
static bool skiptoken_of(const char *link, char *out, size_t len)
{
	const char *t = strstr(link, "$skiptoken="), *end;

	if (t == NULL)
		return false;
	t += strlen("$skiptoken=");
	end = t + strcspn(t, "&");
	if ((size_t)(end - t) >= len)
		return false;
	memcpy(out, t, (size_t)(end - t));
	out[end - t] = '\0';
	return true;
}

/* Check one shaped page against the vault's nextLink (NULL when it had
 * none) and the rules it was shaped under. */
static void check_page(struct json_object *page, const struct policy *p,
                       const struct policy_secrets *s, const struct route *r, const char *next)
{
	char name[ROUTE_NAME_MAX + 1], version[ROUTE_VERSION_LEN + 1], scope[ROUTE_NAME_MAX + 16];
	char token[4096], prefix[256], *plain;
	struct json_object *value, *link;
	bool expose = policy_secrets(p)->expose_vault_url;
	const char *l;

	FUZZ_CHECK(json_object_object_get_ex(page, "value", &value) &&
	           json_object_is_type(value, json_type_array));
	for (size_t i = 0; i < json_object_array_length(value); i++) {
		struct json_object *it = json_object_array_get_idx(value, i);
		const char *id = member(it, "id"), *kid = member(it, "kid");

		FUZZ_CHECK(json_object_is_type(it, json_type_object) && id != NULL);
		FUZZ_CHECK(shape_parse_id(id, name, version) == 0);
		FUZZ_CHECK(exposure_name_visible(s, name));
		if (r->kind == ROUTE_VERSIONS)
			FUZZ_CHECK(strcasecmp(name, r->name) == 0);
		if (!expose) {
			FUZZ_CHECK(starts(id, FUZZ_ORIGIN "/secrets/"));
			if (kid != NULL)
				FUZZ_CHECK(starts(kid, FUZZ_ORIGIN "/"));
		}
	}
	FUZZ_CHECK(json_object_object_get_ex(page, "nextLink", &link));
	if (next == NULL) {
		FUZZ_CHECK(json_object_is_type(link, json_type_null));
		return;
	}
	FUZZ_CHECK(json_object_is_type(link, json_type_string));
	l = json_object_get_string(link);
	snprintf(prefix, sizeof(prefix), "%s%s/secrets", FUZZ_ORIGIN, policy_gateway(p)->base_path);
	FUZZ_CHECK(starts(l, prefix));
	FUZZ_CHECK(skiptoken_of(l, token, sizeof(token)));
	shape_scope(r, scope, sizeof(scope));
	plain = pagetoken_open(&key, scope, token);
	FUZZ_CHECK(plain != NULL && strcmp(plain, next) == 0);
	free(plain);
}

/* A list page, shaped for route r under policy p's rules for a request
 * from origin (NULL: no Origin header). */
static void list_one(const struct buf *body, const struct policy *p, const char *origin,
                     const struct route *r, time_t now)
{
	const struct policy_secrets *s = policy_secrets_for(p, origin);
	struct json_object *page = NULL, *v;
	struct kv_error e;
	char *next = NULL;

	kv_error_clear(&e);
	if (kv_parse(body, KV_SHAPE_LIST, &page, &e) != KV_OK) {
		FUZZ_CHECK(page == NULL && e.err == KV_EPROTO);
		return;
	}
	if (json_object_object_get_ex(page, "nextLink", &v) &&
	    json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0 &&
	    (next = strdup(json_object_get_string(v))) == NULL)
		fuzz_die("strdup", NULL);
	if (next != NULL) {
		(void)kv_next_link_valid(client, next, NULL);
		if (r->kind == ROUTE_VERSIONS)
			(void)kv_next_link_valid(client, next, r->name);
	}
	if (shape_list(page, p, s, FUZZ_ORIGIN, r, &key, now) == 0) {
		check_page(page, p, s, r, next);
		(void)shape_list_empty(page);
		FUZZ_CHECK(json_object_to_json_string_ext(page, JSON_C_TO_STRING_PLAIN) != NULL);
	} else {
		/* Only a nextLink that cannot be sealed makes a list page fail. */
		FUZZ_CHECK(next != NULL &&
		           (strlen(next) == 0 || strlen(next) > PAGETOKEN_PLAIN_MAX));
	}
	free(next);
	json_object_put(page);
}

static void list(const struct buf *body)
{
	struct route all = {.kind = ROUTE_LIST}, versions = {.kind = ROUTE_VERSIONS};

	snprintf(versions.name, sizeof(versions.name), "livekvtestsecVer208f2c03");
	snprintf(versions.api_version, sizeof(versions.api_version), "7.6");
	versions.maxresults = 6;
	for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
		list_one(body, policies[0], "https://app.example.com", &all, times[t]);
		list_one(body, policies[1], NULL, &all, times[t]);
	}
	list_one(body, policies[0], "https://admin.example.com", &versions, times[0]);
	list_one(body, policies[0], NULL, &versions, times[1]);
}

/* An error envelope, as kv_attempt() reads it for a non-200 status. */
static void envelope(const struct buf *body)
{
	struct http_response resp = {0};
	struct kv_error e;
	bool retry;
	static const long statuses[] = {400, 401, 403, 404, 429, 500, 503, 418};

	kv_error_clear(&e);
	kv_read_envelope(body, &e);
	for (const char *p = e.code; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
	for (const char *p = e.inner; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
	for (const char *p = e.message; *p != '\0'; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	if (fuzz_utf8_valid(body->data, body->len))
		FUZZ_CHECK(fuzz_utf8_valid(e.message, strlen(e.message)));
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		resp.status = statuses[i];
		(void)kv_map_status(&resp, &e, &retry);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf body;

	buf_init(&body, KV_RESPONSE_MAX);
	if (size > 0 && buf_append(&body, data, size) != BUF_OK) {
		buf_free(&body);
		return 0;
	}
	bundle(&body);
	list(&body);
	envelope(&body);
	buf_free(&body);
	return 0;
}
