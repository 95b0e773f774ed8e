/*
 * gateway.c: the FastCGI loop and the checks every route shares. See
 * gateway.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <limits.h>

#include "ascii.h"
#include "buf.h"
#include "cors.h"
#include "fetch.h"
#include "gateway.h"
#include "jsonparse.h"
#include "identity.h"
#include "log.h"
#include "mono.h"

extern char **environ;

/* Key material read for the paging key: a certificate file is a few KB. */
#define GATEWAY_MATERIAL_MAX (64 * 1024)

/* A response on the wire: headers plus at most one body. */
#define GATEWAY_OUT_MAX (RESPONSE_BODY_MAX + 16 * 1024)

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t busy; /* a request is being answered */

/*
 * SIGTERM (how mod_fcgid and lighttpd retire a process, and what the kernel
 * sends when the web server itself dies: PR_SET_PDEATHSIG) ends the program
 * cleanly. A request under way is finished first: the flag ends the loop
 * after it. Between requests there is nothing to finish, and waiting for a
 * blocked accept() to notice the flag would race with it, so the program
 * exits at once.
 */
static char stop_line[128]; /* the log line, formatted ahead: write(2) is signal-safe */
static size_t stop_len;

/* The cache in use, left on the way out so that the last process of a
 * host wipes and removes the shared segment. */
static struct cache *volatile current_cache;
/* The same for the rate limiter's counters. */
static struct ratelimit *volatile current_limits;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
	if (!busy) {
		cache_leave(current_cache);
		ratelimit_leave(current_limits);
		if (stop_len > 0)
			(void)!write(STDERR_FILENO, stop_line, stop_len);
		_exit(0);
	}
}

static int install_signals(const char *progname)
{
	struct sigaction sa;
	int n;

	/* The same line log_info() would write (log.c's format). */
	n = snprintf(stop_line, sizeof(stop_line), "kvgate[%s %ld]: info: stopping on SIGTERM\n",
	             progname, (long)getpid());
	stop_len =
	    n > 0 && (size_t)n < sizeof(stop_line) && log_enabled(LOG_LEVEL_INFO) ? (size_t)n : 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

/*
 * The request's parameters, indexed once by name length: a request looks up
 * some twenty of them, and FCGX_GetParam() compares the name with every
 * parameter each time. Reset by handle() for each request (the next
 * request's array may well be at the same address).
 */
#define PARAM_INDEX_MAX 96
static struct {
	FCGX_ParamArray envp;
	size_t n;
	bool all; /* every parameter is in e[] */
	struct {
		size_t len;
		const char *name, *value;
	} e[PARAM_INDEX_MAX];
} params;

static void params_index(FCGX_ParamArray envp)
{
	const char *eq;
	size_t i;

	params.envp = envp;
	params.n = 0;
	params.all = true;
	for (i = 0; envp[i] != NULL; i++) {
		if ((eq = strchr(envp[i], '=')) == NULL)
			continue;
		if (params.n == PARAM_INDEX_MAX) {
			params.all = false;
			break;
		}
		params.e[params.n].len = (size_t)(eq - envp[i]);
		params.e[params.n].name = envp[i];
		params.e[params.n].value = eq + 1;
		params.n++;
	}
}

/* A CGI parameter, or NULL when absent. An empty Origin or
 * Access-Control-Request-Method counts as absent, as in the Fetch standard. */
static const char *param(FCGX_ParamArray envp, const char *name)
{
	size_t len = strlen(name);
	const char *v = NULL;

	if (params.envp != envp)
		params_index(envp);
	for (size_t i = 0; i < params.n; i++) {
		if (params.e[i].len == len && memcmp(params.e[i].name, name, len) == 0) {
			v = params.e[i].value;
			break;
		}
	}
	if (v == NULL && !params.all)
		v = FCGX_GetParam(name, envp);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The last request's host and the origin it made: a host's requests nearly
 * all come in on the same name and port, and this runs for every request. */
static struct {
	bool valid, tls, ok;
	char name[CORS_ORIGIN_MAX + 1], port[8], origin[CORS_ORIGIN_MAX + 1];
} last_host;

/*
 * The gateway's own origin: [gateway] public_url, or else the scheme, host
 * and port this request came in on (HTTPS, SERVER_NAME, SERVER_PORT), with a
 * default port left out, as browsers serialize origins. Returns 0, or -1
 * when the request's host does not make a valid origin.
 */
static int self_origin(const struct policy *p, FCGX_ParamArray envp, char *out, size_t len)
{
	const char *pub = policy_gateway(p)->public_url;
	const char *https = param(envp, "HTTPS"), *name = param(envp, "SERVER_NAME");
	const char *port = param(envp, "SERVER_PORT");
	bool tls = https != NULL && strcasecmp(https, "off") != 0;
	bool v6;

	if (pub[0] != '\0') {
		snprintf(out, len, "%s", pub);
		return 0;
	}
	if (name == NULL)
		return -1;
	if (port == NULL)
		port = "";
	if (last_host.valid && last_host.tls == tls && strcmp(last_host.name, name) == 0 &&
	    strcmp(last_host.port, port) == 0 && strlen(last_host.origin) < len) {
		strcpy(out, last_host.origin);
		return last_host.ok ? 0 : -1;
	}
	v6 = strchr(name, ':') != NULL && name[0] != '[';
	if (port[0] != '\0' && strcmp(port, tls ? "443" : "80") != 0)
		snprintf(out, len, "%s://%s%s%s:%s", tls ? "https" : "http", v6 ? "[" : "", name,
		         v6 ? "]" : "", port);
	else
		snprintf(out, len, "%s://%s%s%s", tls ? "https" : "http", v6 ? "[" : "", name,
		         v6 ? "]" : "");
	ascii_lower_n(out, len);
	last_host.ok = cors_origin_valid(out);
	last_host.valid = strlen(name) < sizeof(last_host.name) &&
	                  strlen(port) < sizeof(last_host.port) &&
	                  strlen(out) < sizeof(last_host.origin);
	if (last_host.valid) {
		last_host.tls = tls;
		strcpy(last_host.name, name);
		strcpy(last_host.port, port);
		strcpy(last_host.origin, out);
	}
	return last_host.ok ? 0 : -1;
}

/*
 * What the browser gets for each upstream failure: the status and code
 * design.md promises, and an innererror code naming what went wrong, so an
 * SPA (and an operator reading its bug report) can tell a token problem
 * from a slow vault. Messages are kvgate's own, never the vault's.
 */
static const struct gateway_upstream {
	enum kv_err err;
	int status;
	const char *code, *inner, *message;
} gateway_upstream[] = {
    {KV_EUNAUTHORIZED, 502, "BadGateway", "VaultRejectedToken",
     "The vault refused the gateway's token, even a fresh one."},
    {KV_EFORBIDDEN, 502, "BadGateway", "VaultForbidden",
     "The gateway's identity may not read this from the vault."},
    {KV_ECHALLENGE, 502, "BadGateway", "ChallengeRejected",
     "The vault asked for a token the gateway will not send."},
    {KV_EIDENTITY, 502, "BadGateway", "IdentityUnavailable",
     "The gateway could not get a token for the vault."},
    {KV_EIDREJECTED, 502, "BadGateway", "IdentityRejected",
     "The identity endpoint refused the gateway's credential."},
    {KV_EPROTO, 502, "BadGateway", "VaultMalformedAnswer",
     "The vault gave an answer that is not what was expected."},
    {KV_ETOOBIG, 502, "BadGateway", "VaultAnswerTooLarge", "The vault's answer is too large."},
    {KV_ENEXTLINK, 502, "BadGateway", "ForeignNextLink",
     "The vault's next page does not point at the vault."},
    {KV_EDROPPED, 502, "BadGateway", "VaultConnectionLost",
     "The connection to the vault dropped before its answer was complete."},
    {KV_EBADREQUEST, 502, "BadGateway", "VaultRefusedRequest",
     "The vault refused the gateway's request."},
    {KV_EUPSTREAM, 502, "BadGateway", "VaultFailed", "The vault failed to answer."},
    {KV_EUNAVAILABLE, 503, "ServiceUnavailable", "VaultUnreachable",
     "The vault cannot be reached; retry later."},
    {KV_ETHROTTLED, 503, "ServiceUnavailable", "VaultThrottled",
     "The vault is throttling requests; retry later."},
    {KV_ETIMEOUT, 504, "GatewayTimeout", "VaultTimeout", "The vault did not answer in time."},
    {KV_EDEADLINE, 504, "GatewayTimeout", "DeadlineExceeded",
     "The vault did not answer within the gateway's deadline."},
};

void gateway_kv_error(struct response *r, const struct kv_error *e, const char *name)
{
	const struct gateway_upstream *u = NULL;
	char msg[256], secs[24];
	long retry;

	switch (e->err) {
	case KV_ENOTFOUND:
	case KV_EDISABLED:
		/* Missing and disabled read the same, as a denied name does:
		 * the message is kvgate's own, never the vault's. */
		snprintf(msg, sizeof(msg),
		         "A secret with (name/id) %s was not found in this key vault.", name);
		response_error(r, 404, "SecretNotFound", msg);
		return;
	case KV_ENOMEM:
		response_error(r, 500, "InternalError", "The gateway ran out of memory.");
		log_error("vault call failed: out of memory");
		return;
	default:
		break;
	}
	for (size_t i = 0; i < sizeof(gateway_upstream) / sizeof(gateway_upstream[0]); i++)
		if (gateway_upstream[i].err == e->err)
			u = &gateway_upstream[i];
	if (u == NULL) {
		response_error_inner(r, 502, "BadGateway", "VaultFailed",
		                     "The vault gave an unexpected answer.");
	} else {
		if (u->status == 503) {
			/* The vault's own wait when it gave one, else a guess
			 * long enough for throttling to ease. */
			retry = e->retry_after > 0 ? e->retry_after
			                           : (e->err == KV_ETHROTTLED ? 10 : 5);
			snprintf(secs, sizeof(secs), "%ld", retry);
			response_header(r, "Retry-After", secs);
		}
		response_error_inner(r, u->status, u->code, u->inner, u->message);
	}
	log_error("vault call failed: %s: %s (HTTP %ld%s%s%s%s): %s",
	          u != NULL ? u->inner : "VaultFailed", kv_strerror(e->err), e->status,
	          e->code[0] ? " " : "", e->code, e->inner[0] ? "/" : "", e->inner, e->message);
}

void gateway_deny(struct gateway *g, struct response *r, const char *name)
{
	struct kv_error e = {.err = KV_ENOTFOUND, .retry_after = -1};

	g->audit.decision = "deny";
	gateway_kv_error(r, &e, name);
}

/* The answer to OPTIONS, from any program: a CORS preflight when it carries
 * Origin and Access-Control-Request-Method, else the methods the API
 * allows. */
static void answer_options(const struct policy *p, const struct gateway_request *req,
                           struct response *r)
{
	const struct policy_cors *c = policy_cors(p);
	enum cors_verdict v;

	if (req->origin != NULL && req->acrm != NULL) {
		v = cors_preflight_pna(c, req->origin, req->self_origin, req->acrm, req->acrh,
		                       req->acrpn, r);
		if (v == CORS_ALLOWED) {
			response_empty(r, 204);
			return;
		}
		log_warn("preflight refused: %s (origin %s, method %s)", cors_strverdict(v),
		         req->origin, req->acrm);
		/* terminate_unmatched = false: an empty 204 without
		 * Access-Control-*, which the browser refuses all the same. */
		if (!cors_refuse(c, v)) {
			response_empty(r, 204);
			return;
		}
		response_error(
		    r, 403, "Forbidden",
		    v == CORS_ORIGIN_DENIED
		        ? "The origin is not allowed."
		        : "The preflight asks for a method or header that is not allowed.");
		return;
	}
	v = cors_actual(c, req->origin, req->self_origin, r);
	if (cors_refuse(c, v)) {
		log_warn("request refused: origin %s not allowed", req->origin);
		response_error(r, 403, "Forbidden", "The origin is not allowed.");
		return;
	}
	response_header(r, "Allow", "GET, HEAD, OPTIONS");
	response_empty(r, 204);
}

/* ---- the vault's answers through the cache ---------------------------- */

/* The key of a list page: what selects it (the vault's nextLink, or the
 * first page's size). */
static void page_key(int maxresults, const char *next, char *b, size_t n)
{
	if (next != NULL)
		snprintf(b, n, "%s", next);
	else
		snprintf(b, n, "first maxresults=%d", maxresults);
}

static enum kv_err fetch(struct gateway *g, enum cache_kind kind, const char *name,
                         const char *version, int maxresults, const char *next,
                         struct json_object **out, struct kv_error *e)
{
	long t0 = mono_ms();
	enum kv_err rc;

	if (kind == CACHE_SECRET)
		rc = kv_get_secret(g->kv, name, version, out, e);
	else
		rc = kv_list(g->kv, name, maxresults, next, out, e);
	g->audit.upstream_ms += mono_ms() - t0;
	return rc;
}

/* Remember a fetch's outcome for the lease res holds. */
static void settle(struct cache_result *res, enum kv_err rc, struct json_object *obj,
                   const struct kv_error *e)
{
	const char *s;
	size_t n;

	if (rc == KV_OK) {
		s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &n);
		if (s != NULL)
			cache_fill(res, s, n);
		jsonparse_wipe_text(s, n); /* json-c keeps it in obj otherwise */
	} else if (rc == KV_ENOTFOUND || rc == KV_EDISABLED) {
		cache_fill_negative(res);
	} else {
		cache_fail(res, e);
	}
}

/* One log line per process per 10 s while answers are served stale. */
static void log_stale(const char *what, long past_s, const struct kv_error *e)
{
	static long last_ms = -100000, quiet;
	long now = mono_ms();

	if (now - last_ms < 10000) {
		quiet++;
		return;
	}
	log_warn("served %s from the cache %ld s past its ttl (stale_if_error): the vault "
	         "failed: %s%s%s (%ld more stale answers since the last such line)",
	         what, past_s, kv_strerror(e->err), e->message[0] ? ": " : "", e->message, quiet);
	last_ms = now;
	quiet = 0;
}

/* "kvgate; hit; ttl=N[; collapsed]" into out: every cache hit's
 * Cache-Status, so no printf. */
static void hit_status(char *out, size_t len, long ttl_s, bool collapsed)
{
	static const char head[] = "kvgate; hit; ttl=", tail[] = "; collapsed";
	size_t at = sizeof(head) - 1;

	if (len < sizeof(head) + ASCII_DECIMAL_MAX + sizeof(tail)) {
		snprintf(out, len, "%s%ld%s", head, ttl_s > 0 ? ttl_s : 0, collapsed ? tail : "");
		return;
	}
	memcpy(out, head, at);
	at += ascii_decimal(ttl_s > 0 ? (unsigned long)ttl_s : 0, out + at);
	if (collapsed) {
		memcpy(out + at, tail, sizeof(tail) - 1);
		at += sizeof(tail) - 1;
	}
	out[at] = '\0';
}

static enum kv_err cached(struct gateway *g, enum cache_kind kind, const char *name,
                          const char *version, int maxresults, const char *next, uint64_t known,
                          uint64_t *gen, struct json_object **out, struct kv_error *e)
{
	const struct policy_cache *pc = policy_cache(g->policy);
	char b[KV_NEXTLINK_MAX + 32], what[ROUTE_NAME_MAX + 32];
	const char *bk = b; /* the key's second part */
	struct cache_result res;
	struct json_object *obj = NULL;
	enum kv_err rc;
	long ttl_ms = pc->ttl * 1000;

	*out = NULL;
	*gen = 0;
	if (kind == CACHE_SECRET)
		bk = version ? version : "";
	else
		page_key(maxresults, next, b, sizeof(b));
	cache_lookup_known(g->cache, kind, name ? name : "", bk,
	                   mono_ms() + policy_vault(g->policy)->deadline_ms, known, &res);
	switch (res.state) {
	case CACHE_HIT:
		/* The caller's own copy of this very answer (res.same) needs
		 * no parsing. */
		if (!res.same && (obj = jsonparse_text(res.data, res.len)) == NULL) {
			/* Cannot happen (it was serialized here): go upstream. */
			cache_done(&res);
			return fetch(g, kind, name, version, maxresults, next, out, e);
		}
		hit_status(g->cache_status, sizeof(g->cache_status), (ttl_ms - res.age_ms) / 1000,
		           res.collapsed);
		if (res.refresh && g->can_defer && !g->refresh.due) {
			/* Refreshed once this answer is written (gateway_after). */
			struct gateway_refresh *f = &g->refresh;

			f->kind = kind;
			snprintf(f->name, sizeof(f->name), "%s", name ? name : "");
			snprintf(f->version, sizeof(f->version), "%s", version ? version : "");
			f->maxresults = maxresults;
			f->next = next ? strdup(next) : NULL;
			if (next == NULL || f->next != NULL) {
				f->res = res; /* the lease moves; the data is freed below */
				f->res.data = NULL;
				f->res.len = 0;
				f->due = true;
				res.lease = 0;
			}
		}
		*gen = res.gen;
		cache_done(&res);
		*out = obj;
		return KV_OK;
	case CACHE_NEGATIVE:
		cache_done(&res);
		memset(e, 0, sizeof(*e));
		e->err = KV_ENOTFOUND;
		e->status = 404;
		e->retry_after = -1;
		snprintf(g->cache_status, sizeof(g->cache_status), "kvgate; hit; detail=negative");
		return KV_ENOTFOUND;
	case CACHE_FAILED:
		*e = res.error;
		rc = e->err;
		break;
	case CACHE_FETCH:
		rc = fetch(g, kind, name, version, maxresults, next, &obj, e);
		settle(&res, rc, obj, e);
		if (rc == KV_OK) {
			snprintf(g->cache_status, sizeof(g->cache_status), "kvgate; fwd=%s; stored",
			         res.data != NULL ? "stale" : "miss");
			cache_done(&res);
			*out = obj;
			return KV_OK;
		}
		break;
	case CACHE_OFF:
	default:
		cache_done(&res);
		rc = fetch(g, kind, name, version, maxresults, next, out, e);
		if (rc == KV_OK)
			snprintf(g->cache_status, sizeof(g->cache_status), "kvgate; fwd=%s",
			         pc->ttl > 0 ? "miss" : "bypass");
		return rc;
	}
	/* The fetch failed (here, or in the process waited for): an answer
	 * within stale_if_error serves when the vault is the one failing. */
	if (res.data != NULL && rc != KV_OK && cache_stale_ok(e) &&
	    (obj = jsonparse_text(res.data, res.len)) != NULL) {
		snprintf(g->cache_status, sizeof(g->cache_status),
		         "kvgate; hit; ttl=-%ld; fwd=stale; detail=stale-if-error",
		         (res.age_ms - ttl_ms + 999) / 1000);
		if (kind == CACHE_SECRET)
			snprintf(what, sizeof(what), "secret %s", name);
		else
			snprintf(what, sizeof(what), "a list page%s%s", name ? " of " : "",
			         name ? name : "");
		log_stale(what, (res.age_ms - ttl_ms) / 1000, e);
		cache_done(&res);
		*out = obj;
		return KV_OK;
	}
	cache_done(&res);
	return rc;
}

enum kv_err gateway_get_secret(struct gateway *g, const char *name, const char *version,
                               struct json_object **out, struct kv_error *e)
{
	uint64_t gen;

	return cached(g, CACHE_SECRET, name, version, 0, NULL, 0, &gen, out, e);
}

enum kv_err gateway_get_secret_known(struct gateway *g, const char *name, const char *version,
                                     uint64_t known, struct json_object **out, uint64_t *gen,
                                     struct kv_error *e)
{
	return cached(g, CACHE_SECRET, name, version, 0, NULL, known, gen, out, e);
}

enum kv_err gateway_list(struct gateway *g, const char *name, int maxresults, const char *next,
                         struct json_object **out, struct kv_error *e)
{
	uint64_t gen;

	return cached(g, CACHE_PAGE, name, NULL, maxresults, next, 0, &gen, out, e);
}

/* After the answer is written: the refresh ahead a request took, if any. */
static void gateway_after(struct gateway *g)
{
	struct gateway_refresh *f = &g->refresh;
	struct json_object *obj = NULL;
	struct kv_error e = {.err = KV_OK, .retry_after = -1};
	enum kv_err rc;

	if (!f->due)
		return;
	rc = fetch(g, f->kind, f->name[0] ? f->name : NULL, f->version, f->maxresults, f->next,
	           &obj, &e);
	settle(&f->res, rc, obj, &e);
	if (rc != KV_OK && rc != KV_ENOTFOUND && rc != KV_EDISABLED)
		log_warn("refreshing a cached answer ahead of its expiry failed: %s",
		         kv_strerror(rc));
	jsonparse_put_wiped(obj);
	cache_done(&f->res);
	free(f->next);
	memset(f, 0, sizeof(*f));
}

/*
 * A 401 in Key Vault's envelope, with its challenge. RFC 6750: a Bearer
 * challenge, with error="invalid_token" when
 * a token was sent and refused; with api_key among the modes, a challenge
 * naming the header the key goes in (no standard scheme exists for it).
 */
static void unauthorized(struct gateway *g, enum callers_result cr, struct response *r)
{
	const struct policy_callers *pc = policy_callers(g->policy);
	const struct caller *c = &g->caller;
	char challenge[256];
	const char *inner, *msg;
	size_t n;

	n = (size_t)snprintf(challenge, sizeof(challenge), "Bearer realm=\"kvgate\"%s",
	                     cr == CALLERS_INVALID && c->bearer ? ", error=\"invalid_token\"" : "");
	for (size_t i = 0; i < pc->nmodes && n < sizeof(challenge); i++)
		if (pc->modes[i] == CALLERS_API_KEY)
			n += (size_t)snprintf(challenge + n, sizeof(challenge) - n,
			                      ", ApiKey realm=\"kvgate\", header=\"%s\"",
			                      pc->api_key_header);
	response_header(r, "WWW-Authenticate", challenge);
	if (cr == CALLERS_MISSING) {
		inner = "MissingCredential";
		msg = "The request carries no credential the gateway accepts.";
	} else if (c->bearer && (c->jwt_error == JWT_EEXPIRED)) {
		inner = "TokenExpired";
		msg = "The access token has expired.";
	} else if (c->bearer) {
		inner = "InvalidToken";
		msg = "The access token is not valid for this gateway.";
	} else if (c->key) {
		inner = "InvalidApiKey";
		msg = "The API key is not valid.";
	} else {
		inner = "InvalidCredential";
		msg = "The credential is not valid.";
	}
	response_error_inner(r, 401, "Unauthorized", inner, msg);
}

/*
 * Who is asking, before the cache and any upstream call: the caller
 * (callers.h), then [limits] for that caller (or for the client address,
 * when it is anonymous or has no valid credential, so that guessing keys
 * is limited too), then what the caller may see. Returns false when r is
 * the answer (401, 429, 502).
 */
static bool authenticate(struct gateway *g, FCGX_ParamArray envp, struct gateway_request *req,
                         struct response *r)
{
	struct callers_request creq;
	enum callers_result cr;
	char keyparam[160], limkey[CALLERS_ID_MAX + 80], secs[24], msg[128];
	long retry = 0;

	memset(&creq, 0, sizeof(creq));
	if (g->callers != NULL) {
		callers_key_param(policy_callers(g->policy)->api_key_header, keyparam,
		                  sizeof(keyparam));
		creq.remote_user = param(envp, "REMOTE_USER");
		creq.authorization = param(envp, "HTTP_AUTHORIZATION");
		creq.api_key = param(envp, keyparam);
	}
	cr = callers_authenticate(g->callers, &creq, &g->caller);
	g->authenticated = true;
	if (policy_limits(g->policy)->requests_per_minute <= 0)
		limkey[0] = '\0'; /* no limits: no key to make */
	else if (cr == CALLERS_OK && !g->caller.anonymous)
		snprintf(limkey, sizeof(limkey), "%s", g->caller.id);
	else
		snprintf(limkey, sizeof(limkey), "addr:%s",
		         req->remote_addr ? req->remote_addr : "");
	if (limkey[0] != '\0' && !ratelimit_take(g->limits, limkey, &retry)) {
		snprintf(secs, sizeof(secs), "%ld", retry);
		response_header(r, "Retry-After", secs);
		snprintf(msg, sizeof(msg),
		         "Too many requests: at most %ld a minute; retry in %ld s.",
		         policy_limits(g->policy)->requests_per_minute, retry);
		response_error(r, 429, "Throttled", msg);
		return false;
	}
	switch (cr) {
	case CALLERS_OK:
		break;
	case CALLERS_MISSING:
	case CALLERS_INVALID:
		log_info("caller refused: %s (%s %s)", g->caller.detail, req->method, req->uri);
		unauthorized(g, cr, r);
		return false;
	case CALLERS_UNAVAILABLE:
		log_error("caller not checked: %s", g->caller.detail);
		response_error_inner(r, 502, "BadGateway", "IssuerKeysUnavailable",
		                     "The gateway cannot get the keys to check access tokens.");
		return false;
	}
	exposure_for(g->policy, req->origin, &g->caller, &g->rules);
	req->caller = &g->caller;
	req->secrets = &g->rules.s;
	return true;
}

/* Whether the request carries a body: a Content-Length other than 0, or a
 * Transfer-Encoding (web servers that pass a chunked body on may leave
 * CONTENT_LENGTH unset). */
static bool has_body(FCGX_ParamArray envp)
{
	const char *cl = param(envp, "CONTENT_LENGTH"); /* NULL when empty */

	return (cl != NULL && strspn(cl, "0") != strlen(cl)) ||
	       param(envp, "HTTP_TRANSFER_ENCODING") != NULL;
}

/* One request: the checks all routes share, then the program's handler. */
static void serve(struct gateway *g, FCGX_ParamArray envp, unsigned kinds, gateway_handler handler,
                  struct response *r, bool *head)
{
	struct gateway_request req;
	char origin[CORS_ORIGIN_MAX + 1], msg[256];
	enum route_err re;

	memset(&req, 0, sizeof(req));
	req.method = param(envp, "REQUEST_METHOD");
	req.uri = param(envp, "REQUEST_URI");
	req.origin = param(envp, "HTTP_ORIGIN");
	req.acrm = param(envp, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
	req.acrh = param(envp, "HTTP_ACCESS_CONTROL_REQUEST_HEADERS");
	req.acrpn = param(envp, "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK");
	req.remote_addr = param(envp, "REMOTE_ADDR");
	if (req.method == NULL || req.uri == NULL) {
		response_error(r, 400, "BadParameter", "The request has no method or URI.");
		return;
	}
	req.head = *head = strcmp(req.method, "HEAD") == 0;
	/* No route takes a body: one (announced by Content-Length or sent
	 * chunked) is refused, never silently ignored. Other methods get their
	 * 405 below. */
	if ((req.head || strcmp(req.method, "GET") == 0 || strcmp(req.method, "OPTIONS") == 0) &&
	    has_body(envp)) {
		response_error(r, 400, "BadParameter", "The request must not have a body.");
		return;
	}
	if (self_origin(g->policy, envp, origin, sizeof(origin)) != 0) {
		response_error(r, 400, "BadParameter", "The request's host is not valid.");
		return;
	}
	req.self_origin = origin;

	if (strcmp(req.method, "OPTIONS") == 0) {
		if (!route_under_base(req.uri, policy_gateway(g->policy)->base_path)) {
			response_error(r, 400, "BadParameter",
			               "The request path is not under the API.");
			return;
		}
		answer_options(g->policy, &req, r);
		return;
	}
	/* A disallowed origin is refused before anything else, with no
	 * Access-Control-* header, so a browser cannot read even the error;
	 * with terminate_unmatched = false it is served without them. */
	if (cors_refuse(policy_cors(g->policy),
	                cors_actual(policy_cors(g->policy), req.origin, req.self_origin, r))) {
		log_warn("request refused: origin %s not allowed (%s %s)", req.origin, req.method,
		         req.uri);
		response_error(r, 403, "Forbidden", "The origin is not allowed.");
		return;
	}
	if ((strcmp(req.method, "GET") != 0 && !req.head) || kinds == 0) {
		response_header(r, "Allow", kinds ? "GET, HEAD, OPTIONS" : "OPTIONS");
		response_error(r, 405, "MethodNotAllowed", "The method is not allowed.");
		return;
	}
	if (!authenticate(g, envp, &req, r))
		return;
	re = route_parse(req.uri, policy_gateway(g->policy)->base_path, &req.route, msg,
	                 sizeof(msg));
	if (re != ROUTE_OK) {
		log_info("bad request: %s (%s)", route_strerror(re), req.uri);
		response_error(r, 400, "BadParameter", msg);
		return;
	}
	/* For the audit line. */
	g->audit.routed = true;
	g->audit.kind = req.route.kind;
	memcpy(g->audit.name, req.route.name, sizeof(g->audit.name));
	memcpy(g->audit.version, req.route.version, sizeof(g->audit.version));
	if ((kinds & (1u << req.route.kind)) == 0) {
		log_error(
		    "request for %s reached the wrong program: check the web server's routing",
		    req.uri);
		response_error(r, 400, "BadParameter", "The route is not served here.");
		return;
	}
	handler(g, &req, r);
}

/* Format the response and write it to the FastCGI stream (out) or, in
 * plain CGI mode, to stdout. */
static void emit(struct response *r, bool head, FCGX_Stream *out)
{
	struct buf b;

	buf_init(&b, GATEWAY_OUT_MAX);
	if (response_format(r, head, &b) != 0) {
		buf_reset(&b);
		response_error(r, 500, "InternalError", "The response could not be formed.");
		response_format(r, head, &b);
	}
	if (out != NULL) {
		FCGX_PutStr(b.data, (int)b.len, out);
	} else {
		fwrite(b.data, 1, b.len, stdout);
		fflush(stdout);
	}
	buf_free(&b);
}

/*
 * Headers an SPA must be able to read on a cross-origin answer, on top of
 * [cors] expose_headers: the request id (to quote in a bug report), the
 * 401 challenge (to know to sign in again), Retry-After (429, 503).
 * Added only where the CORS headers are, never to a preflight's answer
 * (browsers read it from the actual answer), and never twice.
 */
static void expose(struct gateway *g, struct response *r, bool preflight)
{
	static const char *const always[] = {"x-ms-request-id", "Retry-After"};
	const char *have = response_get_header(r, "Access-Control-Expose-Headers");
	char list[1024];
	size_t n;

	if (response_get_header(r, "Access-Control-Allow-Origin") == NULL || preflight)
		return;
	n = (size_t)snprintf(list, sizeof(list), "%s", have ? have : "");
	for (size_t i = 0; i < 3 && n < sizeof(list); i++) {
		const char *h = i < 2 ? always[i] : "WWW-Authenticate";
		struct strlist l = {NULL, 0};
		bool there;

		if (i == 2 && !policy_callers_on(g->policy))
			continue;
		if (strlist_parse(list, &l) != 0)
			return;
		there = strlist_contains_ci(&l, h);
		strlist_free(&l);
		if (!there)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", h);
	}
	if (n < sizeof(list))
		response_header(r, "Access-Control-Expose-Headers", list);
}

/* The audit line of one answered request (audit.h). */
static void audit(struct gateway *g, FCGX_ParamArray envp, const struct response *r, long started)
{
	struct audit_record a;
	const char *method = param(envp, "REQUEST_METHOD"), *route = NULL;
	const char *name = "", *version = "";
	struct route rt;
	char msg[64];

	if (!policy_audit(g->policy)->enabled)
		return;
	/* An allowed preflight reads nothing and is the most frequent request
	 * of all: audited only when asked for. A refused one always is. */
	if (r->status == 204 && method != NULL && strcmp(method, "OPTIONS") == 0 &&
	    !policy_audit(g->policy)->preflights)
		return;
	memset(&a, 0, sizeof(a));
	if (method != NULL && strcmp(method, "OPTIONS") == 0) {
		route = "options";
	} else if (g->audit.routed) {
		route = g->audit.kind == ROUTE_GET    ? "get"
		        : g->audit.kind == ROUTE_LIST ? "list"
		                                      : "versions";
		name = g->audit.name;
		version = g->audit.version;
	} else if (param(envp, "REQUEST_URI") != NULL &&
	           route_parse(param(envp, "REQUEST_URI"), policy_gateway(g->policy)->base_path,
	                       &rt, msg, sizeof(msg)) == ROUTE_OK) {
		/* Refused before its route was parsed (a 401, say). */
		route = rt.kind == ROUTE_GET ? "get" : rt.kind == ROUTE_LIST ? "list" : "versions";
		name = rt.name;
		version = rt.version;
	}
	a.request_id = g->audit.request_id;
	a.program = g->progname;
	a.method = method;
	a.route = route;
	a.secret = name[0] ? name : NULL;
	a.version = version[0] ? version : NULL;
	if (g->authenticated) {
		a.caller = g->caller.id[0] ? g->caller.id : NULL;
		a.caller_name = g->caller.name[0] ? g->caller.name : NULL;
		a.auth = g->caller.id[0] && g->callers != NULL ? callers_mode_name(g->caller.mode)
		                                               : NULL;
		a.reason = g->caller.detail[0] ? g->caller.detail : NULL;
	}
	a.grants = policy_callers_on(g->policy) && g->authenticated && g->caller.id[0]
	               ? (long)exposure_grants(&g->rules.s)
	               : -1;
	a.client = param(envp, "REMOTE_ADDR");
	a.origin = param(envp, "HTTP_ORIGIN");
	a.status = r->status;
	if (g->audit.decision != NULL)
		a.decision = g->audit.decision;
	else if (r->status == 200)
		a.decision = "allow";
	else if (r->status == 204)
		a.decision = route && strcmp(route, "options") == 0 ? "preflight" : "allow";
	else if (r->status == 401)
		a.decision = "unauthenticated";
	else if (r->status == 403)
		a.decision = "forbidden_origin";
	else if (r->status == 404)
		a.decision = "not_found";
	else if (r->status == 429)
		a.decision = "rate_limited";
	else if (r->status < 500)
		a.decision = "bad_request";
	else
		a.decision = "error";
	a.cache = r->status == 200 || r->status == 404 ? audit_cache(g->cache_status) : NULL;
	a.upstream_ms = g->audit.upstream_ms;
	a.duration_ms = mono_ms() - started;
	a.items = g->audit.items;
	a.client_request_id = param(envp, "HTTP_X_MS_CLIENT_REQUEST_ID");
	audit_write(&a);
}

static void handle(struct gateway *g, FCGX_ParamArray envp, FCGX_Stream *out, unsigned kinds,
                   gateway_handler handler)
{
	struct response r;
	bool head = false;
	long started = mono_ms();
	const char *method;

	params.envp = NULL;
	response_init(&r);
	g->cache_status[0] = '\0';
	g->can_defer = out != NULL;
	memset(&g->audit, 0, sizeof(g->audit));
	g->audit.items = -1;
	audit_request_id(g->audit.request_id);
	memset(&g->caller, 0, sizeof(g->caller));
	g->authenticated = false;
	serve(g, envp, kinds, handler, &r, &head);
	/* Only a 200 says how the cache served it: a 404 must look the same
	 * whether the secret is missing, denied or remembered missing. */
	if (r.status == 200 && g->cache_status[0] != '\0')
		response_header(&r, "Cache-Status", g->cache_status);
	/* Key Vault's own name for the id of a request: SDKs log it. */
	response_header(&r, "x-ms-request-id", g->audit.request_id);
	method = param(envp, "REQUEST_METHOD");
	expose(g, &r, method != NULL && strcmp(method, "OPTIONS") == 0);
	emit(&r, head, out);
	audit(g, envp, &r, started);
	callers_release(&g->caller);
	response_free(&r);
	params.envp = NULL;
}

static void gateway_close(struct gateway *g);

/*
 * Key material the processes of one deployment share, for the paging key:
 * the client secret, else the client certificate file (its private key is
 * as secret and as shared). Returns a new string to wipe and free, or NULL
 * (the key is then random per process).
 */
static char *paging_material(const struct policy *p)
{
	const struct policy_identity *pi = policy_identity(p);
	const char *s = pi->client_secret, *file = pi->client_certificate_file;
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *f;

	if (s == NULL || s[0] == '\0')
		s = getenv("AZURE_CLIENT_SECRET");
	if (s != NULL && s[0] != '\0')
		return strdup(s);
	if (file[0] == '\0')
		file = getenv("AZURE_CLIENT_CERTIFICATE_PATH");
	if (file == NULL || file[0] == '\0' || (f = fopen(file, "re")) == NULL)
		return NULL;
	buf_init(&b, GATEWAY_MATERIAL_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) != BUF_OK)
			break;
	buf_wipe(chunk, sizeof(chunk));
	fclose(f);
	if (b.len == 0 || strlen(b.data) != b.len) {
		buf_free(&b);
		return NULL;
	}
	return b.data; /* the caller wipes and frees it */
}

/*
 * The cache for policy p. Processes share one when they read the same vault
 * (and API version) as the same identity: answers depend on nothing else
 * before the policy filters them.
 */
static struct cache *open_cache(const struct policy *p)
{
	const struct policy_cache *pc = policy_cache(p);
	const struct policy_identity *pi = policy_identity(p);
	struct cache_config cfg;
	char scope[1024];

	snprintf(scope, sizeof(scope), "%s\n%s\n%d\n%s\n%s\n%s", policy_vault(p)->url,
	         policy_vault(p)->api_version, (int)pi->method, pi->authority_host, pi->tenant_id,
	         pi->client_id);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ttl = pc->ttl;
	cfg.negative_ttl = pc->negative_ttl;
	cfg.stale_if_error = pc->stale_if_error;
	cfg.max_entries = pc->max_entries;
	cfg.shared = pc->shared;
	cfg.scope = scope;
	return cache_open(&cfg);
}

/* The identity's hooks onto the cache's shared tokens (identity_share). */
static int share_get(void *ctx, const char *key, long deadline_ms, char **token, time_t *refresh_at,
                     time_t *valid_until)
{
	long r = 0, v = 0;

	switch (cache_token_get(ctx, key, (long)time(NULL), deadline_ms, token, &r, &v)) {
	case CACHE_TOKEN_FOUND:
		*refresh_at = (time_t)r;
		*valid_until = (time_t)v;
		return 1;
	case CACHE_TOKEN_FETCH:
		return 0;
	default:
		return -1;
	}
}

static void share_put(void *ctx, const char *key, const char *token, time_t refresh_at,
                      time_t valid_until)
{
	cache_token_put(ctx, key, token, (long)refresh_at, (long)valid_until);
}

static void share_release(void *ctx, const char *key)
{
	cache_token_release(ctx, key);
}

static void share_drop(void *ctx, const char *key, const char *token)
{
	cache_token_drop(ctx, key, token);
}

/* A warning for each file of secrets that others than the gateway's user
 * can read (callers_file_exposed(); api_keys_file is callers_new()'s), and
 * for each credential header a cross-origin preflight would refuse. */
static void warn_exposed_files(const struct policy *p)
{
	const char *files[][2] = {
	    {"[identity] client_secret_file", policy_identity(p)->client_secret_file},
	    {"[identity] client_certificate_file", policy_identity(p)->client_certificate_file},
	    {"[gateway] paging_key_file", policy_gateway(p)->paging_key_file},
	};
	const struct policy_callers *pc = policy_callers(p);
	const char *h;
	char why[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (callers_file_exposed(files[i][1], why, sizeof(why)))
			log_warn("%s: %s", files[i][0], why);
	for (size_t i = 0; i < pc->nmodes; i++)
		if (!callers_header_allowed(p, pc->modes[i], &h))
			log_warn("[cors] allowed_headers lacks %s: browsers on the allowed origins "
			         "cannot send the %s credential",
			         h, callers_mode_name(pc->modes[i]));
}

/*
 * Load the policy at path and make everything that depends on it: the Key
 * Vault client, the paging key and the cache (for programs that call the
 * vault, or when checking). On failure every problem is logged, nothing is
 * kept, and -1 is returned; g is untouched.
 */
/*
 * Route this process's upstream calls through kvgate-fetch (lib/fetch.h),
 * unless [vault] fetcher is off or the helper is not next to the program:
 * then the process makes them itself, loading libcurl on the first.
 */
static void use_fetcher(const struct policy *p)
{
	char exe[PATH_MAX];

	if (!policy_vault(p)->fetcher) {
		fetch_configure(NULL, NULL);
		return;
	}
	if (fetch_default_exe(exe, sizeof(exe)) != 0 || access(exe, X_OK) != 0) {
		log_warn("kvgate-fetch is not installed next to this program: upstream calls are "
		         "made in this process");
		fetch_configure(NULL, NULL);
		return;
	}
	fetch_configure(exe, policy_path(p));
}

static int gateway_open(struct gateway *g, const char *path, unsigned flags, bool check)
{
	struct strlist errors = {NULL, 0};
	struct gateway n;
	struct policy *p = NULL;
	char err[256], *material;
	int rc = -1;

	memset(&n, 0, sizeof(n));
	if (policy_load(path, &p, &errors) != 0) {
		for (size_t i = 0; i < errors.n; i++)
			log_error("%s", errors.v[i]);
		log_error("the policy has %zu problem%s", errors.n, errors.n == 1 ? "" : "s");
		goto out;
	}
	n.policy = p;
	if ((flags & GATEWAY_VAULT) || check) {
		if (kv_client_new(p, &n.kv, err, sizeof(err)) != KV_OK) {
			log_error("%s: %s", policy_path(p), err);
			goto out;
		}
		material = paging_material(p);
		rc = pagetoken_key_init(p, material, &n.paging, err, sizeof(err));
		if (material != NULL) {
			buf_wipe(material, strlen(material));
			free(material);
		}
		if (rc != 0) {
			log_error("%s: %s", policy_path(p), err);
			rc = -1;
			goto out;
		}
		rc = -1;
		if (!check && (n.cache = open_cache(p)) == NULL) {
			log_error("out of memory");
			goto out;
		}
		if (callers_new(p, &n.callers, err, sizeof(err)) != 0) {
			log_error("%s: %s", policy_path(p), err);
			goto out;
		}
		if (!check && (n.limits = ratelimit_open(policy_limits(p)->requests_per_minute,
		                                         policy_path(p), true)) == NULL) {
			log_error("out of memory");
			goto out;
		}
		if (!check)
			warn_exposed_files(p);
		if (cache_is_shared(n.cache)) {
			struct identity_share share = {.ctx = n.cache,
			                               .get = share_get,
			                               .put = share_put,
			                               .release = share_release,
			                               .drop = share_drop};

			kv_share_tokens(n.kv, &share);
		}
		if (n.paging.ephemeral && !check)
			log_warn("no [gateway] paging_key_file, client secret or certificate: a "
			         "nextLink works only in the process that issued it");
	}
	if (!check)
		use_fetcher(p);
	*g = n;
	memset(&n, 0, sizeof(n));
	rc = 0;
out:
	gateway_close(&n);
	strlist_free(&errors);
	return rc;
}

/* Release what gateway_open() made. Accepts a zeroed gateway. */
static void gateway_close(struct gateway *g)
{
	if (g->refresh.due) {
		cache_done(&g->refresh.res);
		free(g->refresh.next);
	}
	cache_close(g->cache);
	callers_free(g->callers);
	ratelimit_close(g->limits);
	kv_client_free(g->kv);
	pagetoken_key_free(&g->paging);
	policy_free((struct policy *)g->policy);
	memset(g, 0, sizeof(*g));
}

/* What the policy file looked like when it was last loaded. */
struct watch {
	const char *path;
	struct stat st;
	struct timespec checked; /* CLOCK_MONOTONIC of the last stat() */
};

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Hot reload: at most once a second (one stat(2), before a request), see
 * whether the policy file changed; if so, load it whole and swap it in. A
 * file that changes while it is being read is not used (it is looked at
 * again a second later), and a broken edit keeps the last good policy
 * serving, with every problem logged. Editors and ConfigMaps that write a
 * new file and rename it into place are safe by construction.
 */
static void maybe_reload(struct gateway *g, struct watch *w, unsigned flags)
{
	struct stat before, after;
	struct timespec now;
	struct gateway n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - w->checked.tv_sec < 1 ||
	    (now.tv_sec - w->checked.tv_sec == 1 && now.tv_nsec < w->checked.tv_nsec))
		return;
	w->checked = now;
	if (stat(w->path, &before) != 0 || same_file(&before, &w->st))
		return;
	if (gateway_open(&n, w->path, flags, false) != 0) {
		log_error("%s changed but does not load: keeping the last good policy", w->path);
		w->st = before; /* do not retry this very file every second */
		return;
	}
	if (stat(w->path, &after) != 0 || !same_file(&before, &after)) {
		/* Written to while it was read: try again next time. */
		gateway_close(&n);
		return;
	}
	gateway_close(g); /* busy: no signal leaves the cache meanwhile */
	*g = n;
	current_cache = g->cache;
	current_limits = g->limits;
	w->st = after;
	log_info("policy reloaded from %s", w->path);
}

int gateway_main(int argc, char **argv, const char *progname, unsigned flags, unsigned kinds,
                 gateway_handler handler)
{
	struct gateway g;
	struct watch w;
	FCGX_Request req;
	pid_t parent;
	bool check = argc > 1 && strcmp(argv[1], "--check") == 0;
	int status = 1;

	memset(&g, 0, sizeof(g));
	memset(&w, 0, sizeof(w));
	log_init(progname);
	if (argc > 1 && !check) {
		fprintf(stderr, "usage: %s [--check]\n", progname);
		return 2;
	}
	/* Never outlive the web server: when it dies without retiring its
	 * programs first, the kernel sends SIGTERM. This is done first thing,
	 * so that the window in which a dying server could orphan a program
	 * that is still starting is as small as it can be; a parent that died
	 * before prctl() took effect shows as a changed parent pid. */
	parent = getppid();
	if (!check && prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() != parent) {
		log_info("the web server is gone: stopping");
		return 0;
	}
	/* The process holds a client secret, tokens and secret values: it
	 * never writes a core dump, and other processes of the same user
	 * cannot attach to it or read its memory. */
	{
		const struct rlimit none = {0, 0};

		(void)setrlimit(RLIMIT_CORE, &none);
		(void)prctl(PR_SET_DUMPABLE, 0);
	}
	w.path = getenv("KVGATE_CONFIG");
	/* The file's identity before loading: a change during the load is then
	 * noticed by the first reload check. */
	if (w.path != NULL && stat(w.path, &w.st) != 0)
		memset(&w.st, 0, sizeof(w.st));
	if (gateway_open(&g, w.path, flags, check) != 0) {
		log_error("refusing to start");
		goto out;
	}
	g.progname = progname;
	current_cache = g.cache;
	current_limits = g.limits;
	if (check) {
		printf("%s: policy OK\n", policy_path(g.policy));
		status = 0;
		goto out;
	}
	if (install_signals(progname) != 0 || FCGX_Init() != 0) {
		log_error("refusing to start: %s", strerror(errno));
		goto out;
	}

	if (FCGX_IsCGI()) {
		/* Plain CGI: one request, from the environment, to stdout. */
		handle(&g, environ, NULL, kinds, handler);
		status = 0;
		goto out;
	}
	if (FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &w.checked);
	log_info("ready (policy %s)", policy_path(g.policy));
	while (!stopping && FCGX_Accept_r(&req) >= 0) {
		busy = 1;
		maybe_reload(&g, &w, flags);
		handle(&g, req.envp, req.out, kinds, handler);
		FCGX_Finish_r(&req);
		gateway_after(&g);
		busy = 0;
	}
	FCGX_Free(&req, 1);
	if (stopping)
		log_info("stopping on SIGTERM");
	status = 0;
out:
	/* libcurl's global state, set up by the first http_new() (never in
	 * the preflight program), lives as long as the process. */
	current_cache = NULL;
	current_limits = NULL;
	gateway_close(&g);
	return status;
}
