/*
 * identity: the gateway's own Entra ID identity, and the access token for
 * Key Vault it yields.
 *
 * Methods ([identity] method; INI keys win over the AZURE_* variables the
 * Azure SDKs read):
 * - client_secret: client credentials with client_secret_file or
 *   AZURE_CLIENT_SECRET, POSTed to {authority_host}/{tenant}/oauth2/v2.0/token.
 * - client_certificate: the same grant with a client-assertion JWT (RS256,
 *   x5t#S256) signed with the key in client_certificate_file or
 *   AZURE_CLIENT_CERTIFICATE_PATH.
 * - workload_identity: the same grant with the federated token in
 *   federated_token_file or AZURE_FEDERATED_TOKEN_FILE as the assertion; the
 *   file is re-read when the copy in memory is over 5 minutes old.
 * - managed_identity: App Service (IDENTITY_ENDPOINT + IDENTITY_HEADER) or
 *   IMDS (169.254.169.254), or managed_identity_endpoint; client_id selects
 *   a user-assigned identity.
 * - auto: the first of these that is configured, in DefaultAzureCredential's
 *   order, managed identity last; logged once at start.
 * tenant_id, client_id and authority_host fall back to AZURE_TENANT_ID,
 * AZURE_CLIENT_ID and AZURE_AUTHORITY_HOST.
 *
 * The token is cached and refreshed ahead of expiry: 5 minutes before, or at
 * half its life for tokens of 2 hours or more and for short ones. When a
 * refresh fails while the cached token is still valid, that token goes on
 * being used and the refresh is retried after a backoff (30 s, doubling).
 */
#ifndef KVGATE_IDENTITY_H
#define KVGATE_IDENTITY_H

#include <time.h>
#include "http.h"
#include "policy.h"

/* Caps: a token endpoint answer is a few KB. */
#define IDENTITY_RESPONSE_MAX (64 * 1024)
/* Refresh this many seconds before the token expires... */
#define IDENTITY_REFRESH_MARGIN 300
/* ...or at half its life when it lasts this long or more (managed identity
 * tokens last 24 hours), or is shorter than twice the margin. */
#define IDENTITY_LONG_LIFE 7200
/* After a failed refresh, wait this long before the next one (doubling up
 * to IDENTITY_RETRY_MAX) while the cached token is still valid. */
#define IDENTITY_RETRY_MIN 30
#define IDENTITY_RETRY_MAX 600

enum identity_err {
	IDENTITY_OK = 0,
	IDENTITY_ENOMEM,
	IDENTITY_ECONFIG,      /* no usable credential (method, tenant, client id, secret) */
	IDENTITY_EREJECTED,    /* the token endpoint refused (4xx with an OAuth error) */
	IDENTITY_EUNAVAILABLE, /* could not reach it, or it answered 5xx / 429 */
	IDENTITY_ETIMEOUT,     /* it did not answer in time */
	IDENTITY_EPROTO,       /* its answer was not a token response */
};

struct identity;

/*
 * Make the identity for policy p, using h for its calls (h is borrowed and
 * must outlive the identity). Checks only what can be checked without a call:
 * returns IDENTITY_ECONFIG, with a reason in errbuf, when no credential can
 * be formed. Does not fetch a token yet.
 */
enum identity_err identity_new(const struct policy *p, struct http *h, struct identity **out,
                               char *errbuf, size_t errlen);

/* Release the identity, wiping the cached token and secret. Accepts NULL. */
void identity_free(struct identity *id);

/*
 * A valid access token, fetched or from the cache. *token is set to NULL on
 * entry; on success it points into the identity and stays valid until the
 * next identity_* call. On error *token stays NULL, and detail (if not NULL)
 * receives a short safe description (OAuth error code, HTTP status; never a
 * secret) for logs.
 */
enum identity_err identity_token(struct identity *id, const char **token, char *detail,
                                 size_t detail_len);

/* Forget the cached token (the vault rejected it). */
void identity_invalidate(struct identity *id);

/* The vault's 401 challenge named tenant (the last path segment of its
 * authorization URL): forget the cached token and ask that tenant from now
 * on. Returns IDENTITY_OK, or IDENTITY_ECONFIG when tenant is not a tenant id
 * or the method has no tenant (managed identity). */
enum identity_err identity_use_tenant(struct identity *id, const char *tenant);

/*
 * Tokens shared with the other processes of the host (cache.h's token
 * functions behind these hooks): before fetching, identity_token() asks
 * get(); 1: *token (malloc'd, wiped and freed by the identity) is a valid
 * token with its schedule, used as is; 0: this process fetches and then
 * calls put() with the token or release() on failure; -1: no sharing. drop()
 * forgets a token the vault refused. key names the credential and endpoint.
 */
struct identity_share {
	void *ctx;
	int (*get)(void *ctx, const char *key, long deadline_ms, char **token, time_t *refresh_at,
	           time_t *valid_until);
	void (*put)(void *ctx, const char *key, const char *token, time_t refresh_at,
	            time_t valid_until);
	void (*release)(void *ctx, const char *key);
	void (*drop)(void *ctx, const char *key, const char *token);
};

/* Share tokens through s (copied); NULL stops sharing. */
void identity_share(struct identity *id, const struct identity_share *s);

/* What the identity uses, for logs: the method's INI name ("client_secret"),
 * followed for managed identity by the endpoint kind ("managed_identity
 * (IMDS)", "managed_identity (App Service, user-assigned)"). Never a secret. */
const char *identity_describe(const struct identity *id);

/* For tests: the clock the cache uses (default time()). */
void identity_set_clock(struct identity *id, time_t (*now)(void));

/* How many token requests the identity has sent (for tests and benchmarks). */
unsigned long identity_requests(const struct identity *id);

const char *identity_strerror(enum identity_err e);

#endif
