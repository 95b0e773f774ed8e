/*
 * jwt: verification of the access tokens callers present in
 * `Authorization: Bearer`, as Entra ID issues them: compact JWS (RFC 7515)
 * signed RS256 or ES256 (RFC 7518) with a key from the issuer's JWKS
 * (RFC 7517), and the claims an API checks (RFC 7519, Entra ID's v1.0 and
 * v2.0 access tokens).
 *
 * A key set is parsed once from the JWKS document and used for every token
 * until the caller replaces it. A token naming a key the set does not hold
 * fails with JWT_EUNKNOWN_KID and no other error, so the caller knows to
 * fetch the JWKS again (the issuer rolled its keys) and retry once. Anyone
 * can mint a token with a fresh kid, so the caller must rate-limit those
 * refetches.
 *
 * Only the algorithms the key set's keys are for are accepted, and the
 * token's own header picks neither the key type nor the algorithm family:
 * `none`, HS*, PS* and anything else are refused before any key is used,
 * and a kid naming an RSA key cannot be used with ES256 (nor the reverse).
 * Keys are never taken from the token (jwk, jku, x5u, x5c are ignored).
 *
 * Header and claims are parsed strictly: valid UTF-8, RFC 8259 JSON, a JSON
 * object, no member name twice, no control character or NUL in a string.
 *
 * Messages (jwt_strerror(), and the details jwt_keyset_parse() and
 * jwt_verify() write) never contain the token or any part of it but the
 * alg, kid, iss and aud values, quoted only when they are short printable
 * ASCII.
 */
#ifndef KVGATE_JWT_H
#define KVGATE_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "strlist.h"

/* Caps. A JWKS document (Entra ID's is about 10 KB) ... */
#define JWT_JWKS_MAX (256 * 1024)
/* ... with at most this many entries in "keys" (Entra ID publishes < 10). */
#define JWT_KEYS_MAX 64
/* RSA moduli shorter than this are refused as too weak, longer as too slow
 * to verify (a denial of service lever). */
#define JWT_RSA_BITS_MIN 2048
#define JWT_RSA_BITS_MAX 8192
/* A compact token (Entra ID's are 1-4 KB; group-heavy ones reach ~8 KB). */
#define JWT_TOKEN_MAX (16 * 1024)
/* A kid, and each identity claim copied out (sub, oid, upn, ...), in bytes.
 * A longer value refuses the token rather than being cut, so two distinct
 * identities can never be made to look alike. */
#define JWT_KID_MAX 128
#define JWT_CLAIM_MAX 256
/* Entries kept of scp, roles and groups. Entra ID puts at most 200 groups
 * in a JWT and signals overage beyond (see groups_overage). */
#define JWT_LIST_MAX 256
/* Default and greatest leeway for exp, nbf and iat, in seconds. */
#define JWT_CLOCK_SKEW_DEFAULT 300
#define JWT_CLOCK_SKEW_MAX 3600

enum jwt_err {
	JWT_OK = 0,
	JWT_ENOMEM,
	JWT_ECONFIG,        /* options without an issuer or an audience, or a clock
	                       skew outside 0..JWT_CLOCK_SKEW_MAX */
	JWT_ETOOBIG,        /* token or JWKS over its cap (JWT_TOKEN_MAX, JWT_JWKS_MAX,
	                       JWT_KEYS_MAX) */
	JWT_EMALFORMED,     /* not three strict base64url parts; header or claims not a
	                       strict JSON object; kid missing; crit present */
	JWT_EALG_NONE,      /* alg "none" (any case): an unsigned token */
	JWT_EALG,           /* alg missing or other than RS256 / ES256 */
	JWT_EUNKNOWN_KID,   /* kid not in the key set: refetch the JWKS and retry */
	JWT_EKEY_TYPE,      /* kid names a key of another type than alg needs */
	JWT_ESIGNATURE,     /* the signature does not verify */
	JWT_ENO_EXP,        /* no exp claim */
	JWT_EEXPIRED,       /* exp passed more than clock_skew ago */
	JWT_ENOT_YET_VALID, /* nbf or iat more than clock_skew ahead */
	JWT_EISSUER,        /* iss missing or not an accepted issuer */
	JWT_EAUDIENCE,      /* aud missing or naming no accepted audience */
	JWT_ESCOPE,         /* scp carries none of the required scopes */
	JWT_EROLE,          /* roles carries none of the required roles */
	JWT_ECLAIM,         /* a claim read has the wrong type or is over its cap */
	JWT_EJWKS,          /* the JWKS is not {"keys":[...]} or holds no usable key */
};

/* A parsed JWKS: the usable signing keys, by kid. Immutable once made. */
struct jwt_keyset;

/* What jwt_keyset_parse() did with the entries of "keys". */
struct jwt_jwks_report {
	size_t loaded;      /* usable keys now in the set */
	size_t not_sig;     /* skipped: "use" present and not "sig" */
	size_t unsupported; /* skipped: kty other than RSA/EC, crv other than P-256,
	                       or an "alg" other than RS256 (RSA) / ES256 (EC) */
	size_t invalid;     /* skipped: not an object; kid missing, too long or seen
	                       before; n/e/x/y missing or not strict base64url; RSA
	                       modulus outside JWT_RSA_BITS_MIN..MAX; bad exponent; EC
	                       point not on the curve */
};

/*
 * Parse the len bytes at json (a JWKS document, {"keys":[...]}) into a new
 * key set in *out (caller frees with jwt_keyset_free()). *out is set to NULL
 * on entry and stays NULL on failure. Entries that are not usable signing
 * keys are skipped and counted in *report (may be NULL), which is filled on
 * failure too as far as parsing got. Returns JWT_OK; JWT_ETOOBIG when len is
 * over JWT_JWKS_MAX or "keys" has more than JWT_KEYS_MAX entries; JWT_EJWKS
 * when the document is not a strict JSON object with a "keys" array, or no
 * entry is usable; JWT_ENOMEM. detail (may be NULL) receives a short reason.
 */
enum jwt_err jwt_keyset_parse(const char *json, size_t len, struct jwt_keyset **out,
                              struct jwt_jwks_report *report, char *detail, size_t dlen);

/* Release a key set. Accepts NULL. */
void jwt_keyset_free(struct jwt_keyset *ks);

/* How many keys the set holds. */
size_t jwt_keyset_count(const struct jwt_keyset *ks);

/* Whether the set holds a key with this kid. */
bool jwt_keyset_has(const struct jwt_keyset *ks, const char *kid);

/* What a token must satisfy besides its signature. Start from
 * jwt_options_init(), which sets the defaults; the lists are borrowed. */
struct jwt_options {
	/* Accepted iss values, matched exactly (required, non-empty), e.g.
	 * https://sts.windows.net/{tid}/ (v1.0 tokens) and
	 * https://login.microsoftonline.com/{tid}/v2.0 (v2.0 tokens). */
	const struct strlist *issuers;
	/* Accepted audiences (required, non-empty): the API's application ID
	 * URI and/or client id. aud may be a string or an array of strings;
	 * one match is enough. */
	const struct strlist *audiences;
	/*
	 * Authorization, modelled on APIM validate-jwt's required-claims with
	 * match="any": when required_scopes is non-empty, the space-separated
	 * scp claim must carry AT LEAST ONE of them; when required_roles is
	 * non-empty, the roles array must carry at least one of them. When both
	 * are given, either suffices (a delegated token carries scp, an
	 * application token roles). Matching is exact (case-sensitive). NULL or
	 * empty: no requirement.
	 */
	const struct strlist *required_scopes;
	const struct strlist *required_roles;
	/* Leeway in seconds for exp, nbf and iat, 0..JWT_CLOCK_SKEW_MAX
	 * (default JWT_CLOCK_SKEW_DEFAULT). */
	long clock_skew;
	/* The clock (default time()); tests inject their own. */
	time_t (*now)(void);
};

/* The caller identity a verified token carries. Strings are empty when the
 * claim is absent. */
struct jwt_claims {
	char sub[JWT_CLAIM_MAX + 1];
	char oid[JWT_CLAIM_MAX + 1];      /* object id of the user or service principal */
	char tid[JWT_CLAIM_MAX + 1];      /* tenant id */
	char appid[JWT_CLAIM_MAX + 1];    /* client app: azp (v2.0), else appid (v1.0) */
	char username[JWT_CLAIM_MAX + 1]; /* preferred_username, else upn */
	char iss[JWT_CLAIM_MAX + 1];      /* the (accepted) issuer */
	struct strlist scopes;            /* scp, split at spaces */
	struct strlist roles;             /* roles */
	struct strlist groups;            /* groups */
	bool groups_overage;              /* groups not in the token (_claim_names.groups or
	                                     hasgroups): ask Microsoft Graph */
	time_t exp;
};

/* Set o to the defaults: no lists, JWT_CLOCK_SKEW_DEFAULT, time(). */
void jwt_options_init(struct jwt_options *o);

/*
 * Verify the compact token (NUL-terminated) against the key set and the
 * options, in this order: size, shape and encoding, header (alg, kid),
 * signature, then claims (exp, nbf, iat, iss, aud, scopes/roles). On success
 * *out is a new struct jwt_claims (caller frees with jwt_claims_free()); it
 * is set to NULL on entry and stays NULL on failure. detail (may be NULL)
 * receives a short reason for logs, never the token.
 */
enum jwt_err jwt_verify(const struct jwt_keyset *ks, const char *token, const struct jwt_options *o,
                        struct jwt_claims **out, char *detail, size_t dlen);

/* Release claims from jwt_verify(). Accepts NULL. */
void jwt_claims_free(struct jwt_claims *c);

/* A short English description of e, for logs. Static storage. */
const char *jwt_strerror(enum jwt_err e);

#endif
