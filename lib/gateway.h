/*
 * gateway: what every kvgate program does around its one route.
 *
 * gateway_main() loads and validates the policy from KVGATE_CONFIG (exiting
 * non-zero with one line per problem), creates the Key Vault client once,
 * then loops on FCGX_Accept_r (plain CGI when stdin is not a socket) until
 * SIGTERM. For each request it reads the CGI parameters, applies the checks
 * common to all routes (method, CORS origin, path and query), calls the
 * program's handler, writes the response and releases everything the request
 * owned.
 */
#ifndef KVGATE_GATEWAY_H
#define KVGATE_GATEWAY_H

#include <stdbool.h>
#include "audit.h"
#include "cache.h"
#include "callers.h"
#include "exposure.h"
#include "kv.h"
#include "pagetoken.h"
#include "policy.h"
#include "ratelimit.h"
#include "response.h"
#include "route.h"

struct gateway_request {
	const char *method;      /* REQUEST_METHOD */
	const char *uri;         /* REQUEST_URI, raw */
	const char *origin;      /* Origin header, NULL when absent */
	const char *acrm;        /* Access-Control-Request-Method or NULL */
	const char *acrh;        /* Access-Control-Request-Headers or NULL */
	const char *acrpn;       /* Access-Control-Request-Private-Network or NULL */
	const char *remote_addr; /* REMOTE_ADDR, for logs */
	const char *self_origin; /* public_url, or derived from the request */
	bool head;               /* HEAD: answer like GET without a body */
	struct route route;      /* parsed for GET and HEAD */
	/* For GET and HEAD: who is asking, and what it may see (the origin's
	 * rules and, with [callers], the caller's grants: exposure.h). */
	const struct caller *caller;
	const struct policy_secrets *secrets;
};

/* A refresh ahead taken by a request, made once its answer is written. */
struct gateway_refresh {
	bool due;
	enum cache_kind kind;
	char name[ROUTE_NAME_MAX + 1];
	char version[ROUTE_VERSION_LEN + 1];
	int maxresults;
	char *next; /* the vault's nextLink for a page after the first */
	struct cache_result res;
};

struct gateway {
	const struct policy *policy;
	struct kv_client *kv;        /* NULL for programs that never call the vault */
	struct pagetoken_key paging; /* seals the $skiptoken of nextLinks */
	struct cache *cache;         /* answers fetched (cache.h); NULL: none */
	struct callers *callers;     /* caller authentication; NULL: off */
	struct ratelimit *limits;    /* [limits]; NULL: none */
	const char *progname;
	/* Per request. */
	char cache_status[96]; /* the Cache-Status header of a 200, "" none */
	bool can_defer;        /* work may follow the answer (FastCGI) */
	struct gateway_refresh refresh;
	struct caller caller;        /* who is asking (callers.h) */
	bool authenticated;          /* caller holds a caller */
	struct exposure_rules rules; /* what the caller may see */
	struct gateway_audit {
		char request_id[AUDIT_REQUEST_ID_LEN + 1];
		const char *decision; /* set where the status alone would not say */
		long upstream_ms;     /* time spent on the vault's answers */
		long items;           /* list items answered, -1 */
		bool routed;          /* the request's route, once parsed: */
		enum route_kind kind;
		char name[ROUTE_NAME_MAX + 1], version[ROUTE_VERSION_LEN + 1];
	} audit;
};

/* A program's route: fill r for req. r has been initialised. */
typedef void (*gateway_handler)(struct gateway *g, const struct gateway_request *req,
                                struct response *r);

enum gateway_flags {
	GATEWAY_VAULT = 1 << 0, /* the program needs a Key Vault client */
};

/*
 * Run the program: returns the process exit status. kinds is a bit set of
 * 1 << ROUTE_* the program serves (0 for the preflight program, which
 * answers OPTIONS only). Every program answers OPTIONS the same way, so a
 * web server that sends a preflight to the wrong program still gets the
 * right answer. With the argument --check the program only validates the
 * policy and the identity settings, and exits 0 or 1.
 */
int gateway_main(int argc, char **argv, const char *progname, unsigned flags, unsigned kinds,
                 gateway_handler handler);

/*
 * The vault's answers through the cache (cache.h): a secret's bundle
 * (version NULL or "" for the latest), or one list page (name NULL for all
 * secrets; next the vault's nextLink after the first page). Concurrent
 * misses for the same answer make one upstream call; a recent "not found"
 * is answered from the cache; an answer within stale_if_error serves when
 * the vault fails (logged, and said in Cache-Status). On success *out is
 * the parsed answer (json_object_put); else NULL and e says why.
 */
enum kv_err gateway_get_secret(struct gateway *g, const char *name, const char *version,
                               struct json_object **out, struct kv_error *e);
/* gateway_get_secret() for a caller that keeps its own copy of the cached
 * answer of generation known (0: none): when the cache still holds that
 * very answer, KV_OK with *out NULL. Otherwise as gateway_get_secret(), and
 * *gen is the generation of a cached answer (0 when it was not one). */
enum kv_err gateway_get_secret_known(struct gateway *g, const char *name, const char *version,
                                     uint64_t known, struct json_object **out, uint64_t *gen,
                                     struct kv_error *e);
enum kv_err gateway_list(struct gateway *g, const char *name, int maxresults, const char *next,
                         struct json_object **out, struct kv_error *e);

/* Answer r with the 404 a missing secret gets, for a name the policy or
 * the caller's grants hide (the audit log says "deny"). */
void gateway_deny(struct gateway *g, struct response *r, const char *name);

/* Answer r from a Key Vault error: the one place where upstream failures
 * become HTTP statuses (404 for missing and disabled alike, 503 with
 * Retry-After for throttling, 502, 504, ...). */
void gateway_kv_error(struct response *r, const struct kv_error *e, const char *name);

#endif
