/*
 * jwt.c: JWKS key sets and RS256/ES256 access token verification. See jwt.h.
 *
 * jwt_keyset_parse() turns each usable JWKS entry into an OpenSSL public key
 * (EVP_PKEY_fromdata, the OpenSSL 3 way), indexed by kid. jwt_verify() takes
 * a token apart (jwt_split), checks its header (jwt_check_header), verifies
 * the signature over the first two parts as sent (jwt_check_signature), and
 * only then parses and checks the claims (jwt_check_claims) and copies the
 * caller's identity out. Nothing from the payload is looked at before its
 * signature is known good.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "base64.h"
#include "buf.h"
#include "jsonparse.h"
#include "jwt.h"

/* Nesting allowed in a JWKS, a header or a claims set: Entra ID's deepest is
 * _claim_sources, three levels. */
#define JWT_JSON_DEPTH 16
/* base64url characters of an RSA modulus of JWT_RSA_BITS_MAX bits (one
 * leading zero byte tolerated) and of an exponent of at most 8 bytes. */
#define JWT_RSA_N_B64_MAX (((JWT_RSA_BITS_MAX / 8 + 1) * 4 + 2) / 3)
#define JWT_RSA_E_B64_MAX 11
/* An RSA public exponent is odd, at least 3, and at most this many bits
 * (what OpenSSL itself allows for large moduli). */
#define JWT_RSA_E_BITS_MAX 64
/* P-256: a coordinate is 32 bytes (RFC 7518 section 6.2.1.2 requires the
 * full length), 43 base64url characters; an ES256 signature is R || S, 64
 * bytes (RFC 7518 section 3.4). */
#define JWT_P256_BYTES 32
#define JWT_P256_B64 43
#define JWT_ES256_SIG_BYTES 64
/* A value from a token is quoted in a detail message only when it is this
 * short and printable. */
#define JWT_QUOTE_MAX 80

enum jwt_kty { JWT_KTY_RSA, JWT_KTY_EC };

struct jwt_key {
	char kid[JWT_KID_MAX + 1];
	enum jwt_kty kty;
	EVP_PKEY *pkey;
};

struct jwt_keyset {
	size_t n;
	struct jwt_key keys[JWT_KEYS_MAX];
};

/* What became of one JWKS entry. */
enum jwt_entry { JWT_ENTRY_LOADED, JWT_ENTRY_NOT_SIG, JWT_ENTRY_UNSUPPORTED, JWT_ENTRY_INVALID };

/* A token taken apart: the three parts decoded, and the length of the
 * signing input (header "." payload) at the start of the token. */
struct jwt_parts {
	unsigned char *header, *payload, *sig;
	size_t header_len, payload_len, sig_len;
	size_t signed_len;
};

/* A short English description of e, for logs. Static storage. */
const char *jwt_strerror(enum jwt_err e)
{
	switch (e) {
	case JWT_OK:
		return "no error";
	case JWT_ENOMEM:
		return "out of memory";
	case JWT_ECONFIG:
		return "token validation is not configured (issuer, audience, clock skew)";
	case JWT_ETOOBIG:
		return "too large";
	case JWT_EMALFORMED:
		return "malformed token";
	case JWT_EALG_NONE:
		return "unsigned token (alg none)";
	case JWT_EALG:
		return "signature algorithm not accepted";
	case JWT_EUNKNOWN_KID:
		return "token signed with a key not in the key set";
	case JWT_EKEY_TYPE:
		return "signing key does not match the algorithm";
	case JWT_ESIGNATURE:
		return "bad signature";
	case JWT_ENO_EXP:
		return "token has no expiry";
	case JWT_EEXPIRED:
		return "token expired";
	case JWT_ENOT_YET_VALID:
		return "token not yet valid";
	case JWT_EISSUER:
		return "issuer not accepted";
	case JWT_EAUDIENCE:
		return "audience not accepted";
	case JWT_ESCOPE:
		return "required scope missing";
	case JWT_EROLE:
		return "required role missing";
	case JWT_ECLAIM:
		return "malformed claim";
	case JWT_EJWKS:
		return "unusable key set";
	}
	return "unknown jwt error";
}

/* printf into detail, when there is one. */
__attribute__((format(printf, 3, 4))) static void jwt_say(char *detail, size_t dlen,
                                                          const char *fmt, ...)
{
	va_list ap;

	if (detail == NULL || dlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, dlen, fmt, ap);
	va_end(ap);
}

/*
 * s in double quotes, into q, when it is 1..JWT_QUOTE_MAX printable ASCII
 * characters other than '"' and '\', else "(not shown)": what a detail
 * message takes from a token is short and cannot forge or split a log line.
 * Returns q.
 */
static const char *jwt_quote(const char *s, char *q, size_t qlen)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			n = 0;
	if (n == 0 || n > JWT_QUOTE_MAX)
		snprintf(q, qlen, "(not shown)");
	else
		snprintf(q, qlen, "\"%s\"", s);
	return q;
}

/*
 * Check JSON text that json-c accepted for what its tokener lets through
 * even in strict mode, and count the object members it holds: no NUL byte
 * anywhere, no raw control character inside a string (RFC 8259 section 7
 * wants them escaped). *members is the number of ':' outside strings, which
 * in valid JSON is one per member of any object.
 */
static bool jwt_json_scan(const char *p, size_t n, size_t *members)
{
	bool in_string = false;

	*members = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\0')
			return false;
		if (in_string) {
			if (c < 0x20)
				return false;
			if (c == '\\')
				i++; /* json-c checked the escape; skip its second byte */
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == ':') {
			(*members)++;
		}
	}
	return !in_string;
}

/* The members of every object in j, nested ones included. json-c keeps the
 * last of duplicate names, so this is lower than the text's count exactly
 * when some object named a member twice. */
static size_t jwt_json_members(struct json_object *j)
{
	struct json_object_iterator it, end;
	size_t n = 0;

	if (json_object_is_type(j, json_type_object)) {
		it = json_object_iter_begin(j);
		end = json_object_iter_end(j);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			n += 1 + jwt_json_members(json_object_iter_peek_value(&it));
	} else if (json_object_is_type(j, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(j); i++)
			n += jwt_json_members(json_object_array_get_idx(j, i));
	}
	return n;
}

/*
 * Parse the n bytes at p as one strict JSON object (jsonparse_strict, plus
 * jwt_json_scan's checks, plus no member named twice in any object: RFC 7515
 * section 4 and RFC 7519 section 4 require rejecting duplicate names, and a
 * duplicate could make two parsers see two different claims sets). Returns a
 * new reference (caller puts it) or NULL.
 */
static struct json_object *jwt_json_object(const char *p, size_t n)
{
	struct buf b = {.data = (char *)p, .len = n, .size = n, .max = n};
	struct json_object *j;
	size_t members;

	if ((j = jsonparse_strict(&b, JWT_JSON_DEPTH)) == NULL)
		return NULL;
	if (!json_object_is_type(j, json_type_object) || !jwt_json_scan(p, n, &members) ||
	    members != jwt_json_members(j)) {
		json_object_put(j);
		return NULL;
	}
	return j;
}

/*
 * Member key of object j as a string: 1 with *s set when it is a string
 * without an embedded NUL ("\u0000" would cut it short in C), 0 when absent,
 * -1 when present as anything else (null included).
 */
static int jwt_get_string(struct json_object *j, const char *key, const char **s)
{
	struct json_object *v;

	*s = NULL;
	if (!json_object_object_get_ex(j, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return -1;
	*s = json_object_get_string(v);
	return 1;
}

/*
 * Member key of object j as a NumericDate (RFC 7519 section 2: seconds, an
 * integer or not): 1 with *t set, 0 when absent, -1 when not a finite
 * number in range. json-c saturates integers beyond 64 bits.
 */
static int jwt_get_time(struct json_object *j, const char *key, int64_t *t)
{
	struct json_object *v;
	double d;

	if (!json_object_object_get_ex(j, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*t = json_object_get_int64(v);
		return 1;
	}
	if (!json_object_is_type(v, json_type_double))
		return -1;
	d = json_object_get_double(v);
	if (!isfinite(d) || d < -9.0e18 || d > 9.0e18)
		return -1;
	*t = (int64_t)d;
	return 1;
}

/* The key named kid, or NULL. */
static const struct jwt_key *jwt_keyset_find(const struct jwt_keyset *ks, const char *kid)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->keys[i].kid, kid) == 0)
			return &ks->keys[i];
	return NULL;
}

/* Member key of JWK k decoded from strict base64url of at most max
 * characters: a new buffer (caller frees) with *n set, or NULL. */
static unsigned char *jwt_b64_member(struct json_object *k, const char *key, size_t max, size_t *n)
{
	const char *s;

	*n = 0;
	if (jwt_get_string(k, key, &s) != 1 || s[0] == '\0')
		return NULL;
	return base64url_decode(s, max, n);
}

/* Make a public key of type name ("RSA", "EC") from the parameters bld
 * holds. Returns it or NULL. */
static EVP_PKEY *jwt_pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (params == NULL || (ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/*
 * The RSA public key of JWK k (RFC 7518 section 6.3.1): n of
 * JWT_RSA_BITS_MIN..JWT_RSA_BITS_MAX bits and odd; e odd, 3 or more, at most
 * JWT_RSA_E_BITS_MAX bits. A leading zero byte in n is tolerated (some
 * publishers emit the DER integer). Returns the key or NULL.
 */
static EVP_PKEY *jwt_rsa_key(struct json_object *k)
{
	unsigned char *nb = NULL, *eb = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pkey = NULL;
	size_t nlen, elen;
	int bits;

	if ((nb = jwt_b64_member(k, "n", JWT_RSA_N_B64_MAX, &nlen)) == NULL ||
	    (eb = jwt_b64_member(k, "e", JWT_RSA_E_B64_MAX, &elen)) == NULL)
		goto out;
	if ((n = BN_bin2bn(nb, (int)nlen, NULL)) == NULL ||
	    (e = BN_bin2bn(eb, (int)elen, NULL)) == NULL)
		goto out;
	bits = BN_num_bits(n);
	if (bits < JWT_RSA_BITS_MIN || bits > JWT_RSA_BITS_MAX || !BN_is_odd(n) || !BN_is_odd(e) ||
	    BN_num_bits(e) < 2 || BN_num_bits(e) > JWT_RSA_E_BITS_MAX)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
		goto out;
	pkey = jwt_pkey_fromdata("RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(nb);
	free(eb);
	return pkey;
}

/*
 * The P-256 public key of JWK k (RFC 7518 section 6.2.1): x and y of 32
 * bytes each, a point on the curve (EVP_PKEY_public_check). Returns the key
 * or NULL.
 */
static EVP_PKEY *jwt_ec_key(struct json_object *k)
{
	unsigned char *x = NULL, *y = NULL, point[1 + 2 * JWT_P256_BYTES];
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY_CTX *check = NULL;
	EVP_PKEY *pkey = NULL;
	size_t xlen, ylen;

	if ((x = jwt_b64_member(k, "x", JWT_P256_B64, &xlen)) == NULL ||
	    (y = jwt_b64_member(k, "y", JWT_P256_B64, &ylen)) == NULL || xlen != JWT_P256_BYTES ||
	    ylen != JWT_P256_BYTES)
		goto out;
	point[0] = 0x04; /* uncompressed (SEC 1 section 2.3.3) */
	memcpy(point + 1, x, JWT_P256_BYTES);
	memcpy(point + 1 + JWT_P256_BYTES, y, JWT_P256_BYTES);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
	        1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) !=
	        1)
		goto out;
	if ((pkey = jwt_pkey_fromdata("EC", bld)) == NULL)
		goto out;
	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(check) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(check);
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

/*
 * Add JWKS entry k to ks when it is a usable signing key: "use" absent or
 * "sig"; kty RSA, or EC with crv P-256; "alg" absent or the one algorithm
 * that key type serves here (RS256, ES256); a kid of 1..JWT_KID_MAX bytes
 * not seen before (tokens find their key by kid alone); and valid key
 * material. Says which it was.
 */
static enum jwt_entry jwt_key_load(struct jwt_keyset *ks, struct json_object *k)
{
	const char *use, *kty, *crv, *alg, *kid;
	struct jwt_key *key;
	enum jwt_kty type;
	EVP_PKEY *pkey;
	int r;

	if (!json_object_is_type(k, json_type_object))
		return JWT_ENTRY_INVALID;
	if ((r = jwt_get_string(k, "use", &use)) < 0)
		return JWT_ENTRY_INVALID;
	if (r == 1 && strcmp(use, "sig") != 0)
		return JWT_ENTRY_NOT_SIG;
	if (jwt_get_string(k, "kty", &kty) != 1)
		return JWT_ENTRY_INVALID;
	if (strcmp(kty, "RSA") == 0) {
		type = JWT_KTY_RSA;
	} else if (strcmp(kty, "EC") == 0) {
		type = JWT_KTY_EC;
		if (jwt_get_string(k, "crv", &crv) != 1)
			return JWT_ENTRY_INVALID;
		if (strcmp(crv, "P-256") != 0)
			return JWT_ENTRY_UNSUPPORTED;
	} else {
		return JWT_ENTRY_UNSUPPORTED;
	}
	if ((r = jwt_get_string(k, "alg", &alg)) < 0)
		return JWT_ENTRY_INVALID;
	if (r == 1 && strcmp(alg, type == JWT_KTY_RSA ? "RS256" : "ES256") != 0)
		return JWT_ENTRY_UNSUPPORTED;
	if (jwt_get_string(k, "kid", &kid) != 1 || kid[0] == '\0' || strlen(kid) > JWT_KID_MAX ||
	    jwt_keyset_find(ks, kid) != NULL)
		return JWT_ENTRY_INVALID;
	if ((pkey = type == JWT_KTY_RSA ? jwt_rsa_key(k) : jwt_ec_key(k)) == NULL)
		return JWT_ENTRY_INVALID;
	key = &ks->keys[ks->n++];
	snprintf(key->kid, sizeof(key->kid), "%s", kid);
	key->kty = type;
	key->pkey = pkey;
	return JWT_ENTRY_LOADED;
}

/*
 * Parse a JWKS into a key set (see jwt.h). An entry that cannot be used is
 * skipped and counted, never fatal: a JWKS may list encryption keys or key
 * types added after this code. A key OpenSSL fails to build for lack of
 * memory counts as invalid; a token signed with it then fails with
 * JWT_EUNKNOWN_KID and the caller's refetch tries again.
 */
enum jwt_err jwt_keyset_parse(const char *json, size_t len, struct jwt_keyset **out,
                              struct jwt_jwks_report *report, char *detail, size_t dlen)
{
	struct jwt_jwks_report rep = {0};
	struct jwt_keyset *ks = NULL;
	struct json_object *j = NULL, *keys;
	enum jwt_err err;
	size_t n;

	*out = NULL;
	jwt_say(detail, dlen, "%s", "");
	if (len > JWT_JWKS_MAX) {
		jwt_say(detail, dlen, "JWKS of %zu bytes, over the %d-byte cap", len, JWT_JWKS_MAX);
		err = JWT_ETOOBIG;
		goto out;
	}
	if (json == NULL || (j = jwt_json_object(json, len)) == NULL) {
		jwt_say(detail, dlen, "JWKS is not a strict JSON object");
		err = JWT_EJWKS;
		goto out;
	}
	if (!json_object_object_get_ex(j, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		jwt_say(detail, dlen, "JWKS has no \"keys\" array");
		err = JWT_EJWKS;
		goto out;
	}
	if ((n = json_object_array_length(keys)) > JWT_KEYS_MAX) {
		jwt_say(detail, dlen, "JWKS has %zu keys, over the cap of %d", n, JWT_KEYS_MAX);
		err = JWT_ETOOBIG;
		goto out;
	}
	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		err = JWT_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		switch (jwt_key_load(ks, json_object_array_get_idx(keys, i))) {
		case JWT_ENTRY_LOADED:
			break;
		case JWT_ENTRY_NOT_SIG:
			rep.not_sig++;
			break;
		case JWT_ENTRY_UNSUPPORTED:
			rep.unsupported++;
			break;
		case JWT_ENTRY_INVALID:
			rep.invalid++;
			break;
		}
	}
	rep.loaded = ks->n;
	if (ks->n == 0) {
		jwt_say(
		    detail, dlen,
		    "JWKS has no usable key (%zu not for signing, %zu unsupported, %zu invalid)",
		    rep.not_sig, rep.unsupported, rep.invalid);
		err = JWT_EJWKS;
		goto out;
	}
	*out = ks;
	ks = NULL;
	err = JWT_OK;
out:
	if (report != NULL)
		*report = rep;
	ERR_clear_error();
	jwt_keyset_free(ks);
	json_object_put(j);
	return err;
}

/* Release a key set and its keys. Accepts NULL. */
void jwt_keyset_free(struct jwt_keyset *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->keys[i].pkey);
	free(ks);
}

size_t jwt_keyset_count(const struct jwt_keyset *ks)
{
	return ks != NULL ? ks->n : 0;
}

bool jwt_keyset_has(const struct jwt_keyset *ks, const char *kid)
{
	return ks != NULL && kid != NULL && jwt_keyset_find(ks, kid) != NULL;
}

/* Defaults: no lists (jwt_verify() refuses to run without issuers and
 * audiences), JWT_CLOCK_SKEW_DEFAULT, time(). */
void jwt_options_init(struct jwt_options *o)
{
	memset(o, 0, sizeof(*o));
	o->clock_skew = JWT_CLOCK_SKEW_DEFAULT;
	o->now = NULL;
}

/* Release claims and their lists. Accepts NULL. */
void jwt_claims_free(struct jwt_claims *c)
{
	if (c == NULL)
		return;
	strlist_free(&c->scopes);
	strlist_free(&c->roles);
	strlist_free(&c->groups);
	free(c);
}

/* A caller's token is a credential (it could be replayed elsewhere): its
 * copies are wiped before they are freed. */
static void jwt_parts_free(struct jwt_parts *p)
{
	if (p->header != NULL)
		buf_wipe(p->header, p->header_len);
	if (p->payload != NULL)
		buf_wipe(p->payload, p->payload_len);
	if (p->sig != NULL)
		buf_wipe(p->sig, p->sig_len);
	free(p->header);
	free(p->payload);
	free(p->sig);
}

/*
 * Take the len-byte token apart (RFC 7515 section 7.1): exactly three parts
 * separated by '.', each strict base64url without padding (base64url_decode
 * refuses '=', '+', '/', white space and stray bits). Returns JWT_OK,
 * JWT_EMALFORMED or JWT_ENOMEM.
 */
static enum jwt_err jwt_split(const char *token, size_t len, struct jwt_parts *p, char *detail,
                              size_t dlen)
{
	unsigned char **dst[3] = {&p->header, &p->payload, &p->sig};
	size_t *dst_len[3] = {&p->header_len, &p->payload_len, &p->sig_len};
	static const char *const names[3] = {"header", "payload", "signature"};
	char *copy, *part[3];
	size_t dots = 0;

	for (size_t i = 0; i < len; i++)
		dots += token[i] == '.';
	if (dots != 2) {
		jwt_say(detail, dlen, "token has %zu parts, not 3", dots + 1);
		return JWT_EMALFORMED;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return JWT_ENOMEM;
	memcpy(copy, token, len + 1);
	part[0] = copy;
	part[1] = strchr(part[0], '.');
	*part[1]++ = '\0';
	part[2] = strchr(part[1], '.');
	*part[2]++ = '\0';
	p->signed_len = (size_t)(part[2] - 1 - copy);
	for (size_t i = 0; i < 3; i++) {
		if ((*dst[i] = base64url_decode(part[i], len, dst_len[i])) == NULL) {
			jwt_say(detail, dlen, "token %s is not strict base64url", names[i]);
			buf_wipe(copy, len);
			free(copy);
			return JWT_EMALFORMED;
		}
	}
	buf_wipe(copy, len);
	free(copy);
	return JWT_OK;
}

/*
 * Check the JOSE header and find the key: alg exactly RS256 or ES256 (RFC
 * 7518 names are case-sensitive; "none" in any case is reported as such),
 * no crit (RFC 7515 section 4.1.11: we understand no extension), a kid of
 * 1..JWT_KID_MAX bytes naming a key of the set whose type serves alg. typ
 * and everything else are ignored; keys are never taken from the header.
 */
static enum jwt_err jwt_check_header(const struct jwt_keyset *ks, const struct jwt_parts *p,
                                     const struct jwt_key **key, char *detail, size_t dlen)
{
	struct json_object *h;
	const char *alg, *kid;
	enum jwt_err err = JWT_EMALFORMED;
	enum jwt_kty type;
	char q[JWT_QUOTE_MAX + 3];

	if ((h = jwt_json_object((const char *)p->header, p->header_len)) == NULL) {
		jwt_say(detail, dlen, "token header is not a strict JSON object");
		return JWT_EMALFORMED;
	}
	if (jwt_get_string(h, "alg", &alg) != 1) {
		jwt_say(detail, dlen, "token header has no alg string");
		err = JWT_EALG;
		goto out;
	}
	if (strcasecmp(alg, "none") == 0) {
		jwt_say(detail, dlen, "token alg is none");
		err = JWT_EALG_NONE;
		goto out;
	}
	if (strcmp(alg, "RS256") == 0) {
		type = JWT_KTY_RSA;
	} else if (strcmp(alg, "ES256") == 0) {
		type = JWT_KTY_EC;
	} else {
		jwt_say(detail, dlen, "token alg %s is not RS256 or ES256",
		        jwt_quote(alg, q, sizeof(q)));
		err = JWT_EALG;
		goto out;
	}
	if (json_object_object_get_ex(h, "crit", NULL)) {
		jwt_say(detail, dlen, "token header has crit");
		goto out;
	}
	if (jwt_get_string(h, "kid", &kid) != 1 || kid[0] == '\0' || strlen(kid) > JWT_KID_MAX) {
		jwt_say(detail, dlen, "token header has no usable kid");
		goto out;
	}
	if ((*key = jwt_keyset_find(ks, kid)) == NULL) {
		jwt_say(detail, dlen, "token kid %s is not in the key set",
		        jwt_quote(kid, q, sizeof(q)));
		err = JWT_EUNKNOWN_KID;
		goto out;
	}
	if ((*key)->kty != type) {
		jwt_say(detail, dlen, "token kid %s names %s key, alg is %s",
		        jwt_quote(kid, q, sizeof(q)),
		        (*key)->kty == JWT_KTY_RSA ? "an RSA" : "an EC", alg);
		*key = NULL;
		err = JWT_EKEY_TYPE;
		goto out;
	}
	err = JWT_OK;
out:
	json_object_put(h);
	return err;
}

/*
 * Whether sig is key's signature of the n bytes at msg: RSASSA-PKCS1-v1_5
 * with SHA-256 and exactly the modulus' length, or ECDSA P-256 with SHA-256
 * given as R || S of 32 bytes each (RFC 7518 section 3.4), which OpenSSL
 * wants as a DER ECDSA-Sig-Value.
 */
static bool jwt_check_signature(const struct jwt_key *key, const char *msg, size_t n,
                                const unsigned char *sig, size_t sig_len)
{
	unsigned char *der = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	EVP_MD_CTX *ctx = NULL;
	bool good = false;
	int der_len;

	if (key->kty == JWT_KTY_EC) {
		if (sig_len != JWT_ES256_SIG_BYTES)
			goto out;
		if ((es = ECDSA_SIG_new()) == NULL ||
		    (r = BN_bin2bn(sig, JWT_ES256_SIG_BYTES / 2, NULL)) == NULL ||
		    (s = BN_bin2bn(sig + JWT_ES256_SIG_BYTES / 2, JWT_ES256_SIG_BYTES / 2, NULL)) ==
		        NULL ||
		    ECDSA_SIG_set0(es, r, s) != 1)
			goto out;
		r = s = NULL; /* es owns them now */
		if ((der_len = i2d_ECDSA_SIG(es, &der)) <= 0)
			goto out;
		sig = der;
		sig_len = (size_t)der_len;
	} else if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
		goto out;
	}
	good = (ctx = EVP_MD_CTX_new()) != NULL &&
	       EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
	       EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)msg, n) == 1;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return good;
}

/*
 * Copy string claim key (or, when absent, the claim fallback; may be NULL)
 * of c into dst (JWT_CLAIM_MAX + 1 bytes). Absent: dst stays empty. Returns
 * false when the claim is not a string or too long to copy whole.
 */
static bool jwt_copy_claim(struct json_object *c, const char *key, const char *fallback, char *dst)
{
	const char *s;
	int r;

	if ((r = jwt_get_string(c, key, &s)) == 0 && fallback != NULL)
		r = jwt_get_string(c, fallback, &s);
	if (r < 0 || (r == 1 && strlen(s) > JWT_CLAIM_MAX))
		return false;
	if (r == 1)
		memcpy(dst, s, strlen(s) + 1);
	return true;
}

/* Append s to l when it is 1..JWT_CLAIM_MAX bytes and l has fewer than
 * JWT_LIST_MAX entries. Returns JWT_OK, JWT_ECLAIM or JWT_ENOMEM. */
static enum jwt_err jwt_list_add(struct strlist *l, const char *s)
{
	if (s[0] == '\0' || strlen(s) > JWT_CLAIM_MAX || l->n >= JWT_LIST_MAX)
		return JWT_ECLAIM;
	return strlist_add(l, s) == 0 ? JWT_OK : JWT_ENOMEM;
}

/* The scp claim (a space-separated string, RFC 8693 section 4.2) into l.
 * Absent: l stays empty. */
static enum jwt_err jwt_scopes(struct json_object *c, struct strlist *l)
{
	enum jwt_err err = JWT_OK;
	char *copy, *item, *save = NULL;
	const char *s;
	int r;

	if ((r = jwt_get_string(c, "scp", &s)) <= 0)
		return r == 0 ? JWT_OK : JWT_ECLAIM;
	if ((copy = strdup(s)) == NULL)
		return JWT_ENOMEM;
	for (item = strtok_r(copy, " ", &save); item != NULL && err == JWT_OK;
	     item = strtok_r(NULL, " ", &save))
		err = jwt_list_add(l, item);
	free(copy);
	return err;
}

/* Array-of-strings claim key into l. Absent: l stays empty. */
static enum jwt_err jwt_string_array(struct json_object *c, const char *key, struct strlist *l)
{
	struct json_object *v, *e;
	enum jwt_err err;
	size_t n;

	if (!json_object_object_get_ex(c, key, &v))
		return JWT_OK;
	if (!json_object_is_type(v, json_type_array))
		return JWT_ECLAIM;
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string) ||
		    strlen(json_object_get_string(e)) != (size_t)json_object_get_string_len(e))
			return JWT_ECLAIM;
		if ((err = jwt_list_add(l, json_object_get_string(e))) != JWT_OK)
			return err;
	}
	return JWT_OK;
}

/* Whether aud (a string, or an array of strings: RFC 7519 section 4.1.3)
 * names one of the accepted audiences. */
static bool jwt_audience_ok(struct json_object *c, const struct strlist *accepted)
{
	struct json_object *aud, *e;

	if (!json_object_object_get_ex(c, "aud", &aud))
		return false;
	if (json_object_is_type(aud, json_type_string))
		return strlist_contains(accepted, json_object_get_string(aud));
	if (!json_object_is_type(aud, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(aud); i++) {
		e = json_object_array_get_idx(aud, i);
		if (json_object_is_type(e, json_type_string) &&
		    strlist_contains(accepted, json_object_get_string(e)))
			return true;
	}
	return false;
}

/* Whether some item of have is in want. */
static bool jwt_any_of(const struct strlist *have, const struct strlist *want)
{
	for (size_t i = 0; i < have->n; i++)
		if (strlist_contains(want, have->v[i]))
			return true;
	return false;
}

/*
 * Check the claims of a token whose signature verified, and fill out:
 * exp required, and not more than the skew in the past (RFC 7519 section
 * 4.1.4); nbf and iat, when present, not more than the skew in the future;
 * iss one of the issuers; aud naming one of the audiences; the identity
 * claims copied whole; then the scope/role requirement (see jwt.h).
 */
static enum jwt_err jwt_check_claims(struct json_object *c, const struct jwt_options *o,
                                     struct jwt_claims *out, char *detail, size_t dlen)
{
	int64_t now = (int64_t)(o->now != NULL ? o->now() : time(NULL)), skew = o->clock_skew;
	const char *iss, *bad = NULL;
	enum jwt_err err = JWT_ECLAIM;
	bool want_scope, want_role;
	struct json_object *v;
	int64_t t;
	int r;
	char q[JWT_QUOTE_MAX + 3];

	if ((r = jwt_get_time(c, "exp", &t)) <= 0) {
		jwt_say(detail, dlen, "exp %s", r == 0 ? "missing" : "is not a number");
		return r == 0 ? JWT_ENO_EXP : JWT_ECLAIM;
	}
	if (now - skew >= t) {
		if (t > now - INT32_MAX)
			jwt_say(detail, dlen, "expired %lld s ago", (long long)(now - t));
		else
			jwt_say(detail, dlen, "expired long ago");
		return JWT_EEXPIRED;
	}
	out->exp = (time_t)t;
	if ((r = jwt_get_time(c, "nbf", &t)) < 0 || (r == 1 && t > now + skew)) {
		jwt_say(detail, dlen, "nbf %s", r < 0 ? "is not a number" : "is in the future");
		return r < 0 ? JWT_ECLAIM : JWT_ENOT_YET_VALID;
	}
	if ((r = jwt_get_time(c, "iat", &t)) < 0 || (r == 1 && t > now + skew)) {
		jwt_say(detail, dlen, "iat %s", r < 0 ? "is not a number" : "is in the future");
		return r < 0 ? JWT_ECLAIM : JWT_ENOT_YET_VALID;
	}
	if (jwt_get_string(c, "iss", &iss) != 1 || !strlist_contains(o->issuers, iss)) {
		jwt_say(detail, dlen, "iss %s is not accepted",
		        iss != NULL ? jwt_quote(iss, q, sizeof(q)) : "(missing or not a string)");
		return JWT_EISSUER;
	}
	if (!jwt_audience_ok(c, o->audiences)) {
		v = json_object_object_get(c, "aud");
		jwt_say(detail, dlen, "aud %s names no accepted audience",
		        json_object_is_type(v, json_type_string)
		            ? jwt_quote(json_object_get_string(v), q, sizeof(q))
		            : "(not a string)");
		return JWT_EAUDIENCE;
	}
	if (!jwt_copy_claim(c, "sub", NULL, out->sub))
		bad = "sub";
	else if (!jwt_copy_claim(c, "oid", NULL, out->oid))
		bad = "oid";
	else if (!jwt_copy_claim(c, "tid", NULL, out->tid))
		bad = "tid";
	else if (!jwt_copy_claim(c, "azp", "appid", out->appid))
		bad = "azp/appid";
	else if (!jwt_copy_claim(c, "preferred_username", "upn", out->username))
		bad = "preferred_username/upn";
	else if (!jwt_copy_claim(c, "iss", NULL, out->iss))
		bad = "iss";
	else if ((err = jwt_scopes(c, &out->scopes)) != JWT_OK)
		bad = "scp";
	else if ((err = jwt_string_array(c, "roles", &out->roles)) != JWT_OK)
		bad = "roles";
	else if ((err = jwt_string_array(c, "groups", &out->groups)) != JWT_OK)
		bad = "groups";
	if (bad != NULL) {
		jwt_say(detail, dlen, "claim %s is malformed or too long", bad);
		return err == JWT_ENOMEM ? JWT_ENOMEM : JWT_ECLAIM;
	}
	/* Entra ID leaves groups out past its limit and says so (_claim_names
	 * in JWTs, hasgroups in implicit-flow tokens). */
	out->groups_overage =
	    (json_object_object_get_ex(c, "_claim_names", &v) &&
	     json_object_object_get_ex(v, "groups", NULL)) ||
	    (json_object_object_get_ex(c, "hasgroups", &v) &&
	     json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v));
	want_scope = o->required_scopes != NULL && o->required_scopes->n > 0;
	want_role = o->required_roles != NULL && o->required_roles->n > 0;
	if ((want_scope && jwt_any_of(&out->scopes, o->required_scopes)) ||
	    (want_role && jwt_any_of(&out->roles, o->required_roles)) ||
	    (!want_scope && !want_role))
		return JWT_OK;
	/* Neither matched: name what the token was meant to carry. */
	if (want_scope && (!want_role || json_object_object_get_ex(c, "scp", NULL))) {
		jwt_say(detail, dlen, "scp carries none of the required scopes");
		return JWT_ESCOPE;
	}
	jwt_say(detail, dlen, "roles carries none of the required roles");
	return JWT_EROLE;
}

/*
 * Verify a token (see jwt.h). The signature is checked over the token's own
 * first two parts, as sent, before the claims are parsed at all.
 */
enum jwt_err jwt_verify(const struct jwt_keyset *ks, const char *token, const struct jwt_options *o,
                        struct jwt_claims **out, char *detail, size_t dlen)
{
	struct jwt_parts p = {0};
	struct json_object *c = NULL;
	struct jwt_claims *claims = NULL;
	const struct jwt_key *key = NULL;
	char q[JWT_QUOTE_MAX + 3];
	enum jwt_err err;
	size_t len;

	*out = NULL;
	jwt_say(detail, dlen, "%s", "");
	if (ks == NULL || o == NULL || o->issuers == NULL || o->issuers->n == 0 ||
	    o->audiences == NULL || o->audiences->n == 0 || o->clock_skew < 0 ||
	    o->clock_skew > JWT_CLOCK_SKEW_MAX) {
		jwt_say(detail, dlen, "no key set, issuer or audience, or a bad clock skew");
		return JWT_ECONFIG;
	}
	if (token == NULL || token[0] == '\0') {
		jwt_say(detail, dlen, "no token");
		return JWT_EMALFORMED;
	}
	if ((len = strnlen(token, JWT_TOKEN_MAX + 1)) > JWT_TOKEN_MAX) {
		jwt_say(detail, dlen, "token over %d bytes", JWT_TOKEN_MAX);
		return JWT_ETOOBIG;
	}
	if ((err = jwt_split(token, len, &p, detail, dlen)) != JWT_OK)
		goto out;
	if ((err = jwt_check_header(ks, &p, &key, detail, dlen)) != JWT_OK)
		goto out;
	if (!jwt_check_signature(key, token, p.signed_len, p.sig, p.sig_len)) {
		jwt_say(detail, dlen, "signature does not verify with kid %s",
		        jwt_quote(key->kid, q, sizeof(q)));
		err = JWT_ESIGNATURE;
		goto out;
	}
	if ((c = jwt_json_object((const char *)p.payload, p.payload_len)) == NULL) {
		jwt_say(detail, dlen, "token claims are not a strict JSON object");
		err = JWT_EMALFORMED;
		goto out;
	}
	if ((claims = calloc(1, sizeof(*claims))) == NULL) {
		err = JWT_ENOMEM;
		goto out;
	}
	if ((err = jwt_check_claims(c, o, claims, detail, dlen)) != JWT_OK)
		goto out;
	*out = claims;
	claims = NULL;
out:
	jwt_claims_free(claims);
	json_object_put(c);
	jwt_parts_free(&p);
	return err;
}
