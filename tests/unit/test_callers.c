/*
 * test_callers: caller authentication (lib/callers.c), without a web
 * server. Pins api_keys_file's rules (a line each NAME SHA256-HEX, unique
 * names and keys, nothing else), the key check (SHA-256, every line
 * compared), the order of modes (a present credential always decides; an
 * invalid one is never anonymity), REMOTE_USER's checks, tokens against a
 * JWKS file (signed here with a fresh RSA key), the refetch limits for the
 * issuer's keys (injected clock, an issuer that cannot be reached), who
 * items of grants, and the file-mode warning. callers.test.js drives the
 * same through lighttpd and Apache.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "base64.h"
#include "callers.c"
#include "tap.h"

#define ISS "https://login.microsoftonline.com/00000000-0000-4000-8000-00000000a11e/v2.0"
#define AUD "api://kvgate"

static char dir[] = "/tmp/kvgate-test-callers-XXXXXX";
static EVP_PKEY *key;
static long clock_ms = 5000000;

static long fake_now(void)
{
	return clock_ms;
}

__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static char *file(const char *name, const char *text, mode_t mode)
{
	char *path = fmt("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static char *sha256_hex(const char *s)
{
	unsigned char h[32];
	unsigned int n = 32;
	char *out = malloc(65);

	EVP_Digest(s, strlen(s), h, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	return out;
}

static char *bn_b64(const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
		abort();
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return base64url_encode(buf, (size_t)n);
}

/* A token signed RS256 with key, kid as given, claims JSON as given. */
static char *token(const char *kid, const char *claims)
{
	char *hj = fmt("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	char *h = base64url_encode((const unsigned char *)hj, strlen(hj));
	char *p = base64url_encode((const unsigned char *)claims, strlen(claims));
	char *input = fmt("%s.%s", h, p), *s, *t;
	unsigned char sig[1024];
	size_t n = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &n, (unsigned char *)input, strlen(input)) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	s = base64url_encode(sig, n);
	t = fmt("%s.%s", input, s);
	free(hj);
	free(h);
	free(p);
	free(input);
	free(s);
	return t;
}

static char *claims(const char *extra)
{
	long now = (long)time(NULL);

	return fmt("{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%ld,\"nbf\":%ld,\"iat\":%ld,"
	           "\"oid\":\"11111111-0000-4000-8000-000000000001\",\"sub\":\"s1\","
	           "\"preferred_username\":\"alice@example.com\",\"azp\":\"app-1\"%s}",
	           ISS, AUD, now + 3600, now - 60, now - 60, extra);
}

/* A [callers] section in memory, for the modes given. */
static struct policy_callers pcall(int n, ...)
{
	struct policy_callers pc;
	va_list ap;

	memset(&pc, 0, sizeof(pc));
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		pc.modes[pc.nmodes++] = (enum callers_mode)va_arg(ap, int);
	va_end(ap);
	pc.api_key_header = "Ocp-Apim-Subscription-Key";
	pc.jwt_jwks_file = "";
	pc.jwt_openid_config = "";
	strlist_parse(ISS, &pc.jwt_issuer);
	strlist_parse(AUD, &pc.jwt_audience);
	pc.jwt_clock_skew = 300;
	return pc;
}

static void free_pc(struct policy_callers *pc)
{
	strlist_free(&pc->jwt_issuer);
	strlist_free(&pc->jwt_audience);
	strlist_free(&pc->jwt_required_scopes);
}

static void test_keys_file(void)
{
	static const struct {
		const char *text, *want, *what;
	} bad[] = {
	    {"spa prod 0123\n", "is not NAME SHA256-HEX", "a name with a space"},
	    {"spa-prod 0123\n", "is not NAME SHA256-HEX", "a short hash"},
	    {"spa-prod "
	     "zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	     "not 64 hex digits", "a hash that is not hex"},
	    {"spa-prod 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef extra\n",
	     "is not NAME SHA256-HEX", "text after the hash"},
	    {"a 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	     "A 1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	     "listed twice", "a name twice (ignoring case)"},
	    {"a 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	     "b 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n",
	     "listed twice", "a key twice"},
	    {"# only a comment\n\n", "holds no key", "no key at all"},
	};
	char err[512] = "";
	char *h1 = sha256_hex("key-one"), *h2 = sha256_hex("key-two");
	char *text = fmt("# NAME SHA256-HEX\n  spa-prod\t%s\r\n\npartner.v2 %s\n", h1, h2);
	char *path = file("keys", text, 0600);
	struct callers c;
	struct caller who;

	memset(&c, 0, sizeof(c));
	ok(load_keys(&c, path, err, sizeof(err)) == 0 && c.nkeys == 2 &&
	       strcmp(c.keys[0].name, "spa-prod") == 0 && strcmp(c.keys[1].name, "partner.v2") == 0,
	   "a keys file: comments, blank lines, tabs and CRLF allowed");
	memset(&who, 0, sizeof(who));
	ok(check_key(&c, "key-two", &who) == CALLERS_OK && strcmp(who.id, "key:partner.v2") == 0 &&
	       who.mode == CALLERS_API_KEY,
	   "the key whose SHA-256 is listed is its line's name");
	memset(&who, 0, sizeof(who));
	ok(check_key(&c, "key-twO", &who) == CALLERS_INVALID && who.id[0] == '\0',
	   "another key is refused");
	memset(&who, 0, sizeof(who));
	{
		char *big = calloc(1, CALLERS_API_KEY_MAX + 2);

		memset(big, 'k', CALLERS_API_KEY_MAX + 1);
		ok(check_key(&c, big, &who) == CALLERS_INVALID, "a key over %d bytes is refused",
		   CALLERS_API_KEY_MAX);
		free(big);
	}
	ok(strstr(err, "key-one") == NULL, "no message holds a key");
	free(c.keys);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = file("bad-keys", bad[i].text, 0600);

		memset(&c, 0, sizeof(c));
		err[0] = '\0';
		ok(load_keys(&c, p, err, sizeof(err)) == -1 && strstr(err, bad[i].want) != NULL &&
		       strstr(err, "[callers] api_keys_file") != NULL,
		   "refused: %s (%s)", bad[i].what, err);
		free(c.keys);
		free(p);
	}
	memset(&c, 0, sizeof(c));
	ok(load_keys(&c, "/nonexistent/keys", err, sizeof(err)) == -1 &&
	       strstr(err, "cannot read") != NULL,
	   "a missing file is refused");
	free(h1);
	free(h2);
	free(text);
	free(path);
}

/* Run callers_authenticate with c->pc = pc. */
static enum callers_result auth(struct callers *c, const struct policy_callers *pc,
                                const char *user, const char *authz, const char *apikey,
                                struct caller *out)
{
	struct callers_request r = {.remote_user = user, .authorization = authz, .api_key = apikey};

	c->pc = pc;
	return callers_authenticate(c, &r, out);
}

static void test_modes(void)
{
	struct policy_callers none = pcall(1, CALLERS_NONE);
	struct policy_callers keynone = pcall(2, CALLERS_API_KEY, CALLERS_NONE);
	struct policy_callers web = pcall(1, CALLERS_WEB_SERVER);
	struct policy_callers webjwt = pcall(2, CALLERS_WEB_SERVER, CALLERS_JWT);
	char *h = sha256_hex("the-key"), *text = fmt("spa %s\n", h), *path = file("k", text, 0600);
	char err[256];
	struct callers c;
	struct caller w;

	memset(&c, 0, sizeof(c));
	c.now = fake_now;
	load_keys(&c, path, err, sizeof(err));
	ok(callers_authenticate(NULL, &(struct callers_request){0}, &w) == CALLERS_OK &&
	       w.anonymous && strcmp(w.id, "anonymous") == 0,
	   "authentication off: every caller is anonymous");
	ok(auth(&c, &none, NULL, NULL, NULL, &w) == CALLERS_OK && w.anonymous,
	   "none: no credential is anonymous");
	ok(auth(&c, &none, NULL, "Bearer abc", NULL, &w) == CALLERS_OK && w.anonymous,
	   "none alone: a token for another mode is not looked at");
	ok(auth(&c, &keynone, NULL, NULL, "the-key", &w) == CALLERS_OK && !w.anonymous &&
	       strcmp(w.id, "key:spa") == 0,
	   "api_key none: the key decides");
	ok(auth(&c, &keynone, NULL, NULL, "wrong", &w) == CALLERS_INVALID && !w.anonymous &&
	       w.key && strcmp(w.detail, "unknown API key") == 0,
	   "api_key none: a wrong key is refused, never anonymity");
	ok(auth(&c, &keynone, NULL, NULL, "", &w) == CALLERS_OK && w.anonymous,
	   "api_key none: an empty header is no key");
	ok(auth(&c, &web, "alice", NULL, NULL, &w) == CALLERS_OK &&
	       strcmp(w.id, "user:alice") == 0 && strcmp(w.name, "alice") == 0 &&
	       w.mode == CALLERS_WEB_SERVER,
	   "web_server: REMOTE_USER");
	ok(auth(&c, &web, NULL, NULL, NULL, &w) == CALLERS_MISSING,
	   "web_server alone: no REMOTE_USER is a missing credential");
	ok(auth(&c, &web, "ali\001ce", NULL, NULL, &w) == CALLERS_INVALID,
	   "a REMOTE_USER with a control character is refused");
	ok(auth(&c, &webjwt, "alice", "Bearer x.y.z", NULL, &w) == CALLERS_OK &&
	       w.mode == CALLERS_WEB_SERVER,
	   "web_server jwt: the first mode whose credential is present decides");
	free(c.keys);
	free_pc(&none);
	free_pc(&keynone);
	free_pc(&web);
	free_pc(&webjwt);
	free(h);
	free(text);
	free(path);
}

static void test_jwt(void)
{
	struct policy_callers pc = pcall(1, CALLERS_JWT);
	char *n = bn_b64(OSSL_PKEY_PARAM_RSA_N), *e = bn_b64(OSSL_PKEY_PARAM_RSA_E);
	char *jwks = fmt("{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"k1\",\"n\":\"%s\","
	                 "\"e\":\"%s\"}]}",
	                 n, e);
	char *path = file("jwks.json", jwks, 0644), *c1 = claims(",\"scp\":\"Secrets.Read\"");
	char *good = token("k1", c1), *authz = fmt("bearer   %s", good);
	char *other = token("k2", c1), *authz2 = fmt("Bearer %s", other);
	char err[256];
	struct callers c;
	struct caller w;
	long before;

	memset(&c, 0, sizeof(c));
	c.now = fake_now;
	c.pc = &pc;
	ok(load_jwks_file(&c, path, err, sizeof(err)) == 0 && c.from_file,
	   "a JWKS file loads at start");
	ok(auth(&c, &pc, NULL, authz, NULL, &w) == CALLERS_OK &&
	       strcmp(w.id, "jwt:11111111-0000-4000-8000-000000000001") == 0 &&
	       strcmp(w.name, "alice@example.com") == 0 && w.claims != NULL,
	   "a good token (scheme in any case, several spaces): the caller is jwt:OID");
	ok(callers_is(&w, "scope:Secrets.Read") && !callers_is(&w, "scope:secrets.read") &&
	       callers_is(&w, "user:ALICE@example.com") &&
	       callers_is(&w, "user:11111111-0000-4000-8000-000000000001") &&
	       callers_is(&w, "app:APP-1") && callers_is(&w, "authenticated") &&
	       !callers_is(&w, "anonymous") && !callers_is(&w, "role:Secrets.Read") &&
	       !callers_is(&w, "key:alice@example.com") && !callers_is(&w, "group:x"),
	   "who items: scope exact, user by username or oid ignoring case, app, authenticated");
	callers_release(&w);
	ok(auth(&c, &pc, NULL, authz2, NULL, &w) == CALLERS_INVALID &&
	       w.jwt_error == JWT_EUNKNOWN_KID && w.bearer && strstr(w.detail, other) == NULL,
	   "an unknown kid with a key file: refused (never refetched), the token not in the "
	   "detail");
	ok(auth(&c, &pc, NULL, "Bearer", NULL, &w) == CALLERS_INVALID && w.bearer,
	   "an empty Bearer is an invalid token");
	jwt_keyset_free(c.ks);

	/* An issuer that cannot be reached: the limits on fetching. */
	pc.jwt_openid_config = "http://127.0.0.1:1/tenant/v2.0/.well-known/openid-configuration";
	memset(&c, 0, sizeof(c));
	c.now = fake_now;
	c.pc = &pc;
	c.timeout_ms = 1000;
	ok(auth(&c, &pc, NULL, authz, NULL, &w) == CALLERS_UNAVAILABLE && c.tried,
	   "no keys and the issuer unreachable: cannot decide (not a 401)");
	before = c.last_attempt;
	clock_ms += CALLERS_RETRY_MS - 1;
	(void)auth(&c, &pc, NULL, authz, NULL, &w);
	ok(c.last_attempt == before, "no new attempt within %ld ms", CALLERS_RETRY_MS);
	clock_ms += 1;
	(void)auth(&c, &pc, NULL, authz, NULL, &w);
	ok(c.last_attempt == clock_ms, "then one more");
	/* With keys (fetched before), an unknown kid refetches at most once a
	 * minute, and a failed refetch keeps the keys. */
	load_jwks_file(&c, path, err, sizeof(err));
	c.from_file = false;
	c.last_ok = clock_ms;
	before = c.last_attempt;
	clock_ms += CALLERS_REFETCH_MS - 1;
	ok(auth(&c, &pc, NULL, authz2, NULL, &w) == CALLERS_INVALID && c.last_attempt == before,
	   "an unknown kid within a minute of the last fetch: refused without a fetch");
	clock_ms += 1;
	ok(auth(&c, &pc, NULL, authz2, NULL, &w) == CALLERS_INVALID && c.last_attempt == clock_ms &&
	       c.ks != NULL,
	   "a minute on: one refetch (failing here), the keys kept");
	ok(auth(&c, &pc, NULL, authz, NULL, &w) == CALLERS_OK, "known keys still verify");
	callers_release(&w);
	jwt_keyset_free(c.ks);
	http_free(c.http);
	free_pc(&pc);
	free(n);
	free(e);
	free(jwks);
	free(path);
	free(c1);
	free(good);
	free(authz);
	free(other);
	free(authz2);
}

static void test_who(void)
{
	struct caller a, k, u;

	memset(&a, 0, sizeof(a));
	a.anonymous = true;
	memset(&k, 0, sizeof(k));
	k.mode = CALLERS_API_KEY;
	snprintf(k.name, sizeof(k.name), "spa-prod");
	memset(&u, 0, sizeof(u));
	u.mode = CALLERS_WEB_SERVER;
	snprintf(u.name, sizeof(u.name), "Alice");
	ok(callers_is(&a, "anonymous") && !callers_is(&a, "authenticated") &&
	       !callers_is(&a, "user:") && !callers_is(&a, "key:spa-prod"),
	   "anonymous is anonymous only");
	ok(callers_is(&k, "key:SPA-prod") && !callers_is(&k, "user:spa-prod") &&
	       callers_is(&k, "authenticated") && !callers_is(&k, "role:x"),
	   "a key: key:NAME ignoring case");
	ok(callers_is(&u, "user:alice") && !callers_is(&u, "key:alice") && !callers_is(&u, "x"),
	   "a web server user: user:NAME ignoring case; unknown items match nothing");
}

static void test_files(void)
{
	char why[512], param[64];
	char *p = file("secret", "s\n", 0644);

	ok(callers_file_exposed(p, why, sizeof(why)) && strstr(why, "every user") != NULL,
	   "a world-readable file is exposed");
	chmod(p, 0640);
	ok(callers_file_exposed(p, why, sizeof(why)) && strstr(why, "group") != NULL,
	   "group-readable while owned by the gateway's user is exposed");
	chmod(p, 0600);
	ok(!callers_file_exposed(p, why, sizeof(why)) && !callers_file_exposed("", why, 8) &&
	       !callers_file_exposed("/nonexistent", why, 8),
	   "0600, no file, a missing file: not exposed");
	unlink(p);
	free(p);
	callers_key_param("Ocp-Apim-Subscription-Key", param, sizeof(param));
	ok(strcmp(param, "HTTP_OCP_APIM_SUBSCRIPTION_KEY") == 0, "the CGI name of the key header");
	callers_key_param("x-api-key", param, sizeof(param));
	ok(strcmp(param, "HTTP_X_API_KEY") == 0, "upper-cased, '-' as '_'");
}

int main(void)
{
	if (mkdtemp(dir) == NULL || (key = EVP_RSA_gen(2048)) == NULL)
		return 2;
	log_set_level(LOG_LEVEL_ERROR);
	test_keys_file();
	test_modes();
	test_jwt();
	test_who();
	test_files();
	EVP_PKEY_free(key);
	{
		char *cmd = fmt("rm -rf %s", dir);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
		free(cmd);
	}
	return tap_done();
}
