/*
 * identity.c: the gateway's Entra ID identity and its Key Vault token. See
 * identity.h.
 *
 * identity_new() resolves [identity] method (auto picks the first method
 * whose credential is present) and checks what can be checked without a
 * call. Each method has a function that forms its token request
 * (identity_form_*); identity_token() sends it through the shared http
 * handle, parses the answer and caches the token. Methods still to come
 * (client certificate, workload identity, managed identity) add a form
 * function and a case in the switches below; managed identity will also
 * need its own answer parser (expires_on instead of expires_in).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "jsonparse.h"
#include "identity.h"

/* What Key Vault tokens are requested for. */
#define IDENTITY_SCOPE "https://vault.azure.net/.default"
/* Caps on what we send and keep. Entra ID client secrets are about 40
 * characters and access tokens a few KB. */
#define IDENTITY_SECRET_MAX 1024
#define IDENTITY_ID_MAX 256
#define IDENTITY_URL_MAX 1024
#define IDENTITY_FORM_MAX (16 * 1024)
#define IDENTITY_TOKEN_MAX (16 * 1024)
/* expires_in beyond this is not a token Entra ID would issue. */
#define IDENTITY_EXPIRES_MAX (2 * 86400L)
/* A token answer is a flat object. */
#define IDENTITY_JSON_DEPTH 8
/* Cap on the OAuth error code quoted in details. */
#define IDENTITY_CODE_MAX 48

struct identity {
	struct http *http;           /* borrowed, outlives the identity */
	enum identity_method method; /* resolved: never IDENTITY_AUTO */
	char *tenant_id;
	char *client_id;
	char *authority;   /* authority_host, no trailing '/' */
	char *token_url;   /* {authority_host}/{tenant}/oauth2/v2.0/token */
	char *secret;      /* client secret; wiped on free */
	char *token;       /* the cached access token, NULL when none */
	time_t refresh_at; /* the cached token is not used from this time on */
	time_t (*now)(void);
	unsigned long requests;
};

/* One token request as a method forms it; body is wiped after the call. */
struct identity_request {
	const char *method; /* "POST" or "GET" */
	const char *url;    /* borrowed from the identity */
	const char *headers[4];
	struct buf body;
};

/* The default clock: wall time, as expires_in is counted from now. */
static time_t identity_clock(void)
{
	return time(NULL);
}

/* A short English description of e, for logs. Static storage. */
const char *identity_strerror(enum identity_err e)
{
	switch (e) {
	case IDENTITY_OK:
		return "no error";
	case IDENTITY_ENOMEM:
		return "out of memory";
	case IDENTITY_ECONFIG:
		return "no usable credential";
	case IDENTITY_EREJECTED:
		return "the token endpoint refused the credential";
	case IDENTITY_EUNAVAILABLE:
		return "the token endpoint is unavailable";
	case IDENTITY_ETIMEOUT:
		return "the token endpoint did not answer in time";
	case IDENTITY_EPROTO:
		return "the token endpoint's answer is not a token response";
	}
	return "unknown identity error";
}

/* The [identity] method value naming m. */
static const char *identity_method_name(enum identity_method m)
{
	switch (m) {
	case IDENTITY_AUTO:
		return "auto";
	case IDENTITY_CLIENT_SECRET:
		return "client_secret";
	case IDENTITY_CLIENT_CERTIFICATE:
		return "client_certificate";
	case IDENTITY_WORKLOAD_IDENTITY:
		return "workload_identity";
	case IDENTITY_MANAGED_IDENTITY:
		return "managed_identity";
	}
	return "unknown";
}

/* The resolved method's INI name ("client_secret"), for the start-up log
 * line; never auto. Static storage. */
const char *identity_describe(const struct identity *id)
{
	return identity_method_name(id->method);
}

/* printf into errbuf, when there is one. */
__attribute__((format(printf, 3, 4))) static void identity_say(char *errbuf, size_t errlen,
                                                               const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Whether s is a tenant id Entra ID accepts in a token URL path: a GUID or a
 * domain name (contoso.onmicrosoft.com), so letters, digits, '.' and '-',
 * 1 to IDENTITY_ID_MAX characters. Anything else could change the path.
 */
static bool identity_tenant_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IDENTITY_ID_MAX || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

/* Whether s is a client id: an application GUID in practice; letters,
 * digits, '.', '_' and '-', 1 to IDENTITY_ID_MAX characters. */
static bool identity_client_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= IDENTITY_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* The INI value when set, else the environment variable (NULL when neither
 * is set or both are empty). The INI wins. */
static const char *identity_setting(const char *ini, const char *env)
{
	const char *v;

	if (ini != NULL && ini[0] != '\0')
		return ini;
	v = getenv(env);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The client secret: client_secret_file's contents, else AZURE_CLIENT_SECRET;
 * NULL when neither is there. *from names the source for messages. */
static const char *identity_find_secret(const struct policy_identity *pi, const char **from)
{
	const char *v;

	if (pi->client_secret_file != NULL && pi->client_secret_file[0] != '\0') {
		*from = "client_secret_file";
		return pi->client_secret != NULL ? pi->client_secret : "";
	}
	*from = "AZURE_CLIENT_SECRET";
	v = getenv("AZURE_CLIENT_SECRET");
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * Set up client credentials with a client secret: tenant and client id (INI
 * first, then AZURE_TENANT_ID / AZURE_CLIENT_ID), the token URL under
 * authority_host, and a copy of the secret. Returns IDENTITY_OK,
 * IDENTITY_ECONFIG with a reason in errbuf, or IDENTITY_ENOMEM.
 */
static enum identity_err identity_setup_client_secret(struct identity *id,
                                                      const struct policy_identity *pi,
                                                      char *errbuf, size_t errlen)
{
	const char *tenant, *client, *secret, *from = "", *auth = pi->authority_host;
	size_t n;

	secret = identity_find_secret(pi, &from);
	if (secret == NULL) {
		identity_say(errbuf, errlen,
		             "[identity] method = client_secret needs a secret: set "
		             "client_secret_file or AZURE_CLIENT_SECRET");
		return IDENTITY_ECONFIG;
	}
	if (secret[0] == '\0') {
		identity_say(errbuf, errlen, "[identity] client_secret_file %s is empty",
		             pi->client_secret_file);
		return IDENTITY_ECONFIG;
	}
	if (strlen(secret) > IDENTITY_SECRET_MAX) {
		identity_say(errbuf, errlen,
		             "[identity] the client secret from %s is over %d bytes", from,
		             IDENTITY_SECRET_MAX);
		return IDENTITY_ECONFIG;
	}
	if ((tenant = identity_setting(pi->tenant_id, "AZURE_TENANT_ID")) == NULL) {
		identity_say(errbuf, errlen,
		             "[identity] tenant_id is not set (nor AZURE_TENANT_ID)");
		return IDENTITY_ECONFIG;
	}
	if (!identity_tenant_valid(tenant)) {
		identity_say(errbuf, errlen,
		             "[identity] tenant_id must be a GUID or a domain name");
		return IDENTITY_ECONFIG;
	}
	if ((client = identity_setting(pi->client_id, "AZURE_CLIENT_ID")) == NULL) {
		identity_say(errbuf, errlen,
		             "[identity] client_id is not set (nor AZURE_CLIENT_ID)");
		return IDENTITY_ECONFIG;
	}
	if (!identity_client_valid(client)) {
		identity_say(errbuf, errlen, "[identity] client_id must be an application GUID");
		return IDENTITY_ECONFIG;
	}
	if (auth == NULL || !http_url_allowed(auth) || strpbrk(auth, "?#") != NULL ||
	    strlen(auth) > IDENTITY_URL_MAX / 2) {
		identity_say(errbuf, errlen,
		             "[identity] authority_host must be an https:// URL (http:// only "
		             "to loopback) without query");
		return IDENTITY_ECONFIG;
	}
	n = strlen(auth) + strlen(tenant) + sizeof("/oauth2/v2.0/token") + 1;
	if ((id->tenant_id = strdup(tenant)) == NULL || (id->client_id = strdup(client)) == NULL ||
	    (id->secret = strdup(secret)) == NULL || (id->token_url = malloc(n)) == NULL ||
	    (id->authority = strdup(auth)) == NULL)
		return IDENTITY_ENOMEM;
	snprintf(id->token_url, n, "%s/%s/oauth2/v2.0/token", auth, tenant);
	return IDENTITY_OK;
}

/*
 * Make the identity for policy p (see identity.h). The method is resolved
 * here: auto becomes the first method whose credential is present. On error
 * *out stays NULL and errbuf says what is missing, naming the INI key or
 * environment variable to set; it never quotes a secret.
 */
enum identity_err identity_new(const struct policy *p, struct http *h, struct identity **out,
                               char *errbuf, size_t errlen)
{
	const struct policy_identity *pi = policy_identity(p);
	struct identity *id;
	enum identity_err err;
	const char *from;

	*out = NULL;
	identity_say(errbuf, errlen, "%s", "");
	if ((id = calloc(1, sizeof(*id))) == NULL) {
		identity_say(errbuf, errlen, "out of memory");
		return IDENTITY_ENOMEM;
	}
	id->http = h;
	id->now = identity_clock;
	id->method = pi->method;
	if (id->method == IDENTITY_AUTO) {
		/* Later methods join here, in the order Azure's
		 * DefaultAzureCredential tries them. */
		if (identity_find_secret(pi, &from) != NULL) {
			id->method = IDENTITY_CLIENT_SECRET;
		} else {
			identity_say(errbuf, errlen,
			             "[identity] method = auto found no credential: set "
			             "client_secret_file or AZURE_CLIENT_SECRET");
			err = IDENTITY_ECONFIG;
			goto fail;
		}
	}
	switch (id->method) {
	case IDENTITY_CLIENT_SECRET:
		err = identity_setup_client_secret(id, pi, errbuf, errlen);
		break;
	case IDENTITY_AUTO:
	case IDENTITY_CLIENT_CERTIFICATE:
	case IDENTITY_WORKLOAD_IDENTITY:
	case IDENTITY_MANAGED_IDENTITY:
	default:
		identity_say(errbuf, errlen, "[identity] method = %s is not implemented yet",
		             identity_method_name(id->method));
		err = IDENTITY_ECONFIG;
		break;
	}
	if (err != IDENTITY_OK)
		goto fail;
	*out = id;
	return IDENTITY_OK;

fail:
	if (err == IDENTITY_ENOMEM)
		identity_say(errbuf, errlen, "out of memory");
	identity_free(id);
	return err;
}

/* Wipe and free a string that may hold a credential. */
static void identity_free_secret(char **s)
{
	if (*s != NULL) {
		buf_wipe(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/* Wipe and forget the cached token, so the next identity_token() fetches
 * a new one (the vault refused this one). */
void identity_invalidate(struct identity *id)
{
	identity_free_secret(&id->token);
	id->refresh_at = 0;
}

enum identity_err identity_use_tenant(struct identity *id, const char *tenant)
{
	char *url;
	size_t n;

	identity_invalidate(id);
	if (id->authority == NULL || !identity_tenant_valid(tenant))
		return IDENTITY_ECONFIG;
	if (strcmp(tenant, id->tenant_id) == 0)
		return IDENTITY_OK;
	n = strlen(id->authority) + strlen(tenant) + sizeof("/oauth2/v2.0/token") + 1;
	if ((url = malloc(n)) == NULL)
		return IDENTITY_ENOMEM;
	snprintf(url, n, "%s/%s/oauth2/v2.0/token", id->authority, tenant);
	free(id->token_url);
	id->token_url = url;
	free(id->tenant_id);
	if ((id->tenant_id = strdup(tenant)) == NULL)
		return IDENTITY_ENOMEM;
	return IDENTITY_OK;
}

/* Release the identity: token and client secret are wiped first. The http
 * handle is borrowed and stays. Accepts NULL. */
void identity_free(struct identity *id)
{
	if (id == NULL)
		return;
	identity_invalidate(id);
	identity_free_secret(&id->secret);
	free(id->authority);
	free(id->tenant_id);
	free(id->client_id);
	free(id->token_url);
	free(id);
}

/* Replace the cache's clock (tests); NULL restores time(). */
void identity_set_clock(struct identity *id, time_t (*now)(void))
{
	id->now = now != NULL ? now : identity_clock;
}

/* Token requests sent so far, failed ones included. */
unsigned long identity_requests(const struct identity *id)
{
	return id->requests;
}

/*
 * Append "key=value" to a form body (with '&' between pairs), the value
 * percent-encoded as application/x-www-form-urlencoded wants: everything but
 * ALPHA / DIGIT / "-" / "." / "_" / "~" becomes %XX, so a secret holding
 * '&', '=', '+' or '%' arrives intact.
 */
static enum buf_err identity_form_add(struct buf *b, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	enum buf_err e;
	char enc[3];

	if (b->len > 0 && (e = buf_puts(b, "&")) != BUF_OK)
		return e;
	if ((e = buf_puts(b, key)) != BUF_OK || (e = buf_puts(b, "=")) != BUF_OK)
		return e;
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			e = buf_append(b, p, 1);
		} else {
			enc[0] = '%';
			enc[1] = hex[*p >> 4];
			enc[2] = hex[*p & 15];
			e = buf_append(b, enc, 3);
		}
		if (e != BUF_OK)
			return e;
	}
	return BUF_OK;
}

/* The token request for client credentials with a client secret (OAuth 2.0
 * client credentials grant, Microsoft identity platform v2.0). */
static enum identity_err identity_form_client_secret(const struct identity *id,
                                                     struct identity_request *rq)
{
	rq->method = "POST";
	rq->url = id->token_url;
	rq->headers[0] = "Accept: application/json";
	rq->headers[1] = NULL;
	if (identity_form_add(&rq->body, "client_id", id->client_id) != BUF_OK ||
	    identity_form_add(&rq->body, "scope", IDENTITY_SCOPE) != BUF_OK ||
	    identity_form_add(&rq->body, "grant_type", "client_credentials") != BUF_OK ||
	    identity_form_add(&rq->body, "client_secret", id->secret) != BUF_OK)
		return IDENTITY_ENOMEM;
	return IDENTITY_OK;
}

/* Form the token request for the identity's method. */
static enum identity_err identity_form(const struct identity *id, struct identity_request *rq)
{
	switch (id->method) {
	case IDENTITY_CLIENT_SECRET:
		return identity_form_client_secret(id, rq);
	case IDENTITY_AUTO:
	case IDENTITY_CLIENT_CERTIFICATE:
	case IDENTITY_WORKLOAD_IDENTITY:
	case IDENTITY_MANAGED_IDENTITY:
		break;
	}
	return IDENTITY_ECONFIG;
}

/* Whether t looks like an access token: 1..IDENTITY_TOKEN_MAX visible ASCII
 * characters (a JWT is base64url and dots). It goes into an HTTP header, so
 * no space or control character may pass. */
static bool identity_token_valid(const char *t, size_t n)
{
	if (n == 0 || n > IDENTITY_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return false;
	return true;
}

/* expires_in as a number of seconds in 1..IDENTITY_EXPIRES_MAX (a JSON
 * integer, or a string of digits as some endpoints send), else -1. */
static long identity_expires_in(struct json_object *v)
{
	const char *s;
	int64_t n;

	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (s[0] == '\0' || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
			return -1;
		n = strtol(s, NULL, 10);
	} else {
		return -1;
	}
	return n >= 1 && n <= IDENTITY_EXPIRES_MAX ? (long)n : -1;
}

/*
 * Take the token from a 200 answer: token_type Bearer, access_token and
 * expires_in as checked above. The token is used until IDENTITY_REFRESH_MARGIN
 * before it expires, counted from `asked` (when the request was sent), or
 * until half its life for tokens shorter than twice the margin.
 */
static enum identity_err identity_take_token(struct identity *id, const struct buf *body,
                                             time_t asked, char *detail, size_t dlen)
{
	struct json_object *j, *v;
	enum identity_err err = IDENTITY_EPROTO;
	const char *t;
	long life, margin;

	if ((j = jsonparse_strict(body, IDENTITY_JSON_DEPTH)) == NULL ||
	    !json_object_is_type(j, json_type_object)) {
		identity_say(detail, dlen, "HTTP 200 with no JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(j, "token_type", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcasecmp(json_object_get_string(v), "Bearer") != 0) {
		identity_say(detail, dlen, "token_type is not Bearer");
		goto out;
	}
	if (!json_object_object_get_ex(j, "access_token", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !identity_token_valid(json_object_get_string(v),
	                          (size_t)json_object_get_string_len(v))) {
		identity_say(detail, dlen, "access_token missing or malformed");
		goto out;
	}
	t = json_object_get_string(v);
	if (!json_object_object_get_ex(j, "expires_in", &v) ||
	    (life = identity_expires_in(v)) < 0) {
		identity_say(detail, dlen, "expires_in missing or out of range");
		goto out;
	}
	if ((id->token = strdup(t)) == NULL) {
		identity_say(detail, dlen, "out of memory");
		err = IDENTITY_ENOMEM;
		goto out;
	}
	margin = life > 2 * IDENTITY_REFRESH_MARGIN ? IDENTITY_REFRESH_MARGIN : life / 2;
	id->refresh_at = asked + (time_t)(life - margin);
	err = IDENTITY_OK;
out:
	json_object_put(j);
	return err;
}

/*
 * Map a non-200 answer. An OAuth error answer ({"error", "error_codes"})
 * with a 4xx status is a refusal; 408, 429 and 5xx mean try later; anything
 * else is not what a token endpoint says. The detail quotes the status, the
 * OAuth error code and the first AADSTS code, never error_description.
 */
static enum identity_err identity_map_status(const struct http_response *r, char *detail,
                                             size_t dlen)
{
	struct json_object *j = jsonparse_strict(&r->body, IDENTITY_JSON_DEPTH), *v;
	char code[IDENTITY_CODE_MAX + 1] = "", aadsts[32] = "";
	enum identity_err err;
	const char *s;
	size_t i, n;

	if (j != NULL && json_object_is_type(j, json_type_object)) {
		if (json_object_object_get_ex(j, "error", &v) &&
		    json_object_is_type(v, json_type_string)) {
			s = json_object_get_string(v);
			for (i = n = 0; s[i] != '\0' && n < IDENTITY_CODE_MAX; i++)
				if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				           "0123456789_.-",
				           s[i]) != NULL)
					code[n++] = s[i];
			code[n] = '\0';
			if (n == 0)
				strcpy(code, "error");
		}
		if (json_object_object_get_ex(j, "error_codes", &v) &&
		    json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0 &&
		    json_object_is_type(json_object_array_get_idx(v, 0), json_type_int))
			snprintf(aadsts, sizeof(aadsts), " AADSTS%lld",
			         (long long)json_object_get_int64(json_object_array_get_idx(v, 0)));
	}
	if (r->status == 408 || r->status == 429 || (r->status >= 500 && r->status <= 599))
		err = IDENTITY_EUNAVAILABLE;
	else if (r->status >= 400 && r->status <= 499 && code[0] != '\0')
		err = IDENTITY_EREJECTED;
	else
		err = IDENTITY_EPROTO;
	if (err == IDENTITY_EPROTO && code[0] == '\0')
		identity_say(detail, dlen, "HTTP %ld without an OAuth error", r->status);
	else
		identity_say(detail, dlen, "HTTP %ld%s%s%s", r->status, code[0] ? " " : "", code,
		             aadsts);
	json_object_put(j);
	return err;
}

/* Map a transport failure of the token request. */
static enum identity_err identity_map_http(enum http_err e)
{
	switch (e) {
	case HTTP_OK:
		return IDENTITY_OK;
	case HTTP_ENOMEM:
		return IDENTITY_ENOMEM;
	case HTTP_ETIMEOUT:
		return IDENTITY_ETIMEOUT;
	case HTTP_ETOOBIG:
		return IDENTITY_EPROTO;
	case HTTP_EURL:
		return IDENTITY_ECONFIG;
	case HTTP_ECONNECT:
	case HTTP_ETLS:
	case HTTP_ETRANSPORT:
		break;
	}
	return IDENTITY_EUNAVAILABLE;
}

/*
 * Send the method's token request and cache the token it yields. The
 * request body (it holds the client secret) and the response (it holds the
 * token) are wiped before returning.
 */
static enum identity_err identity_fetch(struct identity *id, char *detail, size_t dlen)
{
	struct identity_request rq = {0};
	struct http_response resp = {0};
	enum identity_err err;
	enum http_err herr;
	time_t asked;

	buf_init(&rq.body, IDENTITY_FORM_MAX);
	if ((err = identity_form(id, &rq)) != IDENTITY_OK) {
		identity_say(detail, dlen, "could not form the token request");
		goto out;
	}
	asked = id->now();
	id->requests++;
	herr = http_request(id->http, rq.method, rq.url, rq.headers, rq.body.data,
	                    IDENTITY_RESPONSE_MAX, &resp);
	buf_free(&rq.body);
	if (herr != HTTP_OK) {
		err = identity_map_http(herr);
		identity_say(detail, dlen, "token endpoint: %s (%s)", http_strerror(herr),
		             http_last_error(id->http));
	} else if (resp.status == 200) {
		err = identity_take_token(id, &resp.body, asked, detail, dlen);
	} else {
		err = identity_map_status(&resp, detail, dlen);
	}
out:
	buf_free(&rq.body);
	http_response_free(&resp);
	return err;
}

/*
 * A valid access token (see identity.h): the cached one while the clock is
 * before its refresh time, else a new one from the token endpoint.
 */
enum identity_err identity_token(struct identity *id, const char **token, char *detail,
                                 size_t detail_len)
{
	enum identity_err err;

	*token = NULL;
	identity_say(detail, detail_len, "%s", "");
	if (id->token != NULL && id->now() < id->refresh_at) {
		*token = id->token;
		return IDENTITY_OK;
	}
	identity_invalidate(id);
	if ((err = identity_fetch(id, detail, detail_len)) != IDENTITY_OK)
		return err;
	*token = id->token;
	return IDENTITY_OK;
}
