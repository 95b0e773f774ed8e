/*
 * callers: who is asking. [callers] mode lists the ways a caller may
 * authenticate; callers_authenticate() decides, for one request, before
 * the cache and before any upstream call.
 *
 *   - none: anonymous callers (no credential at all);
 *   - web_server: REMOTE_USER, set by the web server's own authentication
 *     (Basic, mod_auth_openidc, client certificates); a client cannot set
 *     it, only the server can;
 *   - api_key: a key in the api_key_header request header, whose SHA-256 is
 *     compared in constant time with each line of api_keys_file
 *     ("NAME SHA256-HEX"); keys are never held or logged in clear;
 *   - jwt: an access token in "Authorization: Bearer", verified by jwt.h
 *     against jwt_jwks_file or the keys the issuer publishes
 *     (jwt_openid_config: its metadata, then its jwks_uri), fetched when
 *     first needed, again on a kid the set lacks (at most once a minute),
 *     and daily.
 *
 * A credential that is present is always checked, never ignored: the first
 * mode, in the order given, whose credential the request carries decides,
 * and an invalid credential is refused even when none is in the list (an
 * SPA must hear that its token expired). A request that carries none is
 * anonymous when none is in the list, else refused.
 *
 * Nothing here logs or keeps a token or key; details name only the reason.
 */
#ifndef KVGATE_CALLERS_H
#define KVGATE_CALLERS_H

#include <stdbool.h>
#include <stddef.h>

#include "jwt.h"
#include "policy.h"

/* Caps: an API key as sent, a line of api_keys_file, the file, its keys;
 * the OpenID metadata document. */
#define CALLERS_API_KEY_MAX 512
#define CALLERS_KEYS_FILE_MAX (256 * 1024)
#define CALLERS_KEYS_MAX 4096
#define CALLERS_KEY_NAME_MAX 64
#define CALLERS_METADATA_MAX (64 * 1024)
#define CALLERS_ID_MAX (JWT_CLAIM_MAX + 16)
/* Refetch the issuer's keys at most this often on an unknown kid, this
 * often at the latest, and this soon again while none could be fetched. */
#define CALLERS_REFETCH_MS 60000L
#define CALLERS_REFRESH_MS (24L * 3600 * 1000)
#define CALLERS_RETRY_MS 5000L

enum callers_result {
	CALLERS_OK = 0,      /* *out is the caller (maybe anonymous) */
	CALLERS_MISSING,     /* no credential, and anonymous callers are not accepted */
	CALLERS_INVALID,     /* a credential was presented and is not valid */
	CALLERS_UNAVAILABLE, /* the issuer's keys cannot be had: cannot decide now */
};

/* What a request offers, from its CGI parameters (NULL when absent). */
struct callers_request {
	const char *remote_user;   /* REMOTE_USER */
	const char *authorization; /* HTTP_AUTHORIZATION */
	const char *api_key;       /* the api_key_header's value */
};

/* One authenticated (or anonymous) caller, for one request. */
struct caller {
	bool anonymous;
	enum callers_mode mode;       /* how it authenticated (CALLERS_NONE: anonymous) */
	char id[CALLERS_ID_MAX];      /* "anonymous", "user:NAME", "key:NAME", "jwt:OID" */
	char name[JWT_CLAIM_MAX + 1]; /* user or key name, or the token's username; "" */
	struct jwt_claims *claims;    /* jwt: the verified token's claims; else NULL */
	bool bearer;                  /* a Bearer token was presented (for the challenge) */
	bool key;                     /* an API key was presented */
	enum jwt_err jwt_error;       /* why a token was refused (JWT_OK otherwise) */
	char detail[160];             /* why a credential was refused, for the log */
};

struct callers;

/*
 * Make the authenticator for p's [callers] (NULL is returned in *out, with
 * 0, when caller authentication is off). Reads api_keys_file and
 * jwt_jwks_file now; on a problem returns -1 with one line in err naming
 * the file, section and key. Warnings (a key file others can read) are
 * logged.
 */
int callers_new(const struct policy *p, struct callers **out, char *err, size_t elen);

/* Release. Accepts NULL. */
void callers_free(struct callers *c);

/* The CGI parameter holding the request header called header (the API key
 * header): "HTTP_" and the name upper-cased with '-' as '_' (into out,
 * len bytes), as CGI/1.1 (RFC 3875 section 4.1.18) names it. */
void callers_key_param(const char *header, char *out, size_t len);

/*
 * Authenticate one request. *out is always filled (released with
 * callers_release()); on CALLERS_OK it is the caller. With c NULL
 * (authentication off) every caller is anonymous.
 */
enum callers_result callers_authenticate(struct callers *c, const struct callers_request *req,
                                         struct caller *out);

/* Release what callers_authenticate() put in c. */
void callers_release(struct caller *c);

/* Whether caller c is one that the who item of a grant names (policy.h:
 * anonymous, authenticated, user:, group:, role:, scope:, key:, app:). */
bool callers_is(const struct caller *c, const char *who);

/* The mode's name as written in [callers] mode. */
const char *callers_mode_name(enum callers_mode m);

/*
 * Whether the file at path may be read by others than the gateway's user:
 * by anyone (world-readable), or by the group while this user owns it (a
 * file owned by root and readable by the gateway's group is the normal
 * install and passes). Fills why and returns true when it may.
 */
bool callers_file_exposed(const char *path, char *why, size_t wlen);

/*
 * Whether a cross-origin SPA could send mode m's credential: true unless
 * [cors] allows other origins and its allowed_headers lacks the header
 * the credential travels in (Authorization for jwt, which `*` never
 * covers; api_key_header for api_key). *header is set to that header.
 */
bool callers_header_allowed(const struct policy *p, enum callers_mode m, const char **header);

/* For tests: the clock of the refetch limits (ms). */
void callers_set_clock(struct callers *c, long (*now_ms)(void));

#endif
