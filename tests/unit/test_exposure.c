/*
 * test_exposure: the rules of what a caller may see (lib/exposure.c), with
 * an injected clock. Each row pins one rule of README's [secrets] section:
 * names, versions, tags, enabled, the nbf/exp window, and that a list shows
 * what a GET would serve. The policy is built in memory; test_policy checks
 * how the INI fills it, integration/secrets_policy.test.js the whole path.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "exposure.h"
#include "tap.h"

#define NOW ((time_t)1800000000) /* the injected clock */

/* A [secrets] section: allow, deny and require_tags as INI lists. */
static struct policy_secrets secrets(const char *allow, const char *deny, const char *tags)
{
	struct policy_secrets s;

	memset(&s, 0, sizeof(s));
	if (strlist_parse(allow, &s.allow) != 0 || strlist_parse(deny, &s.deny) != 0 ||
	    strlist_parse(tags, &s.require_tags) != 0)
		exit(2);
	s.allow_list = true;
	s.hide_disabled = true;
	return s;
}

static void release(struct policy_secrets *s)
{
	strlist_free(&s->allow);
	strlist_free(&s->deny);
	strlist_free(&s->require_tags);
}

static struct route route(enum route_kind kind, const char *name, const char *version)
{
	struct route r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.version, sizeof(r.version), "%s", version);
	return r;
}

static void test_names_and_routes(void)
{
	struct policy_secrets s = secrets("public-* demo-?", "*-internal", "");
	struct route r;

	ok(exposure_name_visible(&s, "public-a") && exposure_name_visible(&s, "PUBLIC-A") &&
	       exposure_name_visible(&s, "demo-1"),
	   "a name an allow pattern matches is visible, in any case");
	ok(!exposure_name_visible(&s, "public-internal") && !exposure_name_visible(&s, "demo-12") &&
	       !exposure_name_visible(&s, "admin-x"),
	   "deny wins; a name no allow pattern matches is hidden");
	ok(!exposure_name_visible(NULL, "public-a") && !exposure_name_visible(&s, NULL),
	   "NULL rules or name: hidden");

	r = route(ROUTE_LIST, "", "");
	ok(exposure_route_allowed(&s, &r), "the list of secrets is always answered");
	r = route(ROUTE_GET, "public-a", "");
	ok(exposure_route_allowed(&s, &r), "the latest version of a visible name");
	r = route(ROUTE_GET, "admin-x", "");
	ok(!exposure_route_allowed(&s, &r), "not a hidden name");
	r = route(ROUTE_GET, "public-a", "0123456789abcdef0123456789abcdef");
	ok(!exposure_route_allowed(&s, &r), "allow_versions = false: not one version");
	r = route(ROUTE_VERSIONS, "public-a", "");
	ok(!exposure_route_allowed(&s, &r), "allow_versions = false: not the versions list");
	s.allow_versions = true;
	r = route(ROUTE_GET, "public-a", "0123456789abcdef0123456789abcdef");
	ok(exposure_route_allowed(&s, &r), "allow_versions = true: one version");
	r = route(ROUTE_VERSIONS, "public-a", "");
	ok(exposure_route_allowed(&s, &r), "allow_versions = true: the versions list");
	r = route(ROUTE_VERSIONS, "public-internal", "");
	ok(!exposure_route_allowed(&s, &r), "...but never those of a hidden name");
	r = route(ROUTE_NONE, "", "");
	ok(!exposure_route_allowed(&s, &r), "no route: refused");

	ok(exposure_list_allowed(&s), "allow_list = true: lists are answered");
	s.allow_list = false;
	ok(!exposure_list_allowed(&s) && !exposure_list_allowed(NULL),
	   "allow_list = false: lists are empty");
	release(&s);
}

/* One case of a fetched bundle (or list item) judged at NOW. */
struct bundle_case {
	const char *what;
	const char *tags; /* require_tags */
	bool serve_expired;
	bool hide_disabled;
	const char *json; /* the bundle or item */
	bool servable;    /* exposure_bundle_servable() */
	bool listed;      /* exposure_item_visible(), name public-a */
};

/* clang-format off */
static const struct bundle_case cases[] = {
	{"no rules, no attributes", "", false, true, "{}", true, true},
	{"enabled, no window", "", false, true,
	 "{\"attributes\":{\"enabled\":true}}", true, true},
	{"disabled", "", false, true,
	 "{\"attributes\":{\"enabled\":false}}", false, false},
	{"disabled, hide_disabled = false: listed, still not served", "", false, false,
	 "{\"attributes\":{\"enabled\":false}}", false, true},
	{"nbf passed, exp ahead", "", false, true,
	 "{\"attributes\":{\"enabled\":true,\"nbf\":1700000000,\"exp\":1900000000}}", true, true},
	{"nbf ahead (not yet valid)", "", false, true,
	 "{\"attributes\":{\"enabled\":true,\"nbf\":1800000001}}", false, false},
	{"nbf == now: valid", "", false, true,
	 "{\"attributes\":{\"nbf\":1800000000}}", true, true},
	{"exp passed (expired)", "", false, true,
	 "{\"attributes\":{\"exp\":1799999999}}", false, false},
	{"exp == now: expired", "", false, true,
	 "{\"attributes\":{\"exp\":1800000000}}", false, false},
	{"exp one second ahead", "", false, true,
	 "{\"attributes\":{\"exp\":1800000001}}", true, true},
	{"expired, serve_expired = true", "", true, true,
	 "{\"attributes\":{\"exp\":1}}", true, true},
	{"not yet valid, serve_expired = true", "", true, true,
	 "{\"attributes\":{\"nbf\":4102444800}}", true, true},
	{"serve_expired does not serve a disabled one", "", true, true,
	 "{\"attributes\":{\"enabled\":false,\"exp\":1}}", false, false},
	{"exp not a number fails closed", "", false, true,
	 "{\"attributes\":{\"exp\":\"soon\"}}", false, false},
	{"nbf null is no bound", "", false, true,
	 "{\"attributes\":{\"nbf\":null}}", true, true},
	{"required tag present", "env=dev", false, true,
	 "{\"tags\":{\"env\":\"dev\",\"x\":\"y\"}}", true, true},
	{"required tag with another value", "env=dev", false, true,
	 "{\"tags\":{\"env\":\"prod\"}}", false, false},
	{"required tag value differs in case", "env=dev", false, true,
	 "{\"tags\":{\"env\":\"Dev\"}}", false, false},
	{"required tag name differs in case", "env=dev", false, true,
	 "{\"tags\":{\"ENV\":\"dev\"}}", false, false},
	{"required tag missing", "env=dev", false, true,
	 "{\"tags\":{\"other\":\"dev\"}}", false, false},
	{"no tags at all", "env=dev", false, true, "{}", false, false},
	{"tags not an object", "env=dev", false, true,
	 "{\"tags\":[\"env=dev\"]}", false, false},
	{"tag value not a string", "n=1", false, true, "{\"tags\":{\"n\":1}}", false, false},
	{"every pair needed, one missing", "env=dev owner=web", false, true,
	 "{\"tags\":{\"env\":\"dev\"}}", false, false},
	{"every pair present", "env=dev owner=web", false, true,
	 "{\"tags\":{\"owner\":\"web\",\"env\":\"dev\"}}", true, true},
	{"a value holding '='", "k=a=b", false, true,
	 "{\"tags\":{\"k\":\"a=b\"}}", true, true},
	{"an empty value", "k=", false, true, "{\"tags\":{\"k\":\"\"}}", true, true},
	{"an empty value is not a missing tag", "k=", false, true, "{\"tags\":{}}", false, false},
	{"tags and window both needed", "env=dev", false, true,
	 "{\"tags\":{\"env\":\"dev\"},\"attributes\":{\"exp\":5}}", false, false},
};
/* clang-format on */

static void test_bundles(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bundle_case *c = &cases[i];
		struct policy_secrets s = secrets("public-*", "", c->tags);
		struct json_object *b = json_tokener_parse(c->json);

		s.serve_expired = c->serve_expired;
		s.hide_disabled = c->hide_disabled;
		ok(b != NULL && exposure_bundle_servable(&s, b, NOW) == c->servable, "get: %s: %s",
		   c->what, c->servable ? "served" : "404");
		ok(b != NULL && exposure_item_visible(&s, "public-a", b, NOW) == c->listed,
		   "list: %s: %s", c->what, c->listed ? "listed" : "left out");
		ok(b != NULL && !exposure_item_visible(&s, "admin-a", b, NOW),
		   "list: %s: never under a hidden name", c->what);
		json_object_put(b);
		release(&s);
	}
}

/* A cached bundle is judged when it is served: the same answer, fetched
 * while valid, is refused once its exp has passed. */
static void test_clock(void)
{
	struct policy_secrets s = secrets("*", "", "");
	struct json_object *b = json_tokener_parse("{\"attributes\":{\"exp\":1800000060}}");

	ok(exposure_bundle_servable(&s, b, NOW), "served while valid");
	ok(!exposure_bundle_servable(&s, b, NOW + 60), "refused from exp on, same bundle");
	ok(!exposure_bundle_servable(&s, NULL, NOW) && !exposure_bundle_servable(NULL, b, NOW),
	   "no bundle or no rules: refused");
	json_object_put(b);
	release(&s);
}

/* A [grant NAME]'s allow and deny (who is exposure_for()'s business,
 * pinned by test_policy with real INI files). */
static struct policy_grant grant(const char *allow, const char *deny)
{
	struct policy_grant g;

	memset(&g, 0, sizeof(g));
	if (strlist_parse(allow, &g.allow) != 0 || strlist_parse(deny, &g.deny) != 0)
		exit(2);
	return g;
}

static void test_grants(void)
{
	struct policy_secrets s = secrets("public-* demo-*", "*-internal", "");
	struct policy_grant a = grant("public-*", "public-maps-key"),
	                    b = grant("demo-1 admin-*", "");
	const struct policy_grant *held[2] = {&a, &b};
	struct json_object *item = json_tokener_parse("{\"attributes\":{\"enabled\":true}}");
	struct route r = route(ROUTE_GET, "demo-1", "");

	s.grants_apply = true;
	s.grants = held;
	s.ngrants = 0;
	ok(!exposure_name_visible(&s, "public-a") && !exposure_name_visible(&s, "demo-1"),
	   "grants apply, none held: nothing is visible");
	s.ngrants = 1;
	ok(exposure_name_visible(&s, "public-a") && !exposure_name_visible(&s, "public-maps-key") &&
	       !exposure_name_visible(&s, "demo-1"),
	   "one grant: its allow, minus its deny");
	s.ngrants = 2;
	ok(exposure_name_visible(&s, "public-a") && exposure_name_visible(&s, "demo-1") &&
	       !exposure_name_visible(&s, "demo-2"),
	   "two grants: the union");
	ok(!exposure_name_visible(&s, "admin-x") && !exposure_name_visible(&s, "public-internal"),
	   "a grant never widens [secrets]: its allow and deny still apply");
	ok(exposure_route_allowed(&s, &r) && exposure_item_visible(&s, "demo-1", item, NOW) &&
	       !exposure_item_visible(&s, "demo-2", item, NOW),
	   "routes and list items follow the grants too");
	ok(exposure_grants(&s) == 2, "two grants held");
	s.grants_apply = false;
	ok(exposure_name_visible(&s, "demo-2") && exposure_grants(&s) == 0,
	   "without [callers], grants do not apply");
	json_object_put(item);
	release(&s);
	strlist_free(&a.allow);
	strlist_free(&a.deny);
	strlist_free(&b.allow);
	strlist_free(&b.deny);
}

int main(void)
{
	test_names_and_routes();
	test_grants();
	test_bundles();
	test_clock();
	return tap_done();
}
