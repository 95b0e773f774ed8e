/*
 * policy.c: the policy INI, declared as one table of keys and validated
 * whole. See policy.h for the API and README.md for every key.
 *
 * The file is read twice, on purpose. iniparser reads the values, but it
 * hides several mistakes an operator must hear about: it keeps the last of
 * two identical keys, merges repeated sections, joins a line ending in '\'
 * (even a comment) with the next one, cuts an unquoted value at the first
 * ';' or '#' even inside a word, strips single quotes and accepts an
 * unterminated double quote. So a scan of the raw text comes first and
 * refuses each of those with a line number; whatever it accepts, iniparser
 * reads to the same value (tests/unit/test_policy.c checks that pairing).
 *
 * The rules the scan enforces, which README.md repeats:
 *   - a line is blank, a comment (first non-blank character ';' or '#'), a
 *     section header "[name]" alone on its line, or "key = value";
 *   - section and key names are ASCII letters, digits, '_', '-' and '.',
 *     compared ignoring case (iniparser lower-cases them);
 *   - a value may be wrapped in one pair of double quotes, which are removed
 *     and keep the white space, ';' and '#' inside; there are no escapes;
 *   - outside quotes, ';' or '#' after white space starts a comment; one
 *     inside a word is refused rather than silently cutting the value;
 *   - each section and each key appears once; a line is at most
 *     POLICY_LINE_MAX bytes, the file at most POLICY_FILE_MAX.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iniparser.h>

#include "buf.h"
#include "cors.h"
#include "glob.h"
#include "http.h"
#include "jwt.h"
#include "policy.h"

/* Caps on what the file may hold. A policy is a few dozen lines; the line
 * cap stays under iniparser 4.1's own limit (1022 bytes) so that iniparser
 * never refuses a line the scan accepted. */
#define POLICY_FILE_MAX (64 * 1024)
#define POLICY_LINE_MAX 1000
#define POLICY_LIST_MAX 256      /* items in one list */
#define POLICY_SECRET_MAX 4096   /* bytes in client_secret_file */
#define POLICY_BASE_PATH_MAX 128 /* bytes in base_path */
#define POLICY_URL_MAX 512       /* bytes in an endpoint URL */
#define POLICY_SHOW_MAX 64       /* bytes of a bad value quoted in a message */
#define POLICY_ORIGINS_MAX 32    /* [origin "…"] sections */
#define POLICY_TAG_NAME_MAX 512  /* Key Vault's caps on a tag's name and value */
#define POLICY_TAG_VALUE_MAX 256
#define POLICY_GRANT_NAME_MAX 64 /* bytes in a grant's NAME */
#define POLICY_WHO_MAX 256       /* bytes in a who item */

/* One [origin "…"] section: the origin, and its [secrets] rules. */
struct policy_origin {
	char *origin;
	struct policy_secrets secrets;
};

struct policy {
	char *path; /* as given to policy_load() */
	struct policy_gateway gateway;
	struct policy_vault vault;
	struct policy_identity identity;
	struct policy_cors cors;
	struct policy_secrets secrets;
	struct policy_cache cache;
	struct policy_callers callers;
	struct policy_limits limits;
	struct policy_audit audit;
	struct policy_origin *origins; /* [origin "…"] sections, in file order */
	size_t norigins;
	struct policy_grant *grants; /* [grant NAME] sections, in file order */
	size_t ngrants;
};

enum key_type {
	KEY_STRING,      /* text; key->check says whether it is acceptable */
	KEY_URL,         /* an endpoint, scheme://host[:port]; see url_check() */
	KEY_ORIGIN,      /* "" or a serialized origin */
	KEY_PATH,        /* "" or a readable file, relative to the INI's directory */
	KEY_SECRET_FILE, /* a KEY_PATH whose contents become identity.client_secret */
	KEY_INT,         /* a decimal integer in [min, max] */
	KEY_BOOL,        /* true/false, yes/no, on/off */
	KEY_ENUM,        /* one of key->names, stored as its index */
	KEY_LIST,        /* items split at spaces and commas, each checked by key->check */
};

/* A check returns NULL when s is acceptable, else a phrase saying why not. */
typedef const char *(*check_fn)(const char *s);

/*
 * One key. Every key must be written in the file (its line may have an
 * empty value where empty_allowed() says so), except an optional one, which
 * takes def when its line is left out. For a required key def is only the
 * documented value (design.md, README.md, etc/kvgate.ini): it is never
 * applied, and the messages suggest it. Keys that issues add after
 * design.md's contract are optional, so existing files keep loading.
 */
struct key {
	const char *section;
	const char *name;
	enum key_type type;
	long min, max;            /* KEY_INT bounds */
	const char *def;          /* the documented value, as written in the file; NULL: none */
	const char *example;      /* what messages suggest when not def (NULL: def) */
	bool optional;            /* may be left out, and then takes def (never NULL) */
	bool per_origin;          /* a [secrets] key an [origin "…"] section may set */
	size_t off;               /* where the value lives in struct policy */
	check_fn check;           /* KEY_STRING value, KEY_LIST item */
	const char *const *names; /* KEY_ENUM values, in enum order, NULL-terminated */
};

static const char *check_base_path(const char *s);
static const char *check_api_version(const char *s);
static const char *check_tenant_id(const char *s);
static const char *check_client_id(const char *s);
static const char *check_origin_item(const char *s);
static const char *check_method(const char *s);
static const char *check_header(const char *s);
static const char *check_glob(const char *s);
static const char *check_tag(const char *s);
static const char *check_endpoint(const char *s);
static const char *check_callers_mode(const char *s);
static const char *check_header_name(const char *s);
static const char *check_metadata_url(const char *s);
static const char *check_claim_value(const char *s);

/* Tables are laid out by hand: they read best as tables. */
/* clang-format off */
static const char *const identity_methods[] = {
	[IDENTITY_AUTO] = "auto",
	[IDENTITY_CLIENT_SECRET] = "client_secret",
	[IDENTITY_CLIENT_CERTIFICATE] = "client_certificate",
	[IDENTITY_WORKLOAD_IDENTITY] = "workload_identity",
	[IDENTITY_MANAGED_IDENTITY] = "managed_identity",
	NULL,
};
/* clang-format on */

/* KEY_ENUM values are stored through an int. */
_Static_assert(sizeof(enum identity_method) == sizeof(int), "enum identity_method is an int");

static const char *const sections[] = {"gateway", "vault",   "identity", "cors", "secrets",
                                       "cache",   "callers", "limits",   "audit"};

/* [callers] mode items, in enum callers_mode order. */
static const char *const callers_modes[] = {
    [CALLERS_NONE] = "none",
    [CALLERS_WEB_SERVER] = "web_server",
    [CALLERS_API_KEY] = "api_key",
    [CALLERS_JWT] = "jwt",
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

#define OFF(m) offsetof(struct policy, m)

/*
 * Every key of the policy. design.md lists these keys as a contract: add
 * keys, never rename them; a key added later is .optional. The defaults of
 * optional keys are parsed by the same code as the file's values, so a
 * default can never bypass a rule (test_policy checks every documented value
 * loads). [secrets] allow has an example narrower than its documented `*`:
 * a message must not talk an operator into exposing every secret.
 */
/* clang-format off */
static const struct key keys[] = {
	{.section = "gateway", .name = "base_path", .type = KEY_STRING, .def = "/api",
	 .off = OFF(gateway.base_path), .check = check_base_path},
	{.section = "gateway", .name = "public_url", .type = KEY_ORIGIN, .def = "",
	 .off = OFF(gateway.public_url)},
	{.section = "gateway", .name = "paging_key_file", .type = KEY_PATH, .def = "",
	 .optional = true, .off = OFF(gateway.paging_key_file)},

	{.section = "vault", .name = "url", .type = KEY_URL, .def = NULL,
	 .example = "https://NAME.vault.azure.net", .off = OFF(vault.url)},
	{.section = "vault", .name = "api_version", .type = KEY_STRING, .def = "7.6",
	 .off = OFF(vault.api_version), .check = check_api_version},
	{.section = "vault", .name = "ca_file", .type = KEY_PATH, .def = "", .off = OFF(vault.ca_file)},
	{.section = "vault", .name = "timeout_ms", .type = KEY_INT, .min = 100, .max = 600000,
	 .def = "5000", .off = OFF(vault.timeout_ms)},
	{.section = "vault", .name = "max_retries", .type = KEY_INT, .min = 0, .max = 10, .def = "3",
	 .off = OFF(vault.max_retries)},
	{.section = "vault", .name = "deadline_ms", .type = KEY_INT, .min = 100, .max = 600000,
	 .def = "10000", .optional = true, .off = OFF(vault.deadline_ms)},
	{.section = "vault", .name = "verify_challenge_resource", .type = KEY_BOOL, .def = "true",
	 .optional = true, .off = OFF(vault.verify_challenge_resource)},
	{.section = "vault", .name = "fetcher", .type = KEY_BOOL, .def = "true", .optional = true,
	 .off = OFF(vault.fetcher)},

	{.section = "identity", .name = "method", .type = KEY_ENUM, .def = "auto",
	 .off = OFF(identity.method), .names = identity_methods},
	{.section = "identity", .name = "tenant_id", .type = KEY_STRING, .def = "",
	 .off = OFF(identity.tenant_id), .check = check_tenant_id},
	{.section = "identity", .name = "client_id", .type = KEY_STRING, .def = "",
	 .off = OFF(identity.client_id), .check = check_client_id},
	{.section = "identity", .name = "client_secret_file", .type = KEY_SECRET_FILE, .def = "",
	 .off = OFF(identity.client_secret_file)},
	{.section = "identity", .name = "authority_host", .type = KEY_URL,
	 .def = "https://login.microsoftonline.com", .off = OFF(identity.authority_host)},
	{.section = "identity", .name = "client_certificate_file", .type = KEY_PATH, .def = "",
	 .optional = true, .off = OFF(identity.client_certificate_file)},
	{.section = "identity", .name = "federated_token_file", .type = KEY_PATH, .def = "",
	 .optional = true, .off = OFF(identity.federated_token_file)},
	{.section = "identity", .name = "managed_identity_endpoint", .type = KEY_STRING, .def = "",
	 .optional = true, .off = OFF(identity.managed_identity_endpoint),
	 .check = check_endpoint},

	{.section = "cors", .name = "allowed_origins", .type = KEY_LIST, .def = "",
	 .off = OFF(cors.allowed_origins), .check = check_origin_item},
	{.section = "cors", .name = "allowed_methods", .type = KEY_LIST, .def = "GET HEAD",
	 .off = OFF(cors.allowed_methods), .check = check_method},
	{.section = "cors", .name = "allowed_headers", .type = KEY_LIST, .def = "",
	 .off = OFF(cors.allowed_headers), .check = check_header},
	{.section = "cors", .name = "expose_headers", .type = KEY_LIST, .def = "",
	 .off = OFF(cors.expose_headers), .check = check_header},
	{.section = "cors", .name = "allow_credentials", .type = KEY_BOOL, .def = "false",
	 .off = OFF(cors.allow_credentials)},
	{.section = "cors", .name = "max_age", .type = KEY_INT, .min = 0, .max = 86400, .def = "600",
	 .off = OFF(cors.max_age)},
	{.section = "cors", .name = "allow_private_network", .type = KEY_BOOL, .def = "false",
	 .optional = true, .off = OFF(cors.allow_private_network)},
	{.section = "cors", .name = "terminate_unmatched", .type = KEY_BOOL, .def = "true",
	 .optional = true, .off = OFF(cors.terminate_unmatched)},

	{.section = "secrets", .name = "allow", .type = KEY_LIST, .def = "*", .example = "spa-*",
	 .off = OFF(secrets.allow), .check = check_glob, .per_origin = true},
	{.section = "secrets", .name = "deny", .type = KEY_LIST, .def = "", .off = OFF(secrets.deny),
	 .check = check_glob, .per_origin = true},
	{.section = "secrets", .name = "require_tags", .type = KEY_LIST, .def = "", .optional = true,
	 .off = OFF(secrets.require_tags), .check = check_tag, .per_origin = true},
	{.section = "secrets", .name = "allow_versions", .type = KEY_BOOL, .def = "false",
	 .optional = true, .off = OFF(secrets.allow_versions), .per_origin = true},
	{.section = "secrets", .name = "allow_list", .type = KEY_BOOL, .def = "true",
	 .optional = true, .off = OFF(secrets.allow_list), .per_origin = true},
	{.section = "secrets", .name = "hide_disabled", .type = KEY_BOOL, .def = "true",
	 .optional = true, .off = OFF(secrets.hide_disabled), .per_origin = true},
	{.section = "secrets", .name = "serve_expired", .type = KEY_BOOL, .def = "false",
	 .optional = true, .off = OFF(secrets.serve_expired), .per_origin = true},
	{.section = "secrets", .name = "expose_vault_url", .type = KEY_BOOL, .def = "false",
	 .optional = true, .off = OFF(secrets.expose_vault_url)},

	{.section = "cache", .name = "ttl", .type = KEY_INT, .min = 0, .max = 86400, .def = "60",
	 .off = OFF(cache.ttl)},
	{.section = "cache", .name = "negative_ttl", .type = KEY_INT, .min = 0, .max = 86400,
	 .def = "10", .optional = true, .off = OFF(cache.negative_ttl)},
	{.section = "cache", .name = "stale_if_error", .type = KEY_INT, .min = 0, .max = 604800,
	 .def = "300", .optional = true, .off = OFF(cache.stale_if_error)},
	{.section = "cache", .name = "max_entries", .type = KEY_INT, .min = 16, .max = 1000000,
	 .def = "1024", .optional = true, .off = OFF(cache.max_entries)},
	{.section = "cache", .name = "shared", .type = KEY_BOOL, .def = "true", .optional = true,
	 .off = OFF(cache.shared)},

	{.section = "callers", .name = "mode", .type = KEY_LIST, .def = "", .optional = true,
	 .off = OFF(callers.mode), .check = check_callers_mode},
	{.section = "callers", .name = "api_key_header", .type = KEY_STRING,
	 .def = "Ocp-Apim-Subscription-Key", .optional = true, .off = OFF(callers.api_key_header),
	 .check = check_header_name},
	{.section = "callers", .name = "api_keys_file", .type = KEY_PATH, .def = "", .optional = true,
	 .off = OFF(callers.api_keys_file)},
	{.section = "callers", .name = "jwt_jwks_file", .type = KEY_PATH, .def = "", .optional = true,
	 .off = OFF(callers.jwt_jwks_file)},
	{.section = "callers", .name = "jwt_openid_config", .type = KEY_STRING, .def = "",
	 .optional = true, .off = OFF(callers.jwt_openid_config), .check = check_metadata_url},
	{.section = "callers", .name = "jwt_issuer", .type = KEY_LIST, .def = "", .optional = true,
	 .off = OFF(callers.jwt_issuer), .check = check_claim_value},
	{.section = "callers", .name = "jwt_audience", .type = KEY_LIST, .def = "", .optional = true,
	 .off = OFF(callers.jwt_audience), .check = check_claim_value},
	{.section = "callers", .name = "jwt_clock_skew", .type = KEY_INT, .min = 0, .max = 3600,
	 .def = "300", .optional = true, .off = OFF(callers.jwt_clock_skew)},
	{.section = "callers", .name = "jwt_required_scopes", .type = KEY_LIST, .def = "",
	 .optional = true, .off = OFF(callers.jwt_required_scopes), .check = check_claim_value},
	{.section = "callers", .name = "jwt_required_roles", .type = KEY_LIST, .def = "",
	 .optional = true, .off = OFF(callers.jwt_required_roles), .check = check_claim_value},

	{.section = "limits", .name = "requests_per_minute", .type = KEY_INT, .min = 0,
	 .max = 1000000, .def = "0", .optional = true, .off = OFF(limits.requests_per_minute)},

	{.section = "audit", .name = "enabled", .type = KEY_BOOL, .def = "true", .optional = true,
	 .off = OFF(audit.enabled)},
	{.section = "audit", .name = "preflights", .type = KEY_BOOL, .def = "false",
	 .optional = true, .off = OFF(audit.preflights)},
};
/* clang-format on */
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Everything one policy_load() call works with. */
struct load {
	const char *path;       /* the INI file, as given: every message starts with it */
	char *dir;              /* its directory, absolute: relative paths start here */
	struct strlist *errors; /* where messages go; may be NULL */
	int count;              /* problems found */
	dictionary *dict;       /* iniparser's reading of the file */
	struct policy *p;       /* being filled */
	bool failed[NKEYS];     /* the key's value was refused: skip rules that use it */

	/* The scan of the raw text. */
	int section;                 /* index of the current [section], -1 for none */
	bool section_skip;           /* the header was reported: skip its keys */
	bool continued;              /* the last line ended in '\' */
	int section_line[NSECTIONS]; /* line of each known header, 0 when absent */
	int key_line[NKEYS];         /* line of each known key, 0 when absent */
	struct strlist ini_errors;   /* what iniparser said, via ini_error() */

	/* [origin "…"] sections, in file order, and the current one (-1:
	 * none). Their keys are [secrets] keys, so key_line is by table
	 * index too. */
	struct load_origin {
		char *origin;  /* the origin, as written (valid) */
		char *label;   /* origin "…", for messages */
		char *ininame; /* the section's name as iniparser keys it */
		int line;
		int key_line[NKEYS];
	} origins[POLICY_ORIGINS_MAX];
	size_t norigins;
	int origin;

	/* [grant NAME] sections, in file order, and the current one (-1). */
	struct load_grant {
		char *name;    /* NAME, as written (valid) */
		char *label;   /* grant NAME, for messages */
		char *ininame; /* the section's name as iniparser keys it */
		int line;
		int who_line, allow_line, deny_line;
	} grants[POLICY_GRANTS_MAX];
	size_t ngrants;
	int grant;
};

/*
 * s, in place when it has no control byte, else a static copy with each
 * control byte written as \xNN: a message is one line whatever a path or a
 * value in it holds (a carriage return in a file name, say).
 */
static const char *one_line(const char *s)
{
	static char out[4096];
	size_t n = 0;

	if (strcspn(s, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
	               "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d"
	               "\x1e\x1f\x7f") == strlen(s))
		return s;
	for (; *s != '\0' && n + 5 < sizeof(out); s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(out + n, 5, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return out;
}

/*
 * Append one problem to ld->errors as "FILE: " followed by the formatted
 * text, and count it. Running out of memory here still counts the problem,
 * so the load fails even when the message is lost.
 */
__attribute__((format(printf, 2, 3))) static void file_error(struct load *ld, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL, *line = NULL;

	ld->count++;
	if (ld->errors == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg != NULL && asprintf(&line, "%s: %s", ld->path, msg) != -1) {
		(void)strlist_add(ld->errors, one_line(line));
		free(line);
	}
	free(msg);
}

/* A problem with one key: "FILE: [section] key: message". */
__attribute__((format(printf, 4, 5))) static void key_error(struct load *ld, const char *section,
                                                            const char *key, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	file_error(ld, "[%s] %s: %s", section, key, msg != NULL ? msg : "(out of memory)");
	free(msg);
}

/* The size of a show() buffer: the cap, one escape, "..." and the NUL. */
#define SHOW_SIZE (POLICY_SHOW_MAX + 8)

/*
 * Copy s into out (SHOW_SIZE bytes) for quoting in a message: control
 * bytes, non-ASCII bytes, '"' and '\' escaped as \xNN, text past
 * POLICY_SHOW_MAX bytes cut with "...", so a message stays one readable
 * line whatever the file held. Returns out.
 */
static const char *show(char *out, const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (n >= POLICY_SHOW_MAX) {
			memcpy(out + n, "...", 4);
			return out;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, 5, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return out;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Strip blanks at both ends of the n bytes at s, in place; returns the new
 * start and sets *len. */
static char *trim(char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && is_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	s[n] = '\0';
	*len = n;
	return s;
}

/* ---- Value checks: each returns NULL or why the value is refused. ---- */

/*
 * base_path: "/seg[/seg...]" where each segment is 1 or more of RFC 3986's
 * unreserved characters [A-Za-z0-9._~-] and not "." or "..", at most 128
 * bytes, no trailing '/'. route.c compares request paths to it byte for
 * byte, so anything a browser would rewrite or encode must be refused here.
 */
static const char *check_base_path(const char *s)
{
	size_t n = strlen(s), seg = 0;
	const char *start;

	if (s[0] != '/')
		return "must start with '/', as in /api";
	if (n > POLICY_BASE_PATH_MAX)
		return "is longer than 128 characters";
	if (n == 1)
		return "must name a path under the root, as in /api";
	if (s[n - 1] == '/')
		return "must not end with '/'";
	for (start = s + 1;; start += seg + 1) {
		seg = strcspn(start, "/");
		if (seg == 0)
			return "has an empty segment (\"//\")";
		if ((seg == 1 && start[0] == '.') ||
		    (seg == 2 && start[0] == '.' && start[1] == '.'))
			return "has a \".\" or \"..\" segment";
		for (size_t i = 0; i < seg; i++)
			if (!is_alnum(start[i]) && strchr("._~-", start[i]) == NULL)
				return "may hold only A-Z a-z 0-9 . _ ~ - between the '/'s";
		if (start[seg] == '\0')
			return NULL;
	}
}

/* api_version: 1-32 of [0-9A-Za-z.-], the shape of Key Vault's versions
 * ("7.6", "2025-07-01-preview"); it is put in upstream query strings. */
static const char *check_api_version(const char *s)
{
	size_t n = strlen(s);

	if (n > 32)
		return "is longer than 32 characters";
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
			return "may hold only 0-9 A-Z a-z . -, as in 7.6";
	return NULL;
}

/* A GUID as Entra ID writes ids: 8-4-4-4-12 hexadecimal digits. */
static bool guid_valid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == '-' ? s[i] != '-' : !is_xdigit(s[i]))
			return false;
	}
	return s[i] == '\0';
}

/*
 * tenant_id: a directory's GUID, or one of its domain names
 * (contoso.onmicrosoft.com): dot-separated labels of [A-Za-z0-9-], at least
 * two, at most 253 bytes. "common" and "organizations" name no tenant and
 * cannot issue app-only tokens, so a dotless name is refused.
 */
static const char *check_tenant_id(const char *s)
{
	const char *why = "must be a GUID or a domain name such as contoso.onmicrosoft.com";
	size_t n = strlen(s), label = 0, dots = 0;

	if (guid_valid(s))
		return NULL;
	if (n > 253)
		return why;
	for (size_t i = 0; i <= n; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return why;
			dots += s[i] == '.';
			label = 0;
		} else if (is_alnum(s[i]) || (s[i] == '-' && label > 0)) {
			if (++label > 63)
				return why;
		} else {
			return why;
		}
	}
	return dots > 0 ? NULL : why;
}

/* client_id: the application's GUID. */
static const char *check_client_id(const char *s)
{
	return guid_valid(s) ? NULL : "must be a GUID (the application's client id)";
}

/* A phrase of origin_why(), for an origin (pat false) or a pattern. */
#define WHY(pat, tail) ((pat) ? "is not a pattern: " tail : "is not an origin: " tail)

/*
 * Why s is not a serialized origin (pat false) or the shape of one with a
 * label in place of a pattern's `*` (pat true), for an operator who wrote
 * it: the common mistakes (userinfo, a trailing '/', a path, upper case, a
 * default port) get their own phrase. NULL when cors_origin_valid()
 * accepts it.
 */
static const char *origin_why(const char *s, bool pat)
{
	const char *host, *slash, *colon;

	if (cors_origin_valid(s))
		return NULL;
	if (strcmp(s, "null") == 0)
		return "cannot be allowed: sandboxed frames and file: pages all send \"null\", so "
		       "allowing it would let any site read";
	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return WHY(pat, "expected http:// or https:// then host[:port]");
	if (strlen(s) > CORS_ORIGIN_MAX)
		return WHY(pat, "longer than 512 characters");
	if ((slash = strchr(host, '/')) != NULL)
		return slash[1] == '\0' ? WHY(pat, "remove the trailing '/'")
		                        : WHY(pat, "an origin has no path");
	if (strchr(host, '@') != NULL)
		return WHY(pat, "an origin has no user name or password");
	for (const char *c = host; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			return WHY(pat, "browsers send the host in lower case");
	if ((colon = strrchr(host, ':')) != NULL && strchr(colon, ']') == NULL &&
	    strcmp(colon, host == s + 8 ? ":443" : ":80") == 0)
		return WHY(pat, "browsers leave out the default port");
	return WHY(pat, "expected http:// or https:// then host[:port]");
}

/*
 * Why s is not an origin pattern (cors_pattern_valid()): only a leading
 * "*." label may be a wildcard, two or more labels must follow it, and the
 * rest is an origin's. NULL when it is one.
 */
static const char *pattern_why(const char *s)
{
	char probe[POLICY_LINE_MAX + 1];
	const char *suffix, *why;
	size_t sl = strncmp(s, "https://", 8) == 0 ? 8 : strncmp(s, "http://", 7) == 0 ? 7 : 0;

	if (cors_pattern_valid(s))
		return NULL;
	if (sl == 0)
		return strncmp(s, "*.", 2) == 0
		           ? "is not a pattern: write the scheme, as in https://*.example.com"
		           : "is not a pattern: only a leading `*.` label is a wildcard, as in "
		             "https://*.example.com";
	suffix = s + sl + 2;
	if (strncmp(s + sl, "*.", 2) != 0 || strchr(suffix, '*') != NULL)
		return "is not a pattern: only a leading `*.` label is a wildcard, as in "
		       "https://*.example.com";
	if (suffix[0] == '[')
		return "is not a pattern: an IP address has no subdomains";
	snprintf(probe, sizeof(probe), "%s", s);
	probe[sl] = 'x';
	if ((why = origin_why(probe, true)) != NULL)
		return why;
	if (memchr(suffix, '.', strcspn(suffix, ":")) == NULL)
		return "matches nearly everything: `*.` must be followed by two or more labels, "
		       "as in https://*.example.com";
	return "is not a pattern: an IP address has no subdomains";
}

/* An allowed_origins item: `*`, a serialized origin, or an origin pattern
 * (any item holding a `*`). */
static const char *check_origin_item(const char *s)
{
	if (strcmp(s, "*") == 0)
		return NULL;
	return strchr(s, '*') != NULL ? pattern_why(s) : origin_why(s, false);
}

/*
 * An allowed_methods item: GET, HEAD or `*`. Methods are case-sensitive
 * (RFC 9110 section 9.1) and browsers compare Access-Control-Allow-Methods
 * byte for byte except for the few they normalize, so "get" is a mistake.
 */
static const char *check_method(const char *s)
{
	if (strcmp(s, "GET") == 0 || strcmp(s, "HEAD") == 0 || strcmp(s, "*") == 0)
		return NULL;
	if (strcasecmp(s, "GET") == 0 || strcasecmp(s, "HEAD") == 0)
		return "is not GET or HEAD: methods are case-sensitive";
	return "is not a method the gateway serves: GET, HEAD or *";
}

/* A header name: an RFC 7230 token (section 3.2.6), or `*`. */
static const char *check_header(const char *s)
{
	if (strcmp(s, "*") == 0)
		return NULL;
	for (const char *c = s; *c != '\0'; c++)
		if (!is_alnum(*c) && strchr("!#$%&'*+-.^_`|~", *c) == NULL)
			return "is not a header name (an RFC 7230 token)";
	return NULL;
}

/* An allow or deny item: a name pattern per glob_valid(). */
static const char *check_glob(const char *s)
{
	return glob_valid(s) ? NULL : "is not a name pattern: 1-127 of 0-9 A-Z a-z - with * and ?";
}

/*
 * A require_tags item: "name=value", split at the first '='. The name is
 * not empty; the value may be (a tag whose value is ""). Both are compared
 * byte for byte with the secret's tags, and are at most as long as Key
 * Vault allows (512 and 256 characters), so a longer one could never match.
 */
static const char *check_tag(const char *s)
{
	const char *eq = strchr(s, '=');

	if (eq == NULL || eq == s)
		return "is not name=value (a tag's name, '=', the value it must have)";
	if (eq - s > POLICY_TAG_NAME_MAX)
		return "has a tag name longer than 512 characters";
	if (strlen(eq + 1) > POLICY_TAG_VALUE_MAX)
		return "has a tag value longer than 256 characters";
	return NULL;
}

/*
 * managed_identity_endpoint: "" or the absolute URL of a token endpoint, path
 * included (App Service's is http://localhost:PORT/msi/token). Plain http is
 * what these endpoints speak, and it is accepted only where the token cannot
 * leave the machine: loopback, and IMDS's link-local 169.254.169.254.
 */
static const char *check_endpoint(const char *s)
{
	const char *auth;
	size_t alen;

	if (s[0] == '\0')
		return NULL;
	if (strlen(s) > POLICY_URL_MAX)
		return "is longer than 512 characters";
	if (strncmp(s, "https://", 8) == 0)
		auth = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		auth = s + 7;
	else
		return "must start with https:// or http://";
	alen = strcspn(auth, "/?#");
	if (alen == 0)
		return "has no host";
	if (memchr(auth, '@', alen) != NULL || strchr(s, '\\') != NULL)
		return "must not hold a user name or password";
	if (strpbrk(s, "?# \t") != NULL)
		return "must not have a query, a fragment or white space";
	if (auth == s + 7 && !http_url_allowed(s) &&
	    !(strncmp(auth, "169.254.169.254", 15) == 0 &&
	      (auth[15] == '/' || auth[15] == ':' || auth[15] == '\0')))
		return "may use plain http:// only to loopback or 169.254.169.254 (IMDS)";
	return NULL;
}

/* A [callers] mode item: one of callers_modes[]. */
static const char *check_callers_mode(const char *s)
{
	for (size_t i = 0; i < sizeof(callers_modes) / sizeof(callers_modes[0]); i++)
		if (strcmp(s, callers_modes[i]) == 0)
			return NULL;
	return "is not a caller mode: none, web_server, api_key or jwt";
}

/* api_key_header: one header name (an RFC 7230 token), not `*`. */
static const char *check_header_name(const char *s)
{
	if (strcmp(s, "*") == 0)
		return "must name one header";
	return check_header(s);
}

/*
 * jwt_openid_config: "" or the URL of an OpenID Provider's metadata
 * document, path included (Entra ID's is https://login.microsoftonline.com/
 * {tenant}/v2.0/.well-known/openid-configuration). The keys that decide who
 * may read secrets come from it, so plain http is accepted only to loopback
 * (a test stand-in), never to IMDS or anything else.
 */
static const char *check_metadata_url(const char *s)
{
	const char *why = check_endpoint(s);

	if (why != NULL)
		return why;
	if (strncmp(s, "http://", 7) == 0 && !http_url_allowed(s))
		return "may use plain http:// only to a loopback host: use https://";
	return NULL;
}

/* An issuer, audience, scope or role: 1-256 printable ASCII characters
 * (a longer claim could never match: jwt.h copies at most that much). */
static const char *check_claim_value(const char *s)
{
	if (strlen(s) > JWT_CLAIM_MAX)
		return "is longer than 256 characters";
	for (const char *c = s; *c != '\0'; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return "may hold only printable ASCII";
	return NULL;
}

/*
 * An endpoint URL (vault url, authority_host): "http" or "https", "://",
 * a host (DNS name, IPv4 or [IPv6]), an optional port 1-65535, and at most
 * one trailing '/', which is dropped: kvgate appends its own paths. No
 * userinfo, path, query or fragment. Plain http is allowed only to loopback
 * hosts (http_url_allowed()), since tokens and the client secret travel on
 * these connections. On success *norm is a new string, scheme and host in
 * lower case, no trailing '/'.
 */
static const char *url_check(const char *s, char **norm)
{
	const char *auth, *host_end, *end;
	size_t n = strlen(s), alen, i;

	*norm = NULL;
	if (n > POLICY_URL_MAX)
		return "is longer than 512 characters";
	if (strncasecmp(s, "https://", 8) == 0)
		auth = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		auth = s + 7;
	else
		return "must start with https://";
	alen = strcspn(auth, "/?#");
	end = auth + alen;
	if (memchr(auth, '@', alen) != NULL)
		return "must not hold a user name or password";
	if (*end == '?')
		return "must not have a query";
	if (*end == '#')
		return "must not have a fragment";
	if (*end == '/' && end[1] != '\0')
		return "must not have a path: scheme://host[:port] only";
	if (auth[0] == '[') {
		host_end = memchr(auth, ']', alen);
		if (host_end == NULL || host_end == auth + 1)
			return "has a bad IPv6 host";
		for (const char *c = auth + 1; c < host_end; c++)
			if (!is_xdigit(*c) && *c != ':' && *c != '.')
				return "has a bad IPv6 host";
		host_end++;
	} else {
		size_t label = 0;

		host_end = auth + strcspn(auth, ":/?#");
		if (host_end == auth || host_end - auth > 253)
			return "has no host, or a bad one";
		for (const char *c = auth; c <= host_end; c++) {
			if (c == host_end || *c == '.') {
				if (label == 0 || c[-1] == '-')
					return "has a bad host name";
				label = 0;
			} else if (is_alnum(*c) || (*c == '-' && label > 0)) {
				label++;
			} else {
				return "has a bad host name";
			}
		}
	}
	if (host_end < end) {
		long port = 0;

		if (*host_end != ':' || host_end + 1 == end || end - host_end - 1 > 5)
			return "has a bad port";
		for (const char *c = host_end + 1; c < end; c++) {
			if (!is_digit(*c))
				return "has a bad port";
			port = port * 10 + (*c - '0');
		}
		if (port < 1 || port > 65535)
			return "has a bad port";
	}
	i = (size_t)(end - s);
	if ((*norm = strndup(s, i)) == NULL)
		return "(out of memory)";
	lower(*norm);
	if (!http_url_allowed(*norm)) {
		free(*norm);
		*norm = NULL;
		return "may use http:// only to a loopback host (127.0.0.1, [::1], localhost): "
		       "use https://";
	}
	return NULL;
}

/* ---- Reading values into the policy. ---- */

static void *field(struct policy *p, const struct key *k)
{
	return (char *)p + k->off;
}

/* A strict decimal integer: an optional '-' then digits, nothing else
 * (strtol alone accepts " 5", "+5" and "12abc"). */
static bool parse_long(const char *s, long *out)
{
	const char *c = s[0] == '-' ? s + 1 : s;
	char *end;

	if (*c == '\0')
		return false;
	for (; *c != '\0'; c++)
		if (!is_digit(*c))
			return false;
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* design.md's booleans: true/false, yes/no, on/off, in any case; nothing
 * else (iniparser's getter takes "yolo" and any word starting with y). */
static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* An absolute path for the INI's value v: as is when it starts with '/',
 * else below the INI file's directory. A leading "./" is dropped. Returns a
 * new string or NULL when out of memory. */
static char *resolve(const struct load *ld, const char *v)
{
	char *out;

	if (v[0] == '/')
		return strdup(v);
	while (v[0] == '.' && v[1] == '/')
		for (v += 2; *v == '/'; v++)
			;
	if (asprintf(&out, "%s%s%s", ld->dir, strcmp(ld->dir, "/") == 0 ? "" : "/", v) == -1)
		return NULL;
	return out;
}

/*
 * Open the file a path key names, for reading, and check it is a regular
 * file. Returns the descriptor, or -1 after reporting why not.
 */
static int open_file(struct load *ld, const struct key *k, const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		key_error(ld, k->section, k->name, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		key_error(ld, k->section, k->name, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		key_error(ld, k->section, k->name, "%s is %s", path,
		          S_ISDIR(st.st_mode) ? "a directory, not a file" : "not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Read the client secret from fd into ld->p->identity.client_secret: at
 * most POLICY_SECRET_MAX bytes, surrounding white space (a final newline)
 * removed, not empty, no control bytes. The stack copy is wiped; nothing of
 * the secret ever goes into a message. Returns true on success.
 */
static bool read_secret(struct load *ld, const struct key *k, const char *path, int fd)
{
	char buf[POLICY_SECRET_MAX + 1], *s;
	size_t n = 0;
	ssize_t r;
	bool ok = false;

	while (n < sizeof(buf)) {
		if ((r = read(fd, buf + n, sizeof(buf) - n)) == -1) {
			if (errno == EINTR)
				continue;
			key_error(ld, k->section, k->name, "cannot read %s: %s", path,
			          strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > POLICY_SECRET_MAX) {
		key_error(ld, k->section, k->name, "%s is larger than %d bytes", path,
		          POLICY_SECRET_MAX);
		goto out;
	}
	s = buf;
	while (n > 0 && (is_blank(*s) || *s == '\n' || *s == '\r')) {
		s++;
		n--;
	}
	while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (n == 0) {
		key_error(ld, k->section, k->name, "%s is empty", path);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			key_error(ld, k->section, k->name,
			          "%s holds a control character or line break inside the secret",
			          path);
			goto out;
		}
	}
	if ((ld->p->identity.client_secret = strndup(s, n)) == NULL) {
		key_error(ld, k->section, k->name, "out of memory");
		goto out;
	}
	ok = true;
out:
	buf_wipe(buf, sizeof(buf));
	return ok;
}

/* Store a copy of v at *dst. Returns false after reporting when out of
 * memory, so that no failure goes uncounted. */
static bool store(struct load *ld, const struct key *k, const char **dst, const char *v)
{
	if ((*dst = strdup(v)) != NULL)
		return true;
	key_error(ld, k->section, k->name, "out of memory");
	return false;
}

/* A path key: "" stays "", anything else must name a readable file, and is
 * stored absolute. client_secret_file's contents are read as well. */
static bool load_path(struct load *ld, const struct key *k, const char *v, const char **dst)
{
	char *path;
	int fd;
	bool ok;

	if (*v == '\0')
		return store(ld, k, dst, "");
	if ((path = resolve(ld, v)) == NULL) {
		key_error(ld, k->section, k->name, "out of memory");
		return false;
	}
	*dst = path;
	if ((fd = open_file(ld, k, path)) == -1)
		return false;
	ok = k->type != KEY_SECRET_FILE || read_secret(ld, k, path, fd);
	close(fd);
	return ok;
}

/* A list key: split, cap at POLICY_LIST_MAX items, check every item. The
 * list keeps its items even when some are refused, so rules between keys
 * still see them (policy_free() releases it either way). */
static bool load_list(struct load *ld, const struct key *k, const char *section, const char *v,
                      struct strlist *l)
{
	char sh[SHOW_SIZE];
	const char *why;
	bool ok = true;

	if (strlist_parse(v, l) == -1) {
		key_error(ld, section, k->name, "out of memory");
		return false;
	}
	if (l->n > POLICY_LIST_MAX) {
		key_error(ld, section, k->name, "has %zu items; at most %d are allowed", l->n,
		          POLICY_LIST_MAX);
		return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		if ((why = k->check(l->v[i])) != NULL) {
			key_error(ld, section, k->name, "\"%s\" %s", show(sh, l->v[i]), why);
			ok = false;
		}
	}
	return ok;
}

/* What messages suggest writing for k: its example, else its documented
 * value. */
static const char *suggestion(const struct key *k)
{
	return k->example != NULL ? k->example : k->def != NULL ? k->def : "VALUE";
}

/* Whether `key =` is accepted for k: for every list (an empty list), and
 * where the documented value is empty. */
static bool empty_allowed(const struct key *k)
{
	return k->type == KEY_LIST || (k->def != NULL && *k->def == '\0');
}

/*
 * Parse v, the value of key k (from the file, or an optional key's
 * default), into f, where the value lives. section is the section to name
 * in messages ([origin "…"] sections hold [secrets] keys). Reports and
 * returns false when v is refused.
 */
static bool load_value(struct load *ld, const struct key *k, const char *section, const char *v,
                       void *f)
{
	char sh[SHOW_SIZE], *norm;
	const char *why;
	long n;
	bool b;

	if (*v == '\0' && !empty_allowed(k)) {
		if (k->optional)
			key_error(ld, section, k->name,
			          "is empty; remove the line to use the default (%s)", k->def);
		else
			key_error(ld, section, k->name,
			          "is empty; give it a value, as in `%s = %s`", k->name,
			          suggestion(k));
		return false;
	}
	switch (k->type) {
	case KEY_STRING:
		if (*v != '\0' && (why = k->check(v)) != NULL) {
			key_error(ld, section, k->name, "\"%s\" %s", show(sh, v), why);
			return false;
		}
		return store(ld, k, f, v);
	case KEY_URL:
		if ((why = url_check(v, &norm)) != NULL) {
			key_error(ld, section, k->name, "\"%s\" %s", show(sh, v), why);
			return false;
		}
		*(const char **)f = norm;
		return true;
	case KEY_ORIGIN:
		if (*v != '\0' && (why = origin_why(v, false)) != NULL) {
			key_error(ld, section, k->name, "\"%s\" %s", show(sh, v), why);
			return false;
		}
		return store(ld, k, f, v);
	case KEY_PATH:
	case KEY_SECRET_FILE:
		return load_path(ld, k, v, (const char **)f);
	case KEY_INT:
		if (!parse_long(v, &n) || n < k->min || n > k->max) {
			key_error(ld, section, k->name, "\"%s\" is not an integer in %ld-%ld",
			          show(sh, v), k->min, k->max);
			return false;
		}
		*(long *)f = n;
		return true;
	case KEY_BOOL:
		if (!parse_bool(v, &b)) {
			key_error(ld, section, k->name,
			          "\"%s\" is not a boolean: true or false (or yes/no, on/off)",
			          show(sh, v));
			return false;
		}
		*(bool *)f = b;
		return true;
	case KEY_ENUM:
		for (int i = 0; k->names[i] != NULL; i++) {
			if (strcmp(v, k->names[i]) == 0) {
				memcpy(f, &i, sizeof(i));
				return true;
			}
		}
		{
			char *all = NULL, *next;

			for (int i = 0; k->names[i] != NULL; i++) {
				if (asprintf(&next, "%s%s%s", all ? all : "", all ? ", " : "",
				             k->names[i]) == -1)
					break;
				free(all);
				all = next;
			}
			key_error(ld, section, k->name, "\"%s\" is not one of %s", show(sh, v),
			          all ? all : "the allowed values");
			free(all);
		}
		return false;
	case KEY_LIST:
		return load_list(ld, k, section, v, (struct strlist *)f);
	}
	return false;
}

/* The index of section.name in keys[], or -1. */
static int key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool failed(const struct load *ld, const char *section, const char *name)
{
	int i = key_index(section, name);

	return i < 0 || ld->failed[i];
}

/* ---- The scan of the raw text. ---- */

/*
 * Read the value part of a "key = value" line (the text after '=') as
 * kvgate and iniparser 4.1 both read it: blanks around it dropped; one pair
 * of double quotes removed, their content kept verbatim; outside quotes, a
 * ';' or '#' at the start or after a blank starts a comment. Refuses what
 * iniparser would read differently from what the operator meant. On success
 * returns NULL and, if out is not NULL, copies the value there (outlen
 * bytes, enough for a line); else returns why not.
 */
static const char *value_lex(const char *s, char *out, size_t outlen)
{
	const char *start, *end, *c;

	while (is_blank(*s))
		s++;
	if (*s == '\'')
		return "is in single quotes, which iniparser removes but kvgate does not "
		       "support; use double quotes";
	if (*s == '"') {
		start = s + 1;
		if ((end = strchr(start, '"')) == NULL)
			return "has no closing double quote";
		if (memchr(start, '\\', (size_t)(end - start)) != NULL)
			return "has a '\\' inside double quotes; escapes are not supported";
		for (c = end + 1; is_blank(*c); c++)
			;
		if (*c != '\0' && *c != ';' && *c != '#')
			return "has text after the closing double quote";
	} else {
		start = s;
		for (c = s; *c != '\0'; c++) {
			if (*c != ';' && *c != '#')
				continue;
			if (c == s || is_blank(c[-1]))
				break;
			return "has a ';' or '#' inside a word, which iniparser reads as the "
			       "start of a comment; put the value in double quotes";
		}
		end = c;
		while (end > start && is_blank(end[-1]))
			end--;
	}
	if (out != NULL) {
		size_t n = (size_t)(end - start) < outlen ? (size_t)(end - start) : outlen - 1;

		memcpy(out, start, n);
		out[n] = '\0';
	}
	return NULL;
}

/* Whether s is a section or key name: 1 or more of [A-Za-z0-9_.-]. */
static bool name_valid(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_alnum(*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static int section_index(const char *name)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(sections[i], name) == 0)
			return (int)i;
	return -1;
}

/* The keys of one section, "a, b, c", for an "unknown key" message.
 * Returns a new string or NULL. */
static char *section_keys(const char *section)
{
	char *all = NULL, *next;

	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		if (asprintf(&next, "%s%s%s", all ? all : "", all ? ", " : "", keys[i].name) == -1)
			break;
		free(all);
		all = next;
	}
	return all;
}

/*
 * An [origin "…"] header, whose trimmed name is name (the word origin, in
 * any case, then blanks and a double-quoted serialized origin). iniparser
 * keeps such a name as written, lower-cased, quotes and all; its keys are
 * found under that name. The origin itself is checked as written: it must
 * be what a browser sends in Origin, since requests match it byte for byte.
 */
static void scan_origin_section(struct load *ld, char *name, int line)
{
	struct load_origin *o;
	char sh[SHOW_SIZE], *q, *end;
	const char *why;

	for (q = name + 6; is_blank(*q); q++)
		;
	if (*q != '"' || (end = strchr(q + 1, '"')) == NULL || end[1] != '\0' || end == q + 1) {
		file_error(ld,
		           "line %d: \"[%s]\" is not a valid origin section header; write "
		           "[origin \"https://app.example.com\"]",
		           line, show(sh, name));
		return;
	}
	*end = '\0';
	q++;
	if ((why = origin_why(q, false)) != NULL) {
		file_error(ld, "[origin \"%s\"]: \"%s\" %s (line %d)", show(sh, q), show(sh, q),
		           why, line);
		return;
	}
	for (size_t i = 0; i < ld->norigins; i++) {
		if (strcmp(ld->origins[i].origin, q) == 0) {
			file_error(ld,
			           "[%s]: the section appears twice (lines %d and %d); iniparser "
			           "would merge them, so write each section once",
			           ld->origins[i].label, ld->origins[i].line, line);
			return;
		}
	}
	if (ld->norigins == POLICY_ORIGINS_MAX) {
		file_error(ld, "line %d: more than %d [origin \"…\"] sections", line,
		           POLICY_ORIGINS_MAX);
		return;
	}
	o = &ld->origins[ld->norigins];
	*end = '"';
	o->ininame = strdup(name);
	*end = '\0';
	o->origin = strdup(q);
	if (o->ininame == NULL || o->origin == NULL ||
	    asprintf(&o->label, "origin \"%s\"", q) == -1) {
		o->label = NULL;
		file_error(ld, "out of memory");
		return;
	}
	lower(o->ininame);
	o->line = line;
	ld->origin = (int)ld->norigins++;
	ld->section_skip = false;
}

/*
 * A [grant NAME] header, whose trimmed name is name (the word grant, in
 * any case, blanks, then NAME: 1-64 of A-Z a-z 0-9 _ . -). iniparser keeps
 * the section's name as written, lower-cased; its keys are found under it.
 * Grant names compare ignoring case, as section names do.
 */
static void scan_grant_section(struct load *ld, char *name, int line)
{
	struct load_grant *g;
	char sh[SHOW_SIZE], *q;

	for (q = name + 5; is_blank(*q); q++)
		;
	if (!name_valid(q) || strlen(q) > POLICY_GRANT_NAME_MAX) {
		file_error(ld,
		           "line %d: \"[%s]\" is not a valid grant section header; write [grant "
		           "NAME], NAME being 1-64 of A-Z a-z 0-9 _ . -",
		           line, show(sh, name));
		return;
	}
	for (size_t i = 0; i < ld->ngrants; i++) {
		if (strcasecmp(ld->grants[i].name, q) == 0) {
			file_error(ld,
			           "[%s]: the section appears twice (lines %d and %d); iniparser "
			           "would merge them, so write each section once",
			           ld->grants[i].label, ld->grants[i].line, line);
			return;
		}
	}
	if (ld->ngrants == POLICY_GRANTS_MAX) {
		file_error(ld, "line %d: more than %d [grant NAME] sections", line,
		           POLICY_GRANTS_MAX);
		return;
	}
	g = &ld->grants[ld->ngrants];
	memset(g, 0, sizeof(*g));
	g->ininame = strdup(name);
	g->name = strdup(q);
	if (g->ininame == NULL || g->name == NULL || asprintf(&g->label, "grant %s", q) == -1) {
		g->label = NULL;
		file_error(ld, "out of memory");
		return;
	}
	lower(g->ininame);
	g->line = line;
	ld->grant = (int)ld->ngrants++;
	ld->section_skip = false;
}

/* A "key = value" line in the [grant NAME] section g: who, allow or deny,
 * each once. */
static void scan_grant_key(struct load *ld, struct load_grant *g, const char *key,
                           const char *value, int line)
{
	const char *why;
	int *at;

	if (strcmp(key, "who") == 0)
		at = &g->who_line;
	else if (strcmp(key, "allow") == 0)
		at = &g->allow_line;
	else if (strcmp(key, "deny") == 0)
		at = &g->deny_line;
	else {
		key_error(ld, g->label, key,
		          "unknown key (line %d); a [grant NAME] section has who, allow, deny",
		          line);
		return;
	}
	if (*at != 0) {
		key_error(ld, g->label, key,
		          "set twice (lines %d and %d); iniparser would silently use the last", *at,
		          line);
		return;
	}
	*at = line;
	if ((why = value_lex(value, NULL, 0)) != NULL)
		key_error(ld, g->label, key, "the value on line %d %s", line, why);
}

/* A "[name]" line (l is trimmed, len > 0, l[0] == '['). */
static void scan_section(struct load *ld, char *l, size_t len, int line)
{
	char sh[SHOW_SIZE], *name;
	size_t n;
	int i;

	ld->section = -1;
	ld->origin = -1;
	ld->grant = -1;
	ld->section_skip = true;
	if (l[len - 1] != ']') {
		file_error(ld,
		           "line %d: a section header must be alone on its line, as [name] "
		           "(iniparser allows no comment after it)",
		           line);
		return;
	}
	n = len - 2;
	name = trim(l + 1, &n);
	if (strncasecmp(name, "origin", 6) == 0 &&
	    (name[6] == '\0' || is_blank(name[6]) || name[6] == '"')) {
		scan_origin_section(ld, name, line);
		return;
	}
	if (strncasecmp(name, "grant", 5) == 0 && is_blank(name[5])) {
		scan_grant_section(ld, name, line);
		return;
	}
	if (!name_valid(name)) {
		file_error(ld, "line %d: \"[%s]\" is not a valid section header", line,
		           show(sh, name));
		return;
	}
	lower(name);
	if ((i = section_index(name)) == -1) {
		file_error(ld,
		           "[%s]: unknown section (line %d); the sections are gateway, vault, "
		           "identity, cors, secrets, cache, callers, limits and audit, with "
		           "[origin \"…\"] and [grant NAME]",
		           show(sh, name), line);
		return;
	}
	ld->section_skip = false;
	ld->section = i;
	if (ld->section_line[i] != 0)
		file_error(ld,
		           "[%s]: the section appears twice (lines %d and %d); iniparser would "
		           "merge them, so write each section once",
		           name, ld->section_line[i], line);
	else
		ld->section_line[i] = line;
}

/* The keys an [origin "…"] section may set, "a, b, c". Returns a new
 * string or NULL. */
static char *origin_keys(void)
{
	char *all = NULL, *next;

	for (size_t i = 0; i < NKEYS; i++) {
		if (!keys[i].per_origin)
			continue;
		if (asprintf(&next, "%s%s%s", all ? all : "", all ? ", " : "", keys[i].name) == -1)
			break;
		free(all);
		all = next;
	}
	return all;
}

/* A "key = value" line in the [origin "…"] section o: key (lower-cased)
 * must be one of the [secrets] keys an origin may override, set once. */
static void scan_origin_key(struct load *ld, struct load_origin *o, const char *key,
                            const char *value, int line)
{
	const char *why;
	char *list;
	int i = key_index("secrets", key);

	if (i == -1 || !keys[i].per_origin) {
		list = origin_keys();
		key_error(ld, o->label, key,
		          "unknown key (line %d); an [origin \"…\"] section has %s", line,
		          list ? list : "[secrets] keys");
		free(list);
		return;
	}
	if (o->key_line[i] != 0) {
		key_error(ld, o->label, key,
		          "set twice (lines %d and %d); iniparser would silently use the last",
		          o->key_line[i], line);
		return;
	}
	o->key_line[i] = line;
	if ((why = value_lex(value, NULL, 0)) != NULL)
		key_error(ld, o->label, key, "the value on line %d %s", line, why);
}

/* A "key = value" line (l is trimmed, not empty, not a comment). */
static void scan_key(struct load *ld, char *l, int line)
{
	char sh[SHOW_SIZE], *eq, *key, *list;
	const char *why, *section;
	size_t n;
	int i;

	if ((eq = strchr(l, '=')) == NULL) {
		file_error(ld,
		           "line %d: not a [section] header, a key = value line, a comment or a "
		           "blank line",
		           line);
		return;
	}
	n = (size_t)(eq - l);
	key = trim(l, &n);
	if (n == 0) {
		file_error(ld, "line %d: no key name before '='", line);
		return;
	}
	if (!name_valid(key)) {
		file_error(ld, "line %d: \"%s\" is not a valid key name", line, show(sh, key));
		return;
	}
	lower(key);
	if (ld->section_skip)
		return; /* the header was reported; its keys would only add noise */
	if (ld->origin >= 0) {
		scan_origin_key(ld, &ld->origins[ld->origin], key, eq + 1, line);
		return;
	}
	if (ld->grant >= 0) {
		scan_grant_key(ld, &ld->grants[ld->grant], key, eq + 1, line);
		return;
	}
	if (ld->section == -1) {
		file_error(ld, "line %d: key \"%s\" comes before any [section] header", line, key);
		return;
	}
	section = sections[ld->section];
	if ((i = key_index(section, key)) == -1) {
		list = section_keys(section);
		key_error(ld, section, key, "unknown key (line %d); [%s] has %s", line, section,
		          list ? list : "other keys");
		free(list);
		return;
	}
	if (ld->key_line[i] != 0) {
		key_error(ld, section, key,
		          "set twice (lines %d and %d); iniparser would silently use the last",
		          ld->key_line[i], line);
		return;
	}
	ld->key_line[i] = line;
	if ((why = value_lex(eq + 1, NULL, 0)) != NULL)
		key_error(ld, section, key, "the value on line %d %s", line, why);
}

/* One line of the file: n bytes at s (no '\n'), numbered line. */
static void scan_line(struct load *ld, const char *s, size_t n, int line)
{
	char buf[POLICY_LINE_MAX + 1], *l;
	bool was_continued = ld->continued;

	if (n > 0 && s[n - 1] == '\r')
		n--; /* CRLF */
	ld->continued = false;
	if (n > POLICY_LINE_MAX) {
		file_error(ld, "line %d: longer than %d bytes", line, POLICY_LINE_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			file_error(ld, "line %d: holds a control character or NUL byte", line);
			return;
		}
	}
	memcpy(buf, s, n);
	l = trim(buf, &n);
	if (n > 0 && l[n - 1] == '\\') {
		/* iniparser joins the next line to this one, even to a comment,
		 * which would hide a key from every reader of the file. */
		file_error(
		    ld,
		    "line %d: ends with '\\', which iniparser reads as joining the next line "
		    "to this one; line continuations are not supported",
		    line);
		ld->continued = true;
	}
	if (was_continued || ld->continued)
		return;
	if (n == 0 || l[0] == ';' || l[0] == '#')
		return;
	if (l[0] == '[')
		scan_section(ld, l, n, line);
	else
		scan_key(ld, l, line);
}

/* Scan the whole text (len bytes; may hold NUL bytes, which are refused). */
static void scan(struct load *ld, const char *text, size_t len)
{
	const char *s = text, *end = text + len, *nl;
	int line = 0;

	ld->section = -1;
	ld->origin = -1;
	ld->grant = -1;
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		line++;
		scan_line(ld, s, (size_t)((nl ? nl : end) - s), line);
		s = nl ? nl + 1 : end;
	}
}

/* ---- Loading. ---- */

/* Read the whole file at ld->path, at most POLICY_FILE_MAX bytes, into a
 * new NUL-terminated string (*len bytes). Returns NULL after reporting. */
static char *read_file(struct load *ld, size_t *len)
{
	struct stat st;
	char *text = NULL;
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(ld->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		file_error(ld, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		file_error(ld, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		file_error(ld, "is %s",
		           S_ISDIR(st.st_mode) ? "a directory, not a file" : "not a regular file");
		goto fail;
	}
	if ((text = malloc(POLICY_FILE_MAX + 2)) == NULL) {
		file_error(ld, "out of memory");
		goto fail;
	}
	while (n < POLICY_FILE_MAX + 1) {
		if ((r = read(fd, text + n, POLICY_FILE_MAX + 1 - n)) == -1) {
			if (errno == EINTR)
				continue;
			file_error(ld, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > POLICY_FILE_MAX) {
		file_error(ld, "larger than %d bytes", POLICY_FILE_MAX);
		goto fail;
	}
	close(fd);
	text[n] = '\0';
	*len = n;
	return text;
fail:
	free(text);
	close(fd);
	return NULL;
}

/* The INI file's directory, absolute, without resolving symbolic links (a
 * path under a Kubernetes ..data link must keep following the link). */
static char *ini_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *cwd, *out = NULL;

	if (path[0] == '/')
		return strndup(path, slash == path ? 1 : (size_t)(slash - path));
	while (path[0] == '.' && path[1] == '/') {
		for (path += 2; *path == '/'; path++)
			;
		slash = strrchr(path, '/');
	}
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	if (slash == NULL)
		return cwd;
	if (asprintf(&out, "%s%s%.*s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", (int)(slash - path),
	             path) == -1)
		out = NULL;
	free(cwd);
	return out;
}

/*
 * iniparser reports through a printf-like callback, to stderr by default.
 * During iniparser_load() the messages are collected here instead (one
 * line each, white space runs folded) and reported only if iniparser
 * refuses a file the scan accepted. policy_load() runs once, at start, in
 * one thread, so one static pointer is enough.
 */
static struct load *ini_load;

static int ini_error(const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL, *w;
	const char *r;

	if (ini_load == NULL)
		return 0;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return 0;
	for (r = msg, w = msg; *r != '\0'; r++) {
		if ((unsigned char)*r <= ' ') {
			if (w > msg && w[-1] != ' ')
				*w++ = ' ';
		} else {
			*w++ = *r;
		}
	}
	while (w > msg && w[-1] == ' ')
		w--;
	*w = '\0';
	(void)strlist_add(&ini_load->ini_errors, msg);
	free(msg);
	return 0;
}

/* Rules between keys, checked once every key has been read. */
static void check_cross(struct load *ld)
{
	const struct policy_cors *c = &ld->p->cors;
	const struct policy_identity *id = &ld->p->identity;
	static const char *const star_keys[] = {"allowed_headers", "expose_headers",
	                                        "allowed_methods"};
	const struct strlist *star_lists[] = {&c->allowed_headers, &c->expose_headers,
	                                      &c->allowed_methods};
	const char *env, *pub = ld->p->gateway.public_url;
	char sh[SHOW_SIZE];

	/* An [origin "…"] section for an origin no browser page could read
	 * from is a mistake: its rules would never reach the SPA they were
	 * written for (any other client can send any Origin anyway). */
	if (!failed(ld, "cors", "allowed_origins") && !failed(ld, "gateway", "public_url"))
		for (size_t i = 0; i < ld->norigins; i++)
			if (!cors_origin_allowed(c, ld->origins[i].origin,
			                         pub != NULL && *pub ? pub : NULL))
				file_error(
				    ld,
				    "[%s]: the origin has overrides but is not in [cors] "
				    "allowed_origins (nor the gateway's public_url) (line %d); "
				    "add it there or remove the section",
				    ld->origins[i].label, ld->origins[i].line);

	/* Fetch standard: with credentials, `*` is not a wildcard in any
	 * Access-Control-Allow-* header, so browsers would refuse the answer. */
	if (!failed(ld, "cors", "allow_credentials") && c->allow_credentials) {
		if (c->any_origin)
			key_error(ld, "cors", "allowed_origins",
			          "`*` cannot be combined with allow_credentials = true; list "
			          "the origins");
		for (size_t i = 0; i < 3; i++)
			if (strlist_contains(star_lists[i], "*"))
				key_error(ld, "cors", star_keys[i],
				          "`*` cannot be combined with allow_credentials = true; "
				          "list them");
		for (size_t i = 0; i < c->allowed_origins.n; i++)
			if (cors_pattern_broad(c->allowed_origins.v[i]))
				key_error(ld, "cors", "allowed_origins",
				          "\"%s\" matches nearly everything (anyone can have a "
				          "name there), so it cannot be combined with "
				          "allow_credentials = true; list the origins",
				          show(sh, c->allowed_origins.v[i]));
	}

	/* Private Network Access lets a public page reach this gateway on a
	 * private network: never for every site, nor nearly every site. */
	if (!failed(ld, "cors", "allow_private_network") && c->allow_private_network) {
		if (c->any_origin)
			key_error(ld, "cors", "allow_private_network",
			          "cannot be true with allowed_origins = *; list the origins");
		for (size_t i = 0; i < c->allowed_origins.n; i++)
			if (cors_pattern_broad(c->allowed_origins.v[i]))
				key_error(ld, "cors", "allow_private_network",
				          "cannot be true with \"%s\" in allowed_origins, which "
				          "matches nearly everything; list the origins",
				          show(sh, c->allowed_origins.v[i]));
	}

	/* A client secret needs all three parts; each may come from the
	 * environment instead, as the Azure SDKs' EnvironmentCredential does. */
	if (failed(ld, "identity", "method") || id->method != IDENTITY_CLIENT_SECRET)
		return;
	if (!failed(ld, "identity", "tenant_id") && *id->tenant_id == '\0' &&
	    ((env = getenv("AZURE_TENANT_ID")) == NULL || *env == '\0'))
		key_error(ld, "identity", "tenant_id",
		          "is required when method = client_secret (or set AZURE_TENANT_ID)");
	if (!failed(ld, "identity", "client_id") && *id->client_id == '\0' &&
	    ((env = getenv("AZURE_CLIENT_ID")) == NULL || *env == '\0'))
		key_error(ld, "identity", "client_id",
		          "is required when method = client_secret (or set AZURE_CLIENT_ID)");
	if (!failed(ld, "identity", "client_secret_file") && *id->client_secret_file == '\0' &&
	    ((env = getenv("AZURE_CLIENT_SECRET")) == NULL || *env == '\0'))
		key_error(ld, "identity", "client_secret_file",
		          "is required when method = client_secret (or set AZURE_CLIENT_SECRET)");
}

/*
 * The [origin "…"] sections' rules: each [secrets] key the section sets is
 * read from iniparser and checked like [secrets]' own, in messages naming
 * the section; every other key takes [secrets]' value (lists copied).
 */
static void load_origins(struct load *ld)
{
	struct policy *p = ld->p;

	if (ld->norigins == 0)
		return;
	if ((p->origins = calloc(ld->norigins, sizeof(*p->origins))) == NULL) {
		file_error(ld, "out of memory");
		return;
	}
	p->norigins = ld->norigins;
	for (size_t o = 0; o < ld->norigins; o++) {
		struct load_origin *lo = &ld->origins[o];
		struct policy_origin *po = &p->origins[o];

		if ((po->origin = strdup(lo->origin)) == NULL) {
			file_error(ld, "out of memory");
			return;
		}
		for (size_t i = 0; i < NKEYS; i++) {
			const struct key *k = &keys[i];
			void *dst;
			const void *src;
			char *ikey = NULL;
			const char *v = NULL;

			/* Only [secrets] keys have a place in an origin's rules:
			 * the offset below is meaningful for them alone. */
			if (strcmp(k->section, "secrets") != 0)
				continue;
			dst = (char *)&po->secrets + (k->off - OFF(secrets));
			src = field(p, k);
			if (lo->key_line[i] != 0) {
				if (asprintf(&ikey, "%s:%s", lo->ininame, k->name) == -1) {
					file_error(ld, "out of memory");
					return;
				}
				v = iniparser_getstring(ld->dict, ikey, NULL);
				free(ikey);
			}
			if (v != NULL) {
				(void)load_value(ld, k, lo->label, v, dst);
			} else if (k->type == KEY_LIST) {
				const struct strlist *from = src;

				for (size_t j = 0; j < from->n; j++)
					if (strlist_add(dst, from->v[j]) != 0)
						file_error(ld, "out of memory");
			} else {
				memcpy(dst, src, sizeof(bool));
			}
		}
	}
}

/*
 * A who item of a [grant NAME]: "anonymous", "authenticated", or
 * KIND:VALUE with KIND one of user, group, role, scope, key, app and VALUE
 * 1-256 printable ASCII characters (README: [grant NAME] sections).
 */
static const char *check_who(const char *s)
{
	static const char *const kinds[] = {"user:", "group:", "role:", "scope:", "key:", "app:"};
	const char *v = NULL;

	if (strcmp(s, "anonymous") == 0 || strcmp(s, "authenticated") == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(s, kinds[i], strlen(kinds[i])) == 0)
			v = s + strlen(kinds[i]);
	if (v == NULL)
		return "is not anonymous, authenticated, or user:, group:, role:, scope:, key: or "
		       "app: followed by a value";
	if (*v == '\0' || strlen(v) > POLICY_WHO_MAX)
		return "needs a value of 1-256 characters after the ':'";
	for (; *v != '\0'; v++)
		if (*v <= ' ' || *v >= 0x7f)
			return "may hold only printable ASCII";
	return NULL;
}

/* The keys of a [grant NAME] section; who and allow are required. */
static const struct key grant_keys[] = {
    {.section = "grant",
     .name = "who",
     .type = KEY_LIST,
     .example = "user:NAME",
     .check = check_who},
    {.section = "grant",
     .name = "allow",
     .type = KEY_LIST,
     .example = "spa-*",
     .check = check_glob},
    {.section = "grant",
     .name = "deny",
     .type = KEY_LIST,
     .def = "",
     .optional = true,
     .check = check_glob},
};

/* The [grant NAME] sections: who, allow and deny read from iniparser and
 * checked like any list. */
static void load_grants(struct load *ld)
{
	struct policy *p = ld->p;

	if (ld->ngrants == 0)
		return;
	if ((p->grants = calloc(ld->ngrants, sizeof(*p->grants))) == NULL) {
		file_error(ld, "out of memory");
		return;
	}
	p->ngrants = ld->ngrants;
	for (size_t g = 0; g < ld->ngrants; g++) {
		struct load_grant *lg = &ld->grants[g];
		struct policy_grant *pg = &p->grants[g];
		struct strlist *dst[] = {&pg->who, &pg->allow, &pg->deny};

		if ((pg->name = strdup(lg->name)) == NULL) {
			file_error(ld, "out of memory");
			return;
		}
		for (size_t i = 0; i < 3; i++) {
			const struct key *k = &grant_keys[i];
			char *ikey = NULL;
			const char *v;

			if (asprintf(&ikey, "%s:%s", lg->ininame, k->name) == -1) {
				file_error(ld, "out of memory");
				return;
			}
			v = iniparser_getstring(ld->dict, ikey, NULL);
			free(ikey);
			if (v == NULL && !k->optional) {
				key_error(ld, lg->label, k->name, "missing; add `%s = %s`", k->name,
				          k->example);
				continue;
			}
			(void)load_list(ld, k, lg->label, v != NULL ? v : "", dst[i]);
		}
		if (pg->who.n == 0 && !ld->count)
			key_error(ld, lg->label, "who",
			          "is empty; name who holds the grant, as in "
			          "`who = user:NAME`");
	}
}

/* Whether [callers] mode holds m. */
static bool has_mode(const struct policy_callers *c, enum callers_mode m)
{
	for (size_t i = 0; i < c->nmodes; i++)
		if (c->modes[i] == m)
			return true;
	return false;
}

/*
 * [callers] and the grants, once every key is read: the modes parsed and
 * each named once; what each mode needs is there; a grant can only name
 * callers some mode can produce, and grants need [callers] at all.
 */
static void check_callers(struct load *ld)
{
	struct policy_callers *c = &ld->p->callers;

	if (!failed(ld, "callers", "mode")) {
		for (size_t i = 0; i < c->mode.n; i++) {
			for (size_t m = 0; m < CALLERS_MODES_MAX; m++) {
				if (strcmp(c->mode.v[i], callers_modes[m]) != 0)
					continue;
				if (has_mode(c, (enum callers_mode)m))
					key_error(ld, "callers", "mode", "names %s twice",
					          callers_modes[m]);
				else
					c->modes[c->nmodes++] = (enum callers_mode)m;
			}
		}
	}
	if (c->nmodes == 0) {
		for (size_t g = 0; g < ld->ngrants; g++)
			file_error(ld,
			           "[%s]: grants apply only with caller authentication; set "
			           "[callers] mode (line %d)",
			           ld->grants[g].label, ld->grants[g].line);
		return;
	}
	if (has_mode(c, CALLERS_API_KEY) && !failed(ld, "callers", "api_keys_file") &&
	    c->api_keys_file[0] == '\0')
		key_error(ld, "callers", "api_keys_file",
		          "is required when mode has api_key (lines of NAME SHA256-HEX)");
	if (has_mode(c, CALLERS_JWT)) {
		if (!failed(ld, "callers", "jwt_jwks_file") &&
		    !failed(ld, "callers", "jwt_openid_config") &&
		    (c->jwt_jwks_file[0] == '\0') == (c->jwt_openid_config[0] == '\0'))
			key_error(ld, "callers", "jwt_openid_config",
			          "mode has jwt: set exactly one of jwt_openid_config (the "
			          "issuer's metadata URL) and jwt_jwks_file");
		if (!failed(ld, "callers", "jwt_issuer") && c->jwt_issuer.n == 0)
			key_error(ld, "callers", "jwt_issuer",
			          "is required when mode has jwt, as in "
			          "https://login.microsoftonline.com/TENANT/v2.0");
		if (!failed(ld, "callers", "jwt_audience") && c->jwt_audience.n == 0)
			key_error(ld, "callers", "jwt_audience",
			          "is required when mode has jwt: the API's application ID URI "
			          "or client id");
	}
	for (size_t g = 0; g < ld->p->ngrants; g++) {
		const struct strlist *who = &ld->p->grants[g].who;

		for (size_t i = 0; i < who->n; i++) {
			const char *w = who->v[i], *need = NULL;

			if (strcmp(w, "anonymous") == 0 && !has_mode(c, CALLERS_NONE))
				need = "anonymous needs none in [callers] mode";
			else if (strcmp(w, "authenticated") == 0 && c->nmodes == 1 &&
			         c->modes[0] == CALLERS_NONE)
				need = "authenticated needs a mode other than none";
			else if (strncmp(w, "key:", 4) == 0 && !has_mode(c, CALLERS_API_KEY))
				need = "key: needs api_key in [callers] mode";
			else if ((strncmp(w, "group:", 6) == 0 || strncmp(w, "role:", 5) == 0 ||
			          strncmp(w, "scope:", 6) == 0 || strncmp(w, "app:", 4) == 0) &&
			         !has_mode(c, CALLERS_JWT))
				need = "group:, role:, scope: and app: need jwt in [callers] mode";
			else if (strncmp(w, "user:", 5) == 0 && !has_mode(c, CALLERS_WEB_SERVER) &&
			         !has_mode(c, CALLERS_JWT))
				need = "user: needs web_server or jwt in [callers] mode";
			if (need != NULL)
				key_error(ld, ld->grants[g].label, "who", "\"%s\": %s", w, need);
		}
	}
}

/*
 * Report the required key k as missing from the file, after its section
 * when the whole section is missing (once per section, just before the
 * first of its keys). Each line says what to write, so the fix is obvious.
 */
static void report_missing(struct load *ld, const struct key *k, bool *section_reported)
{
	const char *v = suggestion(k);
	int s = section_index(k->section);

	if (s >= 0 && !section_reported[s] && !iniparser_find_entry(ld->dict, k->section)) {
		section_reported[s] = true;
		file_error(ld, "[%s]: missing section; add it, with each of its keys", k->section);
	}
	key_error(ld, k->section, k->name, "missing; add `%s =%s%s`", k->name, *v ? " " : "", v);
}

/*
 * Load the policy: read the file, scan it, let iniparser read it, then take
 * every key of the table from iniparser (an optional key left out takes its
 * default; a required one is an error) and check the rules between keys.
 * All problems are reported; any problem means no policy.
 */
int policy_load(const char *path, struct policy **out, struct strlist *errors)
{
	struct load ld;
	char *text = NULL, ikey[64];
	const char *v;
	size_t len;
	int scan_count;
	bool section_reported[NSECTIONS] = {false};

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.errors = errors;
	if (path == NULL || *path == '\0') {
		ld.count = 1;
		if (errors != NULL)
			(void)strlist_add(errors, path == NULL ? "KVGATE_CONFIG is not set"
			                                       : "KVGATE_CONFIG is set but empty");
		return 1;
	}
	ld.path = path;
	if ((text = read_file(&ld, &len)) == NULL)
		goto done;
	scan(&ld, text, len);
	scan_count = ld.count;

	ini_load = &ld;
	iniparser_set_error_callback(ini_error);
	ld.dict = iniparser_load(path);
	iniparser_set_error_callback(NULL);
	ini_load = NULL;
	if (ld.dict == NULL) {
		/* The scan refuses everything iniparser 4.1 does; its own
		 * messages only matter when that is not so. */
		if (scan_count == 0) {
			for (size_t i = 0; i < ld.ini_errors.n; i++)
				file_error(&ld, "%s", ld.ini_errors.v[i]);
			if (ld.ini_errors.n == 0)
				file_error(&ld, "iniparser could not read the file");
		}
		goto done;
	}

	if ((ld.dir = ini_dir(path)) == NULL || (ld.p = calloc(1, sizeof(*ld.p))) == NULL ||
	    (ld.p->path = strdup(path)) == NULL) {
		file_error(&ld, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		snprintf(ikey, sizeof(ikey), "%s:%s", k->section, k->name);
		if ((v = iniparser_getstring(ld.dict, ikey, NULL)) == NULL) {
			if (!k->optional) {
				report_missing(&ld, k, section_reported);
				ld.failed[i] = true;
				continue;
			}
			v = k->def;
		}
		if (!load_value(&ld, k, k->section, v, field(ld.p, k)))
			ld.failed[i] = true;
	}
	ld.p->cors.any_origin = strlist_contains(&ld.p->cors.allowed_origins, "*");
	ld.p->cors.any_header = strlist_contains(&ld.p->cors.allowed_headers, "*");
	load_origins(&ld);
	load_grants(&ld);
	check_cross(&ld);
	check_callers(&ld);

done:
	if (ld.count == 0) {
		*out = ld.p;
		ld.p = NULL;
	}
	policy_free(ld.p);
	if (ld.dict != NULL)
		iniparser_freedict(ld.dict);
	strlist_free(&ld.ini_errors);
	for (size_t i = 0; i < ld.norigins; i++) {
		free(ld.origins[i].origin);
		free(ld.origins[i].label);
		free(ld.origins[i].ininame);
	}
	for (size_t i = 0; i < ld.ngrants; i++) {
		free(ld.grants[i].name);
		free(ld.grants[i].label);
		free(ld.grants[i].ininame);
	}
	free(ld.dir);
	free(text);
	return ld.count;
}

/* Release everything the table put in p, then the secret, then p. */
void policy_free(struct policy *p)
{
	char *secret;

	if (p == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		void *f = field(p, &keys[i]);

		switch (keys[i].type) {
		case KEY_STRING:
		case KEY_URL:
		case KEY_ORIGIN:
		case KEY_PATH:
		case KEY_SECRET_FILE:
			free((char *)*(const char **)f);
			break;
		case KEY_LIST:
			strlist_free(f);
			break;
		case KEY_INT:
		case KEY_BOOL:
		case KEY_ENUM:
			break;
		}
	}
	for (size_t o = 0; o < p->norigins; o++) {
		for (size_t i = 0; i < NKEYS; i++)
			if (strcmp(keys[i].section, "secrets") == 0 && keys[i].type == KEY_LIST)
				strlist_free((struct strlist *)((char *)&p->origins[o].secrets +
				                                (keys[i].off - OFF(secrets))));
		free(p->origins[o].origin);
	}
	free(p->origins);
	for (size_t g = 0; g < p->ngrants; g++) {
		free((char *)p->grants[g].name);
		strlist_free(&p->grants[g].who);
		strlist_free(&p->grants[g].allow);
		strlist_free(&p->grants[g].deny);
	}
	free(p->grants);
	if ((secret = (char *)p->identity.client_secret) != NULL) {
		buf_wipe(secret, strlen(secret));
		free(secret);
	}
	free(p->path);
	free(p);
}

const char *policy_path(const struct policy *p)
{
	return p->path;
}

const struct policy_gateway *policy_gateway(const struct policy *p)
{
	return &p->gateway;
}

const struct policy_vault *policy_vault(const struct policy *p)
{
	return &p->vault;
}

const struct policy_identity *policy_identity(const struct policy *p)
{
	return &p->identity;
}

const struct policy_cors *policy_cors(const struct policy *p)
{
	return &p->cors;
}

const struct policy_secrets *policy_secrets(const struct policy *p)
{
	return &p->secrets;
}

const struct policy_cache *policy_cache(const struct policy *p)
{
	return &p->cache;
}

const struct policy_callers *policy_callers(const struct policy *p)
{
	return &p->callers;
}

const struct policy_limits *policy_limits(const struct policy *p)
{
	return &p->limits;
}

const struct policy_audit *policy_audit(const struct policy *p)
{
	return &p->audit;
}

bool policy_callers_on(const struct policy *p)
{
	return p->callers.nmodes > 0;
}

const struct policy_grant *policy_grant(const struct policy *p, size_t i)
{
	return i < p->ngrants ? &p->grants[i] : NULL;
}

/* An override applies to its origin exactly, byte for byte: the Origin
 * header a browser sends is the serialized origin the section names. */
const struct policy_secrets *policy_secrets_for(const struct policy *p, const char *origin)
{
	if (origin != NULL)
		for (size_t i = 0; i < p->norigins; i++)
			if (strcmp(p->origins[i].origin, origin) == 0)
				return &p->origins[i].secrets;
	return &p->secrets;
}

const struct policy_secrets *policy_origin_secrets(const struct policy *p, size_t i,
                                                   const char **origin)
{
	*origin = NULL;
	if (i >= p->norigins)
		return NULL;
	*origin = p->origins[i].origin;
	return &p->origins[i].secrets;
}
