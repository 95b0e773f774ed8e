/*
 * fuzz_challenge: the vault's 401 WWW-Authenticate challenge, as kv.c reads
 * it, and the other short strings from the vault kv.c judges on their own:
 * Retry-After values and nextLink URLs.
 *
 * Input: the header value, as a C string. It is parsed
 * (kv_parse_challenge()), its tenant and resource checked, and handed to
 * kv_on_challenge() of a client for https://vaultname.vault.azure.net with
 * and without [vault] verify_challenge_resource; the same string is read as
 * retry-after-ms and as Retry-After, and judged as a nextLink of the list of
 * secrets and of one secret's versions. kv.c is included to reach its
 * statics; the client never sends anything.
 *
 * Invariants beyond memory safety (kv.h, kv.c): a parsed challenge's values
 * are at most KV_CHALLENGE_VALUE_MAX bytes without control characters; a
 * tenant is 1-KV_TENANT_MAX of [A-Za-z0-9.-], not starting with '.' or '-';
 * a challenge that passes verification names, in its resource (or scope
 * without "/.default"), an https host that is the vault's or a parent domain
 * of it; a failure's message is one line; a wait is unknown (-1) or
 * 0-KV_RETRY_AFTER_MAX seconds; a valid nextLink is on the vault's own
 * scheme, host and port, with no user information or fragment.
 */
#include "../../lib/kv.c"
#include "fuzz_common.h"

#define NOW ((time_t)1750000000)
#define LIST_NAME "my-secret"

static const char policy_ini[] =
    "[gateway]\nbase_path = /api\npublic_url =\n"
    "[vault]\nurl = https://" FUZZ_VAULT_HOST "\napi_version = 7.6\nca_file =\n"
    "timeout_ms = 5000\nmax_retries = 3\nverify_challenge_resource = true\n"
    "[identity]\nmethod = client_secret\ntenant_id = " FUZZ_TENANT "\n"
    "client_id = " FUZZ_CLIENT "\nclient_secret_file = client-secret\n"
    "authority_host = https://login.microsoftonline.com\n"
    "[cors]\nallowed_origins =\nallowed_methods = GET HEAD\nallowed_headers =\n"
    "expose_headers =\nallow_credentials = false\nmax_age = 600\n"
    "[secrets]\nallow = *\ndeny =\n[cache]\nttl = 60\n";

static struct policy *policy;
static struct kv_client *client;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	fuzz_setup();
	policy = fuzz_policy("challenge.ini", policy_ini);
	if (kv_client_new(policy, &client, err, sizeof(err)) != KV_OK)
		fuzz_die("kv_client_new", err);
	return 0;
}

/* Whether s has no control characters. */
static bool printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * An independent reading of what a passing challenge must name: the
 * resource, else the scope less "/.default", is "https://" then a host of
 * two labels or more that is FUZZ_VAULT_HOST or one of its parent domains
 * (compared ignoring case), then ':' and a port, '/' or the end.
 */
static bool names_vault(const struct kv_challenge *ch)
{
	char r[KV_CHALLENGE_VALUE_MAX + 1], host[KV_CHALLENGE_VALUE_MAX + 1];
	const char *v = FUZZ_VAULT_HOST;
	size_t n, hn, vn = strlen(v);

	snprintf(r, sizeof(r), "%s", ch->resource[0] != '\0' ? ch->resource : ch->scope);
	n = strlen(r);
	if (ch->resource[0] == '\0' && n > 9 && strcmp(r + n - 9, "/.default") == 0)
		r[n - 9] = '\0';
	if (strncasecmp(r, "https://", 8) != 0)
		return false;
	hn = strcspn(r + 8, ":/");
	memcpy(host, r + 8, hn);
	host[hn] = '\0';
	for (size_t i = 0; i < hn; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	if (strchr(host, '.') == NULL || hn == 0 || hn > vn)
		return false;
	return strcmp(v + vn - hn, host) == 0 && (hn == vn || v[vn - hn - 1] == '.');
}

static void challenge(const char *h)
{
	struct kv_challenge ch;
	struct kv_error e;
	char tenant[KV_TENANT_MAX + 1];
	const char *why;
	size_t n;

	why = kv_parse_challenge(h, &ch);
	if (why == NULL) {
		FUZZ_CHECK(strlen(ch.authorization) <= KV_CHALLENGE_VALUE_MAX &&
		           strlen(ch.resource) <= KV_CHALLENGE_VALUE_MAX &&
		           strlen(ch.scope) <= KV_CHALLENGE_VALUE_MAX);
		FUZZ_CHECK(printable(ch.authorization) && printable(ch.resource) &&
		           printable(ch.scope));
		if (kv_challenge_tenant(ch.authorization, tenant, sizeof(tenant))) {
			n = strlen(tenant);
			FUZZ_CHECK(n >= 1 && n <= KV_TENANT_MAX && tenant[0] != '.' &&
			           tenant[0] != '-');
			FUZZ_CHECK(strspn(tenant,
			                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			                  "0123456789.-") == n);
		}
		(void)kv_resource_matches(client, ch.resource);
		(void)kv_resource_matches(client, ch.scope);
	}
	for (int verify = 0; verify <= 1; verify++) {
		client->verify_resource = verify != 0;
		kv_error_clear(&e);
		if (kv_on_challenge(client, h, &e) == KV_OK) {
			FUZZ_CHECK(why == NULL && ch.authorization[0] != '\0');
			if (verify)
				FUZZ_CHECK(names_vault(&ch));
			/* Back to the policy's tenant for the next input. */
			FUZZ_CHECK(identity_use_tenant(client->id, FUZZ_TENANT) == IDENTITY_OK);
		} else {
			FUZZ_CHECK(e.err == KV_ECHALLENGE && e.message[0] != '\0');
			FUZZ_CHECK(printable(e.message));
		}
	}
}

static void retry_after(const char *h)
{
	long a = kv_retry_after_ms(h, NULL, NOW), b = kv_retry_after_ms(NULL, h, NOW);

	FUZZ_CHECK(a == -1 || (a >= 0 && a <= KV_RETRY_AFTER_MAX * 1000));
	FUZZ_CHECK(b == -1 || (b >= 0 && b <= KV_RETRY_AFTER_MAX * 1000));
}

/* Whether url is on the vault, read independently of kv_on_vault():
 * "https://" and the vault's host (ignoring case), an optional ":443",
 * then the end or one of the bytes in after. */
static bool on_vault(const char *url, const char *after)
{
	static const char *const prefixes[] = {"https://" FUZZ_VAULT_HOST ":443",
	                                       "https://" FUZZ_VAULT_HOST};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncasecmp(url, prefixes[i], n) == 0 &&
		    (url[n] == '\0' || strchr(after, url[n]) != NULL))
			return true;
	}
	return false;
}

static void next_link(const char *h)
{
	bool all = kv_next_link_valid(client, h, NULL);
	bool one = kv_next_link_valid(client, h, LIST_NAME);

	if (all || one) {
		FUZZ_CHECK(on_vault(h, "/"));
		FUZZ_CHECK(strpbrk(h, "#@\\ \t\r\n") == NULL);
		FUZZ_CHECK(strlen(h) <= KV_NEXTLINK_MAX);
	}
	/* Where the bearer token may go. */
	if (kv_on_vault(client, h) != NULL)
		FUZZ_CHECK(on_vault(h, "/?#"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = fuzz_string(data, size);

	challenge(h);
	retry_after(h);
	next_link(h);
	free(h);
	return 0;
}
