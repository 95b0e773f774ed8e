/*
 * test_policy.c: the policy INI loader. Every rule of README.md
 * and every error path of policy_load() that a file can reach: each case
 * writes an INI file into a temporary directory, loads it, and compares the
 * exact error lines ("FILE: [section] key: message"). policy.c is included
 * to reach its scanner, so the test can also pin that the scanner and
 * iniparser read every accepted value the same way.
 *
 * Every key design.md lists must be in the file, so most cases state only
 * their changes to a complete, valid file (policy_ini.h); line numbers in
 * the expected messages are found in the text written, not counted by hand.
 */
#include "../../lib/policy.c"

#include <limits.h>

#include "exposure.h"

#include "policy_ini.h"
#include "tap.h"

#define LINE_SIZE (3 * PATH_MAX) /* an expected error line */

static char dir[PATH_MAX];      /* the temporary directory, canonical */
static char ini[PATH_MAX + 16]; /* dir/test.ini, the file most cases load */
static char root[PATH_MAX];     /* the source tree, for etc/ and README.md */

/* How many keys of the table are optional (added by issues after design.md). */
static size_t optional_keys(void)
{
	size_t n = 0;

	for (size_t i = 0; i < NKEYS; i++)
		n += keys[i].optional;
	return n;
}

/* A path in the temporary directory; four rotating buffers. */
static const char *tmp(const char *name)
{
	static char bufs[4][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return bufs[i];
}

static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static void puts_file(const char *path, const char *text)
{
	put(path, text, strlen(text));
}

/* The whole file at path (at most 1 MiB), NUL-terminated, or NULL. */
static char *slurp(const char *path)
{
	FILE *f;
	char *s;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((s = malloc(1024 * 1024)) == NULL)
		exit(2);
	n = fread(s, 1, 1024 * 1024 - 1, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void dump(const struct strlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		printf("#   got: %s\n", e->v[i]);
}

/* Load text from dir/test.ini. *p is set to a bogus pointer first, to
 * check that policy_load() sets it to NULL on failure. */
static int load(const char *text, struct policy **p, struct strlist *e)
{
	puts_file(ini, text);
	*p = (struct policy *)dir;
	return policy_load(ini, p, e);
}

/* Load the complete file with changes (policy_ini.h). */
static int load_with(const char *changes, struct policy **p, struct strlist *e)
{
	char *text = policy_ini(changes);
	int n = load(text, p, e);

	free(text);
	return n;
}

/* The line of the complete file with changes that starts with start. */
static int line_in(const char *changes, const char *start)
{
	char *text = policy_ini(changes);
	int n = policy_ini_line(text, start);

	free(text);
	return n;
}

/* text with its first from replaced by to: a new string (text is freed). */
static char *subst(char *text, const char *from, const char *to)
{
	char *at = strstr(text, from), *out;

	if (at == NULL) {
		printf("# subst: no \"%s\" in the text\n", from);
		exit(2);
	}
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) == -1)
		exit(2);
	free(text);
	return out;
}

/* The complete file with changes, then tail: a new string. */
static char *with_tail(const char *changes, const char *tail)
{
	char *text = policy_ini(changes), *out;

	if (asprintf(&out, "%s%s", text, tail) == -1)
		exit(2);
	free(text);
	return out;
}

/* Whether the load left no policy behind. */
static bool no_policy(struct policy *p)
{
	return p == NULL;
}

static void release(struct policy *p)
{
	if (p != (struct policy *)dir)
		policy_free(p);
}

/* Expect text to be refused with exactly one problem, the line "INI: want". */
static void bad_text(const char *what, const char *text, const char *want)
{
	struct strlist e = {0};
	struct policy *p;
	char line[LINE_SIZE];
	int n;

	snprintf(line, sizeof(line), "%s: %s", ini, want);
	n = load(text, &p, &e);
	if (!ok(n == 1 && e.n == 1 && no_policy(p) && strcmp(e.v[0], line) == 0, "%s: %s", what,
	        want))
		dump(&e);
	release(p);
	strlist_free(&e);
}

/* bad_text() on the literal text. */
__attribute__((format(printf, 3, 4))) static void bad_raw(const char *what, const char *text,
                                                          const char *fmt, ...)
{
	char want[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	bad_text(what, text, want);
}

/* bad_text() on the complete file with changes: the one problem is the
 * change's. */
__attribute__((format(printf, 3, 4))) static void bad(const char *what, const char *changes,
                                                      const char *fmt, ...)
{
	char want[2048], *text = policy_ini(changes);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	bad_text(what, text, want);
	free(text);
}

/* Whether some error line is exactly "INI: want". */
static bool has(const struct strlist *e, const char *want)
{
	char line[LINE_SIZE];

	snprintf(line, sizeof(line), "%s: %s", ini, want);
	return strlist_contains(e, line);
}

/* Expect the literal text to load; returns the policy (caller frees) or
 * NULL. */
static struct policy *good_raw(const char *what, const char *text)
{
	struct strlist e = {0};
	struct policy *p;
	int n = load(text, &p, &e);

	if (!ok(n == 0 && p != NULL && e.n == 0, "loads: %s", what)) {
		dump(&e);
		release(p);
		p = NULL;
	}
	strlist_free(&e);
	return p;
}

/* good_raw() on the complete file with changes. */
static struct policy *good(const char *what, const char *changes)
{
	char *text = policy_ini(changes);
	struct policy *p = good_raw(what, text);

	free(text);
	return p;
}

/* ---- Valid files and documented values. ---- */

/* Every key at design.md's documented value (the empty ones written as
 * `key =`): the file loads, and each value is read as written. */
static void test_documented(void)
{
	struct policy *p = good("every key at its documented value, [vault] url set", "");
	const struct policy_gateway *g;
	const struct policy_vault *v;
	const struct policy_identity *id;
	const struct policy_cors *c;
	const struct policy_secrets *s;

	if (p == NULL)
		return;
	g = policy_gateway(p);
	v = policy_vault(p);
	id = policy_identity(p);
	c = policy_cors(p);
	s = policy_secrets(p);
	ok(strcmp(policy_path(p), ini) == 0, "policy_path is the path as given");
	ok(strcmp(g->base_path, "/api") == 0, "documented [gateway] base_path = /api");
	ok(strcmp(g->public_url, "") == 0, "documented [gateway] public_url is empty");
	ok(strcmp(v->url, "https://v.vault.azure.net") == 0, "[vault] url as written");
	ok(strcmp(g->paging_key_file, "") == 0,
	   "[gateway] paging_key_file left out (optional): its default, empty");
	ok(strcmp(v->api_version, "7.6") == 0, "documented [vault] api_version = 7.6");
	ok(strcmp(v->ca_file, "") == 0, "documented [vault] ca_file is empty");
	ok(v->timeout_ms == 5000, "documented [vault] timeout_ms = 5000");
	ok(v->max_retries == 3, "documented [vault] max_retries = 3");
	ok(id->method == IDENTITY_AUTO, "documented [identity] method = auto");
	ok(strcmp(id->tenant_id, "") == 0 && strcmp(id->client_id, "") == 0,
	   "documented [identity] tenant_id and client_id are empty");
	ok(strcmp(id->client_secret_file, "") == 0 && id->client_secret == NULL,
	   "documented [identity] client_secret_file is empty, and no secret is held");
	ok(strcmp(id->authority_host, "https://login.microsoftonline.com") == 0,
	   "documented [identity] authority_host = https://login.microsoftonline.com");
	ok(c->allowed_origins.n == 0 && !c->any_origin,
	   "documented [cors] allowed_origins is empty");
	ok(c->allowed_methods.n == 2 && strcmp(c->allowed_methods.v[0], "GET") == 0 &&
	       strcmp(c->allowed_methods.v[1], "HEAD") == 0,
	   "documented [cors] allowed_methods = GET HEAD");
	ok(c->allowed_headers.n == 0 && !c->any_header,
	   "documented [cors] allowed_headers is empty");
	ok(c->expose_headers.n == 0, "documented [cors] expose_headers is empty");
	ok(!c->allow_credentials, "documented [cors] allow_credentials = false");
	ok(c->max_age == 600, "documented [cors] max_age = 600");
	ok(s->allow.n == 1 && strcmp(s->allow.v[0], "*") == 0, "documented [secrets] allow = *");
	ok(s->deny.n == 0, "documented [secrets] deny is empty");
	ok(policy_cache(p)->ttl == 60, "documented [cache] ttl = 60");
	ok(exposure_name_visible(policy_secrets(p), "anything"),
	   "allow = * (written out) makes every name visible");
	policy_free(p);
}

static void test_full(void)
{
	struct policy *p;

	puts_file(tmp("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
	puts_file(tmp("secret"), "\t s3cr3t-value \r\n\n");
	p = good_raw("a full file, every key set",
	             "; a comment line\n"
	             "# another comment line\n"
	             "\n"
	             "[gateway]\n"
	             "base_path = /v1/kv\n"
	             "public_url = https://gw.example.com:8443\n"
	             "[vault]\n"
	             "url = https://My-Vault.vault.azure.net/\n"
	             "api_version = 2025-07-01-preview\n"
	             "ca_file = ca.pem\n"
	             "timeout_ms = 100\n"
	             "max_retries = 0\n"
	             "[identity]\n"
	             "method = client_secret\n"
	             "tenant_id = contoso.onmicrosoft.com\n"
	             "client_id = 0A1B2C3D-0000-4000-8000-00000000ABCD\n"
	             "client_secret_file = secret\n"
	             "authority_host = https://login.example.com/\n"
	             "[cors]\n"
	             "allowed_origins = https://a.example.com, http://127.0.0.1:8081\n"
	             "allowed_methods = GET\n"
	             "allowed_headers = x-ms-client-request-id,Authorization\n"
	             "expose_headers = x-request-id\n"
	             "allow_credentials = yes\n"
	             "max_age = 0\n"
	             "[secrets]\n"
	             "allow = public-* demo-*\n"
	             "deny = *-internal admin-*\n"
	             "[cache]\n"
	             "ttl = 86400\n");
	if (p == NULL)
		return;
	ok(strcmp(policy_gateway(p)->base_path, "/v1/kv") == 0, "base_path /v1/kv kept");
	ok(strcmp(policy_gateway(p)->public_url, "https://gw.example.com:8443") == 0,
	   "public_url kept");
	ok(strcmp(policy_vault(p)->url, "https://my-vault.vault.azure.net") == 0,
	   "vault url: trailing '/' stripped, host lower-cased");
	ok(strcmp(policy_vault(p)->api_version, "2025-07-01-preview") == 0, "api_version kept");
	ok(strcmp(policy_vault(p)->ca_file, tmp("ca.pem")) == 0,
	   "relative ca_file resolved against the INI's directory: %s", policy_vault(p)->ca_file);
	ok(policy_vault(p)->timeout_ms == 100 && policy_vault(p)->max_retries == 0,
	   "timeout_ms 100 and max_retries 0 (lower bounds) accepted");
	ok(policy_identity(p)->method == IDENTITY_CLIENT_SECRET, "method = client_secret");
	ok(strcmp(policy_identity(p)->tenant_id, "contoso.onmicrosoft.com") == 0,
	   "tenant_id as a domain name");
	ok(strcmp(policy_identity(p)->client_id, "0A1B2C3D-0000-4000-8000-00000000ABCD") == 0,
	   "client_id GUID in upper case accepted");
	ok(strcmp(policy_identity(p)->client_secret_file, tmp("secret")) == 0,
	   "client_secret_file resolved to an absolute path");
	ok(policy_identity(p)->client_secret != NULL &&
	       strcmp(policy_identity(p)->client_secret, "s3cr3t-value") == 0,
	   "the client secret is read, surrounding white space and newlines stripped");
	ok(strcmp(policy_identity(p)->authority_host, "https://login.example.com") == 0,
	   "authority_host: trailing '/' stripped");
	ok(policy_cors(p)->allowed_origins.n == 2 && !policy_cors(p)->any_origin,
	   "two allowed origins, separated by a comma and a space");
	ok(policy_cors(p)->allowed_headers.n == 2 && !policy_cors(p)->any_header,
	   "allowed_headers separated by a comma alone");
	ok(policy_cors(p)->allowed_methods.n == 1 && policy_cors(p)->expose_headers.n == 1,
	   "allowed_methods and expose_headers lists");
	ok(policy_cors(p)->allow_credentials && policy_cors(p)->max_age == 0,
	   "allow_credentials = yes is true; max_age 0 accepted");
	ok(policy_cache(p)->ttl == 86400, "ttl 86400 (upper bound) accepted");
	ok(exposure_name_visible(policy_secrets(p), "public-a") &&
	       exposure_name_visible(policy_secrets(p), "DEMO-B"),
	   "visible: allowed names, in any case");
	ok(!exposure_name_visible(policy_secrets(p), "public-a-internal") &&
	       !exposure_name_visible(policy_secrets(p), "ADMIN-demo"),
	   "hidden: deny wins over allow, in any case");
	ok(!exposure_name_visible(policy_secrets(p), "other"),
	   "hidden: a name no allow pattern matches");
	ok(!exposure_name_visible(NULL, "public-a") &&
	       !exposure_name_visible(policy_secrets(p), NULL),
	   "visible: false for a NULL policy or name");
	policy_free(p);
}

/* design.md's own example, verbatim but for the vault name: its inline
 * "; comment" style, comment-only continuation lines and empty values. */
static void test_design_example(void)
{
	struct policy *p = good_raw(
	    "design.md's example with its inline ; comments",
	    "[gateway]\n"
	    "base_path = /api            ; URL prefix of the API\n"
	    "public_url =                ; scheme://host[:port] the browser uses; when empty, "
	    "taken\n"
	    "                            ; from the request (HTTPS, SERVER_NAME, SERVER_PORT)\n"
	    "[vault]\n"
	    "url = https://NAME.vault.azure.net\n"
	    "api_version = 7.6           ; sent upstream; callers' api-version is accepted, not "
	    "forwarded\n"
	    "ca_file =                   ; extra PEM CA bundle for the vault and identity "
	    "endpoints\n"
	    "timeout_ms = 5000\n"
	    "max_retries = 3\n"
	    "[identity]\n"
	    "method = auto               ; auto | client_secret | client_certificate |\n"
	    "                            ; workload_identity | managed_identity\n"
	    "tenant_id =\n"
	    "client_id =\n"
	    "client_secret_file =        ; file holding the client secret\n"
	    "authority_host = https://login.microsoftonline.com\n"
	    "[cors]\n"
	    "allowed_origins =           ; exact origins; `*` only without credentials\n"
	    "allowed_methods = GET HEAD\n"
	    "allowed_headers =\n"
	    "expose_headers =\n"
	    "allow_credentials = false\n"
	    "max_age = 600\n"
	    "[secrets]\n"
	    "allow = *                   ; glob list of names a caller may read\n"
	    "deny =                      ; glob list; deny wins over allow\n"
	    "[cache]\n"
	    "ttl = 60                    ; seconds a fetched secret is reused\n");

	if (p == NULL)
		return;
	ok(strcmp(policy_gateway(p)->base_path, "/api") == 0 &&
	       strcmp(policy_gateway(p)->public_url, "") == 0,
	   "inline comments are not part of the values");
	ok(strcmp(policy_vault(p)->url, "https://name.vault.azure.net") == 0 &&
	       strcmp(policy_vault(p)->ca_file, "") == 0,
	   "vault url read, the empty ca_file with a comment is empty");
	ok(policy_secrets(p)->allow.n == 1 && policy_secrets(p)->deny.n == 0,
	   "allow = * with a comment is one pattern; deny with only a comment is empty");
	ok(policy_identity(p)->method == IDENTITY_AUTO && policy_cache(p)->ttl == 60,
	   "method and ttl read before their comments");
	policy_free(p);
}

/* ---- The file itself. ---- */

static void test_file_level(void)
{
	struct strlist e = {0};
	struct policy *p = (struct policy *)dir;
	char big[POLICY_FILE_MAX + 1100], line[LINE_SIZE], *text;
	size_t n = 0;
	int rc;

	rc = policy_load(NULL, &p, &e);
	ok(rc == 1 && p == NULL && e.n == 1 && strcmp(e.v[0], "KVGATE_CONFIG is not set") == 0,
	   "NULL path: \"KVGATE_CONFIG is not set\"");
	strlist_free(&e);
	rc = policy_load("", &p, &e);
	ok(rc == 1 && p == NULL && e.n == 1 &&
	       strcmp(e.v[0], "KVGATE_CONFIG is set but empty") == 0,
	   "empty path: \"KVGATE_CONFIG is set but empty\"");
	strlist_free(&e);
	p = (struct policy *)dir;
	rc = policy_load(tmp("no-such.ini"), &p, &e);
	snprintf(line, sizeof(line), "%s: cannot open: No such file or directory",
	         tmp("no-such.ini"));
	ok(rc == 1 && p == NULL && e.n == 1 && strcmp(e.v[0], line) == 0,
	   "missing file: named, with strerror");
	strlist_free(&e);
	rc = policy_load(dir, &p, &e);
	snprintf(line, sizeof(line), "%s: is a directory, not a file", dir);
	ok(rc == 1 && e.n == 1 && strcmp(e.v[0], line) == 0, "a directory is refused");
	strlist_free(&e);
	rc = policy_load("/dev/null", &p, &e);
	ok(rc == 1 && e.n == 1 && strcmp(e.v[0], "/dev/null: is not a regular file") == 0,
	   "a device is refused");
	strlist_free(&e);
	rc = policy_load(tmp("no-such.ini"), &p, NULL);
	ok(rc == 1 && p == NULL, "errors may be NULL: the count is still returned");
	policy_free(NULL);
	ok(1, "policy_free(NULL) is harmless");

	/* An empty file lacks every section: test_required() checks it. */

	/* Over POLICY_FILE_MAX: many short comment lines. */
	while (n < POLICY_FILE_MAX + 1) {
		memcpy(big + n, "; padding padding padding\n", 26);
		n += 26;
	}
	big[n] = '\0';
	bad_raw("a file over 64 KiB", big, "larger than 65536 bytes");

	/* CRLF line endings are plain line ends. */
	{
		char *lf = policy_ini("[cache]\nttl = 5\n"), *c;

		if ((text = malloc(2 * strlen(lf) + 1)) == NULL)
			exit(2);
		c = text;
		for (const char *r = lf; *r != '\0'; r++) {
			if (*r == '\n')
				*c++ = '\r';
			*c++ = *r;
		}
		*c = '\0';
		free(lf);
	}
	ok(strstr(text, "ttl = 5\r\n") != NULL && strstr(text, "\r\r") == NULL,
	   "the CRLF file is written with CRLF");
	p = good_raw("CRLF line endings", text);
	ok(p != NULL && policy_cache(p)->ttl == 5 &&
	       strcmp(policy_vault(p)->url, "https://v.vault.azure.net") == 0,
	   "CRLF: values carry no CR");
	policy_free(p);
	free(text);
	/* No final newline: [cache] ttl is the last line. */
	text = policy_ini("[cache]\nttl = 7\n");
	text[strlen(text) - 1] = '\0';
	p = good_raw("no newline at the end", text);
	ok(p != NULL && policy_cache(p)->ttl == 7, "the last line is read without its newline");
	policy_free(p);
	free(text);
}

/* ---- What iniparser would hide or refuse: the scan. ---- */

static void test_structure(void)
{
	static const char vault_keys[] = "url = https://v.vault.azure.net\napi_version = 7.6\n"
	                                 "ca_file =\ntimeout_ms = 5000\nmax_retries = 3\n";
	struct strlist e = {0};
	struct policy *p;
	char changes[2200], *text;
	const char *c;
	int n, l1, l2;

	c = "[foo]\nx = 1\n";
	bad("unknown section", c,
	    "[foo]: unknown section (line %d); the sections are gateway, vault, identity, cors, "
	    "secrets, cache, callers, limits and audit, with [origin \"…\"] and [grant NAME]",
	    line_in(c, "[foo]"));
	c = "[cors]\nmax_agee = 5\n";
	bad("unknown key", c,
	    "[cors] max_agee: unknown key (line %d); [cors] has allowed_origins, allowed_methods, "
	    "allowed_headers, expose_headers, allow_credentials, max_age, "
	    "allow_private_network, terminate_unmatched",
	    line_in(c, "max_agee"));
	c = "[cache]\nttl = 5\nttl = 6\n";
	bad("duplicate key", c,
	    "[cache] ttl: set twice (lines %d and %d); iniparser would silently use the last",
	    line_in(c, "ttl = 5"), line_in(c, "ttl = 6"));
	text = with_tail("", "[cache]\n");
	bad_raw("duplicate section", text,
	        "[cache]: the section appears twice (lines %d and %d); iniparser would merge them, "
	        "so write each section once",
	        policy_ini_line(text, "[cache]"), POLICY_INI_LINES + 1);
	free(text);
	text = with_tail("", "[CACHE]\n");
	bad_raw("duplicate section, other case", text,
	        "[cache]: the section appears twice (lines %d and %d); iniparser would merge them, "
	        "so write each section once",
	        policy_ini_line(text, "[cache]"), POLICY_INI_LINES + 1);
	free(text);
	c = "[vault]\njust words\n";
	bad("a line that is not INI", c,
	    "line %d: not a [section] header, a key = value line, a comment or a blank line",
	    line_in(c, "just words"));
	/* [vault] moved to the end, its header followed by a comment. */
	snprintf(changes, sizeof(changes), "![vault]\n[cache]\n[vault] ; the vault\n%s",
	         vault_keys);
	bad("a comment after a section header", changes,
	    "line %d: a section header must be alone on its line, as [name] (iniparser allows no "
	    "comment after it)",
	    line_in(changes, "[vault] ; the vault"));
	bad("an empty section name", "[]\n", "line %d: \"[]\" is not a valid section header",
	    POLICY_INI_LINES + 1);
	bad("a section name with a space", "[a b]\n",
	    "line %d: \"[a b]\" is not a valid section header", POLICY_INI_LINES + 1);
	c = "[vault]\n= x\n";
	bad("no key before '='", c, "line %d: no key name before '='", line_in(c, "= x"));
	c = "[cache]\nmax age = 5\n";
	bad("a key name with a space", c, "line %d: \"max age\" is not a valid key name",
	    line_in(c, "max age"));
	bad("a key before any section", "top = 1\n",
	    "line 1: key \"top\" comes before any [section] header");

	/* A comment ending in '\' swallows the next line in iniparser: here
	 * [vault] url, moved after it. */
	c = "[vault]\n!url\n; see C:\\\nurl = https://v.vault.azure.net\n";
	l1 = line_in(c, "; see C:");
	n = load_with(c, &p, &e);
	snprintf(changes, sizeof(changes),
	         "line %d: ends with '\\', which iniparser reads as joining the next line to this "
	         "one; line continuations are not supported",
	         l1);
	ok(n == 2 && no_policy(p) && has(&e, changes) &&
	       has(&e, "[vault] url: missing; add `url = https://NAME.vault.azure.net`"),
	   "a line ending in '\\' is refused (and iniparser indeed hid the url line)");
	if (n != 2)
		dump(&e);
	release(p);
	strlist_free(&e);

	c = "[cache]\nttl = 6\x01\n";
	n = load_with(c, &p, &e);
	snprintf(changes, sizeof(changes), "line %d: holds a control character or NUL byte",
	         line_in(c, "ttl"));
	ok(n == 2 && has(&e, changes) &&
	       has(&e, "[cache] ttl: \"6\\x01\" is not an integer in 0-86400"),
	   "a control character is refused, and shown escaped in messages");
	if (n != 2)
		dump(&e);
	release(p);
	strlist_free(&e);

	{
		static const char tail[] = "[cache]\nttl = 6\0 7\n";
		char *head = policy_ini("![cache]\n"), *buf;
		size_t hn = strlen(head);

		if ((buf = malloc(hn + sizeof(tail))) == NULL)
			exit(2);
		memcpy(buf, head, hn);
		memcpy(buf + hn, tail, sizeof(tail) - 1);
		put(ini, buf, hn + sizeof(tail) - 1);
		l2 = 2; /* the ttl line, after head's lines and [cache] */
		for (size_t i = 0; i < hn; i++)
			l2 += head[i] == '\n';
		free(buf);
		free(head);
		p = (struct policy *)dir;
		n = policy_load(ini, &p, &e);
		snprintf(changes, sizeof(changes), "line %d: holds a control character or NUL byte",
		         l2);
		ok(n >= 1 && no_policy(p) && has(&e, changes), "a NUL byte is refused");
		if (!has(&e, changes))
			dump(&e);
		release(p);
		strlist_free(&e);
	}

	snprintf(changes, sizeof(changes), ";%01000d\n", 0);
	bad("a line over 1000 bytes", changes, "line 1: longer than 1000 bytes");
	snprintf(changes, sizeof(changes), ";%0999d\n", 0);
	p = good("a line of exactly 1000 bytes", changes);
	policy_free(p);

	text = policy_ini("[cache]\nttl = 7\n");
	text = subst(text, "[vault]", "[VAULT]");
	text = subst(text, "url =", "URL =");
	text = subst(text, "[cache]", "[Cache]");
	text = subst(text, "ttl =", "Ttl =");
	p = good_raw("section and key names ignore case", text);
	ok(p != NULL && policy_cache(p)->ttl == 7 &&
	       strcmp(policy_vault(p)->url, "https://v.vault.azure.net") == 0,
	   "[Cache] Ttl is [cache] ttl, [VAULT] URL is [vault] url");
	policy_free(p);
	free(text);
	text = policy_ini("");
	text = subst(text, "[vault]", "  [ vault ]  ");
	text =
	    subst(text, "url = https://v.vault.azure.net", "\turl\t=\thttps://v.vault.azure.net\t");
	p = good_raw("white space around names and inside brackets", text);
	policy_free(p);
	free(text);
}

/* ---- Quoting and inline comments. ---- */

static void test_quoting(void)
{
	struct strlist e = {0};
	struct policy *p;
	char want[512];
	const char *c;
	int n;

	p = good("double-quoted values, with a comment after",
	         "[gateway]\nbase_path = \"/v1\" ; quoted\n"
	         "[cors]\nallowed_headers = \"x-a, x-b\"\n"
	         "[secrets]\ndeny = \"\"\n");
	if (p != NULL) {
		ok(strcmp(policy_gateway(p)->base_path, "/v1") == 0,
		   "one pair of quotes is removed");
		ok(policy_cors(p)->allowed_headers.n == 2, "a quoted list is still split");
		ok(policy_secrets(p)->deny.n == 0, "\"\" is an empty value");
	}
	policy_free(p);
	bad("quotes keep white space", "[vault]\ntimeout_ms = \" 5\"\n",
	    "[vault] timeout_ms: \" 5\" is not an integer in 100-600000");
	bad("quotes keep ';'", "[secrets]\nallow = \"a;b\"\n",
	    "[secrets] allow: \"a;b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?");
	c = "[cache]\nttl = \"5\n";
	bad("an unterminated quote", c,
	    "[cache] ttl: the value on line %d has no closing double quote", line_in(c, "ttl"));
	c = "[cache]\nttl = '5'\n";
	bad("single quotes", c,
	    "[cache] ttl: the value on line %d is in single quotes, which iniparser removes but "
	    "kvgate does not support; use double quotes",
	    line_in(c, "ttl"));
	c = "[cache]\nttl = \"5\"0\n";
	bad("text after the closing quote", c,
	    "[cache] ttl: the value on line %d has text after the closing double quote",
	    line_in(c, "ttl"));
	c = "[secrets]\nallow = \"a\\b\"\n";
	n = load_with(c, &p, &e);
	snprintf(
	    want, sizeof(want),
	    "[secrets] allow: the value on line %d has a '\\' inside double quotes; escapes are "
	    "not supported",
	    line_in(c, "allow ="));
	ok(n == 2 && no_policy(p) && has(&e, want),
	   "a backslash inside quotes is refused (iniparser versions disagree on escapes)");
	if (n != 2)
		dump(&e);
	release(p);
	strlist_free(&e);

	p = good("inline comments after ' ;' and ' #'",
	         "[cors]\nmax_age = 5 ; five\nallowed_headers = ; none\n"
	         "[cache]\nttl = 6\t# six\n[secrets]\ndeny = #\n");
	if (p != NULL) {
		ok(policy_cors(p)->max_age == 5 && policy_cache(p)->ttl == 6,
		   "the value ends before the comment");
		ok(policy_cors(p)->allowed_headers.n == 0 && policy_secrets(p)->deny.n == 0,
		   "a value that is only a comment is empty");
	}
	policy_free(p);
	c = "[cache]\nttl = 5;6\n";
	bad("';' inside a word", c,
	    "[cache] ttl: the value on line %d has a ';' or '#' inside a word, which iniparser "
	    "reads as the start of a comment; put the value in double quotes",
	    line_in(c, "ttl"));
	c = "[vault]\napi_version = 7.6#x\n";
	bad("'#' inside a word", c,
	    "[vault] api_version: the value on line %d has a ';' or '#' inside a word, which "
	    "iniparser reads as the start of a comment; put the value in double quotes",
	    line_in(c, "api_version"));
}

/*
 * The scanner and iniparser must read every value the scanner accepts the
 * same way, or the checks would judge one text and the gateway use another.
 */
static void test_lex_matches_iniparser(void)
{
	static const char *const same[] = {
	    "plain",
	    "  spaced  ",
	    "a b c",
	    "x ; comment",
	    "x # comment",
	    "x\t;c",
	    "\"q ; v\" ; c",
	    "\" spaced \"",
	    "\"\"",
	    "\"\" ; c",
	    "",
	    " ; only a comment",
	    "#",
	    "a \"b\" c",
	    "k == v",
	    "a=b",
	    "\"a=b\"",
	    "x ;",
	    "https://h:1/ ;c",
	    "\"#\"",
	    "a,b, c",
	    "\"x\"#c",
	    "tab\tinside",
	};
	static const char *const refused[] = {"x;y",    "x#y",        "'q'",  "\"unterminated",
	                                      "\"a\"b", "\"a\\\\b\"", "'half"};
	char out[POLICY_LINE_MAX + 1], text[POLICY_LINE_MAX + 32];

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		const char *why = value_lex(same[i], out, sizeof(out));
		dictionary *d;
		const char *iv;

		snprintf(text, sizeof(text), "[s]\nk = %s\n", same[i]);
		puts_file(tmp("lex.ini"), text);
		d = iniparser_load(tmp("lex.ini"));
		iv = d ? iniparser_getstring(d, "s:k", NULL) : NULL;
		ok(why == NULL && iv != NULL && strcmp(out, iv) == 0,
		   "k = %s: kvgate reads [%s], iniparser [%s]", same[i], why ? why : out,
		   iv ? iv : "(none)");
		if (d != NULL)
			iniparser_freedict(d);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		dictionary *d;
		const char *iv;

		snprintf(text, sizeof(text), "[s]\nk = %s\n", refused[i]);
		puts_file(tmp("lex.ini"), text);
		d = iniparser_load(tmp("lex.ini"));
		iv = d ? iniparser_getstring(d, "s:k", NULL) : NULL;
		ok(value_lex(refused[i], out, sizeof(out)) != NULL,
		   "k = %s is refused (iniparser would read [%s])", refused[i], iv ? iv : "(none)");
		if (d != NULL)
			iniparser_freedict(d);
	}
}

/* iniparser's own messages go to the error list, never to stderr. */
static void test_iniparser_quiet(void)
{
	struct strlist e = {0};
	struct policy *p;
	struct load ld;
	int saved, fd;
	char *out;

	fflush(stderr);
	saved = dup(2);
	fd = open(tmp("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	load_with("[vault]\njunk line\n", &p, &e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	out = slurp(tmp("stderr"));
	ok(out != NULL && out[0] == '\0' && e.n == 1,
	   "a syntax error prints nothing on stderr: one error line");
	free(out);
	release(p);
	strlist_free(&e);

	memset(&ld, 0, sizeof(ld));
	ini_load = &ld;
	ini_error("iniparser: syntax error in %s (%d):\n-> %s\n", "f.ini", 3, "junk");
	ini_load = NULL;
	ini_error("ignored %s\n", "when no load runs");
	ok(ld.ini_errors.n == 1 &&
	       strcmp(ld.ini_errors.v[0], "iniparser: syntax error in f.ini (3): -> junk") == 0,
	   "iniparser's messages are captured as one line each");
	strlist_free(&ld.ini_errors);
}

/* ---- Values, key by key. ---- */

static void test_ints(void)
{
	static const char *const junk[] = {
	    "12abc", "-1",   "99999999999999999999", "99", "600001", "+5", "0x10", "5.0",
	    "1e3",   "5 000"};
	struct policy *p;
	char text[256];

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(text, sizeof(text), "[vault]\ntimeout_ms = %s\n", junk[i]);
		bad("timeout_ms junk or out of range", text,
		    "[vault] timeout_ms: \"%s\" is not an integer in 100-600000", junk[i]);
	}
	bad("timeout_ms empty", "[vault]\ntimeout_ms =\n",
	    "[vault] timeout_ms: is empty; give it a value, as in `timeout_ms = 5000`");
	p = good("timeout_ms 600000 (upper bound)", "[vault]\ntimeout_ms = 600000\n");
	ok(p != NULL && policy_vault(p)->timeout_ms == 600000, "timeout_ms = 600000");
	policy_free(p);
	bad("max_retries 11", "[vault]\nmax_retries = 11\n",
	    "[vault] max_retries: \"11\" is not an integer in 0-10");
	bad("max_retries -1", "[vault]\nmax_retries = -1\n",
	    "[vault] max_retries: \"-1\" is not an integer in 0-10");
	p = good("max_retries 10 (upper bound), leading zeros", "[vault]\nmax_retries = 010\n");
	ok(p != NULL && policy_vault(p)->max_retries == 10, "max_retries = 010 is 10");
	policy_free(p);
	bad("max_age 86401", "[cors]\nmax_age = 86401\n",
	    "[cors] max_age: \"86401\" is not an integer in 0-86400");
	bad("max_age -1", "[cors]\nmax_age = -1\n",
	    "[cors] max_age: \"-1\" is not an integer in 0-86400");
	p = good("max_age 86400 (upper bound)", "[cors]\nmax_age = 86400\n");
	policy_free(p);
	bad("ttl 86401", "[cache]\nttl = 86401\n",
	    "[cache] ttl: \"86401\" is not an integer in 0-86400");
	bad("ttl -1", "[cache]\nttl = -1\n", "[cache] ttl: \"-1\" is not an integer in 0-86400");
	bad("ttl junk", "[cache]\nttl = 60s\n",
	    "[cache] ttl: \"60s\" is not an integer in 0-86400");
	p = good("ttl 0 (no caching)", "[cache]\nttl = 0\n");
	ok(p != NULL && policy_cache(p)->ttl == 0, "ttl = 0");
	policy_free(p);
}

static void test_bools_enums(void)
{
	static const char *const yes[] = {"true", "TRUE", "Yes", "on"};
	static const char *const no[] = {"false", "False", "NO", "off"};
	static const char *const junk[] = {"yolo", "1", "0", "truee", "y", "enabled"};
	static const char *const methods[] = {"auto", "client_certificate", "workload_identity",
	                                      "managed_identity"};
	struct policy *p;
	char text[256];

	for (size_t i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "[cors]\nallow_credentials = %s\n", yes[i]);
		p = good(yes[i], text);
		ok(p != NULL && policy_cors(p)->allow_credentials, "\"%s\" is true", yes[i]);
		policy_free(p);
		snprintf(text, sizeof(text), "[cors]\nallow_credentials = %s\n", no[i]);
		p = good(no[i], text);
		ok(p != NULL && !policy_cors(p)->allow_credentials, "\"%s\" is false", no[i]);
		policy_free(p);
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(text, sizeof(text), "[cors]\nallow_credentials = %s\n", junk[i]);
		bad("bad boolean", text,
		    "[cors] allow_credentials: \"%s\" is not a boolean: true or false (or yes/no, "
		    "on/off)",
		    junk[i]);
	}
	bad("empty boolean", "[cors]\nallow_credentials =\n",
	    "[cors] allow_credentials: is empty; give it a value, as in `allow_credentials = "
	    "false`");

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(text, sizeof(text), "[identity]\nmethod = %s\n", methods[i]);
		p = good(methods[i], text);
		ok(p != NULL &&
		       (int)policy_identity(p)->method == (int)(i == 0 ? IDENTITY_AUTO : i + 1),
		   "method = %s is accepted, with no other identity key required", methods[i]);
		policy_free(p);
	}
	bad("method in the wrong case", "[identity]\nmethod = Client_Secret\n",
	    "[identity] method: \"Client_Secret\" is not one of auto, client_secret, "
	    "client_certificate, workload_identity, managed_identity");
	bad("unknown method", "[identity]\nmethod = password\n",
	    "[identity] method: \"password\" is not one of auto, client_secret, "
	    "client_certificate, workload_identity, managed_identity");
	bad("empty method", "[identity]\nmethod =\n",
	    "[identity] method: is empty; give it a value, as in `method = auto`");
}

static void test_gateway(void)
{
	static const struct {
		const char *value, *why;
	} cases[] = {
	    {"api", "must start with '/', as in /api"},
	    {"/", "must name a path under the root, as in /api"},
	    {"/api/", "must not end with '/'"},
	    {"//api", "has an empty segment (\"//\")"},
	    {"/a//b", "has an empty segment (\"//\")"},
	    {"/a/./b", "has a \".\" or \"..\" segment"},
	    {"/a/..", "has a \".\" or \"..\" segment"},
	    {"/a%20b", "may hold only A-Z a-z 0-9 . _ ~ - between the '/'s"},
	    {"/api?x=1", "may hold only A-Z a-z 0-9 . _ ~ - between the '/'s"},
	};
	static const struct {
		const char *value, *why;
	} origins[] = {
	    {"https://gw.example.com/", "is not an origin: remove the trailing '/'"},
	    {"https://gw.example.com/app", "is not an origin: an origin has no path"},
	    {"https://gw.example.com:443", "is not an origin: browsers leave out the default port"},
	    {"http://gw.example.com:80", "is not an origin: browsers leave out the default port"},
	    {"https://GW.example.com", "is not an origin: browsers send the host in lower case"},
	    {"gw.example.com", "is not an origin: expected http:// or https:// then host[:port]"},
	    {"https://gw.example.com:0",
	     "is not an origin: expected http:// or https:// then host[:port]"},
	};
	struct policy *p;
	char text[512], path[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[gateway]\nbase_path = %s\n", cases[i].value);
		bad("base_path", text, "[gateway] base_path: \"%s\" %s", cases[i].value,
		    cases[i].why);
	}
	bad("base_path with a space (quoted)", "[gateway]\nbase_path = \"/a b\"\n",
	    "[gateway] base_path: \"/a b\" may hold only A-Z a-z 0-9 . _ ~ - between the '/'s");
	bad("base_path empty", "[gateway]\nbase_path =\n",
	    "[gateway] base_path: is empty; give it a value, as in `base_path = /api`");
	memset(path, 'a', 129);
	path[0] = '/';
	path[129] = '\0';
	snprintf(text, sizeof(text), "[gateway]\nbase_path = %s\n", path);
	bad("base_path of 129 characters", text,
	    "[gateway] base_path: \"/%.63s...\" is longer than 128 characters", path + 1);
	path[128] = '\0';
	snprintf(text, sizeof(text), "[gateway]\nbase_path = %s\n", path);
	p = good("base_path of exactly 128 characters", text);
	policy_free(p);
	p = good("base_path of every allowed character", "[gateway]\nbase_path = /A.b_c~d-e/9\n");
	policy_free(p);

	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		snprintf(text, sizeof(text), "[gateway]\npublic_url = %s\n", origins[i].value);
		bad("public_url", text, "[gateway] public_url: \"%s\" %s", origins[i].value,
		    origins[i].why);
	}
	p = good("public_url with a port", "[gateway]\npublic_url = http://127.0.0.1:8080\n");
	ok(p != NULL && strcmp(policy_gateway(p)->public_url, "http://127.0.0.1:8080") == 0,
	   "public_url kept as written");
	policy_free(p);
}

static void test_vault(void)
{
	static const struct {
		const char *value, *why;
	} urls[] = {
	    {"http://vault.example.com",
	     "may use http:// only to a loopback host (127.0.0.1, [::1], localhost): use https://"},
	    {"http://10.0.0.1:8443",
	     "may use http:// only to a loopback host (127.0.0.1, [::1], localhost): use https://"},
	    {"https://v.vault.azure.net/secrets",
	     "must not have a path: scheme://host[:port] only"},
	    {"https://v.vault.azure.net//", "must not have a path: scheme://host[:port] only"},
	    {"https://v.vault.azure.net?x=1", "must not have a query"},
	    {"https://user:pw@v.vault.azure.net", "must not hold a user name or password"},
	    {"ftp://v.vault.azure.net", "must start with https://"},
	    {"v.vault.azure.net", "must start with https://"},
	    {"https://", "has no host, or a bad one"},
	    {"https://v.vault.azure.net:0", "has a bad port"},
	    {"https://v.vault.azure.net:65536", "has a bad port"},
	    {"https://v.vault.azure.net:x", "has a bad port"},
	    {"https://v.vault.azure.net:", "has a bad port"},
	    {"https://-v.vault.azure.net", "has a bad host name"},
	    {"https://v..azure.net", "has a bad host name"},
	    {"https://v_x.azure.net", "has a bad host name"},
	    {"https://[::g]", "has a bad IPv6 host"},
	    {"https://[]", "has a bad IPv6 host"},
	};
	static const struct {
		const char *value, *want;
	} fine[] = {
	    {"http://127.0.0.1:8443", "http://127.0.0.1:8443"},
	    {"http://localhost:8443/", "http://localhost:8443"},
	    {"http://[::1]:8443", "http://[::1]:8443"},
	    {"https://[::1]", "https://[::1]"},
	    {"HTTPS://V.Vault.Azure.NET:443/", "https://v.vault.azure.net:443"},
	};
	struct policy *p;
	struct strlist e = {0};
	char text[512];
	int n;

	bad("vault url missing", "[vault]\n!url\n",
	    "[vault] url: missing; add `url = https://NAME.vault.azure.net`");
	bad("vault url empty", "[vault]\nurl =\n",
	    "[vault] url: is empty; give it a value, as in `url = https://NAME.vault.azure.net`");
	p = good("vault url as the messages suggest",
	         "[vault]\nurl = https://NAME.vault.azure.net\n");
	policy_free(p);
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		snprintf(text, sizeof(text), "[vault]\nurl = %s\n", urls[i].value);
		bad("vault url", text, "[vault] url: \"%s\" %s", urls[i].value, urls[i].why);
	}
	bad("vault url with a fragment (quoted)",
	    "[vault]\nurl = \"https://v.vault.azure.net#f\"\n",
	    "[vault] url: \"https://v.vault.azure.net#f\" must not have a fragment");
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		snprintf(text, sizeof(text), "[vault]\nurl = %s\n", fine[i].value);
		p = good(fine[i].value, text);
		ok(p != NULL && strcmp(policy_vault(p)->url, fine[i].want) == 0,
		   "vault url %s is stored as %s", fine[i].value, fine[i].want);
		policy_free(p);
	}

	bad("api_version with '/'", "[vault]\napi_version = 7.6/x\n",
	    "[vault] api_version: \"7.6/x\" may hold only 0-9 A-Z a-z . -, as in 7.6");
	bad("api_version of 33 characters",
	    "[vault]\napi_version = 123456789012345678901234567890123\n",
	    "[vault] api_version: \"123456789012345678901234567890123\" is longer than 32 "
	    "characters");
	bad("api_version empty", "[vault]\napi_version =\n",
	    "[vault] api_version: is empty; give it a value, as in `api_version = 7.6`");

	bad("ca_file names no file", "[vault]\nca_file = nope.pem\n",
	    "[vault] ca_file: cannot read %s: No such file or directory", tmp("nope.pem"));
	mkdir(tmp("sub"), 0700);
	bad("ca_file a directory", "[vault]\nca_file = sub\n",
	    "[vault] ca_file: %s is a directory, not a file", tmp("sub"));
	bad("ca_file a device", "[vault]\nca_file = /dev/null\n",
	    "[vault] ca_file: /dev/null is not a regular file");
	puts_file(tmp("sub/ca.pem"), "pem\n");
	snprintf(text, sizeof(text), "[vault]\nca_file = %s\n", tmp("sub/ca.pem"));
	p = good("ca_file absolute", text);
	ok(p != NULL && strcmp(policy_vault(p)->ca_file, tmp("sub/ca.pem")) == 0,
	   "an absolute ca_file is kept");
	policy_free(p);
	p = good("ca_file ./sub/ca.pem", "[vault]\nca_file = ./sub/ca.pem\n");
	ok(p != NULL && strcmp(policy_vault(p)->ca_file, tmp("sub/ca.pem")) == 0,
	   "./sub/ca.pem resolves to %s", p ? policy_vault(p)->ca_file : "-");
	policy_free(p);

	/* The INI named by a relative path: still absolute results. */
	{
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(dir) == -1)
			exit(2);
		{
			char *t = policy_ini("[vault]\nca_file = sub/ca.pem\n");

			puts_file(ini, t);
			free(t);
		}
		p = (struct policy *)dir;
		n = policy_load("test.ini", &p, &e);
		ok(n == 0 && p != NULL && strcmp(policy_vault(p)->ca_file, tmp("sub/ca.pem")) == 0,
		   "INI given as a relative path: ca_file still absolute (%s)",
		   n == 0 ? policy_vault(p)->ca_file : "-");
		release(p);
		strlist_free(&e);
		{
			char *t = policy_ini("[vault]\nca_file = nope.pem\n");

			puts_file(ini, t);
			free(t);
		}
		n = policy_load("./sub/../test.ini", &p, &e);
		ok(n == 1 && e.n == 1 &&
		       strstr(e.v[0], "./sub/../test.ini: [vault] ca_file: cannot read ") == e.v[0],
		   "messages name the file as given: %s", e.n ? e.v[0] : "-");
		release(p);
		strlist_free(&e);
		if (chdir(cwd) == -1)
			exit(2);
	}
}

static void test_identity(void)
{
	struct strlist e = {0};
	struct policy *p;
	char secret[POLICY_SECRET_MAX + 1];
	int n;

	bad("tenant_id not a name", "[identity]\ntenant_id = not_a_tenant\n",
	    "[identity] tenant_id: \"not_a_tenant\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");
	bad("tenant_id without a dot", "[identity]\ntenant_id = common\n",
	    "[identity] tenant_id: \"common\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");
	bad("tenant_id label starting with '-'", "[identity]\ntenant_id = -x.example.com\n",
	    "[identity] tenant_id: \"-x.example.com\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");
	bad("tenant_id with an empty label", "[identity]\ntenant_id = x..com\n",
	    "[identity] tenant_id: \"x..com\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");
	p = good("tenant_id GUID",
	         "[identity]\ntenant_id = 72f988bf-86f1-41af-91ab-2d7cd011db47\n");
	policy_free(p);
	bad("client_id not a GUID", "[identity]\nclient_id = 123\n",
	    "[identity] client_id: \"123\" must be a GUID (the application's client id)");
	bad("client_id GUID without dashes",
	    "[identity]\nclient_id = 72f988bf86f141af91ab2d7cd011db47\n",
	    "[identity] client_id: \"72f988bf86f141af91ab2d7cd011db47\" must be a GUID (the "
	    "application's client id)");
	bad("client_id GUID with braces",
	    "[identity]\nclient_id = {72f988bf-86f1-41af-91ab-2d7cd011db47}\n",
	    "[identity] client_id: \"{72f988bf-86f1-41af-91ab-2d7cd011db47}\" must be a GUID (the "
	    "application's client id)");

	bad("client_secret_file names no file", "[identity]\nclient_secret_file = nope\n",
	    "[identity] client_secret_file: cannot read %s: No such file or directory",
	    tmp("nope"));
	bad("client_secret_file a directory", "[identity]\nclient_secret_file = sub\n",
	    "[identity] client_secret_file: %s is a directory, not a file", tmp("sub"));
	puts_file(tmp("empty-secret"), "");
	bad("client_secret_file empty", "[identity]\nclient_secret_file = empty-secret\n",
	    "[identity] client_secret_file: %s is empty", tmp("empty-secret"));
	puts_file(tmp("blank-secret"), " \n\t\r\n");
	bad("client_secret_file only white space",
	    "[identity]\nclient_secret_file = blank-secret\n",
	    "[identity] client_secret_file: %s is empty", tmp("blank-secret"));
	puts_file(tmp("nl-secret"), "top\nhalf\n");
	n = load_with("[identity]\nclient_secret_file = nl-secret\n", &p, &e);
	ok(n == 1 && e.n == 1 &&
	       strstr(e.v[0], "holds a control character or line break inside the secret") &&
	       strstr(e.v[0], "top") == NULL && strstr(e.v[0], "half") == NULL,
	   "a line break inside the secret is refused, and the message quotes none of it");
	release(p);
	strlist_free(&e);
	memset(secret, 'k', POLICY_SECRET_MAX);
	put(tmp("big-secret"), secret, POLICY_SECRET_MAX);
	p = good("a secret file of exactly 4096 bytes",
	         "[identity]\nclient_secret_file = big-secret\n");
	ok(p != NULL && strlen(policy_identity(p)->client_secret) == POLICY_SECRET_MAX,
	   "the whole 4096-byte secret is kept");
	policy_free(p);
	secret[POLICY_SECRET_MAX] = '\n';
	put(tmp("big-secret"), secret, POLICY_SECRET_MAX + 1);
	bad("client_secret_file over 4096 bytes", "[identity]\nclient_secret_file = big-secret\n",
	    "[identity] client_secret_file: %s is larger than 4096 bytes", tmp("big-secret"));

	/* method = client_secret needs all three, from the file or the
	 * environment. */
	n = load_with("[identity]\nmethod = client_secret\n", &p, &e);
	ok(n == 3 && no_policy(p) &&
	       has(&e, "[identity] tenant_id: is required when method = client_secret (or set "
	               "AZURE_TENANT_ID)") &&
	       has(&e, "[identity] client_id: is required when method = client_secret (or set "
	               "AZURE_CLIENT_ID)") &&
	       has(&e, "[identity] client_secret_file: is required when method = client_secret "
	               "(or set AZURE_CLIENT_SECRET)"),
	   "method = client_secret without tenant_id, client_id, client_secret_file: three errors, "
	   "one per key");
	if (n != 3)
		dump(&e);
	release(p);
	strlist_free(&e);
	setenv("AZURE_TENANT_ID", "t.example.com", 1);
	setenv("AZURE_CLIENT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47", 1);
	setenv("AZURE_CLIENT_SECRET", "", 1);
	bad("client_secret with the environment but an empty AZURE_CLIENT_SECRET",
	    "[identity]\nmethod = client_secret\n",
	    "[identity] client_secret_file: is required when method = client_secret (or set "
	    "AZURE_CLIENT_SECRET)");
	setenv("AZURE_CLIENT_SECRET", "from-env", 1);
	p = good(
	    "method = client_secret with AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET",
	    "[identity]\nmethod = client_secret\n");
	ok(p != NULL && policy_identity(p)->client_secret == NULL &&
	       strcmp(policy_identity(p)->tenant_id, "") == 0,
	   "the environment is left to the identity module: the policy holds what the file says");
	policy_free(p);
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_CLIENT_SECRET");
	puts_file(tmp("secret"), "s\n");
	bad("client_secret with a bad tenant_id: no extra 'required' error",
	    "[identity]\nmethod = client_secret\ntenant_id = common\n"
	    "client_id = 72f988bf-86f1-41af-91ab-2d7cd011db47\nclient_secret_file = secret\n",
	    "[identity] tenant_id: \"common\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");

	bad("authority_host over http", "[identity]\nauthority_host = http://login.example.com\n",
	    "[identity] authority_host: \"http://login.example.com\" may use http:// only to a "
	    "loopback host (127.0.0.1, [::1], localhost): use https://");
	bad("authority_host with a path",
	    "[identity]\nauthority_host = https://login.microsoftonline.com/tenant\n",
	    "[identity] authority_host: \"https://login.microsoftonline.com/tenant\" must not have "
	    "a "
	    "path: scheme://host[:port] only");
	bad("authority_host empty", "[identity]\nauthority_host =\n",
	    "[identity] authority_host: is empty; give it a value, as in `authority_host = "
	    "https://login.microsoftonline.com`");
}

static void test_cors(void)
{
	struct strlist e = {0};
	struct policy *p;
	char text[4096];
	size_t n0;
	int n;

	p = good("allowed_origins = *", "[cors]\nallowed_origins = *\n");
	ok(p != NULL && policy_cors(p)->any_origin, "`*` sets any_origin");
	policy_free(p);
	bad("allowed_origins null", "[cors]\nallowed_origins = null\n",
	    "[cors] allowed_origins: \"null\" cannot be allowed: sandboxed frames and file: pages "
	    "all send \"null\", so allowing it would let any site read");
	bad("allowed_origins trailing slash", "[cors]\nallowed_origins = https://a.example.com/\n",
	    "[cors] allowed_origins: \"https://a.example.com/\" is not an origin: remove the "
	    "trailing '/'");
	bad("allowed_origins with a path", "[cors]\nallowed_origins = https://a.example.com/x\n",
	    "[cors] allowed_origins: \"https://a.example.com/x\" is not an origin: an origin has "
	    "no "
	    "path");
	bad("allowed_origins default port", "[cors]\nallowed_origins = https://a.example.com:443\n",
	    "[cors] allowed_origins: \"https://a.example.com:443\" is not an origin: browsers "
	    "leave "
	    "out the default port");
	bad("allowed_origins upper case", "[cors]\nallowed_origins = https://A.example.com\n",
	    "[cors] allowed_origins: \"https://A.example.com\" is not an origin: browsers send the "
	    "host in lower case");
	n = load_with("[cors]\nallowed_origins = https://ok.example.com null, ftp://x *\n", &p, &e);
	ok(n == 2 && e.n == 2, "every bad item of a list is reported, each on its own line");
	release(p);
	strlist_free(&e);

	bad("credentials with `*` origins",
	    "[cors]\nallowed_origins = *\nallow_credentials = true\n",
	    "[cors] allowed_origins: `*` cannot be combined with allow_credentials = true; list "
	    "the "
	    "origins");
	bad("credentials with `*` headers", "[cors]\nallowed_headers = *\nallow_credentials = on\n",
	    "[cors] allowed_headers: `*` cannot be combined with allow_credentials = true; list "
	    "them");
	bad("credentials with `*` expose_headers",
	    "[cors]\nexpose_headers = *\nallow_credentials = yes\n",
	    "[cors] expose_headers: `*` cannot be combined with allow_credentials = true; list "
	    "them");
	bad("credentials with `*` methods",
	    "[cors]\nallowed_methods = *\nallow_credentials = true\n",
	    "[cors] allowed_methods: `*` cannot be combined with allow_credentials = true; list "
	    "them");
	p = good("credentials with listed origins",
	         "[cors]\nallowed_origins = https://a.example.com\nallow_credentials = true\n");
	policy_free(p);
	p = good("`*` everywhere without credentials",
	         "[cors]\nallowed_origins = *\nallowed_headers = *\nexpose_headers = *\n"
	         "allowed_methods = *\n");
	ok(p != NULL && policy_cors(p)->any_origin && policy_cors(p)->any_header,
	   "any_origin and any_header set");
	policy_free(p);

	bad("lower-case method", "[cors]\nallowed_methods = get\n",
	    "[cors] allowed_methods: \"get\" is not GET or HEAD: methods are case-sensitive");
	bad("mixed-case method", "[cors]\nallowed_methods = GET Head\n",
	    "[cors] allowed_methods: \"Head\" is not GET or HEAD: methods are case-sensitive");
	bad("a method the gateway does not serve", "[cors]\nallowed_methods = GET POST\n",
	    "[cors] allowed_methods: \"POST\" is not a method the gateway serves: GET, HEAD or *");
	p = good("allowed_methods empty", "[cors]\nallowed_methods =\n");
	ok(p != NULL && policy_cors(p)->allowed_methods.n == 0, "an empty list stays empty");
	policy_free(p);

	bad("bad header token", "[cors]\nallowed_headers = x-ok x/bad\n",
	    "[cors] allowed_headers: \"x/bad\" is not a header name (an RFC 7230 token)");
	bad("bad header token with a colon", "[cors]\nallowed_headers = x-a:\n",
	    "[cors] allowed_headers: \"x-a:\" is not a header name (an RFC 7230 token)");
	bad("bad expose_headers token", "[cors]\nexpose_headers = \"a(b)\"\n",
	    "[cors] expose_headers: \"a(b)\" is not a header name (an RFC 7230 token)");
	p = good("header tokens with every tchar",
	         "[cors]\nallowed_headers = \"!#$%&'*+-.^_`|~09AZaz\"\n");
	policy_free(p);

	/* The list cap. */
	strcpy(text, "[secrets]\nallow =");
	n0 = strlen(text);
	for (int i = 0; i < 257; i++) {
		text[n0++] = ' ';
		text[n0++] = 'a';
	}
	strcpy(text + n0, "\n");
	bad("257 items", text, "[secrets] allow: has 257 items; at most 256 are allowed");
	strcpy(text + n0 - 2, "\n");
	p = good("256 items", text);
	policy_free(p);
}

/* Issue 4: origin patterns, Private Network Access, terminate_unmatched,
 * and the rules between them and credentials. test_cors_table.c holds the
 * request-time cases; these pin the loader. */
static void test_cors_patterns(void)
{
	struct strlist e = {0};
	struct policy *p;
	int n;

	p = good("allow_private_network and terminate_unmatched left out", "");
	ok(p != NULL && !policy_cors(p)->allow_private_network &&
	       policy_cors(p)->terminate_unmatched,
	   "left out: allow_private_network = false, terminate_unmatched = true (today's 403)");
	policy_free(p);
	p = good("both set", "[cors]\nallowed_origins = https://app.example.com\n"
	                     "allow_private_network = yes\nterminate_unmatched = off\n");
	ok(p != NULL && policy_cors(p)->allow_private_network &&
	       !policy_cors(p)->terminate_unmatched,
	   "allow_private_network = yes and terminate_unmatched = off are read");
	policy_free(p);
	bad("allow_private_network empty", "[cors]\nallow_private_network =\n",
	    "[cors] allow_private_network: is empty; remove the line to use the default (false)");
	bad("terminate_unmatched empty", "[cors]\nterminate_unmatched =\n",
	    "[cors] terminate_unmatched: is empty; remove the line to use the default (true)");
	bad("terminate_unmatched not a boolean", "[cors]\nterminate_unmatched = 1\n",
	    "[cors] terminate_unmatched: \"1\" is not a boolean: true or false (or yes/no, "
	    "on/off)");

	p = good("patterns with and without a port, next to exact origins",
	         "[cors]\nallowed_origins = https://app.example.com, https://*.example.com "
	         "http://*.dev.example.com:8080 https://*.xn--bcher-kva.example\n");
	ok(p != NULL && policy_cors(p)->allowed_origins.n == 4 && !policy_cors(p)->any_origin,
	   "patterns are kept as written, and are not `*`");
	policy_free(p);
	p = good("a pattern with credentials", "[cors]\nallowed_origins = https://*.example.com\n"
	                                       "allow_credentials = true\n");
	policy_free(p);
	p = good("a broad pattern without credentials",
	         "[cors]\nallowed_origins = https://*.azurestaticapps.net\n");
	policy_free(p);
	bad("pattern on one label", "[cors]\nallowed_origins = https://*.net\n",
	    "[cors] allowed_origins: \"https://*.net\" matches nearly everything: `*.` must be "
	    "followed by two or more labels, as in https://*.example.com");
	bad("pattern with a path", "[cors]\nallowed_origins = https://*.example.com/app\n",
	    "[cors] allowed_origins: \"https://*.example.com/app\" is not a pattern: an origin has "
	    "no path");
	bad("pattern with userinfo", "[cors]\nallowed_origins = https://u@*.example.com\n",
	    "[cors] allowed_origins: \"https://u@*.example.com\" is not a pattern: only a leading "
	    "`*.` label is a wildcard, as in https://*.example.com");
	bad("pattern with a bad port", "[cors]\nallowed_origins = https://*.example.com:0\n",
	    "[cors] allowed_origins: \"https://*.example.com:0\" is not a pattern: expected "
	    "http:// or https:// then host[:port]");
	bad("an exact origin with a trailing dot",
	    "[cors]\nallowed_origins = https://app.example.com.\n",
	    "[cors] allowed_origins: \"https://app.example.com.\" is not an origin: expected "
	    "http:// or https:// then host[:port]");
	bad("broad pattern on a country's second level, with credentials",
	    "[cors]\nallowed_origins = https://*.com.au\nallow_credentials = true\n",
	    "[cors] allowed_origins: \"https://*.com.au\" matches nearly everything (anyone can "
	    "have a name there), so it cannot be combined with allow_credentials = true; list the "
	    "origins");
	p = good("a country's own second level is not broad",
	         "[cors]\nallowed_origins = https://*.example.co.uk\nallow_credentials = true\n");
	policy_free(p);

	/* Every rule reports on its own line. */
	n = load_with("[cors]\nallowed_origins = * https://*.vercel.app\nallow_credentials = true\n"
	              "allow_private_network = true\n",
	              &p, &e);
	ok(n == 4 && no_policy(p) &&
	       has(&e, "[cors] allowed_origins: `*` cannot be combined with allow_credentials = "
	               "true; list the origins") &&
	       has(&e, "[cors] allowed_origins: \"https://*.vercel.app\" matches nearly "
	               "everything (anyone can have a name there), so it cannot be combined with "
	               "allow_credentials = true; list the origins") &&
	       has(&e, "[cors] allow_private_network: cannot be true with allowed_origins = *; "
	               "list the origins") &&
	       has(&e, "[cors] allow_private_network: cannot be true with "
	               "\"https://*.vercel.app\" in allowed_origins, which matches nearly "
	               "everything; list the origins"),
	   "`*` and a broad pattern with credentials and PNA: four lines, each naming its key");
	if (n != 4)
		dump(&e);
	release(p);
	strlist_free(&e);
	n = load_with("[cors]\nallowed_origins = https://*.com *.example.com https://a.*.b.com\n",
	              &p, &e);
	ok(n == 3 && e.n == 3 && no_policy(p), "every bad pattern of a list is reported");
	release(p);
	strlist_free(&e);
	p = good("PNA with exact origins and a narrow pattern",
	         "[cors]\nallowed_origins = https://app.example.com https://*.corp.example.com\n"
	         "allow_private_network = true\nallow_credentials = true\n");
	policy_free(p);
}

static void test_secrets(void)
{
	struct policy *p;

	bad("allow with '.'", "[secrets]\nallow = a.b\n",
	    "[secrets] allow: \"a.b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?");
	bad("deny with '_'", "[secrets]\ndeny = ok-* a_b\n",
	    "[secrets] deny: \"a_b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?");
	p = good("allow empty: nothing visible", "[secrets]\nallow =\n");
	ok(p != NULL && !exposure_name_visible(policy_secrets(p), "x"),
	   "an empty allow hides every name");
	policy_free(p);
	p = good("allow with ?", "[secrets]\nallow = key-?\n");
	ok(p != NULL && exposure_name_visible(policy_secrets(p), "KEY-1") &&
	       !exposure_name_visible(policy_secrets(p), "key-12"),
	   "? matches one character, any case");
	policy_free(p);
}

/* The [secrets] keys issue 4 adds: optional, at their documented defaults
 * when left out, each value checked. */
static void test_secrets_keys(void)
{
	const struct policy_secrets *s;
	struct policy *p;

	p = good("[secrets] without the optional keys", "");
	if (p != NULL) {
		s = policy_secrets(p);
		ok(s->require_tags.n == 0 && !s->allow_versions && s->allow_list &&
		       s->hide_disabled && !s->serve_expired && !s->expose_vault_url,
		   "defaults: no tags, no versions, lists, disabled hidden, expired not served, "
		   "ids at the gateway");
		ok(policy_secrets_for(p, NULL) == s &&
		       policy_secrets_for(p, "https://a.example") == s,
		   "without [origin] sections every request uses [secrets]");
	}
	policy_free(p);
	p = good("every new key set",
	         "[secrets]\nrequire_tags = env=dev, owner=team-web a=b=c x=\n"
	         "allow_versions = yes\nallow_list = off\nhide_disabled = false\n"
	         "serve_expired = on\nexpose_vault_url = TRUE\n");
	if (p != NULL) {
		s = policy_secrets(p);
		ok(s->require_tags.n == 4 && strcmp(s->require_tags.v[2], "a=b=c") == 0 &&
		       strcmp(s->require_tags.v[3], "x=") == 0,
		   "require_tags: a list of name=value, split at the first '=', the value may be "
		   "empty");
		ok(s->allow_versions && !s->allow_list && !s->hide_disabled && s->serve_expired &&
		       s->expose_vault_url,
		   "the four booleans read as written");
	}
	policy_free(p);
	bad("require_tags without '='", "[secrets]\nrequire_tags = env=dev owner\n",
	    "[secrets] require_tags: \"owner\" is not name=value (a tag's name, '=', the value "
	    "it must have)");
	bad("require_tags without a name", "[secrets]\nrequire_tags = =dev\n",
	    "[secrets] require_tags: \"=dev\" is not name=value (a tag's name, '=', the value it "
	    "must have)");
	{
		char changes[1200], name[600];

		memset(name, 'n', 513);
		name[513] = '\0';
		snprintf(changes, sizeof(changes), "[secrets]\nrequire_tags = \"%s=v\"\n", name);
		{
			struct strlist e = {0};
			struct policy *q;
			int n = load_with(changes, &q, &e);

			ok(n == 1 && e.n == 1 &&
			       strstr(e.v[0], "has a tag name longer than 512") != NULL,
			   "require_tags: a tag name over Key Vault's 512 characters is refused");
			release(q);
			strlist_free(&e);
		}
	}
	bad("allow_versions not a boolean", "[secrets]\nallow_versions = 1\n",
	    "[secrets] allow_versions: \"1\" is not a boolean: true or false (or yes/no, on/off)");
	bad("allow_list empty", "[secrets]\nallow_list =\n",
	    "[secrets] allow_list: is empty; remove the line to use the default (true)");
	bad("serve_expired junk", "[secrets]\nserve_expired = yolo\n",
	    "[secrets] serve_expired: \"yolo\" is not a boolean: true or false (or yes/no, "
	    "on/off)");
	bad("hide_disabled twice", "[secrets]\nhide_disabled = true\nhide_disabled = false\n",
	    "[secrets] hide_disabled: set twice (lines %d and %d); iniparser would silently use "
	    "the last",
	    line_in("[secrets]\nhide_disabled = true\n", "hide_disabled"),
	    line_in("[secrets]\nhide_disabled = true\n", "hide_disabled") + 1);
}

#define ADMIN "https://admin.example.com"
#define ADMIN_CORS "[cors]\nallowed_origins = https://spa.example.com " ADMIN "\n"

/* [origin "…"] sections: parsed from the raw header, checked whole, and
 * picked by exact Origin; keys left out take [secrets]' values. */
static void test_origins(void)
{
	const struct policy_secrets *s, *a;
	const char *o;
	struct policy *p;
	char changes[1024];

	p = good("an [origin] section",
	         ADMIN_CORS "[secrets]\nallow = public-*\ndeny = *-internal\nrequire_tags = a=b\n"
	                    "hide_disabled = false\n"
	                    "[origin \"" ADMIN "\"]\nallow = public-* admin-*\n"
	                    "allow_versions = true\nrequire_tags =\n");
	if (p != NULL) {
		s = policy_secrets(p);
		a = policy_secrets_for(p, ADMIN);
		ok(a != s && a->allow.n == 2 && strcmp(a->allow.v[1], "admin-*") == 0 &&
		       a->allow_versions && a->require_tags.n == 0,
		   "the section's keys apply to its origin (an empty list overrides too)");
		ok(a->deny.n == 1 && strcmp(a->deny.v[0], "*-internal") == 0 && !a->hide_disabled &&
		       a->allow_list && !a->serve_expired && !a->expose_vault_url,
		   "keys the section leaves out take [secrets]' values");
		ok(s->allow.n == 1 && !s->allow_versions && s->require_tags.n == 1,
		   "[secrets] itself is unchanged");
		ok(policy_secrets_for(p, NULL) == s &&
		       policy_secrets_for(p, "https://spa.example.com") == s &&
		       policy_secrets_for(p, "https://ADMIN.example.com") == s &&
		       policy_secrets_for(p, ADMIN "/") == s &&
		       policy_secrets_for(p, "http://admin.example.com") == s,
		   "no Origin, another origin, or one that differs in a byte uses [secrets]");
		ok(exposure_name_visible(a, "admin-x") && !exposure_name_visible(s, "admin-x") &&
		       !exposure_name_visible(a, "admin-internal"),
		   "visibility follows the rules picked for the origin");
		ok(policy_origin_secrets(p, 0, &o) == a && strcmp(o, ADMIN) == 0 &&
		       policy_origin_secrets(p, 1, &o) == NULL && o == NULL,
		   "policy_origin_secrets lists the sections");
	}
	policy_free(p);

	p = good("two sections, odd spacing and case in the header, a quoted value",
	         "[cors]\nallowed_origins = https://*.example.com\n"
	         "[ Origin   \"" ADMIN "\" ]\nallow = \"admin-* public-*\"\n"
	         "[origin \"https://ops.example.com\"]\nallow_list = false\n");
	if (p != NULL) {
		ok(policy_secrets_for(p, ADMIN)->allow.n == 2 &&
		       !policy_secrets_for(p, "https://ops.example.com")->allow_list &&
		       policy_secrets_for(p, "https://ops.example.com")->allow.n == 1,
		   "iniparser's name for the section is found whatever the blanks and case; a "
		   "pattern in allowed_origins covers the origin");
	}
	policy_free(p);
	p = good("the gateway's own origin",
	         "[gateway]\npublic_url = https://gw.example.com\n"
	         "[origin \"https://gw.example.com\"]\nallow_versions = true\n");
	ok(p != NULL && policy_secrets_for(p, "https://gw.example.com")->allow_versions,
	   "public_url needs no [cors] entry");
	policy_free(p);
	p = good("allowed_origins = *", "[cors]\nallowed_origins = *\n[origin \"" ADMIN "\"]\n");
	policy_free(p);

	snprintf(changes, sizeof(changes), "[origin \"%s\"]\nallow = admin-*\n", ADMIN);
	bad("an origin not allowed by [cors]", changes,
	    "[origin \"" ADMIN "\"]: the origin has overrides but is not in [cors] "
	    "allowed_origins (nor the gateway's public_url) (line %d); add it there or remove "
	    "the section",
	    line_in(changes, "[origin"));
	snprintf(changes, sizeof(changes), ADMIN_CORS "[origin \"%s\"]\nexpose_vault_url = true\n",
	         ADMIN);
	bad("a key an origin cannot set", changes,
	    "[origin \"" ADMIN "\"] expose_vault_url: unknown key (line %d); an [origin \"…\"] "
	    "section has allow, deny, require_tags, allow_versions, allow_list, hide_disabled, "
	    "serve_expired",
	    line_in(changes, "expose_vault_url"));
	snprintf(changes, sizeof(changes), ADMIN_CORS "[origin \"%s\"]\nttl = 5\n", ADMIN);
	bad("a key of another section", changes,
	    "[origin \"" ADMIN "\"] ttl: unknown key (line %d); an [origin \"…\"] section has "
	    "allow, deny, require_tags, allow_versions, allow_list, hide_disabled, serve_expired",
	    line_in(changes, "ttl = 5"));
	bad("a bad boolean in an origin section",
	    ADMIN_CORS "[origin \"" ADMIN "\"]\nallow_versions = maybe\n",
	    "[origin \"" ADMIN "\"] allow_versions: \"maybe\" is not a boolean: true or false (or "
	    "yes/no, on/off)");
	bad("a bad pattern in an origin section", ADMIN_CORS "[origin \"" ADMIN "\"]\ndeny = a.b\n",
	    "[origin \"" ADMIN "\"] deny: \"a.b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - "
	    "with * and ?");
	bad("a bad tag in an origin section",
	    ADMIN_CORS "[origin \"" ADMIN "\"]\nrequire_tags = nope\n",
	    "[origin \"" ADMIN "\"] require_tags: \"nope\" is not name=value (a tag's name, '=', "
	    "the value it must have)");
	snprintf(changes, sizeof(changes),
	         ADMIN_CORS "[origin \"%s\"]\nallow_list = true\nallow_list = false\n", ADMIN);
	bad("a key twice in an origin section", changes,
	    "[origin \"" ADMIN "\"] allow_list: set twice (lines %d and %d); iniparser would "
	    "silently use the last",
	    line_in(changes, "allow_list"), line_in(changes, "allow_list") + 1);
	snprintf(changes, sizeof(changes),
	         ADMIN_CORS "[origin \"%s\"]\nallow_list = true\n[origin \"%s\"]\n", ADMIN, ADMIN);
	bad("the same origin twice", changes,
	    "[origin \"" ADMIN "\"]: the section appears twice (lines %d and %d); iniparser would "
	    "merge them, so write each section once",
	    line_in(changes, "[origin"), line_in(changes, "[origin") + 2);
	snprintf(changes, sizeof(changes), "[origin \"%s/\"]\n", ADMIN);
	bad("an origin with a trailing slash", changes,
	    "[origin \"" ADMIN "/\"]: \"" ADMIN "/\" is not an origin: remove the trailing '/' "
	    "(line %d)",
	    line_in(changes, "[origin"));
	snprintf(changes, sizeof(changes), "[origin \"https://Admin.example.com\"]\n");
	bad("an origin in upper case", changes,
	    "[origin \"https://Admin.example.com\"]: \"https://Admin.example.com\" is not an "
	    "origin: browsers send the host in lower case (line %d)",
	    line_in(changes, "[origin"));
	snprintf(changes, sizeof(changes), "[origin \"https://admin.example.com:443\"]\n");
	bad("an origin with its default port", changes,
	    "[origin \"https://admin.example.com:443\"]: \"https://admin.example.com:443\" is not "
	    "an origin: browsers leave out the default port (line %d)",
	    line_in(changes, "[origin"));
	snprintf(changes, sizeof(changes), "[origin \"https://*.example.com\"]\n");
	bad("a pattern is not an origin", changes,
	    "[origin \"https://*.example.com\"]: \"https://*.example.com\" is not an origin: "
	    "expected http:// or https:// then host[:port] (line %d)",
	    line_in(changes, "[origin"));
	snprintf(changes, sizeof(changes), "[origin \"null\"]\n");
	bad("null", changes,
	    "[origin \"null\"]: \"null\" cannot be allowed: sandboxed frames and file: pages all "
	    "send \"null\", so allowing it would let any site read (line %d)",
	    line_in(changes, "[origin"));
	snprintf(changes, sizeof(changes), "[origin %s]\nallow = x\n", ADMIN);
	bad("an origin without quotes", changes,
	    "line %d: \"[origin " ADMIN "]\" is not a valid origin section header; write [origin "
	    "\"https://app.example.com\"]",
	    line_in(changes, "[origin"));
	snprintf(changes, sizeof(changes), "[origin]\n");
	bad("origin alone", changes,
	    "line %d: \"[origin]\" is not a valid origin section header; write [origin "
	    "\"https://app.example.com\"]",
	    line_in(changes, "[origin"));
	snprintf(changes, sizeof(changes), "[origin \"%s\" x]\n", ADMIN);
	bad("text after the quotes", changes,
	    "line %d: \"[origin \\x22" ADMIN "\\x22 x]\" is not a valid origin section header; "
	    "write [origin \"https://app.example.com\"]",
	    line_in(changes, "[origin"));
	{
		/* One more than the cap: the cap is reported, once. */
		char *text = policy_ini("[cors]\nallowed_origins = *\n"), *more = NULL;
		struct strlist e = {0};
		struct policy *q;
		size_t len = strlen(text);
		int n;

		more = malloc(len + 64 * (POLICY_ORIGINS_MAX + 1) + 1);
		memcpy(more, text, len + 1);
		for (int i = 0; i <= POLICY_ORIGINS_MAX; i++)
			len += (size_t)sprintf(more + len, "[origin \"https://o%d.example.com\"]\n",
			                       i);
		n = load(more, &q, &e);
		if (!ok(n == 1 && e.n == 1 && strstr(e.v[0], "more than 32 [origin") != NULL,
		        "more than %d [origin] sections are refused", POLICY_ORIGINS_MAX))
			dump(&e);
		release(q);
		strlist_free(&e);
		free(text);
		free(more);
	}
}

/* Many problems at once: all reported, each naming its section and key,
 * in file order for the scan and table order for values. */
static void test_many(void)
{
	static const char changes[] = "[gateway]\n"
	                              "base_path = api\n"
	                              "[vault]\n"
	                              "url = http://vault.example.com\n"
	                              "timeout_ms = 12abc\n"
	                              "[identity]\n"
	                              "method = sometimes\n"
	                              "[cors]\n"
	                              "allowed_origins = * null\n"
	                              "allow_credentials = yolo\n"
	                              "max_age = 86401\n"
	                              "[secrets]\n"
	                              "allow = a.b\n"
	                              "[cache]\n"
	                              "ttl = -1\n"
	                              "[extra]\n"
	                              "x = 1\n";
	char want[10][512];
	struct strlist e = {0};
	struct policy *p;
	size_t nwant = sizeof(want) / sizeof(want[0]);
	char *text;
	bool all = true;
	int n;

	snprintf(want[0], sizeof(want[0]),
	         "[extra]: unknown section (line %d); the sections are gateway, vault, identity, "
	         "cors, secrets, cache, callers, limits and audit, with [origin \"…\"] and "
	         "[grant NAME]",
	         line_in(changes, "[extra]"));
	snprintf(want[1], sizeof(want[1]),
	         "[gateway] base_path: \"api\" must start with '/', as in /api");
	snprintf(
	    want[2], sizeof(want[2]),
	    "[vault] url: \"http://vault.example.com\" may use http:// only to a loopback host "
	    "(127.0.0.1, [::1], localhost): use https://");
	snprintf(want[3], sizeof(want[3]),
	         "[vault] timeout_ms: \"12abc\" is not an integer in 100-600000");
	snprintf(want[4], sizeof(want[4]),
	         "[identity] method: \"sometimes\" is not one of auto, client_secret, "
	         "client_certificate, workload_identity, managed_identity");
	snprintf(
	    want[5], sizeof(want[5]),
	    "[cors] allowed_origins: \"null\" cannot be allowed: sandboxed frames and file: pages "
	    "all send \"null\", so allowing it would let any site read");
	snprintf(want[6], sizeof(want[6]),
	         "[cors] allow_credentials: \"yolo\" is not a boolean: true or false (or yes/no, "
	         "on/off)");
	snprintf(want[7], sizeof(want[7]),
	         "[cors] max_age: \"86401\" is not an integer in 0-86400");
	snprintf(
	    want[8], sizeof(want[8]),
	    "[secrets] allow: \"a.b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?");
	snprintf(want[9], sizeof(want[9]), "[cache] ttl: \"-1\" is not an integer in 0-86400");

	n = load_with(changes, &p, &e);
	for (size_t i = 0; i < nwant && i < e.n; i++) {
		char line[LINE_SIZE];

		snprintf(line, sizeof(line), "%s: %s", ini, want[i]);
		all = all && strcmp(e.v[i], line) == 0;
	}
	ok(n == (int)nwant && e.n == nwant && all && no_policy(p),
	   "ten problems in six sections: all ten reported, in order, as FILE: [section] key: ...");
	if (!all || e.n != nwant)
		dump(&e);
	release(p);
	strlist_free(&e);

	n = load_with("[cors]\nallowed_origins = *\nallowed_headers = *\nallow_credentials = true\n"
	              "[identity]\nmethod = client_secret\n",
	              &p, &e);
	ok(n == 5 && e.n == 5 && no_policy(p),
	   "rules between keys all reported too: 2 CORS + 3 identity");
	if (n != 5)
		dump(&e);
	release(p);
	strlist_free(&e);

	text =
	    with_tail("[vault]\nurl = https://v.vault.azure.net\nurl = https://w.vault.azure.net\n"
	              "[cache]\nttl = \"6\nttl2 = x\n",
	              "[vault]\nbogus = 1\n");
	n = load(text, &p, &e);
	{
		char l[5][512];
		int vault2 = POLICY_INI_LINES + 3; /* two lines added, then [vault] again */

		snprintf(
		    l[0], sizeof(l[0]),
		    "[vault] url: set twice (lines %d and %d); iniparser would silently use the "
		    "last",
		    policy_ini_line(text, "url = https://v."),
		    policy_ini_line(text, "url = https://w."));
		snprintf(
		    l[1], sizeof(l[1]),
		    "[vault]: the section appears twice (lines %d and %d); iniparser would merge "
		    "them, so write each section once",
		    policy_ini_line(text, "[vault]"), vault2);
		snprintf(
		    l[2], sizeof(l[2]),
		    "[vault] bogus: unknown key (line %d); [vault] has url, api_version, ca_file, "
		    "timeout_ms, max_retries, deadline_ms, verify_challenge_resource, fetcher",
		    vault2 + 1);
		snprintf(l[3], sizeof(l[3]),
		         "[cache] ttl: the value on line %d has no closing double quote",
		         policy_ini_line(text, "ttl ="));
		snprintf(l[4], sizeof(l[4]),
		         "[cache] ttl2: unknown key (line %d); [cache] has ttl, "
		         "negative_ttl, stale_if_error, max_entries, shared",
		         policy_ini_line(text, "ttl2"));
		ok(n == 5 && e.n == 5 && has(&e, l[0]) && has(&e, l[1]) && has(&e, l[2]) &&
		       has(&e, l[3]) && has(&e, l[4]),
		   "structural problems are all reported together, with line numbers");
	}
	if (n != 5)
		dump(&e);
	release(p);
	strlist_free(&e);
	free(text);
}

/* The "missing" line for key k, as policy.c words it, spelled out here. */
static void missing_line(char *out, size_t len, const char *section, const char *key,
                         const char *value)
{
	snprintf(out, len, "[%s] %s: missing; add `%s =%s%s`", section, key, key, *value ? " " : "",
	         value);
}

/*
 * design.md: "Sections and keys that must exist". Each is required in the
 * file: a key left out is an error naming section and key, saying what to
 * write; no documented value is ever applied silently. Keys issues add
 * later (paging_key_file) stay optional.
 */
static void test_required(void)
{
	/* design.md's list, by hand (the contract, not the table), with what
	 * each missing line suggests: design.md's values, the vault's
	 * placeholder, and a narrow allow (`*` would expose every secret). */
	static const char *const contract[][3] = {
	    {"gateway", "base_path", "/api"},
	    {"gateway", "public_url", ""},
	    {"vault", "url", "https://NAME.vault.azure.net"},
	    {"vault", "api_version", "7.6"},
	    {"vault", "ca_file", ""},
	    {"vault", "timeout_ms", "5000"},
	    {"vault", "max_retries", "3"},
	    {"identity", "method", "auto"},
	    {"identity", "tenant_id", ""},
	    {"identity", "client_id", ""},
	    {"identity", "client_secret_file", ""},
	    {"identity", "authority_host", "https://login.microsoftonline.com"},
	    {"cors", "allowed_origins", ""},
	    {"cors", "allowed_methods", "GET HEAD"},
	    {"cors", "allowed_headers", ""},
	    {"cors", "expose_headers", ""},
	    {"cors", "allow_credentials", "false"},
	    {"cors", "max_age", "600"},
	    {"secrets", "allow", "spa-*"},
	    {"secrets", "deny", ""},
	    {"cache", "ttl", "60"},
	};
	size_t ncontract = sizeof(contract) / sizeof(contract[0]);
	struct strlist e = {0};
	struct policy *p;
	char changes[256], want[512], sect[LINE_SIZE];
	bool fine = true;
	int n;

	/* The table agrees with design.md: its keys required, the others not. */
	for (size_t i = 0; i < NKEYS; i++) {
		bool in_contract = false;

		for (size_t c = 0; c < ncontract; c++)
			in_contract =
			    in_contract || (strcmp(contract[c][0], keys[i].section) == 0 &&
			                    strcmp(contract[c][1], keys[i].name) == 0);
		if (in_contract == keys[i].optional) {
			printf("#   [%s] %s should be %s\n", keys[i].section, keys[i].name,
			       in_contract ? "required" : "optional");
			fine = false;
		}
	}
	for (size_t c = 0; c < ncontract; c++)
		fine = fine && key_index(contract[c][0], contract[c][1]) >= 0;
	ok(fine, "every key design.md lists is required; every key added since is optional");
	ok(key_index("gateway", "paging_key_file") >= 0 &&
	       keys[key_index("gateway", "paging_key_file")].optional,
	   "[gateway] paging_key_file (added by an issue) is optional");

	/* Each required key left out: one line, naming section and key, with
	 * the line to add. */
	for (size_t c = 0; c < ncontract; c++) {
		snprintf(changes, sizeof(changes), "[%s]\n!%s\n", contract[c][0], contract[c][1]);
		missing_line(want, sizeof(want), contract[c][0], contract[c][1], contract[c][2]);
		bad("a required key left out", changes, "%s", want);
	}

	/* ... also where a rule between keys would have said it: no second
	 * line for the same key. */
	n = load_with("[identity]\nmethod = client_secret\n!tenant_id\n", &p, &e);
	ok(n == 3 && no_policy(p) && has(&e, "[identity] tenant_id: missing; add `tenant_id =`") &&
	       has(&e, "[identity] client_id: is required when method = client_secret (or set "
	               "AZURE_CLIENT_ID)") &&
	       has(&e, "[identity] client_secret_file: is required when method = client_secret "
	               "(or set AZURE_CLIENT_SECRET)"),
	   "tenant_id left out with method = client_secret: reported once, as missing");
	if (n != 3)
		dump(&e);
	release(p);
	strlist_free(&e);

	/* A section left out: the section, then each of its keys. */
	n = load_with("![cache]\n", &p, &e);
	snprintf(sect, sizeof(sect), "%s: [cache]: missing section; add it, with each of its keys",
	         ini);
	missing_line(want, sizeof(want), "cache", "ttl", "60");
	ok(n == 2 && e.n == 2 && no_policy(p) && strcmp(e.v[0], sect) == 0 && has(&e, want),
	   "[cache] left out: \"[cache]: missing section\", then \"[cache] ttl: missing\"");
	if (n != 2)
		dump(&e);
	release(p);
	strlist_free(&e);

	n = load_with("![cors]\n", &p, &e);
	fine = n == 7 && e.n == 7 && no_policy(p);
	snprintf(sect, sizeof(sect), "%s: [cors]: missing section; add it, with each of its keys",
	         ini);
	fine = fine && strcmp(e.v[0], sect) == 0;
	for (size_t c = 12, k = 1; fine && c < 18; c++, k++) {
		char line[LINE_SIZE];

		missing_line(want, sizeof(want), contract[c][0], contract[c][1], contract[c][2]);
		snprintf(line, sizeof(line), "%s: %s", ini, want);
		fine = strcmp(e.v[k], line) == 0;
	}
	ok(fine, "[cors] left out: the section, then its six keys, in order: 7 lines");
	if (!fine)
		dump(&e);
	release(p);
	strlist_free(&e);

	/* The reason this is so: no [secrets] used to mean allow = *. */
	n = load_with("![secrets]\n", &p, &e);
	ok(n == 3 && e.n == 3 && no_policy(p) &&
	       has(&e, "[secrets]: missing section; add it, with each of its keys") &&
	       has(&e, "[secrets] allow: missing; add `allow = spa-*`") &&
	       has(&e, "[secrets] deny: missing; add `deny =`"),
	   "no [secrets] section is refused, never read as allow = * (which would expose every "
	   "secret in the vault)");
	if (n != 3)
		dump(&e);
	release(p);
	strlist_free(&e);
	n = load_with("[secrets]\n!allow\n", &p, &e);
	ok(n == 1 && no_policy(p) && has(&e, "[secrets] allow: missing; add `allow = spa-*`"),
	   "[secrets] without allow is refused, never read as allow = * (exposing every secret)");
	release(p);
	strlist_free(&e);
	p = good("[secrets] allow as the message suggests", "[secrets]\nallow = spa-*\n");
	ok(p != NULL && exposure_name_visible(policy_secrets(p), "spa-x") &&
	       !exposure_name_visible(policy_secrets(p), "db-x"),
	   "allow = spa-* exposes spa-* names only");
	policy_free(p);

	/* Empty values stay fine where the documented value is empty. */
	p = good("public_url, ca_file, tenant_id, client_id, client_secret_file, allowed_origins, "
	         "allowed_headers, expose_headers, deny written empty",
	         "");
	policy_free(p);

	/* The optional key: absent, empty or set. */
	p = good("paging_key_file left out", "");
	ok(p != NULL && strcmp(policy_gateway(p)->paging_key_file, "") == 0,
	   "paging_key_file left out: its default, empty");
	policy_free(p);
	p = good("paging_key_file written empty", "[gateway]\npaging_key_file =\n");
	policy_free(p);
	puts_file(tmp("paging.key"), "0123456789abcdef0123456789abcdef");
	p = good("paging_key_file set", "[gateway]\npaging_key_file = paging.key\n");
	ok(p != NULL && strcmp(policy_gateway(p)->paging_key_file, tmp("paging.key")) == 0,
	   "paging_key_file set: resolved next to the INI");
	policy_free(p);

	/* Everything missing at once: an empty file, a file of comments. */
	for (int pass = 0; pass < 2; pass++) {
		size_t nsec = 0, k = 0;
		const char *last = "";

		n = load(pass == 0 ? "" : "; only a comment\n\n# and another\n", &p, &e);
		fine = no_policy(p);
		for (size_t c = 0; c < ncontract && fine; c++) {
			char line[LINE_SIZE];

			if (strcmp(last, contract[c][0]) != 0) {
				last = contract[c][0];
				nsec++;
				snprintf(line, sizeof(line),
				         "%s: [%s]: missing section; add it, with each of its keys",
				         ini, last);
				fine = k < e.n && strcmp(e.v[k++], line) == 0;
			}
			missing_line(want, sizeof(want), contract[c][0], contract[c][1],
			             contract[c][2]);
			snprintf(line, sizeof(line), "%s: %s", ini, want);
			fine = fine && k < e.n && strcmp(e.v[k++], line) == 0;
		}
		/* design.md's six sections; those issues added (callers,
		 * limits, audit) hold only optional keys, so are never missing. */
		fine = fine && nsec == 6 && n == (int)(6 + ncontract) && e.n == 6 + ncontract;
		ok(fine,
		   "%s: all 6 sections and 21 keys reported missing, each section before its "
		   "keys: 27 lines",
		   pass == 0 ? "an empty file" : "a file of comments");
		if (!fine)
			dump(&e);
		release(p);
		strlist_free(&e);
	}

	/* Missing keys in several sections, with bad values and unknown keys:
	 * all reported together. */
	{
		static const char c[] = "[gateway]\n!public_url\n[vault]\n!timeout_ms\n"
		                        "max_retries = 11\n[identity]\n!authority_host\n[cors]\n"
		                        "!max_age\nmax_agee = 5\n![cache]\n";

		n = load_with(c, &p, &e);
		snprintf(
		    want, sizeof(want),
		    "[cors] max_agee: unknown key (line %d); [cors] has allowed_origins, "
		    "allowed_methods, allowed_headers, expose_headers, allow_credentials, max_age, "
		    "allow_private_network, terminate_unmatched",
		    line_in(c, "max_agee"));
	}
	ok(n == 8 && e.n == 8 && no_policy(p) && has(&e, want) &&
	       has(&e, "[gateway] public_url: missing; add `public_url =`") &&
	       has(&e, "[vault] timeout_ms: missing; add `timeout_ms = 5000`") &&
	       has(&e, "[vault] max_retries: \"11\" is not an integer in 0-10") &&
	       has(&e, "[identity] authority_host: missing; add `authority_host = "
	               "https://login.microsoftonline.com`") &&
	       has(&e, "[cors] max_age: missing; add `max_age = 600`") &&
	       has(&e, "[cache]: missing section; add it, with each of its keys") &&
	       has(&e, "[cache] ttl: missing; add `ttl = 60`"),
	   "keys missing from five sections, a bad value and an unknown key: all 8 reported");
	if (n != 8)
		dump(&e);
	release(p);
	strlist_free(&e);
}

/* Every key of the table appears in text (scanned as an INI file). */
static bool all_keys_present(const char *text, const char *name)
{
	struct load ld;
	bool all = true;

	memset(&ld, 0, sizeof(ld));
	ld.path = name;
	scan(&ld, text, strlen(text));
	for (size_t i = 0; i < NKEYS; i++) {
		if (ld.key_line[i] == 0) {
			printf("#   %s lacks [%s] %s\n", name, keys[i].section, keys[i].name);
			all = false;
		}
	}
	return all && ld.count == 0;
}

/* The shipped files: etc/kvgate.ini and etc/kvgate-dev.ini load, hold
 * every key, and README.md documents every key. */
static void test_shipped(void)
{
	struct strlist e = {0};
	struct policy *p;
	char path[PATH_MAX + 64];
	char *text;
	int n;

	snprintf(path, sizeof(path), "%s/etc/kvgate.ini", root);
	if ((text = slurp(path)) == NULL) {
		ok(0, "read %s (set KVGATE_SRCDIR to the source tree)", path);
		return;
	}
	ok(all_keys_present(text, "etc/kvgate.ini"), "etc/kvgate.ini sets every key of the table");
	mkdir(tmp("prod"), 0700);
	puts_file(tmp("prod/kvgate.ini"), text);
	free(text);
	p = (struct policy *)dir;
	n = policy_load(tmp("prod/kvgate.ini"), &p, &e);
	ok(n == 0 && p != NULL, "etc/kvgate.ini loads as shipped");
	dump(&e);
	if (n == 0) {
		ok(strcmp(policy_vault(p)->url, "https://replace-me.vault.azure.net") == 0,
		   "its vault url is a placeholder to replace");
		ok(policy_identity(p)->method == IDENTITY_AUTO &&
		       policy_identity(p)->client_secret == NULL,
		   "it names no credential: method auto, the secret from the environment");
	}
	release(p);
	strlist_free(&e);

	snprintf(path, sizeof(path), "%s/etc/kvgate-dev.ini", root);
	if ((text = slurp(path)) == NULL) {
		ok(0, "read %s", path);
		return;
	}
	ok(all_keys_present(text, "etc/kvgate-dev.ini"), "etc/kvgate-dev.ini sets every key");
	mkdir(tmp("dev"), 0700);
	puts_file(tmp("dev/kvgate.ini"), text);
	free(text);
	puts_file(tmp("dev/ca.pem"), "-----BEGIN CERTIFICATE-----\n");
	puts_file(tmp("dev/client-secret"), "dev-secret\n");
	p = (struct policy *)dir;
	n = policy_load(tmp("dev/kvgate.ini"), &p, &e);
	ok(n == 0 && p != NULL, "etc/kvgate-dev.ini loads next to ca.pem and client-secret");
	dump(&e);
	if (n == 0) {
		const struct policy_identity *id = policy_identity(p);
		const struct policy_cors *c = policy_cors(p);

		ok(strcmp(policy_vault(p)->url, "https://127.0.0.1:8443") == 0 &&
		       strcmp(policy_vault(p)->ca_file, tmp("dev/ca.pem")) == 0,
		   "dev: the dev vault's URL and its CA, resolved next to the INI");
		ok(id->method == IDENTITY_CLIENT_SECRET &&
		       strcmp(id->tenant_id, "00000000-0000-4000-8000-00000000a11e") == 0 &&
		       strcmp(id->client_id, "00000000-0000-4000-8000-0000000c11e7") == 0 &&
		       strcmp(id->client_secret, "dev-secret") == 0 &&
		       strcmp(id->authority_host, "https://127.0.0.1:8443") == 0,
		   "dev: client_secret identity against the dev vault's token endpoint");
		ok(c->allowed_origins.n == 2 &&
		       strlist_contains(&c->allowed_origins, "http://127.0.0.1:8081") &&
		       strlist_contains(&c->allowed_origins, "http://localhost:8081") &&
		       strlist_contains(&c->allowed_headers, "x-ms-client-request-id") &&
		       c->allowed_methods.n == 2 && c->max_age == 600 && !c->allow_credentials,
		   "dev: CORS for the second demo origin");
		ok(exposure_name_visible(policy_secrets(p), "public-greeting") &&
		       exposure_name_visible(policy_secrets(p), "demo-1") &&
		       !exposure_name_visible(policy_secrets(p), "public-db-internal") &&
		       !exposure_name_visible(policy_secrets(p), "admin-demo") &&
		       !exposure_name_visible(policy_secrets(p), "other"),
		   "dev: public-* and demo-* visible, *-internal and admin-* hidden");
		ok(policy_cache(p)->ttl == 60, "dev: ttl 60");
	}
	release(p);
	strlist_free(&e);

	snprintf(path, sizeof(path), "%s/README.md", root);
	if ((text = slurp(path)) == NULL) {
		ok(0, "read %s", path);
		return;
	}
	{
		bool all = true;

		bool marked = true;

		for (size_t i = 0; i < NKEYS; i++) {
			char row[128];
			const char *at, *end;

			snprintf(row, sizeof(row), "| `%s` |", keys[i].name);
			if ((at = strstr(text, row)) == NULL) {
				printf("#   README.md lacks a row for %s\n", keys[i].name);
				all = false;
				continue;
			}
			end = strchr(at, '\n');
			if (end == NULL)
				end = at + strlen(at);
			if ((memmem(at, (size_t)(end - at), "**optional**", 12) != NULL) !=
			    keys[i].optional) {
				printf("#   README.md's row for %s should%s say **optional**\n",
				       keys[i].name, keys[i].optional ? "" : " not");
				marked = false;
			}
		}
		for (size_t i = 0; i < NSECTIONS; i++) {
			char head[64];

			snprintf(head, sizeof(head), "### [%s]", sections[i]);
			if (strstr(text, head) == NULL) {
				printf("#   README.md lacks %s\n", head);
				all = false;
			}
		}
		ok(all, "README.md has a heading per section and a row per key");
		ok(marked, "README.md marks the optional keys **optional**, and only those");
		ok(strstr(text, "Every key listed below is required") != NULL,
		   "README.md says every key is required unless marked optional");
	}
	free(text);
}

/* The table itself: sections known, keys unique, every optional key has a
 * default; the documented values are policy_ini.h's (test_documented loads
 * them all) and every value a message suggests loads. */
static void test_table(void)
{
	bool fine = true, base = true;
	struct policy *p;
	char changes[256];

	for (size_t i = 0; i < NKEYS; i++) {
		fine = fine && section_index(keys[i].section) >= 0 &&
		       key_index(keys[i].section, keys[i].name) == (int)i &&
		       ((keys[i].type != KEY_STRING && keys[i].type != KEY_LIST) ||
		        keys[i].check != NULL) &&
		       (keys[i].type != KEY_ENUM || keys[i].names != NULL) &&
		       (!keys[i].optional || keys[i].def != NULL) &&
		       (keys[i].def != NULL || keys[i].example != NULL);
	}
	ok(fine, "key table: known sections, unique keys, a check for every string and list, a "
	         "default for every optional key, something to suggest for every key");

	for (size_t i = 0; i < NKEYS; i++) {
		bool found = false;

		for (size_t b = 0; b < POLICY_INI_NKEYS; b++) {
			if (strcmp(policy_ini_base[b][0], keys[i].section) != 0 ||
			    strcmp(policy_ini_base[b][1], keys[i].name) != 0)
				continue;
			found = true;
			if (keys[i].def != NULL &&
			    strcmp(policy_ini_base[b][2], keys[i].def) != 0) {
				printf("#   policy_ini.h has [%s] %s = %s, the table %s\n",
				       keys[i].section, keys[i].name, policy_ini_base[b][2],
				       keys[i].def);
				base = false;
			}
		}
		if (found == keys[i].optional) {
			printf("#   policy_ini.h should%s write [%s] %s\n", found ? " not" : "",
			       keys[i].section, keys[i].name);
			base = false;
		}
	}
	ok(base && POLICY_INI_NKEYS + optional_keys() == NKEYS,
	   "policy_ini.h writes every required key at the table's documented value, and no "
	   "optional key");

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].example == NULL)
			continue;
		snprintf(changes, sizeof(changes), "[%s]\n%s = %s\n", keys[i].section, keys[i].name,
		         keys[i].example);
		p = good("a suggested value", changes);
		policy_free(p);
	}
}

/* [callers], [grant NAME], [limits], [audit] (issue 7): every key read,
 * every rule between them refused with its section and key named, and the
 * grants applied by exposure_for() to a caller. */
static void test_callers(void)
{
	struct policy *p;
	struct exposure_rules rules;
	struct caller who;
	const struct policy_grant *g;
	char changes[1600];

	p = good("no [callers]: off", "");
	ok(p != NULL && !policy_callers_on(p) && policy_grant(p, 0) == NULL &&
	       strcmp(policy_callers(p)->api_key_header, "Ocp-Apim-Subscription-Key") == 0 &&
	       policy_callers(p)->jwt_clock_skew == 300 &&
	       policy_limits(p)->requests_per_minute == 0 && policy_audit(p)->enabled,
	   "left out: no caller authentication, no limit, audit on");
	if (p != NULL) {
		memset(&who, 0, sizeof(who));
		who.anonymous = true;
		exposure_for(p, NULL, &who, &rules);
		ok(!rules.s.grants_apply && exposure_name_visible(&rules.s, "spa-x"),
		   "off: [secrets] alone decides");
	}
	policy_free(p);

	puts_file(tmp("keys"),
	          "spa 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
	snprintf(
	    changes, sizeof(changes),
	    "[secrets]\nallow = spa-* pub-*\n"
	    "[callers]\nmode = jwt, api_key none\napi_keys_file = keys\n"
	    "api_key_header = X-Api-Key\n"
	    "jwt_openid_config = https://login.microsoftonline.com/t/v2.0/.well-known/"
	    "openid-configuration\n"
	    "jwt_issuer = https://login.microsoftonline.com/t/v2.0 https://sts.windows.net/t/\n"
	    "jwt_audience = api://kvgate\njwt_clock_skew = 60\n"
	    "jwt_required_scopes = Secrets.Read\n"
	    "[grant Readers]\nwho = scope:Secrets.Read, user:alice@example.com\n"
	    "allow = spa-*\ndeny = spa-admin-*\n"
	    "[grant  public]\nwho = anonymous\nallow = pub-*\n"
	    "[limits]\nrequests_per_minute = 120\n[audit]\nenabled = false\n");
	p = good("every [callers] key, two grants, limits, audit", changes);
	ok(p != NULL && policy_callers_on(p) && policy_callers(p)->nmodes == 3 &&
	       policy_callers(p)->modes[0] == CALLERS_JWT &&
	       policy_callers(p)->modes[1] == CALLERS_API_KEY &&
	       policy_callers(p)->modes[2] == CALLERS_NONE &&
	       strcmp(policy_callers(p)->api_keys_file, tmp("keys")) == 0 &&
	       strcmp(policy_callers(p)->api_key_header, "X-Api-Key") == 0 &&
	       policy_callers(p)->jwt_issuer.n == 2 && policy_callers(p)->jwt_clock_skew == 60 &&
	       policy_limits(p)->requests_per_minute == 120 && !policy_audit(p)->enabled,
	   "the modes in order, the key file resolved next to the INI, the jwt keys");
	g = p ? policy_grant(p, 0) : NULL;
	ok(g != NULL && strcmp(g->name, "Readers") == 0 && g->who.n == 2 && g->allow.n == 1 &&
	       g->deny.n == 1 && policy_grant(p, 1) != NULL &&
	       strcmp(policy_grant(p, 1)->name, "public") == 0 && policy_grant(p, 1)->deny.n == 0 &&
	       policy_grant(p, 2) == NULL,
	   "[grant NAME] sections in file order, deny optional");
	if (p != NULL) {
		memset(&who, 0, sizeof(who));
		who.anonymous = true;
		exposure_for(p, NULL, &who, &rules);
		ok(rules.s.grants_apply && rules.s.ngrants == 1 &&
		       exposure_name_visible(&rules.s, "pub-a") &&
		       !exposure_name_visible(&rules.s, "spa-a"),
		   "an anonymous caller holds the anonymous grant only");
		memset(&who, 0, sizeof(who));
		who.mode = CALLERS_API_KEY;
		snprintf(who.name, sizeof(who.name), "spa");
		exposure_for(p, NULL, &who, &rules);
		ok(rules.s.ngrants == 0 && !exposure_name_visible(&rules.s, "pub-a"),
		   "a caller no grant names sees nothing");
	}
	policy_free(p);

	bad("an unknown mode", "[callers]\nmode = oauth\n",
	    "[callers] mode: \"oauth\" is not a caller mode: none, web_server, api_key or jwt");
	bad("a mode twice", "[callers]\nmode = none none\n", "[callers] mode: names none twice");
	bad("api_key without a keys file", "[callers]\nmode = api_key\n",
	    "[callers] api_keys_file: is required when mode has api_key (lines of NAME "
	    "SHA256-HEX)");
	bad("jwt with neither key source",
	    "[callers]\nmode = jwt\njwt_issuer = https://i/\njwt_audience = a\n",
	    "[callers] jwt_openid_config: mode has jwt: set exactly one of jwt_openid_config "
	    "(the issuer's metadata URL) and jwt_jwks_file");
	bad("jwt without an issuer",
	    "[callers]\nmode = jwt\njwt_jwks_file = keys\njwt_audience = a\n",
	    "[callers] jwt_issuer: is required when mode has jwt, as in "
	    "https://login.microsoftonline.com/TENANT/v2.0");
	bad("jwt without an audience",
	    "[callers]\nmode = jwt\njwt_jwks_file = keys\njwt_issuer = https://i/\n",
	    "[callers] jwt_audience: is required when mode has jwt: the API's application ID URI "
	    "or client id");
	bad("metadata over plain http to another host",
	    "[callers]\njwt_openid_config = http://login.example.com/.well-known/x\n",
	    "[callers] jwt_openid_config: \"http://login.example.com/.well-known/x\" may use "
	    "plain http:// only to loopback or 169.254.169.254 (IMDS)");
	bad("metadata over plain http to IMDS",
	    "[callers]\njwt_openid_config = http://169.254.169.254/x\n",
	    "[callers] jwt_openid_config: \"http://169.254.169.254/x\" may use plain http:// only "
	    "to a loopback host: use https://");
	bad("a key header that is `*`", "[callers]\napi_key_header = *\n",
	    "[callers] api_key_header: \"*\" must name one header");
	bad("a clock skew over an hour", "[callers]\njwt_clock_skew = 3601\n",
	    "[callers] jwt_clock_skew: \"3601\" is not an integer in 0-3600");
	bad("a negative limit", "[limits]\nrequests_per_minute = -1\n",
	    "[limits] requests_per_minute: \"-1\" is not an integer in 0-1000000");
	bad("audit not a boolean", "[audit]\nenabled = 1\n",
	    "[audit] enabled: \"1\" is not a boolean: true or false (or yes/no, on/off)");
	bad("a grant without [callers]", "[grant a]\nwho = anonymous\nallow = *\n",
	    "[grant a]: grants apply only with caller authentication; set [callers] mode "
	    "(line %d)",
	    line_in("[grant a]\nwho = anonymous\nallow = *\n", "[grant a]"));
	bad("a grant without who", "[callers]\nmode = none\n[grant a]\nallow = *\n",
	    "[grant a] who: missing; add `who = user:NAME`");
	bad("a grant without allow", "[callers]\nmode = none\n[grant a]\nwho = anonymous\n",
	    "[grant a] allow: missing; add `allow = spa-*`");
	bad("a grant's unknown key",
	    "[callers]\nmode = none\n[grant a]\nwho = anonymous\nallow = *\nx = 1\n",
	    "[grant a] x: unknown key (line %d); a [grant NAME] section has who, allow, deny",
	    line_in("[callers]\nmode = none\n[grant a]\nwho = anonymous\nallow = *\nx = 1\n",
	            "x = 1"));
	bad("a bad who item", "[callers]\nmode = none\n[grant a]\nwho = everyone\nallow = *\n",
	    "[grant a] who: \"everyone\" is not anonymous, authenticated, or user:, group:, role:, "
	    "scope:, key: or app: followed by a value");
	bad("anonymous without none",
	    "[callers]\nmode = web_server\n[grant a]\nwho = anonymous\nallow = *\n",
	    "[grant a] who: \"anonymous\": anonymous needs none in [callers] mode");
	bad("key: without api_key",
	    "[callers]\nmode = web_server\n[grant a]\nwho = key:x\nallow = *\n",
	    "[grant a] who: \"key:x\": key: needs api_key in [callers] mode");
	bad("role: without jwt",
	    "[callers]\nmode = web_server\n[grant a]\nwho = role:x\nallow = *\n",
	    "[grant a] who: \"role:x\": group:, role:, scope: and app: need jwt in [callers] "
	    "mode");
	bad("a bad allow glob", "[callers]\nmode = none\n[grant a]\nwho = anonymous\nallow = a_b\n",
	    "[grant a] allow: \"a_b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?");
	bad("a grant name that is not a name", "[callers]\nmode = none\n[grant a/b]\n",
	    "line %d: \"[grant a/b]\" is not a valid grant section header; write [grant NAME], "
	    "NAME being 1-64 of A-Z a-z 0-9 _ . -",
	    line_in("[callers]\nmode = none\n[grant a/b]\n", "[grant a/b]"));
	snprintf(changes, sizeof(changes),
	         "[callers]\nmode = none\n[grant a]\nwho = anonymous\nallow = *\n[grant A]\nwho = "
	         "anonymous\nallow = *\n");
	bad("a grant twice (ignoring case)", changes,
	    "[grant a]: the section appears twice (lines %d and %d); iniparser would merge "
	    "them, so write each section once",
	    line_in(changes, "[grant a]"), line_in(changes, "[grant A]"));
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/kvgate-test-policy-XXXXXX", exe[PATH_MAX], *slash;
	const char *src = getenv("KVGATE_SRCDIR");

	(void)argc;
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_CLIENT_SECRET");
	if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(ini, sizeof(ini), "%s/test.ini", dir);
	/* The source tree: KVGATE_SRCDIR, else three levels above
	 * build/tests/test_policy. */
	if (src != NULL) {
		snprintf(root, sizeof(root), "%s", src);
	} else if (realpath(argv[0], exe) != NULL) {
		for (int i = 0; i < 3 && (slash = strrchr(exe, '/')) != NULL; i++)
			*slash = '\0';
		snprintf(root, sizeof(root), "%s", exe[0] ? exe : "/");
	} else {
		snprintf(root, sizeof(root), ".");
	}

	test_table();
	test_documented();
	test_full();
	test_design_example();
	test_file_level();
	test_structure();
	test_quoting();
	test_lex_matches_iniparser();
	test_iniparser_quiet();
	test_ints();
	test_bools_enums();
	test_gateway();
	test_vault();
	test_identity();
	test_cors();
	test_cors_patterns();
	test_secrets();
	test_secrets_keys();
	test_origins();
	test_callers();
	test_many();
	test_required();
	test_shipped();

	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
