/*
 * kvgate-check: validate a policy INI the way `nginx -t` or `apachectl
 * configtest` do, before a web server loads it.
 *
 *   kvgate-check [FILE]        (FILE defaults to $KVGATE_CONFIG)
 *
 * Prints every problem (file, section, key), or the effective policy in
 * words followed by warnings about legal but risky choices. Exits 0 when the
 * policy loads (warnings or not) and libcurl can be loaded, 1 when not, 2 on
 * bad usage. It makes no network call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "callers.h"
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

/* [callers], the grants, [limits] and [audit], in words. */
static void print_callers(const struct policy *p)
{
	const struct policy_callers *pc = policy_callers(p);
	const struct policy_grant *g;

	if (!policy_callers_on(p)) {
		printf("  %-18s%s\n", "callers",
		       "not authenticated: [secrets] decides for everyone");
	} else {
		print_list("callers", &pc->mode, "");
		for (size_t i = 0; i < pc->nmodes; i++) {
			switch (pc->modes[i]) {
			case CALLERS_NONE:
				printf("  %-18sanonymous callers accepted\n", "  none");
				break;
			case CALLERS_WEB_SERVER:
				printf("  %-18sREMOTE_USER from the web server's login\n",
				       "  web_server");
				break;
			case CALLERS_API_KEY:
				printf("  %-18sheader %s, keys in %s\n", "  api_key",
				       pc->api_key_header, pc->api_keys_file);
				break;
			case CALLERS_JWT:
				printf("  %-18skeys from %s, clock skew %ld s\n", "  jwt",
				       pc->jwt_jwks_file[0] ? pc->jwt_jwks_file
				                            : pc->jwt_openid_config,
				       pc->jwt_clock_skew);
				print_list("    issuers", &pc->jwt_issuer, "");
				print_list("    audiences", &pc->jwt_audience, "");
				print_list("    scopes (any)", &pc->jwt_required_scopes,
				           "not required");
				print_list("    roles (any)", &pc->jwt_required_roles,
				           "not required");
				break;
			}
		}
		for (size_t i = 0; (g = policy_grant(p, i)) != NULL; i++) {
			printf("  %-18s%s\n", "grant", g->name);
			print_list("  to", &g->who, "nobody");
			print_list("  names", &g->allow, "none");
			print_list("  except", &g->deny, "nothing");
		}
	}
	if (policy_limits(p)->requests_per_minute > 0)
		printf(
		    "  %-18s%ld requests a minute per caller (anonymous: per address), per host\n",
		    "limit", policy_limits(p)->requests_per_minute);
	else
		printf("  %-18snone\n", "limit");
	printf("  %-18s%s\n", "audit log",
	       policy_audit(p)->enabled ? "one JSON line per request on stderr" : "off");
}

/* Warnings about [callers]: grants, headers a cross-origin SPA must be let
 * send, files of secrets others can read. */
static int warn_callers(const struct policy *p)
{
	const struct policy_callers *pc = policy_callers(p);
	const char *files[][2] = {
	    {"[callers] api_keys_file", pc->api_keys_file},
	    {"[identity] client_secret_file", policy_identity(p)->client_secret_file},
	    {"[identity] client_certificate_file", policy_identity(p)->client_certificate_file},
	    {"[gateway] paging_key_file", policy_gateway(p)->paging_key_file},
	};
	char why[512];
	int warnings = 0;

	if (policy_callers_on(p) && policy_grant(p, 0) == NULL) {
		printf("warning: [callers] mode is set but there is no [grant NAME] section: no "
		       "caller can see any secret\n");
		warnings++;
	}
	/* A cross-origin SPA's preflight must be allowed the header the
	 * credential travels in. */
	for (size_t i = 0; i < pc->nmodes; i++) {
		const char *h;

		if (callers_header_allowed(p, pc->modes[i], &h))
			continue;
		printf("warning: [cors] allowed_headers lacks %s: browsers on the allowed origins "
		       "cannot send the %s credential (their preflight is refused)\n",
		       h, callers_mode_name(pc->modes[i]));
		warnings++;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (callers_file_exposed(files[i][1], why, sizeof(why))) {
			printf("warning: %s: %s\n", files[i][0], why);
			warnings++;
		}
	}
	return warnings;
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
	print_callers(p);
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
	warnings += warn_callers(p);
	if (strlist_contains(&s->allow, "*") && s->deny.n == 0 && !policy_callers_on(p)) {
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
		struct callers *c = NULL;
		char err[512];

		/* The key files are read as the programs will (no network call). */
		if (callers_new(p, &c, err, sizeof(err)) != 0) {
			printf("%s: %s\n1 problem: the programs will refuse to start\n",
			       policy_path(p), err);
			policy_free(p);
			return 1;
		}
		callers_free(c);
		/* The programs load libcurl (and with it libcrypto) on their
		 * first vault call (lib/lazy/): make sure it can be, now. */
		if (strncmp(curl_version(), "libcurl/", 8) != 0) {
			printf(
			    "libcurl (libcurl.so.4) cannot be loaded: the programs could not call "
			    "the vault (install Debian's libcurl4)\n1 problem: the programs would "
			    "answer every vault call with 502\n");
			policy_free(p);
			return 1;
		}
		curl_global_init(CURL_GLOBAL_DEFAULT);
		describe(p);
		curl_global_cleanup();
		status = 0;
	}
	policy_free(p);
	strlist_free(&errors);
	return status;
}
