/*
 * test_jwt: JWKS key sets and access token verification (lib/jwt.c).
 *
 * Every key is made at test time with libcrypto (RSA 2048, EC P-256), the
 * JWKS is built from them (base64url n/e/x/y), and every token is signed
 * here: RS256, ES256 (the DER signature OpenSSL makes converted to the raw
 * R || S that JWS uses), and the forgeries a verifier must refuse.
 *
 * Pins down: good RS256 and ES256 tokens (v1.0 and v2.0 claim shapes) and
 * the identity copied out; alg none (any case), HS256 keyed with the RSA
 * public key (the key-confusion attack), PS256, a missing alg; an unknown
 * kid (its own error, so the caller refetches the JWKS), a kid used with the
 * other key type; tampered payload and signature, a truncated signature, a
 * DER ES256 signature; the wrong number of parts, padding and non-base64url
 * characters; the size cap; exp, nbf and iat against the clock skew at the
 * boundary; iss and aud (string and array) matching; missing exp; the
 * scope/role "any of" rule; duplicate JSON members and non-object JSON; a
 * JWKS with bad entries skipped and counted, and JWKS caps. No detail
 * message quotes a token part, and no token is printed.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "base64.h"
#include "jwt.h"
#include "strlist.h"
#include "tap.h"

#define TID "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define ISS_V1 "https://sts.windows.net/" TID "/"
#define ISS_V2 "https://login.microsoftonline.com/" TID "/v2.0"
#define AUD_URI "api://kvgate"
#define AUD_ID "11111111-2222-3333-4444-555555555555"
#define HDR_RS "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}"
#define HDR_ES "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"typ\":\"JWT\"}"

enum sign { SIGN_RS256, SIGN_PS256, SIGN_ES256, SIGN_ES256_DER, SIGN_HS256, SIGN_NONE };

static time_t fake_now = 1700000000;
static EVP_PKEY *rsa_key, *ec_key;
static struct jwt_keyset *keys;
static struct strlist issuers, audiences, no_list;
static struct jwt_options opts;
/* Detail messages that quoted a part of the token they were about. */
static int leaks;

static time_t fake_clock(void)
{
	return fake_now;
}

static char *b64(const void *p, size_t n)
{
	return base64url_encode(p, n);
}

/* asprintf that aborts the test on failure (out of memory). */
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

/* The public key bytes a confused verifier would use as an HMAC secret:
 * the PEM SubjectPublicKeyInfo. */
static char *public_pem(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy = NULL;
	long n;

	if (bio != NULL && PEM_write_bio_PUBKEY(bio, k) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0)
		copy = strndup(data, (size_t)n);
	BIO_free(bio);
	return copy;
}

/* Sign the n bytes at msg as how says; returns a new buffer with *len. */
static unsigned char *sign(enum sign how, EVP_PKEY *k, const char *msg, size_t n, size_t *len)
{
	unsigned char *sig = NULL, *raw = NULL;
	const unsigned char *p;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	char *secret;

	*len = 0;
	if (how == SIGN_NONE)
		return calloc(1, 1);
	if (how == SIGN_HS256) {
		if ((secret = public_pem(k)) == NULL || (sig = malloc(EVP_MAX_MD_SIZE)) == NULL ||
		    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, strlen(secret),
		              (const unsigned char *)msg, n, sig, EVP_MAX_MD_SIZE, len) == NULL)
			abort();
		free(secret);
		return sig;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, k) != 1)
		abort();
	if (how == SIGN_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		abort();
	if (EVP_DigestSign(ctx, NULL, len, (const unsigned char *)msg, n) != 1 ||
	    (sig = malloc(*len)) == NULL ||
	    EVP_DigestSign(ctx, sig, len, (const unsigned char *)msg, n) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	if (how != SIGN_ES256)
		return sig;
	/* JWS wants R || S, each left-padded to 32 bytes, not DER. */
	p = sig;
	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)*len)) == NULL || (raw = malloc(64)) == NULL)
		abort();
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
		abort();
	ECDSA_SIG_free(es);
	free(sig);
	*len = 64;
	return raw;
}

/* A compact token: header and payload JSON as given, signed with k. */
static char *token_k(const char *header, const char *payload, enum sign how, EVP_PKEY *k)
{
	char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
	char *input = fmt("%s.%s", h, p), *s, *t;
	size_t n;
	unsigned char *sig = sign(how, k, input, strlen(input), &n);

	s = b64(sig, n);
	t = fmt("%s.%s", input, s);
	free(h);
	free(p);
	free(input);
	free(sig);
	free(s);
	return t;
}

/* The same, with the key the algorithm family uses. */
static char *token(const char *header, const char *payload, enum sign how)
{
	return token_k(header, payload, how,
	               how == SIGN_ES256 || how == SIGN_ES256_DER ? ec_key : rsa_key);
}

/* token() for a payload the caller made for this token alone (freed). */
static char *token_own(const char *header, char *payload, enum sign how)
{
	char *t = token(header, payload, how);

	free(payload);
	return t;
}

/* A v2.0 access token's claims, valid now, as a json-c object the test may
 * change before serialising. */
static struct json_object *claims_v2(void)
{
	struct json_object *c = json_object_new_object(), *roles = json_object_new_array(),
	                   *groups = json_object_new_array();

	json_object_object_add(c, "aud", json_object_new_string(AUD_ID));
	json_object_object_add(c, "iss", json_object_new_string(ISS_V2));
	json_object_object_add(c, "iat", json_object_new_int64(fake_now - 60));
	json_object_object_add(c, "nbf", json_object_new_int64(fake_now - 60));
	json_object_object_add(c, "exp", json_object_new_int64(fake_now + 3600));
	json_object_object_add(c, "azp", json_object_new_string("spa-client-id"));
	json_object_object_add(c, "name", json_object_new_string("Alice"));
	json_object_object_add(c, "oid", json_object_new_string("oid-alice"));
	json_object_object_add(c, "preferred_username",
	                       json_object_new_string("alice@contoso.com"));
	json_object_object_add(c, "scp", json_object_new_string("User.Read Secrets.Read"));
	json_object_object_add(c, "sub", json_object_new_string("sub-alice"));
	json_object_object_add(c, "tid", json_object_new_string(TID));
	json_object_object_add(c, "ver", json_object_new_string("2.0"));
	json_object_array_add(roles, json_object_new_string("Secrets.Reader"));
	json_object_object_add(c, "roles", roles);
	json_object_array_add(groups, json_object_new_string("group-1"));
	json_object_array_add(groups, json_object_new_string("group-2"));
	json_object_object_add(c, "groups", groups);
	return c;
}

/* Serialise c (and put it). Returns a new string. */
static char *dump(struct json_object *c)
{
	char *s = strdup(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN |
	                                                       JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(c);
	return s;
}

/* claims_v2() with key set to v (NULL: removed), serialised. */
static char *claims_with(const char *key, struct json_object *v)
{
	struct json_object *c = claims_v2();

	if (v != NULL)
		json_object_object_add(c, key, v);
	else
		json_object_object_del(c, key);
	return dump(c);
}

/* Verify t with the test options; counts detail messages that quote a token
 * part and checks *out is NULL on failure. */
static enum jwt_err verify_o(const char *t, const struct jwt_options *o, struct jwt_claims **out)
{
	char detail[256], *copy = strdup(t), *part, *save = NULL;
	enum jwt_err e;

	*out = (struct jwt_claims *)(void *)&leaks; /* must be overwritten */
	e = jwt_verify(keys, t, o, out, detail, sizeof(detail));
	if (e != JWT_OK && *out != NULL) {
		leaks++;
		*out = NULL;
	}
	for (part = strtok_r(copy, ".", &save); part != NULL; part = strtok_r(NULL, ".", &save))
		if (strlen(part) >= 8 && strstr(detail, part) != NULL)
			leaks++;
	free(copy);
	return e;
}

/* Verify t expecting want; one assertion. t is freed. */
static void expect(char *t, enum jwt_err want, const char *what)
{
	struct jwt_claims *c = NULL;
	enum jwt_err e = verify_o(t, &opts, &c);

	ok(e == want, "%s: %s (got %s)", what, jwt_strerror(want), jwt_strerror(e));
	jwt_claims_free(c);
	free(t);
}

/* Verify t with options o expecting want. t is freed. */
static void expect_o(char *t, const struct jwt_options *o, enum jwt_err want, const char *what)
{
	struct jwt_claims *c = NULL;
	enum jwt_err e = verify_o(t, o, &c);

	ok(e == want, "%s: %s (got %s)", what, jwt_strerror(want), jwt_strerror(e));
	jwt_claims_free(c);
	free(t);
}

/* The base64url of a big-number parameter of k, padded to pad bytes (0:
 * minimal). */
static char *bn_b64(EVP_PKEY *k, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		abort();
	n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	if (n <= 0)
		abort();
	return b64(buf, (size_t)n);
}

static char *rsa_jwk(EVP_PKEY *k, const char *kid)
{
	char *n = bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0), *e = bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
	char *j = fmt("{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",\"x5t\":\"%s\",\"n\":\"%s\","
	              "\"e\":\"%s\",\"x5c\":[\"MIIC\"],\"issuer\":\"" ISS_V2 "\"}",
	              kid, kid, n, e);

	free(n);
	free(e);
	return j;
}

static char *ec_jwk(EVP_PKEY *k, const char *kid)
{
	char *x = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32),
	     *y = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	char *j =
	    fmt("{\"kty\":\"EC\",\"use\":\"sig\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\","
	        "\"y\":\"%s\",\"alg\":\"ES256\"}",
	        kid, x, y);

	free(x);
	free(y);
	return j;
}

/* Parse json into a key set (freed at once), returning the error and the
 * report. */
static enum jwt_err parse_only(const char *json, size_t len, struct jwt_jwks_report *r)
{
	struct jwt_keyset *ks = (struct jwt_keyset *)(void *)&leaks;
	enum jwt_err e = jwt_keyset_parse(json, len, &ks, r, NULL, 0);

	if (e != JWT_OK && ks != NULL)
		leaks++;
	jwt_keyset_free(e == JWT_OK ? ks : NULL);
	return e;
}

static void setup(void)
{
	char *rj, *ej, *jwks, detail[256];
	struct jwt_jwks_report r;
	enum jwt_err e;

	if ((rsa_key = EVP_RSA_gen(2048)) == NULL || (ec_key = EVP_EC_gen("P-256")) == NULL)
		abort();
	rj = rsa_jwk(rsa_key, "rsa1");
	ej = ec_jwk(ec_key, "ec1");
	jwks = fmt("{\"keys\":[%s,%s]}", rj, ej);
	e = jwt_keyset_parse(jwks, strlen(jwks), &keys, &r, detail, sizeof(detail));
	ok(e == JWT_OK && jwt_keyset_count(keys) == 2 && r.loaded == 2 && r.not_sig == 0 &&
	       r.unsupported == 0 && r.invalid == 0,
	   "a JWKS of one RSA 2048 and one EC P-256 key (Entra ID's extra members too) loads "
	   "both (%s; %s)",
	   jwt_strerror(e), detail);
	ok(jwt_keyset_has(keys, "rsa1") && jwt_keyset_has(keys, "ec1") &&
	       !jwt_keyset_has(keys, "rsa2"),
	   "the key set finds its keys by kid, and only those");
	free(rj);
	free(ej);
	free(jwks);
	if (keys == NULL)
		exit(tap_done());
	if (strlist_parse(ISS_V1 " " ISS_V2, &issuers) != 0 ||
	    strlist_parse(AUD_URI " " AUD_ID, &audiences) != 0)
		abort();
	jwt_options_init(&opts);
	opts.issuers = &issuers;
	opts.audiences = &audiences;
	opts.now = fake_clock;
}

/* Good tokens, and what comes out of them. */
static void test_good(void)
{
	struct jwt_claims *c = NULL;
	char *t;
	enum jwt_err e;

	t = token_own(HDR_RS, dump(claims_v2()), SIGN_RS256);
	e = verify_o(t, &opts, &c);
	ok(e == JWT_OK && c != NULL, "a good RS256 v2.0 token verifies (%s)", jwt_strerror(e));
	ok(c != NULL && strcmp(c->sub, "sub-alice") == 0 && strcmp(c->oid, "oid-alice") == 0 &&
	       strcmp(c->tid, TID) == 0 && strcmp(c->appid, "spa-client-id") == 0 &&
	       strcmp(c->username, "alice@contoso.com") == 0 && strcmp(c->iss, ISS_V2) == 0 &&
	       c->exp == fake_now + 3600 && !c->groups_overage,
	   "...and yields sub, oid, tid, azp as appid, preferred_username, iss and exp");
	ok(c != NULL && c->scopes.n == 2 && strcmp(c->scopes.v[0], "User.Read") == 0 &&
	       strcmp(c->scopes.v[1], "Secrets.Read") == 0 && c->roles.n == 1 &&
	       strcmp(c->roles.v[0], "Secrets.Reader") == 0 && c->groups.n == 2 &&
	       strcmp(c->groups.v[1], "group-2") == 0,
	   "...and the scopes (scp split at spaces), roles and groups");
	jwt_claims_free(c);
	free(t);
	c = NULL;

	t = token_own(HDR_ES, dump(claims_v2()), SIGN_ES256);
	e = verify_o(t, &opts, &c);
	ok(e == JWT_OK && c != NULL && strcmp(c->sub, "sub-alice") == 0,
	   "a good ES256 token (raw R || S signature) verifies (%s)", jwt_strerror(e));
	jwt_claims_free(c);
	free(t);
	c = NULL;

	{
		struct json_object *v1 = claims_v2();

		json_object_object_add(v1, "iss", json_object_new_string(ISS_V1));
		json_object_object_add(v1, "aud", json_object_new_string(AUD_URI));
		json_object_object_del(v1, "azp");
		json_object_object_del(v1, "preferred_username");
		json_object_object_add(v1, "appid", json_object_new_string("v1-app"));
		json_object_object_add(v1, "upn", json_object_new_string("bob@contoso.com"));
		json_object_object_add(v1, "ver", json_object_new_string("1.0"));
		t = token_own(HDR_RS, dump(v1), SIGN_RS256);
	}
	e = verify_o(t, &opts, &c);
	ok(e == JWT_OK && c != NULL && strcmp(c->appid, "v1-app") == 0 &&
	       strcmp(c->username, "bob@contoso.com") == 0 && strcmp(c->iss, ISS_V1) == 0,
	   "a v1.0 token (sts.windows.net issuer, appid, upn) verifies and fills appid and "
	   "username (%s)",
	   jwt_strerror(e));
	jwt_claims_free(c);
	free(t);
	c = NULL;

	{
		struct json_object *o = claims_v2(), *names = json_object_new_object();

		json_object_object_del(o, "groups");
		json_object_object_add(names, "groups", json_object_new_string("src1"));
		json_object_object_add(o, "_claim_names", names);
		t = token_own(HDR_RS, dump(o), SIGN_RS256);
	}
	e = verify_o(t, &opts, &c);
	ok(e == JWT_OK && c != NULL && c->groups_overage && c->groups.n == 0,
	   "a token with groups overage (_claim_names.groups) says so (%s)", jwt_strerror(e));
	jwt_claims_free(c);
	free(t);
}

/* alg: only RS256 and ES256, never from the token's say-so. */
static void test_alg(void)
{
	char *payload = dump(claims_v2());

	expect(token("{\"alg\":\"none\",\"kid\":\"rsa1\"}", payload, SIGN_NONE), JWT_EALG_NONE,
	       "alg none with an empty signature");
	expect(token("{\"alg\":\"None\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}", payload, SIGN_NONE),
	       JWT_EALG_NONE, "alg None (another case)");
	expect(token("{\"alg\":\"none\"}", payload, SIGN_RS256), JWT_EALG_NONE,
	       "alg none without kid, with an RS256 signature attached");
	expect(token("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", payload, SIGN_HS256), JWT_EALG,
	       "HS256 keyed with the RSA public key PEM (key confusion)");
	expect(token("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", payload, SIGN_PS256), JWT_EALG,
	       "PS256 signed with the right RSA key");
	expect(token(HDR_RS, payload, SIGN_PS256), JWT_ESIGNATURE,
	       "a PS256 signature presented as RS256");
	expect(token("{\"alg\":\"RS512\",\"kid\":\"rsa1\"}", payload, SIGN_RS256), JWT_EALG,
	       "RS512");
	expect(token("{\"alg\":\"rs256\",\"kid\":\"rsa1\"}", payload, SIGN_RS256), JWT_EALG,
	       "rs256 (alg names are case-sensitive)");
	expect(token("{\"kid\":\"rsa1\",\"typ\":\"JWT\"}", payload, SIGN_RS256), JWT_EALG,
	       "a header without alg");
	expect(token("{\"alg\":256,\"kid\":\"rsa1\"}", payload, SIGN_RS256), JWT_EALG,
	       "alg that is not a string");
	expect(token("{\"alg\":null,\"kid\":\"rsa1\"}", payload, SIGN_RS256), JWT_EALG, "alg null");
	free(payload);
}

/* kid: the key comes from the key set by kid, of the type alg needs. */
static void test_kid(void)
{
	char *payload = dump(claims_v2());

	expect(token("{\"alg\":\"RS256\",\"kid\":\"rolled-over\"}", payload, SIGN_RS256),
	       JWT_EUNKNOWN_KID, "a kid not in the key set (refetch the JWKS)");
	expect(token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload, SIGN_RS256), JWT_EMALFORMED,
	       "a header without kid");
	expect(token("{\"alg\":\"RS256\",\"kid\":\"\"}", payload, SIGN_RS256), JWT_EMALFORMED,
	       "an empty kid");
	expect(token_k("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", payload, SIGN_ES256, ec_key),
	       JWT_EKEY_TYPE, "the RSA key's kid with alg ES256");
	expect(token_k("{\"alg\":\"RS256\",\"kid\":\"ec1\"}", payload, SIGN_RS256, rsa_key),
	       JWT_EKEY_TYPE, "the EC key's kid with alg RS256");
	expect(token("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"],\"exp\":1}", payload,
	             SIGN_RS256),
	       JWT_EMALFORMED, "a header with crit");
	expect(token("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jwk\":{\"kty\":\"oct\"},"
	             "\"jku\":\"https://evil.example/keys\"}",
	             payload, SIGN_RS256),
	       JWT_OK, "jwk and jku in the header are ignored (keys come from the set only)");
	free(payload);
}

/* Replace part i (0-2) of the token t with s (freed); returns a new token,
 * frees t. */
static char *with_part(char *t, int i, char *s)
{
	char *p[3], *out;

	p[0] = t;
	p[1] = strchr(t, '.');
	*p[1]++ = '\0';
	p[2] = strchr(p[1], '.');
	*p[2]++ = '\0';
	p[i] = s;
	out = fmt("%s.%s.%s", p[0], p[1], p[2]);
	free(t);
	free(s);
	return out;
}

/* The token t (freed) with one bit of its signature flipped (flip >= 0:
 * at that byte) and drop bytes cut off the end. Returns a new token. */
static char *mangle_sig(char *t, int flip, size_t drop)
{
	const char *dot = strrchr(t, '.');
	unsigned char *sig;
	size_t n;
	char *s;

	if ((sig = base64url_decode(dot + 1, 4096, &n)) == NULL || n <= drop)
		abort();
	if (flip >= 0)
		sig[(size_t)flip % n] ^= 0x01;
	s = b64(sig, n - drop);
	free(sig);
	return with_part(t, 2, s);
}

/* Tampering with any part breaks the signature. */
static void test_tamper(void)
{
	char *payload = dump(claims_v2()),
	     *other = claims_with("oid", json_object_new_string("oid-mallory"));
	char *t;

	t = token(HDR_RS, payload, SIGN_RS256);
	expect(with_part(t, 1, b64(other, strlen(other))), JWT_ESIGNATURE,
	       "RS256: the payload swapped for another identity's");
	t = token(HDR_ES, payload, SIGN_ES256);
	expect(with_part(t, 1, b64(other, strlen(other))), JWT_ESIGNATURE,
	       "ES256: the payload swapped for another identity's");
	t = token(HDR_RS, payload, SIGN_RS256);
	expect(with_part(t, 0, strdup("eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEifQ")), JWT_ESIGNATURE,
	       "RS256: the header re-encoded (same alg and kid, different bytes)");
	expect(mangle_sig(token(HDR_RS, payload, SIGN_RS256), 100, 0), JWT_ESIGNATURE,
	       "RS256: one signature bit flipped");
	expect(mangle_sig(token(HDR_ES, payload, SIGN_ES256), 40, 0), JWT_ESIGNATURE,
	       "ES256: one signature bit flipped");
	expect(mangle_sig(token(HDR_RS, payload, SIGN_RS256), -1, 1), JWT_ESIGNATURE,
	       "RS256: the signature cut by one byte");
	expect(mangle_sig(token(HDR_ES, payload, SIGN_ES256), -1, 1), JWT_ESIGNATURE,
	       "ES256: the signature cut by one byte");
	expect(token(HDR_RS, payload, SIGN_NONE), JWT_ESIGNATURE, "RS256 with an empty signature");
	expect(token(HDR_ES, payload, SIGN_ES256_DER), JWT_ESIGNATURE,
	       "ES256 with a DER signature instead of R || S");
	free(payload);
	free(other);
}

/* Three parts of strict base64url, nothing else. */
static void test_shape(void)
{
	char *payload = dump(claims_v2()), *good = token(HDR_RS, payload, SIGN_RS256), *t;
	char *h = strndup(good, (size_t)(strchr(good, '.') - good));

	expect(fmt("%s", good), JWT_OK, "the unmodified token (control)");
	expect(fmt("%.*s", (int)(strrchr(good, '.') - good), good), JWT_EMALFORMED,
	       "two parts (signature removed with its dot)");
	expect(fmt("%s.%s", good, "c2ln"), JWT_EMALFORMED, "four parts");
	expect(fmt("%s.a.b", good), JWT_EMALFORMED, "five parts (JWE shape)");
	expect(strdup(""), JWT_EMALFORMED, "an empty token");
	expect(strdup(".."), JWT_EMALFORMED, "three empty parts");
	expect(strdup("Bearer"), JWT_EMALFORMED, "one part");
	expect(fmt("%s=%s", h, good + strlen(h)), JWT_EMALFORMED, "'=' padding after the header");
	expect(fmt("%s==", good), JWT_EMALFORMED, "'==' padding after the signature");
	t = strdup(good);
	t[strlen(h) + 3] = '+';
	expect(t, JWT_EMALFORMED, "'+' (standard base64) in the payload");
	t = strdup(good);
	t[strlen(t) - 5] = '/';
	expect(t, JWT_EMALFORMED, "'/' (standard base64) in the signature");
	t = strdup(good);
	t[2] = ' ';
	expect(t, JWT_EMALFORMED, "a space in the header");
	expect(fmt("%s\n", good), JWT_EMALFORMED, "a trailing newline");
	expect(fmt("e30%s", good + strlen(h)), JWT_EALG, "a header of {} (well formed, no alg)");
	free(payload);
	free(good);
	free(h);
}

/* The size cap: JWT_TOKEN_MAX bytes verify, one more is refused unread. */
static void test_size(void)
{
	struct json_object *c;
	size_t len = 0, start;
	char *t;

	/* Grow a padding claim until the signed token is within 2 bytes of the
	 * cap (base64url lengths skip every fourth value), starting from an
	 * estimate made with an empty one. */
	c = claims_v2();
	json_object_object_add(c, "pad", json_object_new_string(""));
	t = token_own(HDR_RS, dump(c), SIGN_RS256);
	start = (JWT_TOKEN_MAX - strlen(t)) * 3 / 4 - 8;
	for (size_t pad = start; pad < start + 32; pad++) {
		char *filler = malloc(pad + 1);

		memset(filler, 'x', pad);
		filler[pad] = '\0';
		c = claims_v2();
		json_object_object_add(c, "pad", json_object_new_string(filler));
		free(filler);
		free(t);
		t = token_own(HDR_RS, dump(c), SIGN_RS256);
		len = strlen(t);
		if (len >= JWT_TOKEN_MAX - 2)
			break;
	}
	ok(len >= JWT_TOKEN_MAX - 2 && len <= JWT_TOKEN_MAX, "made a token of %zu bytes", len);
	expect(t, JWT_OK, "a signed token within 2 bytes of the cap verifies");
	t = malloc(JWT_TOKEN_MAX + 2);
	memset(t, 'A', JWT_TOKEN_MAX + 1);
	t[10] = t[20] = '.';
	t[JWT_TOKEN_MAX + 1] = '\0';
	expect(t, JWT_ETOOBIG, "a token of JWT_TOKEN_MAX + 1 bytes");
}

/* exp, nbf and iat against the clock and its skew (300 s by default). */
static void test_time(void)
{
	struct jwt_options strict = opts;

	expect(token_own(HDR_RS, claims_with("exp", json_object_new_int64(fake_now - 301)),
	                 SIGN_RS256),
	       JWT_EEXPIRED, "expired 301 s ago (beyond the 300 s skew)");
	expect(token_own(HDR_RS, claims_with("exp", json_object_new_int64(fake_now - 300)),
	                 SIGN_RS256),
	       JWT_EEXPIRED, "expired exactly the skew ago");
	expect(token_own(HDR_RS, claims_with("exp", json_object_new_int64(fake_now - 299)),
	                 SIGN_RS256),
	       JWT_OK, "expired 299 s ago (within the skew) is accepted");
	expect(token_own(HDR_RS, claims_with("exp", json_object_new_int64(fake_now - 120)),
	                 SIGN_RS256),
	       JWT_OK, "expired 120 s ago (within the skew) is accepted");
	strict.clock_skew = 0;
	expect_o(token_own(HDR_RS, claims_with("exp", json_object_new_int64(fake_now - 120)),
	                   SIGN_RS256),
	         &strict, JWT_EEXPIRED, "...but not with clock_skew 0");
	expect_o(token_own(HDR_RS, claims_with("exp", json_object_new_int64(fake_now)), SIGN_RS256),
	         &strict, JWT_EEXPIRED, "exp equal to now, skew 0");
	expect(token_own(HDR_RS, claims_with("exp", json_object_new_double(fake_now + 10.5)),
	                 SIGN_RS256),
	       JWT_OK, "a fractional exp (NumericDate allows it)");
	expect(token_own(HDR_RS, claims_with("exp", NULL), SIGN_RS256), JWT_ENO_EXP, "no exp");
	expect(
	    token_own(HDR_RS, claims_with("exp", json_object_new_string("1900000000")), SIGN_RS256),
	    JWT_ECLAIM, "exp as a string");
	expect(token_own(HDR_RS, claims_with("exp", json_object_new_int64(INT64_MIN)), SIGN_RS256),
	       JWT_EEXPIRED, "exp INT64_MIN");
	expect(token_own(HDR_RS, claims_with("nbf", json_object_new_int64(fake_now + 301)),
	                 SIGN_RS256),
	       JWT_ENOT_YET_VALID, "nbf 301 s in the future");
	expect(token_own(HDR_RS, claims_with("nbf", json_object_new_int64(fake_now + 300)),
	                 SIGN_RS256),
	       JWT_OK, "nbf 300 s in the future (within the skew)");
	expect(token_own(HDR_RS, claims_with("iat", json_object_new_int64(fake_now + 3000)),
	                 SIGN_RS256),
	       JWT_ENOT_YET_VALID, "iat in the future beyond the skew");
	expect(token_own(HDR_RS, claims_with("nbf", json_object_new_string("soon")), SIGN_RS256),
	       JWT_ECLAIM, "nbf as a string");
	{
		char *p = claims_with("nbf", NULL), *q;
		struct json_object *c = json_tokener_parse(p);

		json_object_object_del(c, "iat");
		q = dump(c);
		expect(token(HDR_RS, q, SIGN_RS256), JWT_OK, "no nbf and no iat (both optional)");
		free(p);
		free(q);
	}
	strict.clock_skew = JWT_CLOCK_SKEW_MAX + 1;
	expect_o(token_own(HDR_RS, dump(claims_v2()), SIGN_RS256), &strict, JWT_ECONFIG,
	         "a clock skew over JWT_CLOCK_SKEW_MAX");
}

/* iss and aud. */
static void test_iss_aud(void)
{
	struct json_object *a;
	struct jwt_options none = opts;

	expect(token_own(HDR_RS,
	                 claims_with("iss", json_object_new_string("https://evil.example/")),
	                 SIGN_RS256),
	       JWT_EISSUER, "a foreign issuer");
	expect(
	    token_own(HDR_RS, claims_with("iss", json_object_new_string(ISS_V1 "x")), SIGN_RS256),
	    JWT_EISSUER, "the v1 issuer with a suffix (exact match)");
	expect(token_own(HDR_RS,
	                 claims_with("iss", json_object_new_string(
	                                        "https://login.microsoftonline.com/" TID "/v2.0/")),
	                 SIGN_RS256),
	       JWT_EISSUER, "the v2 issuer with a trailing '/'");
	expect(token_own(HDR_RS, claims_with("iss", NULL), SIGN_RS256), JWT_EISSUER, "no iss");
	expect(token_own(HDR_RS, claims_with("aud", json_object_new_string("api://other")),
	                 SIGN_RS256),
	       JWT_EAUDIENCE, "aud: another API (string)");
	expect(token_own(HDR_RS, claims_with("aud", json_object_new_string(AUD_URI)), SIGN_RS256),
	       JWT_OK, "aud: the application ID URI (string)");
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("api://other"));
	json_object_array_add(a, json_object_new_string("https://graph.microsoft.com"));
	expect(token_own(HDR_RS, claims_with("aud", a), SIGN_RS256), JWT_EAUDIENCE,
	       "aud: an array naming other APIs only");
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("api://other"));
	json_object_array_add(a, json_object_new_string(AUD_ID));
	expect(token_own(HDR_RS, claims_with("aud", a), SIGN_RS256), JWT_OK,
	       "aud: an array with our client id among others");
	expect(token_own(HDR_RS, claims_with("aud", json_object_new_array()), SIGN_RS256),
	       JWT_EAUDIENCE, "aud: an empty array");
	expect(token_own(HDR_RS, claims_with("aud", NULL), SIGN_RS256), JWT_EAUDIENCE, "no aud");
	expect(token_own(HDR_RS, claims_with("aud", json_object_new_int(1)), SIGN_RS256),
	       JWT_EAUDIENCE, "aud: a number");
	none.issuers = NULL;
	expect_o(token_own(HDR_RS, dump(claims_v2()), SIGN_RS256), &none, JWT_ECONFIG,
	         "options without issuers");
	none = opts;
	none.audiences = &no_list;
	expect_o(token_own(HDR_RS, dump(claims_v2()), SIGN_RS256), &none, JWT_ECONFIG,
	         "options with an empty audience list");
}

/* Scopes and roles: at least one of the required ones (APIM's match="any"). */
static void test_authz(void)
{
	struct strlist scopes = {0}, roles = {0};
	struct jwt_options o = opts;
	struct json_object *a;

	if (strlist_parse("Secrets.Read Secrets.Admin", &scopes) != 0 ||
	    strlist_parse("Secrets.Reader", &roles) != 0)
		abort();
	o.required_scopes = &scopes;
	expect_o(token_own(HDR_RS, claims_with("scp", json_object_new_string("User.Read openid")),
	                   SIGN_RS256),
	         &o, JWT_ESCOPE, "scp without any required scope");
	expect_o(
	    token_own(HDR_RS,
	              claims_with("scp", json_object_new_string("openid Secrets.Read User.Read")),
	              SIGN_RS256),
	    &o, JWT_OK, "one required scope among several in scp");
	expect_o(token_own(HDR_RS, claims_with("scp", json_object_new_string("secrets.read")),
	                   SIGN_RS256),
	         &o, JWT_ESCOPE, "a scope differing in case only");
	expect_o(token_own(HDR_RS, claims_with("scp", json_object_new_string("Secrets.ReadWrite")),
	                   SIGN_RS256),
	         &o, JWT_ESCOPE, "a scope with a required one as prefix");
	expect_o(token_own(HDR_RS, claims_with("scp", NULL), SIGN_RS256), &o, JWT_ESCOPE,
	         "no scp at all");
	expect_o(token_own(HDR_RS, claims_with("scp", json_object_new_int(7)), SIGN_RS256), &o,
	         JWT_ECLAIM, "scp not a string");
	o.required_scopes = NULL;
	o.required_roles = &roles;
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("Other.Role"));
	json_object_array_add(a, json_object_new_string("Secrets.Reader"));
	expect_o(token_own(HDR_RS, claims_with("roles", a), SIGN_RS256), &o, JWT_OK,
	         "one required role among several in roles");
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("Other.Role"));
	expect_o(token_own(HDR_RS, claims_with("roles", a), SIGN_RS256), &o, JWT_EROLE,
	         "roles without the required role");
	expect_o(token_own(HDR_RS, claims_with("roles", NULL), SIGN_RS256), &o, JWT_EROLE,
	         "no roles at all");
	expect_o(token_own(HDR_RS, claims_with("roles", json_object_new_string("Secrets.Reader")),
	                   SIGN_RS256),
	         &o, JWT_ECLAIM, "roles as a string, not an array");
	o.required_scopes = &scopes;
	{
		struct json_object *app = claims_v2();

		json_object_object_del(app, "scp");
		expect_o(token_own(HDR_RS, dump(app), SIGN_RS256), &o, JWT_OK,
		         "scopes and roles required: an app token with the role passes");
	}
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("Other.Role"));
	{
		struct json_object *app = claims_v2();

		json_object_object_del(app, "scp");
		json_object_object_add(app, "roles", a);
		expect_o(token_own(HDR_RS, dump(app), SIGN_RS256), &o, JWT_EROLE,
		         "scopes and roles required: an app token with another role");
	}
	{
		struct json_object *user = claims_v2();

		json_object_object_del(user, "roles");
		json_object_object_add(user, "scp", json_object_new_string("User.Read"));
		expect_o(token_own(HDR_RS, dump(user), SIGN_RS256), &o, JWT_ESCOPE,
		         "scopes and roles required: a user token without the scope");
	}
	strlist_free(&scopes);
	strlist_free(&roles);
}

/* Strict JSON: objects only, no duplicate members, no NUL in strings. */
static void test_json(void)
{
	char *payload = dump(claims_v2()), *p, big[JWT_CLAIM_MAX + 2];

	expect(token("{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload, SIGN_RS256),
	       JWT_EMALFORMED, "a header naming alg twice (json-c would keep the last)");
	expect(token("{\"alg\":\"RS256\",\"kid\":\"ec1\",\"\\u006bid\":\"rsa1\"}", payload,
	             SIGN_RS256),
	       JWT_EMALFORMED, "a header naming kid twice, once escaped");
	p = fmt("{\"aud\":\"api://other\",%s", payload + 1);
	expect(token(HDR_RS, p, SIGN_RS256), JWT_EMALFORMED, "claims naming aud twice");
	free(p);
	p = fmt("{\"x\":{\"a\":1,\"a\":2},%s", payload + 1);
	expect(token(HDR_RS, p, SIGN_RS256), JWT_EMALFORMED,
	       "a duplicate member in a nested object");
	free(p);
	expect(token(HDR_RS, "[1,2]", SIGN_RS256), JWT_EMALFORMED, "claims that are an array");
	expect(token(HDR_RS, "\"claims\"", SIGN_RS256), JWT_EMALFORMED, "claims that are a string");
	expect(token(HDR_RS, "", SIGN_RS256), JWT_EMALFORMED, "empty claims");
	p = fmt("%s xyz", payload);
	expect(token(HDR_RS, p, SIGN_RS256), JWT_EMALFORMED, "claims followed by garbage");
	free(p);
	expect(token("[\"RS256\"]", payload, SIGN_RS256), JWT_EMALFORMED,
	       "a header that is an array");
	p = fmt("{\"note\":\"a\tb\",%s", payload + 1);
	expect(token(HDR_RS, p, SIGN_RS256), JWT_EMALFORMED, "a raw tab inside a string");
	free(p);
	expect(token_own(HDR_RS, claims_with("sub", json_object_new_string_len("alice\0admin", 11)),
	                 SIGN_RS256),
	       JWT_ECLAIM, "sub with an embedded NUL (\\u0000)");
	memset(big, 'o', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect(token_own(HDR_RS, claims_with("oid", json_object_new_string(big)), SIGN_RS256),
	       JWT_ECLAIM, "an oid over JWT_CLAIM_MAX (refused, never cut)");
	expect(token_own(HDR_RS, claims_with("sub", json_object_new_int(5)), SIGN_RS256),
	       JWT_ECLAIM, "sub not a string");
	free(payload);
}

/* A JWKS: what is skipped, and what refuses the whole set. */
static void test_jwks(void)
{
	EVP_PKEY *small = EVP_RSA_gen(1024);
	char *good = ec_jwk(ec_key, "ec-good"), *rsa = rsa_jwk(rsa_key, "rsa-good");
	char *n = bn_b64(rsa_key, OSSL_PKEY_PARAM_RSA_N, 0), *e, *x, *y, *ybad, *weak, *jwks, *big;
	unsigned char yb[32];
	struct jwt_jwks_report r;
	struct jwt_keyset *ks = NULL;
	enum jwt_err err;
	size_t yn;

	x = bn_b64(ec_key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
	y = bn_b64(ec_key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	{
		unsigned char *d = base64url_decode(y, 64, &yn);

		memcpy(yb, d, 32);
		free(d);
		yb[31] ^= 1; /* off the curve */
		ybad = b64(yb, 32);
	}
	weak = rsa_jwk(small, "rsa-1024");
	e = fmt("{\"kty\":\"RSA\",\"kid\":\"e-one\",\"n\":\"%s\",\"e\":\"AQ\"}", n);
	jwks = fmt(
	    "{\"keys\":["
	    "%s," /* loaded: the good EC key */
	    /* not for signing */
	    "{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":\"enc\",\"n\":\"%s\",\"e\":\"AQAB\"},"
	    /* unsupported: a symmetric key, P-384, an RSA key for RS384 */
	    "{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"p384\",\"x\":\"%s\",\"y\":\"%s\"},"
	    "{\"kty\":\"RSA\",\"alg\":\"RS384\",\"kid\":\"rs384\",\"n\":\"%s\",\"e\":\"AQAB\"},"
	    /* invalid: RSA 1024, no e, padded n, a 30-byte x, a point off the
	     * curve, no kid, a kid seen before, e = 1, not an object, no kty,
	     * use not a string */
	    "%s,"
	    "{\"kty\":\"RSA\",\"kid\":\"no-e\",\"n\":\"%s\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"padded\",\"n\":\"%s=\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"short-x\",\"x\":\"%.40s\",\"y\":\"%s\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"off-curve\",\"x\":\"%s\",\"y\":\"%s\"},"
	    "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ec-good\",\"x\":\"%s\",\"y\":\"%s\"},"
	    "%s,"
	    "42,"
	    "{\"kid\":\"no-kty\"},"
	    "{\"kty\":\"RSA\",\"use\":7,\"kid\":\"bad-use\",\"n\":\"%s\",\"e\":\"AQAB\"}"
	    "]}",
	    good, n, x, y, n, weak, n, n, x, y, x, ybad, n, x, y, e, n);
	err = jwt_keyset_parse(jwks, strlen(jwks), &ks, &r, NULL, 0);
	ok(err == JWT_OK && jwt_keyset_count(ks) == 1 && r.loaded == 1 && r.not_sig == 1 &&
	       r.unsupported == 3 && r.invalid == 11,
	   "a JWKS with 1 good and 16 bad entries loads 1 and counts 1 not for signing, 3 "
	   "unsupported, 11 invalid (got %zu/%zu/%zu/%zu)",
	   r.loaded, r.not_sig, r.unsupported, r.invalid);
	ok(jwt_keyset_has(ks, "ec-good") && !jwt_keyset_has(ks, "off-curve") &&
	       !jwt_keyset_has(ks, "rsa-1024") && !jwt_keyset_has(ks, "e-one"),
	   "...the good key is there, an off-curve point, a 1024-bit modulus and e = 1 are not");
	{
		struct jwt_keyset *saved = keys;
		char *t = token_own("{\"alg\":\"ES256\",\"kid\":\"ec-good\"}", dump(claims_v2()),
		                    SIGN_ES256);

		keys = ks;
		expect(t, JWT_OK, "...and verifies a token signed with it");
		keys = saved;
	}
	jwt_keyset_free(ks);
	free(jwks);

	/* Every entry bad: no usable key. */
	jwks = fmt("{\"keys\":[%s]}", weak);
	ok(parse_only(jwks, strlen(jwks), &r) == JWT_EJWKS && r.invalid == 1 && r.loaded == 0,
	   "a JWKS whose only key is RSA 1024 is refused as having no usable key");
	free(jwks);
	ok(parse_only("{\"keys\":[]}", 11, &r) == JWT_EJWKS, "an empty keys array is refused");
	ok(parse_only("{\"key\":[]}", 10, &r) == JWT_EJWKS, "no keys member is refused");
	ok(parse_only("{\"keys\":{}}", 11, &r) == JWT_EJWKS, "keys not an array is refused");
	ok(parse_only("[]", 2, &r) == JWT_EJWKS, "a JWKS that is an array is refused");
	ok(parse_only("{\"keys\":[]", 10, &r) == JWT_EJWKS, "truncated JSON is refused");
	jwks = fmt("{\"keys\":[],\"keys\":[%s]}", rsa);
	ok(parse_only(jwks, strlen(jwks), &r) == JWT_EJWKS, "a JWKS naming keys twice is refused");
	free(jwks);
	jwks = fmt("{\"keys\":[%s]}garbage", rsa);
	ok(parse_only(jwks, strlen(jwks), &r) == JWT_EJWKS, "trailing garbage is refused");
	free(jwks);
	ok(parse_only(NULL, 0, &r) == JWT_EJWKS, "no text is refused");

	/* Caps. */
	big = malloc(JWT_JWKS_MAX + 2);
	memset(big, ' ', JWT_JWKS_MAX + 1);
	big[JWT_JWKS_MAX + 1] = '\0';
	memcpy(big, "{\"keys\":[", 9);
	memcpy(big + 9, rsa, strlen(rsa));
	memcpy(big + JWT_JWKS_MAX - 2, "]}", 2);
	ok(parse_only(big, JWT_JWKS_MAX, &r) == JWT_OK,
	   "a JWKS of exactly JWT_JWKS_MAX bytes (white space padded) loads");
	memcpy(big + JWT_JWKS_MAX - 2, " ]}", 3);
	ok(parse_only(big, JWT_JWKS_MAX + 1, &r) == JWT_ETOOBIG,
	   "a JWKS of JWT_JWKS_MAX + 1 bytes is refused as too big");
	free(big);
	{
		struct strlist parts = {0};
		char *joined;

		for (int i = 0; i <= JWT_KEYS_MAX; i++) {
			char *k = fmt("{\"kty\":\"oct\",\"kid\":\"k%d\"}", i);

			strlist_add(&parts, k);
			free(k);
		}
		joined = strdup("{\"keys\":[");
		for (size_t i = 0; i < parts.n; i++) {
			char *j2 = fmt("%s%s%s", joined, i ? "," : "", parts.v[i]);

			free(joined);
			joined = j2;
		}
		jwks = fmt("%s,%s]}", joined, rsa);
		ok(parse_only(jwks, strlen(jwks), &r) == JWT_ETOOBIG,
		   "a JWKS of %d entries is refused as too big", JWT_KEYS_MAX + 2);
		free(jwks);
		jwks = fmt("%s]}", joined);
		/* Exactly JWT_KEYS_MAX + 1 entries of oct: still too many. */
		ok(parse_only(jwks, strlen(jwks), &r) == JWT_ETOOBIG,
		   "a JWKS of %d entries is refused as too big", JWT_KEYS_MAX + 1);
		free(jwks);
		free(joined);
		strlist_free(&parts);
	}
	EVP_PKEY_free(small);
	free(good);
	free(rsa);
	free(n);
	free(e);
	free(x);
	free(y);
	free(ybad);
	free(weak);
}

/* Errors have distinct messages. */
static void test_strerror(void)
{
	const char *seen[JWT_EJWKS + 1];
	bool distinct = true;

	for (int i = 0; i <= JWT_EJWKS; i++) {
		seen[i] = jwt_strerror((enum jwt_err)i);
		for (int j = 0; j < i; j++)
			if (strcmp(seen[i], seen[j]) == 0)
				distinct = false;
	}
	ok(distinct, "every jwt_err has its own message");
}

int main(void)
{
	setup();
	test_good();
	test_alg();
	test_kid();
	test_tamper();
	test_shape();
	test_size();
	test_time();
	test_iss_aud();
	test_authz();
	test_json();
	test_jwks();
	test_strerror();
	ok(leaks == 0,
	   "no detail message quoted a token part, and *out stayed NULL on every failure (%d "
	   "did not)",
	   leaks);
	jwt_keyset_free(keys);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	strlist_free(&issuers);
	strlist_free(&audiences);
	return tap_done();
}
