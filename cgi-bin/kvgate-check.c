/*
 * kvgate-check: validate a policy INI the way `nginx -t` or `apachectl
 * configtest` do, before a web server loads it.
 *
 *   kvgate-check [FILE]        (FILE defaults to $KVGATE_CONFIG)
 *
 * Prints every problem (file, section, key), or the effective policy in
 * words followed by warnings about legal but risky choices. Exits 0 when the
 * policy loads (warnings or not), 1 when it does not, 2 on bad usage. It
 * makes no network call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cors.h"
#include "http.h"
#include "identity.h"
#include "log.h"
#include "policy.h"
#include "strlist.h"

/* "a, b, c", or none when the list is empty. */
static void print_list(const char *label, const struct strlist *l, const char *none)
{
	printf("  %-18s", label);
	if (l->n == 0)
		printf("%s", none);
	for (size_t i = 0; i < l->n; i++)
		printf("%s%s", i ? ", " : "", l->v[i]);
	putchar('\n');
}

/* One set of [secrets] rules, in words. */
static void print_secrets(const struct policy_secrets *s, const char *label)
{
	print_list(label, &s->allow, "none");
	print_list("  except", &s->deny, "nothing");
	print_list("  tagged", &s->require_tags, "any tags");
	printf("  %-18s%s; %s; %s; %s\n", "  can", s->allow_list ? "list" : "not list (empty list)",
	       s->allow_versions ? "read versions" : "latest version only",
	       s->hide_disabled ? "disabled hidden" : "disabled listed",
	       s->serve_expired ? "served outside nbf/exp" : "not served outside nbf/exp");
}

/* The identity, described without a network call. */
static void print_identity(const struct policy *p, int *warnings)
{
	struct http_options o = {policy_vault(p)->ca_file, policy_vault(p)->timeout_ms};
	struct identity *id = NULL;
	struct http *h = NULL;
	char err[256] = "";

	if (http_new(&o, &h) != HTTP_OK) {
		printf("  %-18s(could not be checked: no HTTP handle)\n", "identity");
		return;
	}
	if (identity_new(p, h, &id, err, sizeof(err)) == IDENTITY_OK) {
		printf("  %-18s%s\n", "identity", identity_describe(id));
	} else {
		printf("  %-18s%s\n", "identity", "NOT USABLE");
		printf("warning: [identity]: %s\n", err);
		(*warnings)++;
	}
	identity_free(id);
	http_free(h);
}

/* The policy in words: what a browser and a caller can do. */
static int describe(const struct policy *p)
{
	const struct policy_gateway *gw = policy_gateway(p);
	const struct policy_vault *v = policy_vault(p);
	const struct policy_cors *c = policy_cors(p);
	const struct policy_secrets *s = policy_secrets(p), *o;
	const char *origin;
	int warnings = 0;

	printf("%s: policy OK\n\n", policy_path(p));
	printf("  %-18s%s%s (public origin: %s)\n", "API", gw->public_url, gw->base_path,
	       gw->public_url[0] ? gw->public_url : "taken from each request");
	printf("  %-18s%s, api-version %s, %ld ms per attempt, %ld retries, %ld ms per "
	       "request\n",
	       "vault", v->url, v->api_version, v->timeout_ms, v->max_retries, v->deadline_ms);
	printf("  %-18s%s\n", "trusted CAs", v->ca_file[0] ? v->ca_file : "the system's");
	print_identity(p, &warnings);
	print_list("CORS origins", &c->allowed_origins, "none: only the gateway's own origin");
	printf("  %-18s%s\n", "credentials",
	       c->allow_credentials ? "allowed (cookies, auth)" : "no");
	print_list("methods", &c->allowed_methods, "none");
	print_list("request headers", &c->allowed_headers, "none beyond the CORS-safelisted");
	print_list("exposed headers", &c->expose_headers, "none beyond the CORS-safelisted");
	printf("  %-18s%ld s\n", "preflight cache", c->max_age);
	printf("  %-18s%s\n", "private network",
	       c->allow_private_network ? "answered (Access-Control-Allow-Private-Network)"
	                                : "not answered");
	printf("  %-18s%s\n", "other origins",
	       c->terminate_unmatched ? "refused with 403"
	                              : "served without CORS headers (browsers cannot read)");
	print_secrets(s, "secrets shown");
	for (size_t i = 0; (o = policy_origin_secrets(p, i, &origin)) != NULL; i++) {
		printf("  %-18s%s\n", "for Origin", origin);
		print_secrets(o, "  secrets shown");
	}
	printf("  %-18s%s\n", "secret ids",
	       s->expose_vault_url ? "at the vault's host (expose_vault_url)" : "at the gateway");
	{
		const struct policy_cache *pc = policy_cache(p);

		if (pc->ttl == 0)
			printf("  %-18soff\n", "cache");
		else
			printf("  %-18s%ld s, %s, up to %ld answers; \"not found\" %ld s; stale "
			       "while the vault fails: %ld s\n",
			       "cache", pc->ttl,
			       pc->shared ? "shared by the host's processes" : "per process",
			       pc->max_entries, pc->negative_ttl, pc->stale_if_error);
	}
	putchar('\n');

	/* Legal, but worth a second look. */
	if (strlist_contains(&s->allow, "*") && s->deny.n == 0) {
		printf("warning: [secrets] allow = * with no deny: every secret in the vault is "
		       "readable by anyone who can reach the gateway (CORS is not "
		       "authentication)\n");
		warnings++;
	}
	if (c->any_origin) {
		printf("warning: [cors] allowed_origins = *: any web page can read what the "
		       "gateway exposes\n");
		warnings++;
	}
	for (size_t i = 0; i < c->allowed_origins.n; i++) {
		if (strchr(c->allowed_origins.v[i], '*') != NULL &&
		    cors_pattern_broad(c->allowed_origins.v[i])) {
			printf(
			    "warning: [cors] allowed_origins: %s matches nearly everything (anyone "
			    "can host a page there)\n",
			    c->allowed_origins.v[i]);
			warnings++;
		}
	}
	if (strncmp(v->url, "http://", 7) == 0) {
		printf("warning: [vault] url is plain http:// (allowed to loopback only): fine "
		       "for a local stand-in, never for a real vault\n");
		warnings++;
	}
	if (v->deadline_ms < v->timeout_ms) {
		printf("warning: [vault] deadline_ms (%ld) is below timeout_ms (%ld): a single "
		       "slow attempt already uses up the request\n",
		       v->deadline_ms, v->timeout_ms);
		warnings++;
	}
	if (policy_cache(p)->ttl == 0) {
		printf("warning: [cache] ttl = 0: every read goes to the vault, which allows "
		       "4,000 reads per 10 s\n");
		warnings++;
	}
	if (warnings == 0)
		printf("no warnings\n");
	return warnings;
}

int main(int argc, char **argv)
{
	struct strlist errors = {NULL, 0};
	struct policy *p = NULL;
	const char *path;
	int status;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: kvgate-check [FILE]   (default: $KVGATE_CONFIG)\n");
		return 2;
	}
	log_init("kvgate-check");
	log_set_level(LOG_LEVEL_WARN); /* the description says what info lines would */
	path = argc == 2 ? argv[1] : getenv("KVGATE_CONFIG");
	if (policy_load(path, &p, &errors) != 0) {
		for (size_t i = 0; i < errors.n; i++)
			printf("%s\n", errors.v[i]);
		printf("%zu problem%s: the programs will refuse to start\n", errors.n,
		       errors.n == 1 ? "" : "s");
		status = 1;
	} else {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		describe(p);
		curl_global_cleanup();
		status = 0;
	}
	policy_free(p);
	strlist_free(&errors);
	return status;
}
