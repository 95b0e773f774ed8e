/*
 * identity: the gateway's own Entra ID identity, and the access token for
 * Key Vault it yields.
 *
 * Issue #2 implements client credentials with a client secret (from
 * [identity] client_secret_file, else AZURE_CLIENT_SECRET): POST
 * {authority_host}/{tenant}/oauth2/v2.0/token with client_id,
 * scope=https://vault.azure.net/.default and grant_type=client_credentials.
 * The token is cached and reused until 5 minutes before it expires.
 * tenant_id and client_id fall back to AZURE_TENANT_ID and AZURE_CLIENT_ID.
 */
#ifndef KVGATE_IDENTITY_H
#define KVGATE_IDENTITY_H

#include <time.h>
#include "http.h"
#include "policy.h"

/* Caps: a token endpoint answer is a few KB. */
#define IDENTITY_RESPONSE_MAX (64 * 1024)
/* Refresh this many seconds before the token expires. */
#define IDENTITY_REFRESH_MARGIN 300

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

/* What the identity uses, for the start-up log line ("client_secret"). */
const char *identity_describe(const struct identity *id);

/* For tests: the clock the cache uses (default time()). */
void identity_set_clock(struct identity *id, time_t (*now)(void));

/* How many token requests the identity has sent (for tests and benchmarks). */
unsigned long identity_requests(const struct identity *id);

const char *identity_strerror(enum identity_err e);

#endif
