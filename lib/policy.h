/*
 * policy: the policy INI, loaded and validated whole at start.
 *
 * The file's path comes from KVGATE_CONFIG. Every key is declared in one
 * table in policy.c (section, key, type, bounds, default); policy_load()
 * checks the whole file against it and reports every problem, one line each,
 * naming file, section and key. Nothing is served on a half-valid policy: on
 * any error no policy is returned.
 *
 * The sections below are plain read-only data owned by the policy; their
 * strings live as long as the policy does.
 */
#ifndef KVGATE_POLICY_H
#define KVGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "strlist.h"

enum identity_method {
	IDENTITY_AUTO = 0,
	IDENTITY_CLIENT_SECRET,
	IDENTITY_CLIENT_CERTIFICATE,
	IDENTITY_WORKLOAD_IDENTITY,
	IDENTITY_MANAGED_IDENTITY,
};

struct policy_gateway {
	const char *base_path;       /* "/api": starts with '/', no trailing '/' */
	const char *public_url;      /* "" or scheme://host[:port], no trailing '/' */
	const char *paging_key_file; /* "" or a readable file: the paging token key */
};

struct policy_vault {
	const char *url;         /* scheme://host[:port], no trailing '/' */
	const char *api_version; /* sent upstream, e.g. "7.6" */
	const char *ca_file;     /* "" or a readable PEM file */
	long timeout_ms;
	long max_retries;
	long deadline_ms;               /* bounds a whole request: token, retries, paging */
	bool verify_challenge_resource; /* a 401 challenge's resource must match the vault */
	bool fetcher;                   /* upstream calls through kvgate-fetch (lib/fetch.h) */
};

struct policy_identity {
	enum identity_method method;
	const char *tenant_id;          /* "" when not set */
	const char *client_id;          /* "" when not set */
	const char *client_secret_file; /* "" when not set */
	/* The contents of client_secret_file with surrounding white space
	 * removed, or NULL when the key is empty. Wiped by policy_free(). */
	const char *client_secret;
	const char *authority_host;            /* no trailing '/' */
	const char *client_certificate_file;   /* "" or a PEM with certificate and key */
	const char *federated_token_file;      /* "" or the workload identity token file */
	const char *managed_identity_endpoint; /* "" or a token endpoint URL */
};

struct policy_cors {
	struct strlist allowed_origins; /* serialized origins, patterns, or "*" */
	bool any_origin;                /* "*" is in allowed_origins */
	struct strlist allowed_methods; /* case-sensitive tokens */
	struct strlist allowed_headers; /* compared ignoring case; may hold "*" */
	bool any_header;                /* "*" is in allowed_headers */
	struct strlist expose_headers;
	bool allow_credentials;
	long max_age;
	bool allow_private_network; /* answer Private Network Access preflights */
	bool terminate_unmatched;   /* 403 a disallowed origin; false: serve, no CORS */
};

struct policy_grant;

/* [grant NAME] sections a policy may hold. */
#define POLICY_GRANTS_MAX 64

/*
 * What callers may see (README: [secrets]). The policy holds one for
 * [secrets] and one per [origin "…"] section; exposure.h applies them.
 */
struct policy_secrets {
	struct strlist allow;        /* glob patterns */
	struct strlist deny;         /* glob patterns; deny wins over allow */
	struct strlist require_tags; /* "key=value" items, each a tag required */
	bool allow_versions;         /* GET {name}/{version} and {name}/versions */
	bool allow_list;             /* GET {base}/secrets lists; false: always empty */
	bool hide_disabled;          /* lists leave out disabled items */
	bool serve_expired;          /* serve outside the nbf/exp window */
	bool expose_vault_url;       /* ids keep the vault's host ([secrets] only) */
	/* Never set by the policy: exposure_for() fills these in a request's
	 * copy when [callers] is on. A name must then also be allowed by one
	 * of the caller's grants (none: nothing is visible). */
	bool grants_apply;
	const struct policy_grant *const *grants;
	size_t ngrants;
};

struct policy_cache {
	long ttl;            /* seconds an answer is fresh; 0: no cache */
	long negative_ttl;   /* seconds a "not found" is remembered */
	long stale_if_error; /* seconds past ttl an answer serves while the vault fails */
	long max_entries;    /* answers kept (least recently used go first) */
	bool shared;         /* one cache for the host's processes, else per process */
};

/* Caller authentication modes ([callers] mode), tried in the order given. */
enum callers_mode {
	CALLERS_NONE = 0,   /* anonymous callers */
	CALLERS_WEB_SERVER, /* REMOTE_USER set by the web server's authentication */
	CALLERS_API_KEY,    /* a key in api_key_header, checked against api_keys_file */
	CALLERS_JWT,        /* an access token in Authorization: Bearer */
};
#define CALLERS_MODES_MAX 4

struct policy_callers {
	struct strlist mode;                        /* the modes as written; empty: no caller
	                                               authentication and no grants */
	enum callers_mode modes[CALLERS_MODES_MAX]; /* mode, parsed, in order */
	size_t nmodes;
	const char *api_key_header;         /* header holding an API key */
	const char *api_keys_file;          /* "" or "NAME SHA256-HEX" lines */
	const char *jwt_jwks_file;          /* "" or a JWKS document */
	const char *jwt_openid_config;      /* "" or the OpenID metadata URL */
	struct strlist jwt_issuer;          /* accepted iss values */
	struct strlist jwt_audience;        /* accepted aud values */
	long jwt_clock_skew;                /* seconds of leeway for exp, nbf, iat */
	struct strlist jwt_required_scopes; /* scp must carry one (or a role) */
	struct strlist jwt_required_roles;  /* roles must carry one (or a scope) */
};

struct policy_limits {
	long requests_per_minute; /* per caller (or client address); 0: no limit */
};

struct policy_audit {
	bool enabled;    /* one JSON line per request on stderr */
	bool preflights; /* allowed preflights too (refused ones always) */
};

/*
 * One [grant NAME] section: callers matching any item of who may read the
 * names allow matches and deny does not, within what [secrets] (or the
 * origin's section) exposes. who items: "anonymous", "authenticated",
 * "user:NAME", "group:ID", "role:NAME", "scope:NAME", "key:NAME",
 * "app:ID" (README: [grant NAME] sections).
 */
struct policy_grant {
	const char *name;
	struct strlist who;
	struct strlist allow;
	struct strlist deny;
};

struct policy;

/*
 * Load and validate the INI file at path. On success sets *out to a new
 * policy (free with policy_free()) and returns 0. On failure *out stays NULL,
 * every problem is appended to errors as one line of the form
 * "FILE: [section] key: message" (or "FILE: message" for file-level
 * problems), and the number of problems is returned. path may be NULL, which
 * is reported as KVGATE_CONFIG not being set.
 */
int policy_load(const char *path, struct policy **out, struct strlist *errors);

/* Release a policy, wiping the client secret. Accepts NULL. */
void policy_free(struct policy *p);

/* The path the policy was loaded from. */
const char *policy_path(const struct policy *p);

const struct policy_gateway *policy_gateway(const struct policy *p);
const struct policy_vault *policy_vault(const struct policy *p);
const struct policy_identity *policy_identity(const struct policy *p);
const struct policy_cors *policy_cors(const struct policy *p);
const struct policy_secrets *policy_secrets(const struct policy *p);
const struct policy_cache *policy_cache(const struct policy *p);
const struct policy_callers *policy_callers(const struct policy *p);
const struct policy_limits *policy_limits(const struct policy *p);
const struct policy_audit *policy_audit(const struct policy *p);

/* Whether caller authentication is on ([callers] mode is not empty): every
 * request is then authenticated, and a caller sees only what a grant gives. */
bool policy_callers_on(const struct policy *p);

/* The i-th [grant NAME] section, in file order, or NULL past the last. */
const struct policy_grant *policy_grant(const struct policy *p, size_t i);

/*
 * The secrets rules for a request whose Origin header is origin (NULL when
 * it has none): those of the [origin "…"] section for exactly that origin,
 * else those of [secrets]. Keys an [origin "…"] section leaves out hold
 * [secrets]' values. Every visibility decision starts here (exposure.h).
 */
const struct policy_secrets *policy_secrets_for(const struct policy *p, const char *origin);

/* The i-th [origin "…"] section, in file order: sets *origin to its origin
 * and returns its rules, or returns NULL (and *origin NULL) past the last. */
const struct policy_secrets *policy_origin_secrets(const struct policy *p, size_t i,
                                                   const char **origin);

#endif
