/*
 * callers.c: caller authentication. See callers.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ascii.h"
#include "buf.h"
#include "callers.h"
#include "http.h"
#include "log.h"
#include "mono.h"
#include "sha256.h"

/* One line of api_keys_file: the key's name and the SHA-256 of the key. */
struct api_key {
	char name[CALLERS_KEY_NAME_MAX + 1];
	unsigned char hash[32];
};

struct callers {
	const struct policy_callers *pc; /* borrowed: the policy outlives this */
	const char *ca_file;
	long timeout_ms;
	struct api_key *keys;
	size_t nkeys;
	/* jwt */
	struct jwt_keyset *ks;
	bool from_file;    /* ks came from jwt_jwks_file: never refetched */
	struct http *http; /* made on the first fetch */
	bool tried;        /* a fetch was attempted */
	long last_attempt; /* ms, of the last fetch attempt */
	long last_ok;      /* ms, of the last fetch that gave keys */
	long (*now)(void);
};

const char *callers_mode_name(enum callers_mode m)
{
	switch (m) {
	case CALLERS_NONE:
		return "none";
	case CALLERS_WEB_SERVER:
		return "web_server";
	case CALLERS_API_KEY:
		return "api_key";
	case CALLERS_JWT:
		return "jwt";
	}
	return "?";
}

bool callers_file_exposed(const char *path, char *why, size_t wlen)
{
	struct stat st;

	if (path == NULL || path[0] == '\0' || stat(path, &st) != 0)
		return false;
	if (st.st_mode & S_IROTH) {
		snprintf(why, wlen, "%s is readable by every user (mode %04o): chmod o-r", path,
		         (unsigned)(st.st_mode & 07777));
		return true;
	}
	if ((st.st_mode & S_IRGRP) && st.st_uid == geteuid()) {
		snprintf(why, wlen,
		         "%s is readable by its group (mode %04o) and owned by the gateway's user: "
		         "chmod g-r, or own it by root with the gateway's group",
		         path, (unsigned)(st.st_mode & 07777));
		return true;
	}
	return false;
}

bool callers_header_allowed(const struct policy *p, enum callers_mode m, const char **header)
{
	const struct policy_cors *c = policy_cors(p);

	*header = m == CALLERS_JWT       ? "Authorization"
	          : m == CALLERS_API_KEY ? policy_callers(p)->api_key_header
	                                 : NULL;
	if (*header == NULL || c->allowed_origins.n == 0)
		return true;
	return strlist_contains_ci(&c->allowed_headers, *header) ||
	       (m == CALLERS_API_KEY && c->any_header);
}

/* Read the regular file at path, at most max bytes, into a new
 * NUL-terminated buffer (*len bytes). Returns NULL with err filled. */
static char *slurp(const char *key, const char *path, size_t max, size_t *len, char *err,
                   size_t elen)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, elen, "[callers] %s: cannot read %s: %s", key, path, strerror(errno));
		return NULL;
	}
	buf_init(&b, max);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) != BUF_OK) {
			snprintf(err, elen, "[callers] %s: %s is larger than %zu bytes", key, path,
			         max);
			n = -2;
			break;
		}
	}
	buf_wipe(chunk, sizeof(chunk));
	close(fd);
	if (n < 0) {
		if (n == -1)
			snprintf(err, elen, "[callers] %s: cannot read %s: %s", key, path,
			         strerror(errno));
		buf_free(&b);
		return NULL;
	}
	if (b.data == NULL && buf_append(&b, "", 0) != BUF_OK) {
		snprintf(err, elen, "out of memory");
		return NULL;
	}
	*len = b.len;
	return b.data;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A key's name: 1-64 of A-Z a-z 0-9 _ . - (it is logged and matched by
 * grants' key: items). */
static bool key_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > CALLERS_KEY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/*
 * Parse api_keys_file: lines "NAME SHA256-HEX" (64 hex digits, the
 * SHA-256 of the key itself), blank lines and '#' comments. Names and
 * hashes are each unique. Returns 0 or -1 with err filled.
 */
static int load_keys(struct callers *c, const char *path, char *err, size_t elen)
{
	char *text, *line, *save = NULL;
	size_t len;
	int lineno = 0, rc = -1;

	if ((text = slurp("api_keys_file", path, CALLERS_KEYS_FILE_MAX, &len, err, elen)) == NULL)
		return -1;
	if (strlen(text) != len) {
		snprintf(err, elen, "[callers] api_keys_file: %s holds a NUL byte", path);
		goto out;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *s = line, *name, *hex;
		size_t nlen, hlen;
		struct api_key k;

		lineno++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#' || *s == '\r')
			continue;
		name = s;
		nlen = strcspn(name, " \t");
		hex = name + nlen;
		while (*hex == ' ' || *hex == '\t')
			hex++;
		hlen = strcspn(hex, " \t\r");
		for (size_t i = hlen; hex[i] != '\0'; i++)
			if (hex[i] != ' ' && hex[i] != '\t' && hex[i] != '\r')
				hlen = 0; /* something after the hash */
		if (!key_name_valid(name, nlen) || hlen != 64) {
			snprintf(
			    err, elen,
			    "[callers] api_keys_file: %s line %d is not NAME SHA256-HEX (a name "
			    "of 1-64 A-Z a-z 0-9 _ . -, then the 64 hex digits of the key's "
			    "SHA-256)",
			    path, lineno);
			goto out;
		}
		memset(&k, 0, sizeof(k));
		memcpy(k.name, name, nlen);
		for (size_t i = 0; i < 32; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

			if (hi < 0 || lo < 0) {
				snprintf(
				    err, elen,
				    "[callers] api_keys_file: %s line %d: the hash is not 64 hex "
				    "digits",
				    path, lineno);
				goto out;
			}
			k.hash[i] = (unsigned char)(hi << 4 | lo);
		}
		for (size_t i = 0; i < c->nkeys; i++) {
			if (strcasecmp(c->keys[i].name, k.name) == 0 ||
			    memcmp(c->keys[i].hash, k.hash, 32) == 0) {
				snprintf(
				    err, elen,
				    "[callers] api_keys_file: %s line %d: the name or the key is "
				    "listed twice",
				    path, lineno);
				goto out;
			}
		}
		if (c->nkeys == CALLERS_KEYS_MAX) {
			snprintf(err, elen, "[callers] api_keys_file: %s has more than %d keys",
			         path, CALLERS_KEYS_MAX);
			goto out;
		}
		if (c->nkeys % 64 == 0) {
			struct api_key *n = realloc(c->keys, (c->nkeys + 64) * sizeof(*n));

			if (n == NULL) {
				snprintf(err, elen, "out of memory");
				goto out;
			}
			c->keys = n;
		}
		c->keys[c->nkeys++] = k;
	}
	if (c->nkeys == 0) {
		snprintf(err, elen, "[callers] api_keys_file: %s holds no key", path);
		goto out;
	}
	rc = 0;
out:
	buf_wipe(text, len);
	free(text);
	return rc;
}

/* The JWKS in jwt_jwks_file, parsed once at start. */
static int load_jwks_file(struct callers *c, const char *path, char *err, size_t elen)
{
	struct jwt_jwks_report rep;
	char detail[160];
	enum jwt_err je;
	size_t len;
	char *text;

	if ((text = slurp("jwt_jwks_file", path, JWT_JWKS_MAX, &len, err, elen)) == NULL)
		return -1;
	je = jwt_keyset_parse(text, len, &c->ks, &rep, detail, sizeof(detail));
	free(text);
	if (je != JWT_OK) {
		snprintf(err, elen, "[callers] jwt_jwks_file: %s: %s (%s)", path, jwt_strerror(je),
		         detail);
		return -1;
	}
	c->from_file = true;
	return 0;
}

int callers_new(const struct policy *p, struct callers **out, char *err, size_t elen)
{
	const struct policy_callers *pc = policy_callers(p);
	struct callers *c;
	char why[512];

	*out = NULL;
	if (!policy_callers_on(p))
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	c->pc = pc;
	c->ca_file = policy_vault(p)->ca_file;
	c->timeout_ms = policy_vault(p)->timeout_ms;
	c->now = mono_ms;
	if (pc->api_keys_file[0] != '\0') {
		if (load_keys(c, pc->api_keys_file, err, elen) != 0)
			goto fail;
		if (callers_file_exposed(pc->api_keys_file, why, sizeof(why)))
			log_warn("[callers] api_keys_file: %s", why);
	}
	if (pc->jwt_jwks_file[0] != '\0' && load_jwks_file(c, pc->jwt_jwks_file, err, elen) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	callers_free(c);
	return -1;
}

void callers_free(struct callers *c)
{
	if (c == NULL)
		return;
	if (c->keys != NULL) {
		buf_wipe(c->keys, c->nkeys * sizeof(*c->keys));
		free(c->keys);
	}
	jwt_keyset_free(c->ks);
	http_free(c->http);
	free(c);
}

void callers_set_clock(struct callers *c, long (*now_ms)(void))
{
	c->now = now_ms ? now_ms : mono_ms;
}

void callers_key_param(const char *h, char *out, size_t len)
{
	size_t i = 0;

	snprintf(out, len, "HTTP_");
	for (i = 5; *h != '\0' && i + 1 < len; h++, i++)
		out[i] = *h == '-' ? '_' : (*h >= 'a' && *h <= 'z') ? (char)(*h - 'a' + 'A') : *h;
	out[i] = '\0';
}

/* ---- the issuer's keys ---------------------------------------------- */

/* GET url into resp (cap max). Returns 0 for a 200, else -1 with why. */
static int get(struct callers *c, const char *url, size_t max, struct http_response *resp,
               char *why, size_t wlen)
{
	static const char *const headers[] = {"Accept: application/json", NULL};
	struct http_options o = {.ca_file = c->ca_file, .timeout_ms = c->timeout_ms};
	enum http_err he;

	if (c->http == NULL && (he = http_new(&o, &c->http)) != HTTP_OK) {
		snprintf(why, wlen, "%s", http_strerror(he));
		return -1;
	}
	memset(resp, 0, sizeof(*resp));
	he = http_request(c->http, "GET", url, headers, NULL, max, resp);
	if (he != HTTP_OK) {
		snprintf(why, wlen, "%s: %s %s", url, http_strerror(he), http_last_error(c->http));
		return -1;
	}
	if (resp->status != 200) {
		snprintf(why, wlen, "%s answered %ld", url, resp->status);
		return -1;
	}
	return 0;
}

/*
 * Fetch the issuer's keys: its OpenID metadata (jwt_openid_config), then
 * the JWKS at the metadata's jwks_uri, which must be https (or loopback
 * http, for a test stand-in). The new set replaces the old only when it
 * parses; a failure keeps the old one. Returns 0 or -1 (logged).
 */
static int fetch_keys(struct callers *c)
{
	struct http_response resp;
	struct json_object *meta = NULL, *uri;
	struct jwt_keyset *ks = NULL;
	struct jwt_jwks_report rep;
	char why[512], detail[160], *jwks_uri = NULL;
	enum jwt_err je;
	int rc = -1;

	c->tried = true;
	c->last_attempt = c->now();
	if (get(c, c->pc->jwt_openid_config, CALLERS_METADATA_MAX, &resp, why, sizeof(why)) != 0)
		goto out;
	meta = json_tokener_parse(resp.body.data ? resp.body.data : "");
	if (meta == NULL || !json_object_object_get_ex(meta, "jwks_uri", &uri) ||
	    !json_object_is_type(uri, json_type_string) ||
	    !http_url_allowed(json_object_get_string(uri)) ||
	    strncmp(json_object_get_string(uri), "http", 4) != 0) {
		snprintf(why, sizeof(why), "%s has no usable jwks_uri", c->pc->jwt_openid_config);
		goto out;
	}
	jwks_uri = strdup(json_object_get_string(uri));
	http_response_free(&resp);
	if (jwks_uri == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		goto out;
	}
	if (get(c, jwks_uri, JWT_JWKS_MAX, &resp, why, sizeof(why)) != 0)
		goto out;
	je = jwt_keyset_parse(resp.body.data ? resp.body.data : "", resp.body.len, &ks, &rep,
	                      detail, sizeof(detail));
	if (je != JWT_OK) {
		snprintf(why, sizeof(why), "%s: %s (%s)", jwks_uri, jwt_strerror(je), detail);
		goto out;
	}
	jwt_keyset_free(c->ks);
	c->ks = ks;
	c->last_ok = c->now();
	log_info("jwt: %zu signing key%s from %s", jwt_keyset_count(ks),
	         jwt_keyset_count(ks) == 1 ? "" : "s", jwks_uri);
	rc = 0;
out:
	if (rc != 0)
		log_warn("jwt: cannot fetch the issuer's keys: %s%s", why,
		         c->ks ? " (keeping the keys fetched before)" : "");
	http_response_free(&resp);
	json_object_put(meta);
	free(jwks_uri);
	return rc;
}

/* Whether a fetch may be made now: never tried, or the last attempt is
 * older than min_ms. */
static bool may_fetch(const struct callers *c, long min_ms)
{
	return !c->tried || c->now() - c->last_attempt >= min_ms;
}

/* Verify token into out. */
static enum callers_result verify_jwt(struct callers *c, const char *token, struct caller *out)
{
	const struct policy_callers *pc = c->pc;
	struct jwt_options o;
	struct jwt_claims *claims = NULL;
	char detail[160] = "";
	enum jwt_err je;

	if (!c->from_file) {
		bool stale = c->ks != NULL && c->now() - c->last_ok >= CALLERS_REFRESH_MS;

		if ((c->ks == NULL && may_fetch(c, CALLERS_RETRY_MS)) ||
		    (stale && may_fetch(c, CALLERS_REFETCH_MS)))
			(void)fetch_keys(c);
		if (c->ks == NULL) {
			snprintf(out->detail, sizeof(out->detail),
			         "the issuer's signing keys are not available");
			return CALLERS_UNAVAILABLE;
		}
	}
	jwt_options_init(&o);
	o.issuers = &pc->jwt_issuer;
	o.audiences = &pc->jwt_audience;
	o.required_scopes = &pc->jwt_required_scopes;
	o.required_roles = &pc->jwt_required_roles;
	o.clock_skew = pc->jwt_clock_skew;
	je = jwt_verify(c->ks, token, &o, &claims, detail, sizeof(detail));
	/* The issuer may have rolled its keys: fetch them again, at most once
	 * a minute whatever tokens arrive (anyone can make up a kid). */
	if (je == JWT_EUNKNOWN_KID && !c->from_file && may_fetch(c, CALLERS_REFETCH_MS) &&
	    fetch_keys(c) == 0)
		je = jwt_verify(c->ks, token, &o, &claims, detail, sizeof(detail));
	if (je != JWT_OK) {
		out->jwt_error = je;
		snprintf(out->detail, sizeof(out->detail), "token refused: %s%s%s",
		         jwt_strerror(je), detail[0] ? ": " : "", detail);
		return CALLERS_INVALID;
	}
	out->claims = claims;
	out->mode = CALLERS_JWT;
	snprintf(out->id, sizeof(out->id), "jwt:%s", claims->oid[0] ? claims->oid : claims->sub);
	snprintf(out->name, sizeof(out->name), "%s",
	         claims->username[0] ? claims->username : claims->appid);
	return CALLERS_OK;
}

/* Check an API key: its SHA-256 against every line, in constant time
 * (every line is compared, whatever matched). */
static enum callers_result check_key(struct callers *c, const char *key, struct caller *out)
{
	unsigned char h[SHA256_LEN];
	size_t n = strlen(key), found = (size_t)-1;

	if (n > CALLERS_API_KEY_MAX) {
		snprintf(out->detail, sizeof(out->detail), "API key longer than %d bytes",
		         CALLERS_API_KEY_MAX);
		return CALLERS_INVALID;
	}
	sha256(key, n, h);
	for (size_t i = 0; i < c->nkeys; i++)
		if (ct_equal(h, c->keys[i].hash, SHA256_LEN))
			found = i;
	buf_wipe(h, sizeof(h));
	if (found == (size_t)-1) {
		snprintf(out->detail, sizeof(out->detail), "unknown API key");
		return CALLERS_INVALID;
	}
	out->mode = CALLERS_API_KEY;
	snprintf(out->id, sizeof(out->id), "key:%s", c->keys[found].name);
	snprintf(out->name, sizeof(out->name), "%s", c->keys[found].name);
	return CALLERS_OK;
}

/* REMOTE_USER as the web server set it: 1-256 printable bytes, no
 * control characters (it is logged and compared with grants). */
static enum callers_result web_user(const char *user, struct caller *out)
{
	size_t n = strlen(user);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			n = 0;
	if (n == 0 || n > JWT_CLAIM_MAX) {
		snprintf(out->detail, sizeof(out->detail),
		         "REMOTE_USER is empty, too long or holds control characters");
		return CALLERS_INVALID;
	}
	out->mode = CALLERS_WEB_SERVER;
	snprintf(out->id, sizeof(out->id), "user:%s", user);
	snprintf(out->name, sizeof(out->name), "%s", user);
	return CALLERS_OK;
}

/* The token of "Authorization: Bearer TOKEN" (scheme in any case, RFC
 * 6750 section 2.1), or NULL when the header is absent or another scheme. */
static const char *bearer(const char *authorization)
{
	const char *t;

	if (authorization == NULL || strncasecmp(authorization, "Bearer", 6) != 0 ||
	    (authorization[6] != ' ' && authorization[6] != '\0'))
		return NULL;
	for (t = authorization + 6; *t == ' '; t++)
		;
	return t;
}

enum callers_result callers_authenticate(struct callers *c, const struct callers_request *req,
                                         struct caller *out)
{
	const char *token = bearer(req->authorization);
	const char *key = req->api_key != NULL && req->api_key[0] != '\0' ? req->api_key : NULL;
	const char *user =
	    req->remote_user != NULL && req->remote_user[0] != '\0' ? req->remote_user : NULL;
	bool anonymous_ok = c == NULL;

	memset(out, 0, sizeof(*out));
	out->bearer = token != NULL;
	out->key = key != NULL;
	for (size_t i = 0; c != NULL && i < c->pc->nmodes; i++) {
		switch (c->pc->modes[i]) {
		case CALLERS_NONE:
			anonymous_ok = true;
			break;
		case CALLERS_WEB_SERVER:
			if (user != NULL)
				return web_user(user, out);
			break;
		case CALLERS_API_KEY:
			if (key != NULL)
				return check_key(c, key, out);
			break;
		case CALLERS_JWT:
			if (token != NULL)
				return verify_jwt(c, token, out);
			break;
		}
	}
	if (!anonymous_ok) {
		snprintf(out->detail, sizeof(out->detail), "no credential");
		return CALLERS_MISSING;
	}
	out->anonymous = true;
	out->mode = CALLERS_NONE;
	snprintf(out->id, sizeof(out->id), "anonymous");
	return CALLERS_OK;
}

void callers_release(struct caller *c)
{
	jwt_claims_free(c->claims);
	c->claims = NULL;
}

bool callers_is(const struct caller *c, const char *who)
{
	const struct jwt_claims *j = c->claims;
	const char *v;

	if (strcmp(who, "anonymous") == 0)
		return c->anonymous;
	if (strcmp(who, "authenticated") == 0)
		return !c->anonymous;
	if (c->anonymous)
		return false;
	if (strncmp(who, "user:", 5) == 0) {
		v = who + 5;
		if (c->mode == CALLERS_WEB_SERVER)
			return strcasecmp(c->name, v) == 0;
		return j != NULL && ((j->oid[0] && strcasecmp(j->oid, v) == 0) ||
		                     (j->sub[0] && strcmp(j->sub, v) == 0) ||
		                     (j->username[0] && strcasecmp(j->username, v) == 0));
	}
	if (strncmp(who, "key:", 4) == 0)
		return c->mode == CALLERS_API_KEY && strcasecmp(c->name, who + 4) == 0;
	if (j == NULL)
		return false;
	if (strncmp(who, "group:", 6) == 0)
		return strlist_contains_ci(&j->groups, who + 6);
	if (strncmp(who, "role:", 5) == 0)
		return strlist_contains(&j->roles, who + 5);
	if (strncmp(who, "scope:", 6) == 0)
		return strlist_contains(&j->scopes, who + 6);
	if (strncmp(who, "app:", 4) == 0)
		return j->appid[0] && strcasecmp(j->appid, who + 4) == 0;
	return false;
}
