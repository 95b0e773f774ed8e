/*
 * get-secret.fcgi: GET {base}/secrets/{name}[/{version}], the latest or one
 * version of a secret, as Key Vault's SecretBundle with its ids pointing at
 * the gateway. Answers are reused for [cache] ttl seconds; the cache holds
 * the vault's answers, shared by every origin, caller and process of the
 * host, and the policy (the origin's rules and the caller's grants) is
 * applied to each answer as it is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ascii.h"
#include "buf.h"
#include "exposure.h"
#include "gateway.h"
#include "jsonparse.h"
#include "log.h"
#include "shape.h"

/*
 * The answers this process gave last, shaped and serialized, by name,
 * version and the origin their ids point at: a hit on the very answer the
 * cache still holds (its generation) skips parsing, shaping and
 * serializing it again. The policy is still applied to every request. The
 * bodies hold secret values: wiped when replaced.
 */
#define MEMO_SLOTS 64

struct memo {
	char key[ROUTE_NAME_MAX + ROUTE_VERSION_LEN + 512];
	uint64_t gen;
	struct json_object *bundle; /* shaped */
	char *body;
	size_t len;
};

static struct memo memo[MEMO_SLOTS];

static void memo_clear(struct memo *m)
{
	if (m->body != NULL) {
		buf_wipe(m->body, m->len);
		free(m->body);
	}
	jsonparse_put_wiped(m->bundle);
	memset(m, 0, sizeof(*m));
}

/* The slot for key (FNV-1a). */
static struct memo *memo_slot(const char *key)
{
	uint32_t h = 2166136261u;

	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &memo[h % MEMO_SLOTS];
}

/* The memo's key: "name/version\nids" into key (size bytes, cut to fit),
 * name and version lower-cased as Key Vault matches them. */
static void memo_key(char *key, size_t size, const char *name, const char *version,
                     const char *ids)
{
	const char *part[] = {name, "/", version, "\n", ids};
	size_t n = 0, k, lower = 0;

	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		k = strnlen(part[i], size - 1 - n);
		memcpy(key + n, part[i], k);
		n += k;
		if (i == 2)
			lower = n;
	}
	key[n] = '\0';
	ascii_lower_n(key, lower);
}

static void get_secret(struct gateway *g, const struct gateway_request *req, struct response *r)
{
	const struct policy_secrets *s = req->secrets;
	const char *ids = s->expose_vault_url ? NULL : req->self_origin;
	struct json_object *bundle = NULL;
	struct kv_error e = {.err = KV_OK, .retry_after = -1};
	char key[sizeof(memo[0].key)];
	struct memo *m;
	uint64_t gen = 0;
	const char *text;
	size_t n;

	/* A denied name or version answers exactly like a missing one,
	 * before any upstream call: a caller cannot tell them apart. */
	if (!exposure_route_allowed(s, &req->route)) {
		gateway_deny(g, r, req->route.name);
		return;
	}
	memo_key(key, sizeof(key), req->route.name, req->route.version, ids ? ids : "");
	m = memo_slot(key);
	if (gateway_get_secret_known(g, req->route.name, req->route.version,
	                             strcmp(m->key, key) == 0 ? m->gen : 0, &bundle, &gen,
	                             &e) != KV_OK) {
		gateway_kv_error(r, &e, req->route.name);
		return;
	}
	if (bundle == NULL) {
		/* The cache holds the answer this process shaped last. */
		if (!exposure_bundle_servable(s, m->bundle, time(NULL)))
			gateway_deny(g, r, req->route.name);
		else
			response_json_text(r, 200, m->body, m->len);
		return;
	}
	/* Tags, enabled and the nbf/exp window, judged now: a cached bundle
	 * may have expired since it was fetched. */
	if (!exposure_bundle_servable(s, bundle, time(NULL))) {
		gateway_deny(g, r, req->route.name);
	} else if (shape_bundle(bundle, ids) != 0) {
		e.err = KV_EPROTO;
		e.status = 200;
		snprintf(e.message, sizeof(e.message),
		         "the vault's answer for a secret has no valid id");
		gateway_kv_error(r, &e, req->route.name);
	} else if (response_json(r, 200, bundle) == 0 && gen != 0) {
		/* Remember it shaped, for the next hit on this answer. */
		text = r->body.data;
		n = r->body.len;
		memo_clear(m);
		if ((m->body = malloc(n + 1)) != NULL) {
			memcpy(m->body, text, n);
			m->body[n] = '\0';
			m->len = n;
			m->gen = gen;
			m->bundle = bundle;
			memcpy(m->key, key, sizeof(m->key));
			return; /* the memo keeps the bundle */
		}
	}
	jsonparse_put_wiped(bundle);
}

int main(int argc, char **argv)
{
	return gateway_main(argc, argv, "get-secret", GATEWAY_VAULT, 1u << ROUTE_GET, get_secret);
}
