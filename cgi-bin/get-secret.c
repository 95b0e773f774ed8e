/*
 * get-secret.fcgi: GET {base}/secrets/{name}[/{version}], the latest or one
 * version of a secret, as Key Vault's SecretBundle with its ids pointing at
 * the gateway. Answers are reused for [cache] ttl seconds; the cache holds
 * the vault's answers, shared by every origin and by the host's processes,
 * and the policy is applied to each answer as it is given.
 */
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "exposure.h"
#include "gateway.h"
#include "log.h"
#include "shape.h"

static void get_secret(struct gateway *g, const struct gateway_request *req, struct response *r)
{
	const struct policy_secrets *s = policy_secrets_for(g->policy, req->origin);
	struct json_object *bundle = NULL;
	struct kv_error e = {.err = KV_OK, .retry_after = -1};

	/* A denied name or version answers exactly like a missing one,
	 * before any upstream call: a caller cannot tell them apart. */
	if (!exposure_route_allowed(s, &req->route)) {
		e.err = KV_ENOTFOUND;
		gateway_kv_error(r, &e, req->route.name);
		return;
	}
	if (gateway_get_secret(g, req->route.name, req->route.version, &bundle, &e) != KV_OK) {
		gateway_kv_error(r, &e, req->route.name);
		return;
	}
	/* Tags, enabled and the nbf/exp window, judged now: a cached bundle
	 * may have expired since it was fetched. */
	if (!exposure_bundle_servable(s, bundle, time(NULL))) {
		e.err = KV_ENOTFOUND;
		gateway_kv_error(r, &e, req->route.name);
	} else if (shape_bundle(bundle, s->expose_vault_url ? NULL : req->self_origin) != 0) {
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
