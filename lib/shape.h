/*
 * shape: turning Key Vault's answers into the gateway's.
 *
 * Bodies keep Key Vault's shapes so the official SDKs can use the gateway as
 * their vault URL, but nothing in them may point at the vault (unless the
 * policy's expose_vault_url lets ids keep its host): secret ids (and kids)
 * are rewritten to {origin}/secrets/{name}[/{version}], where origin is the
 * gateway's public origin, and a list's nextLink is replaced by
 * a gateway URL whose $skiptoken is the upstream nextLink sealed (see
 * pagetoken.h). List items the policy hides (exposure.h) are dropped as
 * the page is shaped.
 */
#ifndef KVGATE_SHAPE_H
#define KVGATE_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <json-c/json.h>
#include "pagetoken.h"
#include "policy.h"
#include "route.h"

/*
 * Extract the secret name (and version, if present) from a Key Vault id
 * "scheme://host[:port]/secrets/{name}[/{version}]". name must hold
 * ROUTE_NAME_MAX + 1 bytes, version ROUTE_VERSION_LEN + 1 (may be NULL).
 * Returns 0, or -1 when id is not such an identifier.
 */
int shape_parse_id(const char *id, char *name, char *version);

/* Rewrite a SecretBundle in place for the gateway at origin; with origin
 * NULL ([secrets] expose_vault_url) its ids keep the vault's host. Returns 0
 * or -1 (the bundle is then not a bundle: no string id). */
int shape_bundle(struct json_object *bundle, const char *origin);

/* Whether a shaped page is the whole list and empty: no items, no next. */
bool shape_list_empty(struct json_object *page);

/* The scope a paging token is sealed for: "secrets" for the list of
 * secrets, "versions:{name}" (lower-cased) for one secret's versions. */
void shape_scope(const struct route *r, char *scope, size_t len);

/*
 * Rewrite a SecretListResult page in place: drop items whose id does not
 * parse and those exposure_item_visible() refuses under s at time now
 * (hidden names, missing tags, disabled, outside nbf/exp, as s says),
 * rewrite the ids to origin (unless s->expose_vault_url), and replace
 * nextLink with a link to the gateway ({origin}{base_path}/secrets[/{name}
 * /versions]?api-version=…&$skiptoken=…[&maxresults=…]), the token being
 * the vault's nextLink sealed with key for this list, or null on the last
 * page. r is the route being answered. Returns 0 or -1 (not a list page).
 */
int shape_list(struct json_object *page, const struct policy *p, const struct policy_secrets *s,
               const char *origin, const struct route *r, const struct pagetoken_key *key,
               time_t now);

#endif
