/*
 * test_policy.c: the policy INI loader. Every rule of README.md
 * and every error path of policy_load() that a file can reach: each case
 * writes an INI file into a temporary directory, loads it, and compares the
 * exact error lines ("FILE: [section] key: message"). policy.c is included
 * to reach its scanner, so the test can also pin that the scanner and
 * iniparser read every accepted value the same way.
 */
#include "../../lib/policy.c"

#include <limits.h>

#include "tap.h"

#define VAULT "[vault]\nurl = https://v.vault.azure.net\n"
#define LINE_SIZE (3 * PATH_MAX) /* an expected error line */

static char dir[PATH_MAX];      /* the temporary directory, canonical */
static char ini[PATH_MAX + 16]; /* dir/test.ini, the file most cases load */
static char root[PATH_MAX];     /* the source tree, for etc/ and README.md */

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
__attribute__((format(printf, 3, 4))) static void bad(const char *what, const char *text,
                                                      const char *fmt, ...)
{
	struct strlist e = {0};
	struct policy *p;
	char want[2048], line[LINE_SIZE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s: %s", ini, want);
	n = load(text, &p, &e);
	if (!ok(n == 1 && e.n == 1 && no_policy(p) && strcmp(e.v[0], line) == 0, "%s: %s", what,
	        want))
		dump(&e);
	release(p);
	strlist_free(&e);
}

/* Whether some error line is exactly "INI: want". */
static bool has(const struct strlist *e, const char *want)
{
	char line[LINE_SIZE];

	snprintf(line, sizeof(line), "%s: %s", ini, want);
	return strlist_contains(e, line);
}

/* Expect text to load; returns the policy (caller frees) or NULL. */
static struct policy *good(const char *what, const char *text)
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

/* ---- Valid files and defaults. ---- */

static void test_minimal(void)
{
	struct policy *p = good("a minimal file, only [vault] url", VAULT);
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
	ok(strcmp(g->base_path, "/api") == 0, "default [gateway] base_path = /api");
	ok(strcmp(g->public_url, "") == 0, "default [gateway] public_url is empty");
	ok(strcmp(v->url, "https://v.vault.azure.net") == 0, "[vault] url as written");
	ok(strcmp(v->api_version, "7.6") == 0, "default [vault] api_version = 7.6");
	ok(strcmp(v->ca_file, "") == 0, "default [vault] ca_file is empty");
	ok(v->timeout_ms == 5000, "default [vault] timeout_ms = 5000");
	ok(v->max_retries == 3, "default [vault] max_retries = 3");
	ok(id->method == IDENTITY_AUTO, "default [identity] method = auto");
	ok(strcmp(id->tenant_id, "") == 0 && strcmp(id->client_id, "") == 0,
	   "default [identity] tenant_id and client_id are empty");
	ok(strcmp(id->client_secret_file, "") == 0 && id->client_secret == NULL,
	   "default [identity] client_secret_file is empty, and no secret is held");
	ok(strcmp(id->authority_host, "https://login.microsoftonline.com") == 0,
	   "default [identity] authority_host = https://login.microsoftonline.com");
	ok(c->allowed_origins.n == 0 && !c->any_origin, "default [cors] allowed_origins is empty");
	ok(c->allowed_methods.n == 2 && strcmp(c->allowed_methods.v[0], "GET") == 0 &&
	       strcmp(c->allowed_methods.v[1], "HEAD") == 0,
	   "default [cors] allowed_methods = GET HEAD");
	ok(c->allowed_headers.n == 0 && !c->any_header, "default [cors] allowed_headers is empty");
	ok(c->expose_headers.n == 0, "default [cors] expose_headers is empty");
	ok(!c->allow_credentials, "default [cors] allow_credentials = false");
	ok(c->max_age == 600, "default [cors] max_age = 600");
	ok(s->allow.n == 1 && strcmp(s->allow.v[0], "*") == 0, "default [secrets] allow = *");
	ok(s->deny.n == 0, "default [secrets] deny is empty");
	ok(policy_cache(p)->ttl == 60, "default [cache] ttl = 60");
	ok(policy_secret_visible(p, "anything"), "with the defaults every name is visible");
	policy_free(p);
}

static void test_full(void)
{
	struct policy *p;

	puts_file(tmp("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
	puts_file(tmp("secret"), "\t s3cr3t-value \r\n\n");
	p = good("a full file, every key set",
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
	ok(policy_secret_visible(p, "public-a") && policy_secret_visible(p, "DEMO-B"),
	   "visible: allowed names, in any case");
	ok(!policy_secret_visible(p, "public-a-internal") &&
	       !policy_secret_visible(p, "ADMIN-demo"),
	   "hidden: deny wins over allow, in any case");
	ok(!policy_secret_visible(p, "other"), "hidden: a name no allow pattern matches");
	ok(!policy_secret_visible(NULL, "public-a") && !policy_secret_visible(p, NULL),
	   "visible: false for a NULL policy or name");
	policy_free(p);
}

/* design.md's own example, verbatim but for the vault name: its inline
 * "; comment" style, comment-only continuation lines and empty values. */
static void test_design_example(void)
{
	struct policy *p = good(
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
	char big[POLICY_FILE_MAX + 1100], line[LINE_SIZE];
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

	bad("an empty file", "", "[vault] url: is required, but not set");

	/* Over POLICY_FILE_MAX: many short comment lines. */
	while (n < POLICY_FILE_MAX + 1) {
		memcpy(big + n, "; padding padding padding\n", 26);
		n += 26;
	}
	big[n] = '\0';
	bad("a file over 64 KiB", big, "larger than 65536 bytes");

	/* CRLF line endings are plain line ends. */
	p = good("CRLF line endings",
	         "[vault]\r\nurl = https://v.vault.azure.net\r\n[cache]\r\nttl = 5\r\n");
	ok(p != NULL && policy_cache(p)->ttl == 5, "CRLF: values carry no CR");
	policy_free(p);
	/* No final newline. */
	p = good("no newline at the end", VAULT "[cache]\nttl = 7");
	ok(p != NULL && policy_cache(p)->ttl == 7, "the last line is read without its newline");
	policy_free(p);
}

/* ---- What iniparser would hide or refuse: the scan. ---- */

static void test_structure(void)
{
	struct strlist e = {0};
	struct policy *p;
	char text[2200];
	int n;

	bad("unknown section", VAULT "[foo]\nx = 1\n",
	    "[foo]: unknown section (line 3); the sections are gateway, vault, identity, cors, "
	    "secrets and cache");
	bad("unknown key", VAULT "[cors]\nmax_agee = 5\n",
	    "[cors] max_agee: unknown key (line 4); [cors] has allowed_origins, allowed_methods, "
	    "allowed_headers, expose_headers, allow_credentials, max_age");
	bad("duplicate key", VAULT "[cache]\nttl = 5\nttl = 6\n",
	    "[cache] ttl: set twice (lines 4 and 5); iniparser would silently use the last");
	bad("duplicate section", "[cache]\nttl = 5\n" VAULT "[cache]\n",
	    "[cache]: the section appears twice (lines 1 and 5); iniparser would merge them, so "
	    "write each section once");
	bad("duplicate section, other case", VAULT "[cache]\n[CACHE]\n",
	    "[cache]: the section appears twice (lines 3 and 4); iniparser would merge them, so "
	    "write each section once");
	bad("a line that is not INI", VAULT "just words\n",
	    "line 3: not a [section] header, a key = value line, a comment or a blank line");
	bad("a comment after a section header",
	    "[vault] ; the vault\nurl = https://v.vault.azure.net\n",
	    "line 1: a section header must be alone on its line, as [name] (iniparser allows no "
	    "comment after it)");
	bad("an empty section name", VAULT "[]\n", "line 3: \"[]\" is not a valid section header");
	bad("a section name with a space", VAULT "[a b]\n",
	    "line 3: \"[a b]\" is not a valid section header");
	bad("no key before '='", VAULT "= x\n", "line 3: no key name before '='");
	bad("a key name with a space", VAULT "[cache]\nmax age = 5\n",
	    "line 4: \"max age\" is not a valid key name");
	bad("a key before any section", "top = 1\n" VAULT,
	    "line 1: key \"top\" comes before any [section] header");

	/* A comment ending in '\' swallows the next line in iniparser. */
	n = load("[vault]\n; see C:\\\nurl = https://v.vault.azure.net\n", &p, &e);
	ok(n == 2 && no_policy(p) &&
	       has(&e, "line 2: ends with '\\', which iniparser reads as joining the next line to "
	               "this one; line continuations are not supported") &&
	       has(&e, "[vault] url: is required, but not set"),
	   "a line ending in '\\' is refused (and iniparser indeed hid the url line)");
	if (n != 2)
		dump(&e);
	release(p);
	strlist_free(&e);

	n = load(VAULT "[cache]\nttl = 6\x01\n", &p, &e);
	ok(n == 2 && has(&e, "line 4: holds a control character or NUL byte") &&
	       has(&e, "[cache] ttl: \"6\\x01\" is not an integer in 0-86400"),
	   "a control character is refused, and shown escaped in messages");
	if (n != 2)
		dump(&e);
	release(p);
	strlist_free(&e);

	put(ini, VAULT "[cache]\nttl = 6\0 7\n", sizeof(VAULT "[cache]\nttl = 6\0 7\n") - 1);
	p = (struct policy *)dir;
	n = policy_load(ini, &p, &e);
	ok(n >= 1 && no_policy(p) && has(&e, "line 4: holds a control character or NUL byte"),
	   "a NUL byte is refused");
	release(p);
	strlist_free(&e);

	snprintf(text, sizeof(text), VAULT ";%01000d\n", 0);
	bad("a line over 1000 bytes", text, "line 3: longer than 1000 bytes");
	snprintf(text, sizeof(text), VAULT ";%0999d\n", 0);
	p = good("a line of exactly 1000 bytes", text);
	policy_free(p);

	p = good("section and key names ignore case",
	         "[VAULT]\nURL = https://v.vault.azure.net\n[Cache]\nTtl = 7\n");
	ok(p != NULL && policy_cache(p)->ttl == 7, "[Cache] Ttl is [cache] ttl");
	policy_free(p);
	p = good("white space around names and inside brackets",
	         "  [ vault ]  \n\turl\t=\thttps://v.vault.azure.net\t\n");
	policy_free(p);
}

/* ---- Quoting and inline comments. ---- */

static void test_quoting(void)
{
	struct strlist e = {0};
	struct policy *p;
	int n;

	p = good("double-quoted values, with a comment after",
	         VAULT "[gateway]\nbase_path = \"/v1\" ; quoted\n"
	               "[cors]\nallowed_headers = \"x-a, x-b\"\n"
	               "[secrets]\ndeny = \"\"\n");
	if (p != NULL) {
		ok(strcmp(policy_gateway(p)->base_path, "/v1") == 0,
		   "one pair of quotes is removed");
		ok(policy_cors(p)->allowed_headers.n == 2, "a quoted list is still split");
		ok(policy_secrets(p)->deny.n == 0, "\"\" is an empty value");
	}
	policy_free(p);
	bad("quotes keep white space", VAULT "timeout_ms = \" 5\"\n",
	    "[vault] timeout_ms: \" 5\" is not an integer in 100-600000");
	bad("quotes keep ';'", VAULT "[secrets]\nallow = \"a;b\"\n",
	    "[secrets] allow: \"a;b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?");
	bad("an unterminated quote", VAULT "[cache]\nttl = \"5\n",
	    "[cache] ttl: the value on line 4 has no closing double quote");
	bad("single quotes", VAULT "[cache]\nttl = '5'\n",
	    "[cache] ttl: the value on line 4 is in single quotes, which iniparser removes but "
	    "kvgate does not support; use double quotes");
	bad("text after the closing quote", VAULT "[cache]\nttl = \"5\"0\n",
	    "[cache] ttl: the value on line 4 has text after the closing double quote");
	n = load(VAULT "[secrets]\nallow = \"a\\b\"\n", &p, &e);
	ok(n == 2 && no_policy(p) &&
	       has(&e, "[secrets] allow: the value on line 4 has a '\\' inside double quotes; "
	               "escapes are not supported"),
	   "a backslash inside quotes is refused (iniparser versions disagree on escapes)");
	release(p);
	strlist_free(&e);

	p = good("inline comments after ' ;' and ' #'",
	         VAULT "[cors]\nmax_age = 5 ; five\nallowed_headers = ; none\n"
	               "[cache]\nttl = 6\t# six\n[secrets]\ndeny = #\n");
	if (p != NULL) {
		ok(policy_cors(p)->max_age == 5 && policy_cache(p)->ttl == 6,
		   "the value ends before the comment");
		ok(policy_cors(p)->allowed_headers.n == 0 && policy_secrets(p)->deny.n == 0,
		   "a value that is only a comment is empty");
	}
	policy_free(p);
	bad("';' inside a word", VAULT "[cache]\nttl = 5;6\n",
	    "[cache] ttl: the value on line 4 has a ';' or '#' inside a word, which iniparser "
	    "reads as the start of a comment; put the value in double quotes");
	bad("'#' inside a word", VAULT "api_version = 7.6#x\n",
	    "[vault] api_version: the value on line 3 has a ';' or '#' inside a word, which "
	    "iniparser reads as the start of a comment; put the value in double quotes");
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
	load(VAULT "junk line\n", &p, &e);
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
		snprintf(text, sizeof(text), VAULT "timeout_ms = %s\n", junk[i]);
		bad("timeout_ms junk or out of range", text,
		    "[vault] timeout_ms: \"%s\" is not an integer in 100-600000", junk[i]);
	}
	bad("timeout_ms empty", VAULT "timeout_ms =\n",
	    "[vault] timeout_ms: is empty; remove the line to use the default (5000)");
	p = good("timeout_ms 600000 (upper bound)", VAULT "timeout_ms = 600000\n");
	ok(p != NULL && policy_vault(p)->timeout_ms == 600000, "timeout_ms = 600000");
	policy_free(p);
	bad("max_retries 11", VAULT "max_retries = 11\n",
	    "[vault] max_retries: \"11\" is not an integer in 0-10");
	bad("max_retries -1", VAULT "max_retries = -1\n",
	    "[vault] max_retries: \"-1\" is not an integer in 0-10");
	p = good("max_retries 10 (upper bound), leading zeros", VAULT "max_retries = 010\n");
	ok(p != NULL && policy_vault(p)->max_retries == 10, "max_retries = 010 is 10");
	policy_free(p);
	bad("max_age 86401", VAULT "[cors]\nmax_age = 86401\n",
	    "[cors] max_age: \"86401\" is not an integer in 0-86400");
	bad("max_age -1", VAULT "[cors]\nmax_age = -1\n",
	    "[cors] max_age: \"-1\" is not an integer in 0-86400");
	p = good("max_age 86400 (upper bound)", VAULT "[cors]\nmax_age = 86400\n");
	policy_free(p);
	bad("ttl 86401", VAULT "[cache]\nttl = 86401\n",
	    "[cache] ttl: \"86401\" is not an integer in 0-86400");
	bad("ttl -1", VAULT "[cache]\nttl = -1\n",
	    "[cache] ttl: \"-1\" is not an integer in 0-86400");
	bad("ttl junk", VAULT "[cache]\nttl = 60s\n",
	    "[cache] ttl: \"60s\" is not an integer in 0-86400");
	p = good("ttl 0 (no caching)", VAULT "[cache]\nttl = 0\n");
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
		snprintf(text, sizeof(text), VAULT "[cors]\nallow_credentials = %s\n", yes[i]);
		p = good(yes[i], text);
		ok(p != NULL && policy_cors(p)->allow_credentials, "\"%s\" is true", yes[i]);
		policy_free(p);
		snprintf(text, sizeof(text), VAULT "[cors]\nallow_credentials = %s\n", no[i]);
		p = good(no[i], text);
		ok(p != NULL && !policy_cors(p)->allow_credentials, "\"%s\" is false", no[i]);
		policy_free(p);
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(text, sizeof(text), VAULT "[cors]\nallow_credentials = %s\n", junk[i]);
		bad("bad boolean", text,
		    "[cors] allow_credentials: \"%s\" is not a boolean: true or false (or yes/no, "
		    "on/off)",
		    junk[i]);
	}
	bad("empty boolean", VAULT "[cors]\nallow_credentials =\n",
	    "[cors] allow_credentials: is empty; remove the line to use the default (false)");

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(text, sizeof(text), VAULT "[identity]\nmethod = %s\n", methods[i]);
		p = good(methods[i], text);
		ok(p != NULL &&
		       (int)policy_identity(p)->method == (int)(i == 0 ? IDENTITY_AUTO : i + 1),
		   "method = %s is accepted, with no other identity key required", methods[i]);
		policy_free(p);
	}
	bad("method in the wrong case", VAULT "[identity]\nmethod = Client_Secret\n",
	    "[identity] method: \"Client_Secret\" is not one of auto, client_secret, "
	    "client_certificate, workload_identity, managed_identity");
	bad("unknown method", VAULT "[identity]\nmethod = password\n",
	    "[identity] method: \"password\" is not one of auto, client_secret, "
	    "client_certificate, workload_identity, managed_identity");
	bad("empty method", VAULT "[identity]\nmethod =\n",
	    "[identity] method: is empty; remove the line to use the default (auto)");
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
		snprintf(text, sizeof(text), VAULT "[gateway]\nbase_path = %s\n", cases[i].value);
		bad("base_path", text, "[gateway] base_path: \"%s\" %s", cases[i].value,
		    cases[i].why);
	}
	bad("base_path with a space (quoted)", VAULT "[gateway]\nbase_path = \"/a b\"\n",
	    "[gateway] base_path: \"/a b\" may hold only A-Z a-z 0-9 . _ ~ - between the '/'s");
	bad("base_path empty", VAULT "[gateway]\nbase_path =\n",
	    "[gateway] base_path: is empty; remove the line to use the default (/api)");
	memset(path, 'a', 129);
	path[0] = '/';
	path[129] = '\0';
	snprintf(text, sizeof(text), VAULT "[gateway]\nbase_path = %s\n", path);
	bad("base_path of 129 characters", text,
	    "[gateway] base_path: \"/%.63s...\" is longer than 128 characters", path + 1);
	path[128] = '\0';
	snprintf(text, sizeof(text), VAULT "[gateway]\nbase_path = %s\n", path);
	p = good("base_path of exactly 128 characters", text);
	policy_free(p);
	p = good("base_path of every allowed character",
	         VAULT "[gateway]\nbase_path = /A.b_c~d-e/9\n");
	policy_free(p);

	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		snprintf(text, sizeof(text), VAULT "[gateway]\npublic_url = %s\n",
		         origins[i].value);
		bad("public_url", text, "[gateway] public_url: \"%s\" %s", origins[i].value,
		    origins[i].why);
	}
	p = good("public_url with a port", VAULT "[gateway]\npublic_url = http://127.0.0.1:8080\n");
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

	bad("vault url missing", "[vault]\napi_version = 7.6\n",
	    "[vault] url: is required, but not set");
	bad("vault url empty", "[vault]\nurl =\n", "[vault] url: is required, but empty");
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

	bad("api_version with '/'", VAULT "api_version = 7.6/x\n",
	    "[vault] api_version: \"7.6/x\" may hold only 0-9 A-Z a-z . -, as in 7.6");
	bad("api_version of 33 characters",
	    VAULT "api_version = 123456789012345678901234567890123\n",
	    "[vault] api_version: \"123456789012345678901234567890123\" is longer than 32 "
	    "characters");
	bad("api_version empty", VAULT "api_version =\n",
	    "[vault] api_version: is empty; remove the line to use the default (7.6)");

	bad("ca_file missing", VAULT "ca_file = nope.pem\n",
	    "[vault] ca_file: cannot read %s: No such file or directory", tmp("nope.pem"));
	mkdir(tmp("sub"), 0700);
	bad("ca_file a directory", VAULT "ca_file = sub\n",
	    "[vault] ca_file: %s is a directory, not a file", tmp("sub"));
	bad("ca_file a device", VAULT "ca_file = /dev/null\n",
	    "[vault] ca_file: /dev/null is not a regular file");
	puts_file(tmp("sub/ca.pem"), "pem\n");
	snprintf(text, sizeof(text), VAULT "ca_file = %s\n", tmp("sub/ca.pem"));
	p = good("ca_file absolute", text);
	ok(p != NULL && strcmp(policy_vault(p)->ca_file, tmp("sub/ca.pem")) == 0,
	   "an absolute ca_file is kept");
	policy_free(p);
	p = good("ca_file ./sub/ca.pem", VAULT "ca_file = ./sub/ca.pem\n");
	ok(p != NULL && strcmp(policy_vault(p)->ca_file, tmp("sub/ca.pem")) == 0,
	   "./sub/ca.pem resolves to %s", p ? policy_vault(p)->ca_file : "-");
	policy_free(p);

	/* The INI named by a relative path: still absolute results. */
	{
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(dir) == -1)
			exit(2);
		puts_file(ini, VAULT "ca_file = sub/ca.pem\n");
		p = (struct policy *)dir;
		n = policy_load("test.ini", &p, &e);
		ok(n == 0 && p != NULL && strcmp(policy_vault(p)->ca_file, tmp("sub/ca.pem")) == 0,
		   "INI given as a relative path: ca_file still absolute (%s)",
		   n == 0 ? policy_vault(p)->ca_file : "-");
		release(p);
		strlist_free(&e);
		puts_file(ini, VAULT "ca_file = nope.pem\n");
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

	bad("tenant_id not a name", VAULT "[identity]\ntenant_id = not_a_tenant\n",
	    "[identity] tenant_id: \"not_a_tenant\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");
	bad("tenant_id without a dot", VAULT "[identity]\ntenant_id = common\n",
	    "[identity] tenant_id: \"common\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");
	bad("tenant_id label starting with '-'", VAULT "[identity]\ntenant_id = -x.example.com\n",
	    "[identity] tenant_id: \"-x.example.com\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");
	bad("tenant_id with an empty label", VAULT "[identity]\ntenant_id = x..com\n",
	    "[identity] tenant_id: \"x..com\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");
	p = good("tenant_id GUID",
	         VAULT "[identity]\ntenant_id = 72f988bf-86f1-41af-91ab-2d7cd011db47\n");
	policy_free(p);
	bad("client_id not a GUID", VAULT "[identity]\nclient_id = 123\n",
	    "[identity] client_id: \"123\" must be a GUID (the application's client id)");
	bad("client_id GUID without dashes",
	    VAULT "[identity]\nclient_id = 72f988bf86f141af91ab2d7cd011db47\n",
	    "[identity] client_id: \"72f988bf86f141af91ab2d7cd011db47\" must be a GUID (the "
	    "application's client id)");
	bad("client_id GUID with braces",
	    VAULT "[identity]\nclient_id = {72f988bf-86f1-41af-91ab-2d7cd011db47}\n",
	    "[identity] client_id: \"{72f988bf-86f1-41af-91ab-2d7cd011db47}\" must be a GUID (the "
	    "application's client id)");

	bad("client_secret_file missing", VAULT "[identity]\nclient_secret_file = nope\n",
	    "[identity] client_secret_file: cannot read %s: No such file or directory",
	    tmp("nope"));
	bad("client_secret_file a directory", VAULT "[identity]\nclient_secret_file = sub\n",
	    "[identity] client_secret_file: %s is a directory, not a file", tmp("sub"));
	puts_file(tmp("empty-secret"), "");
	bad("client_secret_file empty", VAULT "[identity]\nclient_secret_file = empty-secret\n",
	    "[identity] client_secret_file: %s is empty", tmp("empty-secret"));
	puts_file(tmp("blank-secret"), " \n\t\r\n");
	bad("client_secret_file only white space",
	    VAULT "[identity]\nclient_secret_file = blank-secret\n",
	    "[identity] client_secret_file: %s is empty", tmp("blank-secret"));
	puts_file(tmp("nl-secret"), "top\nhalf\n");
	n = load(VAULT "[identity]\nclient_secret_file = nl-secret\n", &p, &e);
	ok(n == 1 && e.n == 1 &&
	       strstr(e.v[0], "holds a control character or line break inside the secret") &&
	       strstr(e.v[0], "top") == NULL && strstr(e.v[0], "half") == NULL,
	   "a line break inside the secret is refused, and the message quotes none of it");
	release(p);
	strlist_free(&e);
	memset(secret, 'k', POLICY_SECRET_MAX);
	put(tmp("big-secret"), secret, POLICY_SECRET_MAX);
	p = good("a secret file of exactly 4096 bytes",
	         VAULT "[identity]\nclient_secret_file = big-secret\n");
	ok(p != NULL && strlen(policy_identity(p)->client_secret) == POLICY_SECRET_MAX,
	   "the whole 4096-byte secret is kept");
	policy_free(p);
	secret[POLICY_SECRET_MAX] = '\n';
	put(tmp("big-secret"), secret, POLICY_SECRET_MAX + 1);
	bad("client_secret_file over 4096 bytes",
	    VAULT "[identity]\nclient_secret_file = big-secret\n",
	    "[identity] client_secret_file: %s is larger than 4096 bytes", tmp("big-secret"));

	/* method = client_secret needs all three, from the file or the
	 * environment. */
	n = load(VAULT "[identity]\nmethod = client_secret\n", &p, &e);
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
	    VAULT "[identity]\nmethod = client_secret\n",
	    "[identity] client_secret_file: is required when method = client_secret (or set "
	    "AZURE_CLIENT_SECRET)");
	setenv("AZURE_CLIENT_SECRET", "from-env", 1);
	p = good(
	    "method = client_secret with AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET",
	    VAULT "[identity]\nmethod = client_secret\n");
	ok(p != NULL && policy_identity(p)->client_secret == NULL &&
	       strcmp(policy_identity(p)->tenant_id, "") == 0,
	   "the environment is left to the identity module: the policy holds what the file says");
	policy_free(p);
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_CLIENT_SECRET");
	puts_file(tmp("secret"), "s\n");
	bad("client_secret with a bad tenant_id: no extra 'required' error",
	    VAULT "[identity]\nmethod = client_secret\ntenant_id = common\n"
	          "client_id = 72f988bf-86f1-41af-91ab-2d7cd011db47\nclient_secret_file = secret\n",
	    "[identity] tenant_id: \"common\" must be a GUID or a domain name such as "
	    "contoso.onmicrosoft.com");

	bad("authority_host over http",
	    VAULT "[identity]\nauthority_host = http://login.example.com\n",
	    "[identity] authority_host: \"http://login.example.com\" may use http:// only to a "
	    "loopback host (127.0.0.1, [::1], localhost): use https://");
	bad("authority_host with a path",
	    VAULT "[identity]\nauthority_host = https://login.microsoftonline.com/tenant\n",
	    "[identity] authority_host: \"https://login.microsoftonline.com/tenant\" must not have "
	    "a "
	    "path: scheme://host[:port] only");
	bad("authority_host empty", VAULT "[identity]\nauthority_host =\n",
	    "[identity] authority_host: is empty; remove the line to use the default "
	    "(https://login.microsoftonline.com)");
}

static void test_cors(void)
{
	struct strlist e = {0};
	struct policy *p;
	char text[4096];
	size_t n0;
	int n;

	p = good("allowed_origins = *", VAULT "[cors]\nallowed_origins = *\n");
	ok(p != NULL && policy_cors(p)->any_origin, "`*` sets any_origin");
	policy_free(p);
	bad("allowed_origins null", VAULT "[cors]\nallowed_origins = null\n",
	    "[cors] allowed_origins: \"null\" cannot be allowed: sandboxed frames and file: pages "
	    "all send \"null\", so allowing it would let any site read");
	bad("allowed_origins trailing slash",
	    VAULT "[cors]\nallowed_origins = https://a.example.com/\n",
	    "[cors] allowed_origins: \"https://a.example.com/\" is not an origin: remove the "
	    "trailing '/'");
	bad("allowed_origins with a path",
	    VAULT "[cors]\nallowed_origins = https://a.example.com/x\n",
	    "[cors] allowed_origins: \"https://a.example.com/x\" is not an origin: an origin has "
	    "no "
	    "path");
	bad("allowed_origins default port",
	    VAULT "[cors]\nallowed_origins = https://a.example.com:443\n",
	    "[cors] allowed_origins: \"https://a.example.com:443\" is not an origin: browsers "
	    "leave "
	    "out the default port");
	bad("allowed_origins upper case", VAULT "[cors]\nallowed_origins = https://A.example.com\n",
	    "[cors] allowed_origins: \"https://A.example.com\" is not an origin: browsers send the "
	    "host in lower case");
	n = load(VAULT "[cors]\nallowed_origins = https://ok.example.com null, ftp://x *\n", &p,
	         &e);
	ok(n == 2 && e.n == 2, "every bad item of a list is reported, each on its own line");
	release(p);
	strlist_free(&e);

	bad("credentials with `*` origins",
	    VAULT "[cors]\nallowed_origins = *\nallow_credentials = true\n",
	    "[cors] allowed_origins: `*` cannot be combined with allow_credentials = true; list "
	    "the "
	    "origins");
	bad("credentials with `*` headers",
	    VAULT "[cors]\nallowed_headers = *\nallow_credentials = on\n",
	    "[cors] allowed_headers: `*` cannot be combined with allow_credentials = true; list "
	    "them");
	bad("credentials with `*` expose_headers",
	    VAULT "[cors]\nexpose_headers = *\nallow_credentials = yes\n",
	    "[cors] expose_headers: `*` cannot be combined with allow_credentials = true; list "
	    "them");
	bad("credentials with `*` methods",
	    VAULT "[cors]\nallowed_methods = *\nallow_credentials = true\n",
	    "[cors] allowed_methods: `*` cannot be combined with allow_credentials = true; list "
	    "them");
	p = good("credentials with listed origins", VAULT
	         "[cors]\nallowed_origins = https://a.example.com\nallow_credentials = true\n");
	policy_free(p);
	p = good("`*` everywhere without credentials",
	         VAULT "[cors]\nallowed_origins = *\nallowed_headers = *\nexpose_headers = *\n"
	               "allowed_methods = *\n");
	ok(p != NULL && policy_cors(p)->any_origin && policy_cors(p)->any_header,
	   "any_origin and any_header set");
	policy_free(p);

	bad("lower-case method", VAULT "[cors]\nallowed_methods = get\n",
	    "[cors] allowed_methods: \"get\" is not GET or HEAD: methods are case-sensitive");
	bad("mixed-case method", VAULT "[cors]\nallowed_methods = GET Head\n",
	    "[cors] allowed_methods: \"Head\" is not GET or HEAD: methods are case-sensitive");
	bad("a method the gateway does not serve", VAULT "[cors]\nallowed_methods = GET POST\n",
	    "[cors] allowed_methods: \"POST\" is not a method the gateway serves: GET, HEAD or *");
	p = good("allowed_methods empty", VAULT "[cors]\nallowed_methods =\n");
	ok(p != NULL && policy_cors(p)->allowed_methods.n == 0, "an empty list stays empty");
	policy_free(p);

	bad("bad header token", VAULT "[cors]\nallowed_headers = x-ok x/bad\n",
	    "[cors] allowed_headers: \"x/bad\" is not a header name (an RFC 7230 token)");
	bad("bad header token with a colon", VAULT "[cors]\nallowed_headers = x-a:\n",
	    "[cors] allowed_headers: \"x-a:\" is not a header name (an RFC 7230 token)");
	bad("bad expose_headers token", VAULT "[cors]\nexpose_headers = \"a(b)\"\n",
	    "[cors] expose_headers: \"a(b)\" is not a header name (an RFC 7230 token)");
	p = good("header tokens with every tchar",
	         VAULT "[cors]\nallowed_headers = \"!#$%&'*+-.^_`|~09AZaz\"\n");
	policy_free(p);

	/* The list cap. */
	strcpy(text, VAULT "[secrets]\nallow =");
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

static void test_secrets(void)
{
	struct policy *p;

	bad("allow with '.'", VAULT "[secrets]\nallow = a.b\n",
	    "[secrets] allow: \"a.b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?");
	bad("deny with '_'", VAULT "[secrets]\ndeny = ok-* a_b\n",
	    "[secrets] deny: \"a_b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?");
	p = good("allow empty: nothing visible", VAULT "[secrets]\nallow =\n");
	ok(p != NULL && !policy_secret_visible(p, "x"), "an empty allow hides every name");
	policy_free(p);
	p = good("allow with ?", VAULT "[secrets]\nallow = key-?\n");
	ok(p != NULL && policy_secret_visible(p, "KEY-1") && !policy_secret_visible(p, "key-12"),
	   "? matches one character, any case");
	policy_free(p);
}

/* Many problems at once: all reported, each naming its section and key,
 * in file order for the scan and table order for values. */
static void test_many(void)
{
	static const char *const want[] = {
	    "[extra]: unknown section (line 16); the sections are gateway, vault, identity, "
	    "cors, secrets and cache",
	    "[gateway] base_path: \"api\" must start with '/', as in /api",
	    "[vault] url: \"http://vault.example.com\" may use http:// only to a loopback host "
	    "(127.0.0.1, [::1], localhost): use https://",
	    "[vault] timeout_ms: \"12abc\" is not an integer in 100-600000",
	    "[identity] method: \"sometimes\" is not one of auto, client_secret, "
	    "client_certificate, workload_identity, managed_identity",
	    "[cors] allowed_origins: \"null\" cannot be allowed: sandboxed frames and file: pages "
	    "all send \"null\", so allowing it would let any site read",
	    "[cors] allow_credentials: \"yolo\" is not a boolean: true or false (or yes/no, "
	    "on/off)",
	    "[cors] max_age: \"86401\" is not an integer in 0-86400",
	    "[secrets] allow: \"a.b\" is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?",
	    "[cache] ttl: \"-1\" is not an integer in 0-86400",
	};
	struct strlist e = {0};
	struct policy *p;
	size_t nwant = sizeof(want) / sizeof(want[0]);
	bool all = true;
	int n;

	n = load("[gateway]\n"
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
	         "x = 1\n",
	         &p, &e);
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

	n = load(VAULT
	         "[cors]\nallowed_origins = *\nallowed_headers = *\nallow_credentials = true\n"
	         "[identity]\nmethod = client_secret\n",
	         &p, &e);
	ok(n == 5 && e.n == 5 && no_policy(p),
	   "rules between keys all reported too: 2 CORS + 3 identity");
	if (n != 5)
		dump(&e);
	release(p);
	strlist_free(&e);

	n = load("[vault]\nurl = https://v.vault.azure.net\nurl = https://w.vault.azure.net\n"
	         "[vault]\nbogus = 1\n[cache]\nttl = \"6\nttl2 = x\n",
	         &p, &e);
	ok(n == 5 && e.n == 5 &&
	       has(&e, "[vault] url: set twice (lines 2 and 3); iniparser would silently use the "
	               "last") &&
	       has(&e, "[vault]: the section appears twice (lines 1 and 4); iniparser would merge "
	               "them, so write each section once") &&
	       has(&e,
	           "[vault] bogus: unknown key (line 5); [vault] has url, api_version, ca_file, "
	           "timeout_ms, max_retries") &&
	       has(&e, "[cache] ttl: the value on line 7 has no closing double quote") &&
	       has(&e, "[cache] ttl2: unknown key (line 8); [cache] has ttl"),
	   "structural problems are all reported together, with line numbers");
	if (n != 5)
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
		ok(policy_secret_visible(p, "public-greeting") &&
		       policy_secret_visible(p, "demo-1") &&
		       !policy_secret_visible(p, "public-db-internal") &&
		       !policy_secret_visible(p, "admin-demo") &&
		       !policy_secret_visible(p, "other"),
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

		for (size_t i = 0; i < NKEYS; i++) {
			char row[128];

			snprintf(row, sizeof(row), "| `%s` |", keys[i].name);
			if (strstr(text, row) == NULL) {
				printf("#   README.md lacks a row for %s\n",
				       keys[i].name);
				all = false;
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
	}
	free(text);
}

/* The table itself: every default passes its own rule (test_minimal loads
 * them all), sections are known, keys unique. */
static void test_table(void)
{
	bool fine = true;

	for (size_t i = 0; i < NKEYS; i++) {
		fine = fine && section_index(keys[i].section) >= 0 &&
		       key_index(keys[i].section, keys[i].name) == (int)i &&
		       ((keys[i].type != KEY_STRING && keys[i].type != KEY_LIST) ||
		        keys[i].check != NULL) &&
		       (keys[i].type != KEY_ENUM || keys[i].names != NULL);
	}
	ok(fine, "key table: known sections, unique keys, a check for every string and list");
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
	test_minimal();
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
	test_secrets();
	test_many();
	test_shipped();

	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
