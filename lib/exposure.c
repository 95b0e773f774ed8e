/*
 * exposure.c: which secrets, versions and list items a caller may see. See
 * exposure.h.
 */
#include <string.h>

#include "exposure.h"
#include "glob.h"

void exposure_for(const struct policy *p, const char *origin, const struct caller *who,
                  struct exposure_rules *out)
{
	const struct policy_grant *g;

	memset(out, 0, sizeof(*out));
	out->s = *policy_secrets_for(p, origin);
	out->s.grants = out->held;
	out->s.ngrants = 0;
	out->s.grants_apply = policy_callers_on(p);
	if (!out->s.grants_apply || who == NULL)
		return;
	for (size_t i = 0; (g = policy_grant(p, i)) != NULL && i < POLICY_GRANTS_MAX; i++) {
		for (size_t w = 0; w < g->who.n; w++) {
			if (callers_is(who, g->who.v[w])) {
				out->held[out->s.ngrants++] = g;
				break;
			}
		}
	}
}

size_t exposure_grants(const struct policy_secrets *s)
{
	return s != NULL && s->grants_apply ? s->ngrants : 0;
}

/* Whether one of the caller's grants lets it see name. */
static bool granted(const struct policy_secrets *s, const char *name)
{
	if (!s->grants_apply)
		return true;
	for (size_t i = 0; i < s->ngrants; i++)
		if (glob_match_any(&s->grants[i]->allow, name) &&
		    !glob_match_any(&s->grants[i]->deny, name))
			return true;
	return false;
}

bool exposure_name_visible(const struct policy_secrets *s, const char *name)
{
	if (s == NULL || name == NULL)
		return false;
	return glob_match_any(&s->allow, name) && !glob_match_any(&s->deny, name) &&
	       granted(s, name);
}

bool exposure_route_allowed(const struct policy_secrets *s, const struct route *r)
{
	switch (r->kind) {
	case ROUTE_NONE:
		break;
	case ROUTE_LIST:
		return s != NULL;
	case ROUTE_VERSIONS:
		return exposure_name_visible(s, r->name) && s->allow_versions;
	case ROUTE_GET:
		return exposure_name_visible(s, r->name) &&
		       (r->version[0] == '\0' || s->allow_versions);
	}
	return false;
}

bool exposure_list_allowed(const struct policy_secrets *s)
{
	return s != NULL && s->allow_list;
}

/* obj's "attributes" object, or NULL. */
static struct json_object *attributes(struct json_object *obj)
{
	struct json_object *a;

	if (!json_object_object_get_ex(obj, "attributes", &a) ||
	    !json_object_is_type(a, json_type_object))
		return NULL;
	return a;
}

/* Whether obj is enabled: attributes.enabled is not false. Key Vault
 * always sends it; an answer without it is taken as enabled, as before
 * the policy had anything to say about it. */
static bool enabled(struct json_object *obj)
{
	struct json_object *a = attributes(obj), *en;

	if (a == NULL || !json_object_object_get_ex(a, "enabled", &en))
		return true;
	return !json_object_is_type(en, json_type_boolean) || json_object_get_boolean(en);
}

/*
 * Whether now is inside obj's validity window: not before attributes.nbf,
 * and before attributes.exp (both Unix seconds; Key Vault leaves out the
 * ones that are not set). A bound that is present but not an integer
 * fails closed: the secret is treated as outside its window.
 */
static bool in_window(struct json_object *obj, time_t now)
{
	struct json_object *a = attributes(obj), *t;

	if (a == NULL)
		return true;
	if (json_object_object_get_ex(a, "nbf", &t) && !json_object_is_type(t, json_type_null) &&
	    (!json_object_is_type(t, json_type_int) || (int64_t)now < json_object_get_int64(t)))
		return false;
	if (json_object_object_get_ex(a, "exp", &t) && !json_object_is_type(t, json_type_null) &&
	    (!json_object_is_type(t, json_type_int) || (int64_t)now >= json_object_get_int64(t)))
		return false;
	return true;
}

/* Whether obj's "tags" hold every "name=value" of require_tags, compared
 * byte for byte (the policy loader checked each item has its '='). */
static bool has_tags(const struct policy_secrets *s, struct json_object *obj)
{
	struct json_object *tags = NULL, *v;

	if (s->require_tags.n == 0)
		return true;
	if (!json_object_object_get_ex(obj, "tags", &tags) ||
	    !json_object_is_type(tags, json_type_object))
		return false;
	for (size_t i = 0; i < s->require_tags.n; i++) {
		const char *item = s->require_tags.v[i], *eq = strchr(item, '=');
		char name[600];
		size_t n;

		if (eq == NULL || (n = (size_t)(eq - item)) >= sizeof(name))
			return false;
		memcpy(name, item, n);
		name[n] = '\0';
		if (!json_object_object_get_ex(tags, name, &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcmp(json_object_get_string(v), eq + 1) != 0)
			return false;
	}
	return true;
}

bool exposure_bundle_servable(const struct policy_secrets *s, struct json_object *bundle,
                              time_t now)
{
	if (s == NULL || !json_object_is_type(bundle, json_type_object))
		return false;
	return has_tags(s, bundle) && enabled(bundle) &&
	       (s->serve_expired || in_window(bundle, now));
}

bool exposure_item_visible(const struct policy_secrets *s, const char *name,
                           struct json_object *item, time_t now)
{
	if (!exposure_name_visible(s, name) || !json_object_is_type(item, json_type_object))
		return false;
	return has_tags(s, item) && (!s->hide_disabled || enabled(item)) &&
	       (s->serve_expired || in_window(item, now));
}
