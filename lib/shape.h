/*
 * shape: turning Key Vault's answers into the gateway's.
 *
 * Bodies keep Key Vault's shapes so the official SDKs can use the gateway as
 * their vault URL, but nothing in them may point at the vault: secret ids
 * (and kids) are rewritten to {origin}/secrets/{name}[/{version}], where
 * origin is the gateway's public origin, and a list's nextLink is replaced by
 * a gateway URL whose $skiptoken wraps the upstream nextLink. List items the
 * policy hides are dropped as the page is shaped.
 */
#ifndef KVGATE_SHAPE_H
#define KVGATE_SHAPE_H

#include <stddef.h>
#include <json-c/json.h>
#include "policy.h"
#include "route.h"

/*
 * Extract the secret name (and version, if present) from a Key Vault id
 * "scheme://host[:port]/secrets/{name}[/{version}]". name must hold
 * ROUTE_NAME_MAX + 1 bytes, version ROUTE_VERSION_LEN + 1 (may be NULL).
 * Returns 0, or -1 when id is not such an identifier.
 */
int shape_parse_id(const char *id, char *name, char *version);

/* Rewrite a SecretBundle in place for the gateway at origin. Returns 0 or -1
 * (the bundle is then not a bundle: no string id). */
int shape_bundle(struct json_object *bundle, const char *origin);

/*
 * Rewrite a SecretListResult page in place: drop items whose name the policy
 * hides (or whose id does not parse), rewrite the ids, and replace nextLink
 * with a link to the gateway ({origin}{base_path}/secrets[/{name}/versions]
 * ?api-version=…&$skiptoken=…[&maxresults=…]) or null on the last page.
 * r is the route being answered. Returns 0 or -1 (not a list page).
 */
int shape_list(struct json_object *page, const struct policy *p, const char *origin,
	       const struct route *r);

/* Wrap an upstream nextLink into a paging token (base64url, no padding).
 * Returns a new string (caller frees) or NULL. */
char *shape_token_encode(const char *next_link);

/* Unwrap a paging token. Returns a new string (caller frees) or NULL when
 * the token is not base64url or does not decode to printable ASCII. The
 * result must still pass kv_next_link_valid() before use. */
char *shape_token_decode(const char *token);

#endif
