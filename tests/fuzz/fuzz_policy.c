/*
 * fuzz_policy: policy_load() on any file.
 *
 * The input is the whole INI file. It is written to policy.ini in the
 * process's private directory, next to the files a policy may name
 * relatively (client-secret, paging.key, ca.pem, token, cert.pem), so that
 * path keys are followed too. When the policy loads, every accessor is
 * walked, each origin rule set looked up, and the paging key derived from
 * it, as a program does at start.
 *
 * Invariants beyond memory safety (policy.h): a load returns the number of
 * problems and as many lines in errors; a policy comes back exactly when
 * there are none; every line starts with the file's path and is one line.
 */
#include "fuzz_common.h"

#include "cors.h"
#include "exposure.h"
#include "glob.h"
#include "pagetoken.h"

static const char *ini_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char key[] = "0123456789abcdef0123456789abcdef-paging-key\n";
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	static const char token[] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmdXp6In0.c2ln\n";
	static char path[sizeof(fuzz_dir) + 32];

	fuzz_setup();
	fuzz_write("paging.key", key, sizeof(key) - 1);
	fuzz_write("ca.pem", pem, sizeof(pem) - 1);
	fuzz_write("cert.pem", pem, sizeof(pem) - 1);
	fuzz_write("token", token, sizeof(token) - 1);
	fuzz_write("short.key", "short", 5);
	snprintf(path, sizeof(path), "%s/policy.ini", fuzz_tmpdir());
	ini_path = path;
	return 0;
}

/* Use a loaded policy the way the programs do. */
static void walk(const struct policy *p)
{
	const struct policy_cors *c = policy_cors(p);
	const struct policy_secrets *s;
	const char *origin;
	struct pagetoken_key key;
	char err[256];

	FUZZ_CHECK(strcmp(policy_path(p), ini_path) == 0);
	FUZZ_CHECK(policy_gateway(p)->base_path[0] == '/');
	FUZZ_CHECK(policy_vault(p)->url != NULL && policy_identity(p)->authority_host != NULL);
	FUZZ_CHECK(policy_cache(p)->ttl >= 0);
	for (size_t i = 0; i < c->allowed_origins.n; i++) {
		const char *o = c->allowed_origins.v[i];

		/* The loader accepts exact origins, patterns and "*" only. */
		FUZZ_CHECK(strcmp(o, "*") == 0 || cors_origin_valid(o) || cors_pattern_valid(o));
		(void)cors_pattern_broad(o);
		(void)cors_origin_allowed(c, o, NULL);
	}
	s = policy_secrets(p);
	for (size_t i = 0; i < s->allow.n; i++)
		FUZZ_CHECK(glob_valid(s->allow.v[i]));
	for (size_t i = 0; i < s->deny.n; i++)
		FUZZ_CHECK(glob_valid(s->deny.v[i]));
	FUZZ_CHECK(policy_secrets_for(p, NULL) == s);
	for (size_t i = 0; (s = policy_origin_secrets(p, i, &origin)) != NULL; i++) {
		FUZZ_CHECK(origin != NULL && cors_origin_valid(origin));
		FUZZ_CHECK(policy_secrets_for(p, origin) == s);
		(void)exposure_name_visible(s, "spa-demo");
		(void)exposure_list_allowed(s);
	}
	FUZZ_CHECK(policy_origin_secrets(p, 1000, &origin) == NULL && origin == NULL);
	if (pagetoken_key_init(p, policy_identity(p)->client_secret, &key, err, sizeof(err)) == 0)
		pagetoken_key_free(&key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strlist errors = {0};
	struct policy *p = (struct policy *)1;
	int n;

	fuzz_write("policy.ini", data, size);
	n = policy_load(ini_path, &p, &errors);
	FUZZ_CHECK(n >= 0);
	FUZZ_CHECK((n == 0) == (p != NULL));
	FUZZ_CHECK((size_t)n == errors.n);
	for (size_t i = 0; i < errors.n; i++) {
		size_t plen = strlen(ini_path);

		FUZZ_CHECK(strncmp(errors.v[i], ini_path, plen) == 0 &&
		           strncmp(errors.v[i] + plen, ": ", 2) == 0);
		FUZZ_CHECK(strpbrk(errors.v[i], "\r\n") == NULL);
	}
	if (p != NULL)
		walk(p);
	policy_free(p);
	strlist_free(&errors);
	return 0;
}
