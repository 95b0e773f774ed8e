/*
 * kv: the Key Vault secrets client (REST API, json-c).
 *
 * One client per process holds the http handle and the identity, so tokens,
 * connections and TLS sessions are reused across requests. Calls carry
 * api-version from the policy and a Bearer token; when the vault answers 401
 * the token is dropped and the call is retried once with a fresh one.
 * Responses are capped (KV_RESPONSE_MAX); Key Vault's error envelope is
 * parsed into struct kv_error.
 */
#ifndef KVGATE_KV_H
#define KVGATE_KV_H

#include <stdbool.h>
#include <json-c/json.h>
#include "policy.h"

/* A secret is at most 25 KB; a list page of 25 items with tags is far less
 * than this cap. */
#define KV_RESPONSE_MAX (512 * 1024)
/* A nextLink is a URL with a $skiptoken of a few hundred bytes. */
#define KV_NEXTLINK_MAX 2048

enum kv_err {
	KV_OK = 0,
	KV_ENOMEM,
	KV_ENOTFOUND,     /* 404 SecretNotFound */
	KV_EDISABLED,     /* 403 Forbidden, innererror SecretDisabled */
	KV_EFORBIDDEN,    /* 403 otherwise: the gateway's identity lacks access */
	KV_EBADREQUEST,   /* 400 from the vault */
	KV_EUNAUTHORIZED, /* 401 even with a fresh token */
	KV_ETHROTTLED,    /* 429 */
	KV_EUNAVAILABLE,  /* could not connect, or 503 */
	KV_ETIMEOUT,      /* every attempt ran out of timeout_ms */
	KV_EUPSTREAM,     /* another non-2xx status, or a TLS failure */
	KV_EPROTO,        /* the answer is not the JSON shape expected */
	KV_EIDENTITY,     /* the identity endpoint failed or could not be reached */
	KV_ENEXTLINK,     /* a nextLink that does not point at this vault's list */
	KV_ETOOBIG,       /* the answer is over KV_RESPONSE_MAX */
	KV_ECHALLENGE,    /* the 401 challenge failed verification; no token fetched */
	KV_EIDREJECTED,   /* the identity endpoint refused the gateway's credential */
	KV_EDROPPED,      /* the connection dropped before the answer was complete */
	KV_EDEADLINE,     /* deadline_ms was spent before an answer */
};
#define KV_ERR_LAST KV_EDEADLINE

struct kv_error {
	enum kv_err err;
	long status;       /* upstream HTTP status, 0 when none */
	char code[64];     /* upstream error.code, "" when none */
	char inner[64];    /* upstream error.innererror.code, "" when none */
	char message[256]; /* upstream error.message or our reason; never a secret */
	long retry_after;  /* seconds the caller should wait (from retry-after-ms,
	                      x-ms-retry-after-ms or Retry-After, rounded up, or the
	                      backoff that no longer fitted); -1 when unknown */
};

struct kv_client;

/* Make the client for policy p. On error *out stays NULL and errbuf says why. */
enum kv_err kv_client_new(const struct policy *p, struct kv_client **out, char *errbuf,
                          size_t errlen);
void kv_client_free(struct kv_client *c);

/*
 * Each call below is bounded by [vault] deadline_ms in total (token, every
 * attempt and every wait); one attempt by min(timeout_ms, what is left).
 * 408, 429, 500, 502, 503, 504 and transport failures are retried up to
 * max_retries times with exponential backoff and full jitter, or after the
 * vault's retry-after-ms / x-ms-retry-after-ms / Retry-After when it sends
 * one; when the wait no longer fits in the deadline the call ends at once
 * (KV_ETHROTTLED or KV_EUNAVAILABLE with retry_after set, else
 * KV_EDEADLINE).
 *
 * GET {vault}/secrets/{name}[/{version}]. version NULL or "" means the latest.
 * name and version must already be valid. On success *bundle is the parsed
 * SecretBundle (caller frees with json_object_put); on failure NULL and e is
 * filled.
 */
enum kv_err kv_get_secret(struct kv_client *c, const char *name, const char *version,
                          struct json_object **bundle, struct kv_error *e);

/*
 * One page of a list: GET {vault}/secrets (name NULL) or
 * {vault}/secrets/{name}/versions, with maxresults (1-25; 0 omits it), or,
 * when next_link is not NULL, that upstream nextLink verbatim (it must pass
 * kv_next_link_valid() for the same name). On success *page is the parsed
 * SecretListResult.
 */
enum kv_err kv_list(struct kv_client *c, const char *name, int maxresults, const char *next_link,
                    struct json_object **page, struct kv_error *e);

/* Whether url is a nextLink this vault could have produced for the list of
 * secrets (name NULL) or of name's versions: same scheme and host, same port
 * (an explicit default port is accepted), path /secrets or
 * /secrets/{name}/versions, a query of URL-safe characters only, at most
 * KV_NEXTLINK_MAX bytes. This is what stops a forged paging token from
 * sending the gateway's token anywhere else. */
bool kv_next_link_valid(const struct kv_client *c, const char *url, const char *name);

/* Share the identity's tokens with the host's other processes (see
 * identity_share()); NULL stops. */
struct identity_share;
void kv_share_tokens(struct kv_client *c, const struct identity_share *s);

/* The vault's base URL (no trailing '/'). */
const char *kv_vault_url(const struct kv_client *c);

/* Upstream calls made so far: token requests and vault requests (retries
 * included), for tests and benchmarks. Either pointer may be NULL. */
void kv_stats(const struct kv_client *c, unsigned long *token_calls, unsigned long *vault_calls);

const char *kv_strerror(enum kv_err e);

#endif
