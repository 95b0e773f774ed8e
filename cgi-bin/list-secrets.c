/*
 * list-secrets.fcgi: GET {base}/secrets and {base}/secrets/{name}/versions,
 * one page at a time, as Key Vault's SecretListResult filtered by policy. A
 * page's nextLink points back at the gateway and carries the vault's own
 * nextLink sealed in its $skiptoken (pagetoken.h), which is opened and
 * checked before it is followed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <json-c/json.h>

#include "exposure.h"
#include "gateway.h"
#include "jsonparse.h"
#include "log.h"
#include "shape.h"

static void list_secrets(struct gateway *g, const struct gateway_request *req, struct response *r)
{
	const struct policy_secrets *s = req->secrets;
	const char *name = req->route.kind == ROUTE_VERSIONS ? req->route.name : NULL;
	struct json_object *page = NULL, *link;
	char scope[ROUTE_NAME_MAX + 16];
	char *next = NULL;
	struct kv_error e = {.err = KV_OK, .retry_after = -1};

	/* The versions of a hidden name, or any versions when the policy
	 * allows none, answer like those of a missing secret. */
	if (!exposure_route_allowed(s, &req->route)) {
		gateway_deny(g, r, name ? name : "");
		return;
	}
	if (req->route.skiptoken[0] != '\0') {
		shape_scope(&req->route, scope, sizeof(scope));
		next = pagetoken_open(&g->paging, scope, req->route.skiptoken);
		if (next == NULL || !kv_next_link_valid(g->kv, next, name)) {
			log_warn("refused a paging token that the gateway did not issue");
			response_error(r, 400, "BadParameter", "The paging token is not valid.");
			goto out;
		}
	}
	/* allow_list = false: the list of an empty vault, without asking the
	 * vault (a paging token is still checked, as it would be). */
	if (name == NULL && !exposure_list_allowed(s)) {
		page = json_tokener_parse("{\"value\":[],\"nextLink\":null}");
		/* The headers of a list the cache served: nothing tells this
		 * policy's empty list from an empty vault's. */
		if (policy_cache(g->policy)->ttl > 0)
			snprintf(g->cache_status, sizeof(g->cache_status), "kvgate; hit; ttl=%ld",
			         policy_cache(g->policy)->ttl);
		else
			snprintf(g->cache_status, sizeof(g->cache_status), "kvgate; fwd=bypass");
		if (page == NULL)
			response_error(r, 500, "InternalError", "The gateway ran out of memory.");
		else
			response_json(r, 200, page);
		g->audit.items = 0;
		goto out;
	}
	/* The cache holds the vault's pages as they came: everything below
	 * (the nextLink check, the policy's filter, the shaping) is applied
	 * to each answer, for this request's origin. */
	if (gateway_list(g, name, req->route.maxresults, next, &page, &e) != KV_OK) {
		gateway_kv_error(r, &e, name ? name : "");
		goto out;
	}
	/* The vault's nextLink is checked now, before it is sealed into the
	 * page's $skiptoken: one that points anywhere but this vault's list is
	 * the vault's fault (502 now), not the caller's (a 400 on the next
	 * page), and the gateway's token will never follow it. */
	if (json_object_object_get_ex(page, "nextLink", &link) &&
	    json_object_is_type(link, json_type_string) && json_object_get_string_len(link) > 0 &&
	    !kv_next_link_valid(g->kv, json_object_get_string(link), name)) {
		e.err = KV_ENEXTLINK;
		e.status = 200;
		snprintf(e.message, sizeof(e.message),
		         "the vault's nextLink does not point at this vault's list");
		gateway_kv_error(r, &e, name ? name : "");
		goto out;
	}
	if (shape_list(page, g->policy, s, req->self_origin, &req->route, &g->paging, time(NULL)) !=
	    0) {
		e.err = KV_EPROTO;
		e.status = 200;
		snprintf(e.message, sizeof(e.message),
		         "the vault's answer for a list is not a SecretListResult");
		gateway_kv_error(r, &e, name ? name : "");
		goto out;
	}
	/* Key Vault lists no versions for a missing secret; kvgate answers that
	 * like a hidden or disabled one, with a 404, so that the three cannot be
	 * told apart here either. */
	if (name != NULL && next == NULL && shape_list_empty(page)) {
		e.err = KV_ENOTFOUND;
		gateway_kv_error(r, &e, name);
		goto out;
	}
	if (json_object_object_get_ex(page, "value", &link))
		g->audit.items = (long)json_object_array_length(link);
	response_json(r, 200, page);
out:
	jsonparse_put_wiped(page);
	free(next);
}

int main(int argc, char **argv)
{
	return gateway_main(argc, argv, "list-secrets", GATEWAY_VAULT,
	                    (1u << ROUTE_LIST) | (1u << ROUTE_VERSIONS), list_secrets);
}
