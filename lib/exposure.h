/*
 * exposure: what a caller may see of the vault. Every rule of [secrets]
 * (and of an [origin "…"] section, which holds the same keys) is applied
 * here, and only here: get-secret, list-secrets and shape.c ask these
 * functions, with the rules policy_secrets_for() picked for the request.
 *
 * Every denial looks like absence. A name the policy hides, a version or a
 * list of versions when versions are not allowed, a secret without the
 * required tags, a disabled one, or one outside its nbf/exp window all
 * answer the same 404 SecretNotFound as a missing secret, and lists leave
 * out what a GET would refuse, so a caller cannot probe the policy.
 *
 * Decisions on fetched data are made when the answer is given, with the
 * time passed in: a cached bundle is judged again on every use.
 */
#ifndef KVGATE_EXPOSURE_H
#define KVGATE_EXPOSURE_H

#include <stdbool.h>
#include <time.h>
#include <json-c/json.h>
#include "callers.h"
#include "policy.h"
#include "route.h"

/*
 * The rules for one request: the origin's (policy_secrets_for()), and with
 * [callers] on, the grants the caller holds. s is what the functions below
 * take; held is the storage s.grants points into.
 */
struct exposure_rules {
	struct policy_secrets s;
	const struct policy_grant *held[POLICY_GRANTS_MAX];
};

/*
 * Fill out for a request from origin (NULL: none) by caller who. With
 * [callers] on, a name must then also be allowed by one of the grants
 * whose who names the caller (callers_is()), and not denied by that grant:
 * a caller sees the union of its grants, within [secrets] and the origin's
 * rules; a caller holding no grant sees nothing. out must not move after
 * (s points into it).
 */
void exposure_for(const struct policy *p, const char *origin, const struct caller *who,
                  struct exposure_rules *out);

/* How many grants the rules hold (for the audit log). */
size_t exposure_grants(const struct policy_secrets *s);

/* Whether the secret called name may be seen: some allow pattern matches it
 * and no deny pattern does (ignoring ASCII case, as Key Vault's names do),
 * and, when grants apply, some grant allows it and does not deny it. False
 * when s or name is NULL. */
bool exposure_name_visible(const struct policy_secrets *s, const char *name);

/*
 * Whether the route r may be answered at all, before any upstream call:
 * a GET of a visible name (of one version only with allow_versions), the
 * versions of a visible name with allow_versions, any list of secrets.
 * False means: answer 404, as for a missing secret.
 */
bool exposure_route_allowed(const struct policy_secrets *s, const struct route *r);

/* Whether GET {base}/secrets lists anything (allow_list). When it does
 * not, the answer is an empty list, as from an empty vault. */
bool exposure_list_allowed(const struct policy_secrets *s);

/*
 * Whether a fetched SecretBundle (or SecretItem, which has the same tags
 * and attributes) may be served at time now: it carries every
 * require_tags pair, is enabled, and (unless serve_expired) now is within
 * its attributes' nbf/exp window. Name and route are checked before
 * (exposure_route_allowed()).
 */
bool exposure_bundle_servable(const struct policy_secrets *s, struct json_object *bundle,
                              time_t now);

/*
 * Whether a list item for the secret called name may be listed at time
 * now: its name is visible, it carries every require_tags pair, it is
 * enabled (or hide_disabled is false) and within its window (or
 * serve_expired is true). So a list shows exactly what a GET would serve,
 * except that hide_disabled = false shows disabled items that GET still
 * answers with 404 (as Key Vault lists them and refuses to read them).
 */
bool exposure_item_visible(const struct policy_secrets *s, const char *name,
                           struct json_object *item, time_t now);

#endif
