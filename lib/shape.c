/*
 * shape.c: Key Vault answers rewritten for the gateway. See shape.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "buf.h"
#include "exposure.h"
#include "kv.h"
#include "pagetoken.h"
#include "shape.h"

/* Where the path of an absolute URL starts, or NULL when url is not
 * "scheme://authority/…". */
static const char *url_path(const char *url)
{
	const char *p = strstr(url, "://");

	if (p == NULL || p == url)
		return NULL;
	p += 3;
	if (*p == '\0' || *p == '/')
		return NULL;
	return strchr(p, '/');
}

int shape_parse_id(const char *id, char *name, char *version)
{
	const char *path = url_path(id), *n, *slash;
	size_t nlen;

	name[0] = '\0';
	if (version != NULL)
		version[0] = '\0';
	if (path == NULL || strncmp(path, "/secrets/", 9) != 0)
		return -1;
	n = path + 9;
	slash = strchr(n, '/');
	nlen = slash ? (size_t)(slash - n) : strlen(n);
	if (nlen == 0 || nlen > ROUTE_NAME_MAX)
		return -1;
	memcpy(name, n, nlen);
	name[nlen] = '\0';
	if (!route_name_valid(name))
		goto bad;
	if (slash != NULL && slash[1] != '\0') {
		if (!route_version_valid(slash + 1))
			goto bad;
		if (version != NULL)
			snprintf(version, ROUTE_VERSION_LEN + 1, "%s", slash + 1);
	}
	return 0;
bad:
	name[0] = '\0';
	return -1;
}

/* Replace the string member key of obj with s. */
static int set_string(struct json_object *obj, const char *key, const char *s)
{
	struct json_object *v = json_object_new_string(s);

	if (v == NULL)
		return -1;
	return json_object_object_add(obj, key, v) == 0 ? 0 : -1;
}

/* Rewrite an item's or bundle's "id" to {origin}/secrets/{name}[/{version}]
 * and its "kid", if any, to the same origin; with origin NULL (the policy's
 * expose_vault_url) both keep the vault's host, but are checked all the
 * same. The name comes back in name. */
static int rewrite_ids(struct json_object *obj, const char *origin, char *name)
{
	char version[ROUTE_VERSION_LEN + 1], out[1024];
	struct json_object *v;
	const char *kid_path;

	if (!json_object_object_get_ex(obj, "id", &v) || !json_object_is_type(v, json_type_string))
		return -1;
	if (shape_parse_id(json_object_get_string(v), name, version) != 0)
		return -1;
	if (origin == NULL) {
		if (json_object_object_get_ex(obj, "kid", &v) &&
		    (!json_object_is_type(v, json_type_string) ||
		     url_path(json_object_get_string(v)) == NULL))
			json_object_object_del(obj, "kid");
		return 0;
	}
	snprintf(out, sizeof(out), "%s/secrets/%s%s%s", origin, name, version[0] ? "/" : "",
	         version);
	if (set_string(obj, "id", out) != 0)
		return -1;
	/* A certificate-backed secret names its key: same vault host, so it is
	 * rewritten too; a kid that is not a URL is dropped rather than
	 * passed on. */
	if (json_object_object_get_ex(obj, "kid", &v)) {
		kid_path = json_object_is_type(v, json_type_string)
		               ? url_path(json_object_get_string(v))
		               : NULL;
		if (kid_path == NULL || strlen(kid_path) > 512) {
			json_object_object_del(obj, "kid");
		} else {
			snprintf(out, sizeof(out), "%s%s", origin, kid_path);
			if (set_string(obj, "kid", out) != 0)
				return -1;
		}
	}
	return 0;
}

bool shape_list_empty(struct json_object *page)
{
	struct json_object *value, *next;

	if (!json_object_object_get_ex(page, "value", &value) ||
	    json_object_array_length(value) > 0)
		return false;
	return !json_object_object_get_ex(page, "nextLink", &next) ||
	       json_object_is_type(next, json_type_null);
}

int shape_bundle(struct json_object *bundle, const char *origin)
{
	char name[ROUTE_NAME_MAX + 1];

	if (!json_object_is_type(bundle, json_type_object))
		return -1;
	return rewrite_ids(bundle, origin, name);
}

void shape_scope(const struct route *r, char *scope, size_t len)
{
	if (r->kind != ROUTE_VERSIONS) {
		snprintf(scope, len, "secrets");
		return;
	}
	/* Names compare ignoring case, so the scope is lower-cased. */
	snprintf(scope, len, "versions:%s", r->name);
	ascii_lower_n(scope, len);
}

int shape_list(struct json_object *page, const struct policy *p, const struct policy_secrets *s,
               const char *origin, const struct route *r, const struct pagetoken_key *key,
               time_t now)
{
	const struct policy_gateway *gw = policy_gateway(p);
	struct json_object *value, *items, *next, *link;
	char name[ROUTE_NAME_MAX + 1], scope[ROUTE_NAME_MAX + 16];
	struct buf url;
	size_t i, n;
	char *token;
	int rc = -1;

	if (!json_object_object_get_ex(page, "value", &value) ||
	    !json_object_is_type(value, json_type_array))
		return -1;
	if ((items = json_object_new_array()) == NULL)
		return -1;
	n = json_object_array_length(value);
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(value, i);

		if (!json_object_is_type(it, json_type_object) ||
		    rewrite_ids(it, s->expose_vault_url ? NULL : origin, name) != 0)
			continue;
		if (!exposure_item_visible(s, name, it, now))
			continue;
		if (r->kind == ROUTE_VERSIONS && strcasecmp(name, r->name) != 0)
			continue;
		json_object_array_add(items, json_object_get(it));
	}
	json_object_object_add(page, "value", items);

	/* The next page, as a gateway URL wrapping the vault's nextLink. */
	link = NULL;
	if (json_object_object_get_ex(page, "nextLink", &next) &&
	    json_object_is_type(next, json_type_string) && json_object_get_string_len(next) > 0) {
		shape_scope(r, scope, sizeof(scope));
		token = pagetoken_seal(key, scope, json_object_get_string(next));
		if (token == NULL)
			return -1;
		buf_init(&url, 8192);
		if (r->kind == ROUTE_VERSIONS)
			buf_printf(&url, "%s%s/secrets/%s/versions", origin, gw->base_path,
			           r->name);
		else
			buf_printf(&url, "%s%s/secrets", origin, gw->base_path);
		buf_printf(&url, "?api-version=%s&$skiptoken=%s",
		           r->api_version[0] ? r->api_version : policy_vault(p)->api_version,
		           token);
		if (r->maxresults > 0)
			buf_printf(&url, "&maxresults=%d", r->maxresults);
		free(token);
		if (url.data == NULL || strlen(url.data) != url.len) {
			buf_free(&url);
			return -1;
		}
		link = json_object_new_string(url.data);
		buf_free(&url);
		if (link == NULL)
			return -1;
	}
	/* Key Vault sends "nextLink": null on the last page; so does the
	 * gateway, whatever the vault sent. */
	if (json_object_object_add(page, "nextLink", link) == 0)
		rc = 0;
	return rc;
}
