/*
 * get-secret.fcgi: GET {base}/secrets/{name}[/{version}], the latest or one
 * version of a secret, as Key Vault's SecretBundle with its ids pointing at
 * the gateway. Answers are reused for [cache] ttl seconds.
 */
#include <stdio.h>

#include <json-c/json.h>

#include "gateway.h"
#include "log.h"
#include "shape.h"

static void get_secret(struct gateway *g, const struct gateway_request *req, struct response *r)
{
	struct json_object *bundle = NULL;
	struct kv_error e = {.err = KV_OK, .retry_after = -1};

	/* A denied name answers exactly like a missing one, before any
	 * upstream call: a caller cannot tell them apart. */
	if (!policy_secret_visible(g->policy, req->route.name)) {
		e.err = KV_ENOTFOUND;
		gateway_kv_error(r, &e, req->route.name);
		return;
	}
	bundle = cache_get(g->cache, req->route.name, req->route.version);
	if (bundle == NULL) {
		if (kv_get_secret(g->kv, req->route.name, req->route.version, &bundle, &e) !=
		    KV_OK) {
			gateway_kv_error(r, &e, req->route.name);
			return;
		}
		cache_put(g->cache, req->route.name, req->route.version, bundle);
	}
	if (shape_bundle(bundle, req->self_origin) != 0) {
		e.err = KV_EPROTO;
		e.status = 200;
		snprintf(e.message, sizeof(e.message),
		         "the vault's answer for a secret has no valid id");
		gateway_kv_error(r, &e, req->route.name);
	} else {
		response_json(r, 200, bundle);
	}
	json_object_put(bundle);
}

int main(int argc, char **argv)
{
	return gateway_main(argc, argv, "get-secret", GATEWAY_VAULT, 1u << ROUTE_GET, get_secret);
}
