/*
 * identity.c: the gateway's Entra ID identity and its Key Vault token. See
 * identity.h.
 *
 * identity_new() resolves [identity] method (auto picks the first method
 * whose credential is configured, in DefaultAzureCredential's order) and sets
 * the method up: everything that can be checked without a call is checked
 * there, including that a certificate's key matches it and that a federated
 * token file is readable. Each method has a function that forms its token
 * request (identity_form_*); identity_fetch() sends it through the shared
 * http handle (retrying IMDS as Azure asks), identity_take_token() parses the
 * answer, and identity_token() decides when to refresh.
 *
 * Processes are single-threaded, so at most one refresh runs at a time per
 * process; the refreshing flag keeps it so should a refresh ever re-enter.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "base64.h"
#include "mono.h"
#include "buf.h"
#include "identity.h"
#include "jsonparse.h"
#include "log.h"
#include "sha256.h"

/* What Key Vault tokens are requested for: a scope for Entra ID's v2.0
 * endpoint, a resource for the managed identity endpoints. */
#define IDENTITY_SCOPE "https://vault.azure.net/.default"
#define IDENTITY_RESOURCE_Q "https%3A%2F%2Fvault.azure.net"
#define IDENTITY_DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define IDENTITY_JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/* Managed identity endpoints and their api-versions. */
#define IDENTITY_IMDS_URL "http://169.254.169.254/metadata/identity/oauth2/token"
#define IDENTITY_IMDS_API "2018-02-01"
#define IDENTITY_APPSERVICE_API "2019-08-01"
/* Caps on what we send and keep. Entra ID client secrets are about 40
 * characters, access tokens and projected service-account tokens a few KB,
 * a PEM certificate with its key 2-8 KB. */
#define IDENTITY_SECRET_MAX 1024
#define IDENTITY_ID_MAX 256
#define IDENTITY_URL_MAX 1024
#define IDENTITY_FORM_MAX (16 * 1024)
#define IDENTITY_TOKEN_MAX (16 * 1024)
#define IDENTITY_ASSERTION_MAX (16 * 1024)
#define IDENTITY_PEM_MAX (64 * 1024)
#define IDENTITY_HEADER_MAX 512
/* expires_in beyond this is not a token Entra ID would issue. */
#define IDENTITY_EXPIRES_MAX (2 * 86400L)
/* A token answer is a flat object. */
#define IDENTITY_JSON_DEPTH 8
/* Cap on the OAuth error code quoted in details. */
#define IDENTITY_CODE_MAX 48
/* A client-assertion JWT is valid this long (Entra ID allows up to 10 min
 * and checks exp). */
#define IDENTITY_JWT_LIFE 600
/* The federated token is re-read when the copy in memory is older than this
 * (Kubernetes rotates the projected token long before it expires). */
#define IDENTITY_ASSERTION_AGE 300
/* A cached token stops being used this long before it expires (a quarter of
 * its life for very short tokens), so it never reaches the vault expired. */
#define IDENTITY_EXPIRY_SKEW 30
/* IMDS: tries and the first backoff (doubling), as Azure asks clients to
 * retry 404, 410, 429 and 5xx while the endpoint warms up or throttles. */
#define IDENTITY_IMDS_TRIES 4
#define IDENTITY_IMDS_BACKOFF_MS 200L
/* An IMDS retry is not started with less than this left of the budget. */
#define IDENTITY_IMDS_MIN_CALL_MS 100L

struct identity {
	struct http *http;           /* borrowed, outlives the identity */
	enum identity_method method; /* resolved: never IDENTITY_AUTO */
	char describe[96];           /* identity_describe() */
	/* Tenant-based methods (secret, certificate, workload identity). */
	char *tenant_id;
	char *client_id; /* also the user-assigned managed identity, or NULL */
	char *authority; /* authority_host, no trailing '/' */
	char *token_url; /* {authority_host}/{tenant}/oauth2/v2.0/token */
	char *secret;    /* client secret; wiped on free */
	/* client_certificate */
	EVP_PKEY *key;  /* the certificate's RSA private key */
	char *x5t;      /* base64url SHA-1 of the DER certificate */
	char *x5t_s256; /* base64url SHA-256 of the DER certificate */
	/* workload_identity */
	char *token_file;
	char *assertion;     /* the federated token as last read; wiped */
	time_t assertion_at; /* when it was read (id->now()) */
	/* managed_identity */
	char *mi_url;    /* the whole GET URL, query included */
	char *mi_header; /* "X-IDENTITY-HEADER: …" or "Metadata: true"; wiped */
	bool imds;       /* IMDS protocol (else App Service) */
	/* The cache. */
	char *token;        /* the cached access token, NULL when none */
	time_t refresh_at;  /* refresh from this time on */
	time_t valid_until; /* and stop using it from this time on */
	time_t retry_at;    /* after a failed refresh: not before this time */
	long backoff;       /* the wait after the next failed refresh, seconds */
	bool refreshing;
	time_t (*now)(void);
	unsigned long requests;
	struct identity_share share; /* get NULL: not shared */
	bool fetch_fresh;            /* the vault refused a token: fetch, do not borrow */
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

/* What the identity uses (see identity.h); owned by the identity. */
const char *identity_describe(const struct identity *id)
{
	return id->describe;
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
 * digits, '.', '_' and '-', 1 to IDENTITY_ID_MAX characters. It goes into
 * form bodies, JWT claims and a query string unescaped. */
static bool identity_client_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= IDENTITY_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Whether the n bytes at s are 1..max visible ASCII characters (no space or
 * control character): what may go into an HTTP header or a form value as
 * a token. */
static bool identity_visible(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return true;
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

/* The environment variable name when set and not empty, else NULL. */
static const char *identity_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The client secret: client_secret_file's contents, else AZURE_CLIENT_SECRET;
 * NULL when neither is there. *from names the source for messages. */
static const char *identity_find_secret(const struct policy_identity *pi, const char **from)
{
	if (pi->client_secret_file != NULL && pi->client_secret_file[0] != '\0') {
		*from = "client_secret_file";
		return pi->client_secret != NULL ? pi->client_secret : "";
	}
	*from = "AZURE_CLIENT_SECRET";
	return identity_env("AZURE_CLIENT_SECRET");
}

/*
 * Read the whole file at path into b (whose cap bounds it). Returns 0, or -1
 * with a reason in errbuf naming the file (never its contents). Only regular
 * files are read, so a FIFO or a device cannot block or flood the process.
 */
static int identity_read_file(const char *path, struct buf *b, char *errbuf, size_t errlen)
{
	char chunk[4096];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	buf_reset(b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		identity_say(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		identity_say(errbuf, errlen, "%s is not a regular file", path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			identity_say(errbuf, errlen, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_append(b, chunk, (size_t)n) != BUF_OK) {
			identity_say(errbuf, errlen, "%s is over %zu bytes", path, b->max);
			goto out;
		}
	}
	rc = 0;
out:
	buf_wipe(chunk, sizeof(chunk));
	close(fd);
	return rc;
}

/*
 * The authority for the tenant-based methods, into *out (a new string):
 * [identity] authority_host, or AZURE_AUTHORITY_HOST when the INI leaves it
 * at its default (the policy cannot tell "not set" from "set to the
 * default"). A trailing '/' is dropped. Returns IDENTITY_OK,
 * IDENTITY_ECONFIG with a reason in errbuf, or IDENTITY_ENOMEM.
 */
static enum identity_err identity_authority(const struct policy_identity *pi, char **out,
                                            char *errbuf, size_t errlen)
{
	const char *auth = pi->authority_host, *env = identity_env("AZURE_AUTHORITY_HOST"), *from;
	size_t n;

	from = "[identity] authority_host";
	if (env != NULL && (auth == NULL || strcmp(auth, IDENTITY_DEFAULT_AUTHORITY) == 0)) {
		auth = env;
		from = "AZURE_AUTHORITY_HOST";
	}
	if (auth == NULL)
		auth = IDENTITY_DEFAULT_AUTHORITY;
	n = strlen(auth);
	while (n > 0 && auth[n - 1] == '/')
		n--;
	if (n == 0 || n > IDENTITY_URL_MAX / 2 || !http_url_allowed(auth) ||
	    strpbrk(auth, "?# \t\r\n") != NULL) {
		identity_say(errbuf, errlen,
		             "%s must be an https:// URL (http:// only to loopback) without query",
		             from);
		return IDENTITY_ECONFIG;
	}
	return (*out = strndup(auth, n)) != NULL ? IDENTITY_OK : IDENTITY_ENOMEM;
}

/*
 * Set up what the tenant-based methods share: tenant and client id (INI
 * first, then AZURE_TENANT_ID / AZURE_CLIENT_ID), the authority and the token
 * URL under it. Returns IDENTITY_OK, IDENTITY_ECONFIG with a reason in errbuf,
 * or IDENTITY_ENOMEM.
 */
static enum identity_err identity_setup_tenant(struct identity *id,
                                               const struct policy_identity *pi, char *errbuf,
                                               size_t errlen)
{
	const char *tenant, *client;
	enum identity_err err;
	size_t n;

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
	if ((err = identity_authority(pi, &id->authority, errbuf, errlen)) != IDENTITY_OK)
		return err;
	n = strlen(id->authority) + strlen(tenant) + sizeof("/oauth2/v2.0/token") + 1;
	if ((id->tenant_id = strdup(tenant)) == NULL || (id->client_id = strdup(client)) == NULL ||
	    (id->token_url = malloc(n)) == NULL)
		return IDENTITY_ENOMEM;
	snprintf(id->token_url, n, "%s/%s/oauth2/v2.0/token", id->authority, tenant);
	return IDENTITY_OK;
}

/*
 * Set up client credentials with a client secret: the tenant part and a copy
 * of the secret. Returns IDENTITY_OK, IDENTITY_ECONFIG with a reason in
 * errbuf, or IDENTITY_ENOMEM.
 */
static enum identity_err identity_setup_client_secret(struct identity *id,
                                                      const struct policy_identity *pi,
                                                      char *errbuf, size_t errlen)
{
	const char *secret, *from = "";
	enum identity_err err;

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
	if ((err = identity_setup_tenant(id, pi, errbuf, errlen)) != IDENTITY_OK)
		return err;
	if ((id->secret = strdup(secret)) == NULL)
		return IDENTITY_ENOMEM;
	snprintf(id->describe, sizeof(id->describe), "client_secret");
	return IDENTITY_OK;
}

/* OpenSSL's passphrase callback: the password given (the value of
 * AZURE_CLIENT_CERTIFICATE_PASSWORD), or none; never a prompt on a
 * terminal, which is OpenSSL's default. */
static int identity_pem_password(char *out, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n;

	if (pw == NULL || size <= 0 || (n = strlen(pw)) > (size_t)size)
		return 0;
	memcpy(out, pw, n);
	return (int)n;
}

/* base64url of the digest md of n bytes at p (a certificate thumbprint), or
 * NULL when out of memory. */
static char *identity_thumbprint(const EVP_MD *md, const unsigned char *p, size_t n)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dn = 0;

	if (EVP_Digest(p, n, d, &dn, md, NULL) != 1)
		return NULL;
	return base64url_encode(d, dn);
}

/*
 * Load the PEM at path (a certificate and its RSA private key, in either
 * order; the key may be encrypted with AZURE_CLIENT_CERTIFICATE_PASSWORD) and
 * keep the key and the certificate's thumbprints. Checks that the key is RSA
 * (RS256) and belongs to the certificate; warns when the certificate has
 * expired (Entra ID will refuse it). The file's bytes are wiped after use.
 */
static enum identity_err identity_load_certificate(struct identity *id, const char *path,
                                                   const char *from, char *errbuf, size_t errlen)
{
	enum identity_err err = IDENTITY_ECONFIG;
	unsigned char *der = NULL;
	X509 *cert = NULL;
	BIO *bio = NULL;
	struct buf pem;
	char why[256];
	int dlen;

	buf_init(&pem, IDENTITY_PEM_MAX);
	if (identity_read_file(path, &pem, why, sizeof(why)) != 0) {
		identity_say(errbuf, errlen, "%s: %s", from, why);
		goto out;
	}
	if (pem.len == 0 || (bio = BIO_new_mem_buf(pem.data, (int)pem.len)) == NULL) {
		identity_say(errbuf, errlen, "%s: %s is empty", from, path);
		goto out;
	}
	if ((cert = PEM_read_bio_X509(bio, NULL, identity_pem_password, NULL)) == NULL) {
		identity_say(errbuf, errlen, "%s: %s holds no PEM certificate", from, path);
		goto out;
	}
	if (BIO_reset(bio) != 1 ||
	    (id->key = PEM_read_bio_PrivateKey(
	         bio, NULL, identity_pem_password,
	         (void *)identity_env("AZURE_CLIENT_CERTIFICATE_PASSWORD"))) == NULL) {
		identity_say(errbuf, errlen,
		             "%s: %s holds no private key (or it is encrypted and "
		             "AZURE_CLIENT_CERTIFICATE_PASSWORD does not open it)",
		             from, path);
		goto out;
	}
	if (EVP_PKEY_base_id(id->key) != EVP_PKEY_RSA) {
		identity_say(errbuf, errlen,
		             "%s: the key in %s is not an RSA key (RS256 needs one)", from, path);
		goto out;
	}
	if (X509_check_private_key(cert, id->key) != 1) {
		identity_say(errbuf, errlen, "%s: the key in %s does not match its certificate",
		             from, path);
		goto out;
	}
	if ((dlen = i2d_X509(cert, &der)) <= 0) {
		identity_say(errbuf, errlen, "%s: cannot encode the certificate in %s", from, path);
		goto out;
	}
	if ((id->x5t = identity_thumbprint(EVP_sha1(), der, (size_t)dlen)) == NULL ||
	    (id->x5t_s256 = identity_thumbprint(EVP_sha256(), der, (size_t)dlen)) == NULL) {
		err = IDENTITY_ENOMEM;
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
		log_warn("identity: the certificate in %s has expired; Entra ID will refuse it",
		         path);
	err = IDENTITY_OK;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	X509_free(cert);
	BIO_free(bio);
	buf_free(&pem);
	return err;
}

/*
 * Set up client credentials with a certificate: the PEM from
 * client_certificate_file, else AZURE_CLIENT_CERTIFICATE_PATH, and the tenant
 * part. Returns IDENTITY_OK, IDENTITY_ECONFIG with a reason in errbuf, or
 * IDENTITY_ENOMEM.
 */
static enum identity_err identity_setup_certificate(struct identity *id,
                                                    const struct policy_identity *pi, char *errbuf,
                                                    size_t errlen)
{
	const char *path, *from = "[identity] client_certificate_file";
	enum identity_err err;

	if ((path = pi->client_certificate_file) == NULL || path[0] == '\0') {
		from = "AZURE_CLIENT_CERTIFICATE_PATH";
		path = identity_env(from);
	}
	if (path == NULL) {
		identity_say(errbuf, errlen,
		             "[identity] method = client_certificate needs a certificate: set "
		             "client_certificate_file or AZURE_CLIENT_CERTIFICATE_PATH");
		return IDENTITY_ECONFIG;
	}
	if ((err = identity_setup_tenant(id, pi, errbuf, errlen)) != IDENTITY_OK)
		return err;
	if ((err = identity_load_certificate(id, path, from, errbuf, errlen)) != IDENTITY_OK)
		return err;
	snprintf(id->describe, sizeof(id->describe), "client_certificate");
	return IDENTITY_OK;
}

/*
 * (Re-)read the federated token file into id->assertion: surrounding white
 * space removed, 1..IDENTITY_ASSERTION_MAX visible characters. On failure
 * the previous copy is kept and errbuf says why (never the token).
 */
static enum identity_err identity_read_assertion(struct identity *id, char *errbuf, size_t errlen)
{
	enum identity_err err = IDENTITY_ECONFIG;
	struct buf b;
	size_t s = 0, e;
	char *copy;

	buf_init(&b, IDENTITY_ASSERTION_MAX + 64);
	if (identity_read_file(id->token_file, &b, errbuf, errlen) != 0)
		goto out;
	e = b.len;
	while (s < e && strchr(" \t\r\n", b.data[s]) != NULL)
		s++;
	while (e > s && strchr(" \t\r\n", b.data[e - 1]) != NULL)
		e--;
	if (!identity_visible(b.data + s, e - s, IDENTITY_ASSERTION_MAX)) {
		identity_say(errbuf, errlen,
		             "the federated token file %s is empty, over %d bytes, or not a token",
		             id->token_file, IDENTITY_ASSERTION_MAX);
		goto out;
	}
	if ((copy = strndup(b.data + s, e - s)) == NULL) {
		err = IDENTITY_ENOMEM;
		goto out;
	}
	if (id->assertion != NULL) {
		buf_wipe(id->assertion, strlen(id->assertion));
		free(id->assertion);
	}
	id->assertion = copy;
	id->assertion_at = id->now();
	err = IDENTITY_OK;
out:
	buf_free(&b);
	return err;
}

/*
 * Set up workload identity: the token file from federated_token_file, else
 * AZURE_FEDERATED_TOKEN_FILE, read once now so that a missing file stops the
 * start, and the tenant part.
 */
static enum identity_err identity_setup_workload(struct identity *id,
                                                 const struct policy_identity *pi, char *errbuf,
                                                 size_t errlen)
{
	const char *path;
	enum identity_err err;

	if ((path = identity_setting(pi->federated_token_file, "AZURE_FEDERATED_TOKEN_FILE")) ==
	    NULL) {
		identity_say(errbuf, errlen,
		             "[identity] method = workload_identity needs a token file: set "
		             "federated_token_file or AZURE_FEDERATED_TOKEN_FILE");
		return IDENTITY_ECONFIG;
	}
	if ((err = identity_setup_tenant(id, pi, errbuf, errlen)) != IDENTITY_OK)
		return err;
	if ((id->token_file = strdup(path)) == NULL)
		return IDENTITY_ENOMEM;
	if ((err = identity_read_assertion(id, errbuf, errlen)) != IDENTITY_OK)
		return err;
	snprintf(id->describe, sizeof(id->describe), "workload_identity");
	return IDENTITY_OK;
}

/*
 * Whether url may be a managed identity endpoint: what http_url_allowed()
 * permits, or IMDS's plain-http link-local address; no query or fragment
 * (kvgate adds its own query), no white space, at most IDENTITY_URL_MAX / 2.
 */
static bool identity_endpoint_valid(const char *url)
{
	return strlen(url) <= IDENTITY_URL_MAX / 2 && strpbrk(url, "?# \t\r\n") == NULL &&
	       (http_url_allowed(url) || http_url_is_imds(url));
}

/*
 * Set up managed identity. The endpoint is managed_identity_endpoint, else
 * IDENTITY_ENDPOINT when IDENTITY_HEADER is set too (App Service and
 * Functions), else IMDS. The App Service protocol is used when
 * IDENTITY_HEADER is set and the endpoint is not IMDS's address; otherwise
 * IMDS's. client_id (INI, else AZURE_CLIENT_ID, as DefaultAzureCredential
 * does) selects a user-assigned identity.
 */
static enum identity_err identity_setup_managed(struct identity *id,
                                                const struct policy_identity *pi, char *errbuf,
                                                size_t errlen)
{
	const char *endpoint, *from, *header = identity_env("IDENTITY_HEADER"), *client;
	struct buf b;
	enum buf_err be;

	if (pi->managed_identity_endpoint != NULL && pi->managed_identity_endpoint[0] != '\0') {
		endpoint = pi->managed_identity_endpoint;
		from = "[identity] managed_identity_endpoint";
	} else if (identity_env("IDENTITY_ENDPOINT") != NULL && header != NULL) {
		endpoint = identity_env("IDENTITY_ENDPOINT");
		from = "IDENTITY_ENDPOINT";
	} else {
		endpoint = IDENTITY_IMDS_URL;
		from = "IMDS";
	}
	if (!identity_endpoint_valid(endpoint)) {
		identity_say(errbuf, errlen,
		             "%s must be an https:// URL, or http:// to loopback or "
		             "169.254.169.254, without query",
		             from);
		return IDENTITY_ECONFIG;
	}
	id->imds = header == NULL || http_url_is_imds(endpoint);
	if (!id->imds && !identity_visible(header, strlen(header), IDENTITY_HEADER_MAX)) {
		identity_say(errbuf, errlen, "IDENTITY_HEADER must be 1-%d visible characters",
		             IDENTITY_HEADER_MAX);
		return IDENTITY_ECONFIG;
	}
	if ((client = identity_setting(pi->client_id, "AZURE_CLIENT_ID")) != NULL) {
		if (!identity_client_valid(client)) {
			identity_say(errbuf, errlen,
			             "[identity] client_id must be the user-assigned identity's "
			             "client id (a GUID)");
			return IDENTITY_ECONFIG;
		}
		if ((id->client_id = strdup(client)) == NULL)
			return IDENTITY_ENOMEM;
	}
	buf_init(&b, IDENTITY_URL_MAX);
	if (id->imds)
		be = buf_printf(&b, "%s?api-version=%s&resource=%s", endpoint, IDENTITY_IMDS_API,
		                IDENTITY_RESOURCE_Q);
	else
		be = buf_printf(&b, "%s?resource=%s&api-version=%s", endpoint, IDENTITY_RESOURCE_Q,
		                IDENTITY_APPSERVICE_API);
	if (be == BUF_OK && client != NULL)
		be = buf_printf(&b, "&client_id=%s", client);
	if (be != BUF_OK || (id->mi_url = strdup(b.data)) == NULL) {
		buf_free(&b);
		return IDENTITY_ENOMEM;
	}
	buf_reset(&b);
	be = id->imds ? buf_puts(&b, "Metadata: true")
	              : buf_printf(&b, "X-IDENTITY-HEADER: %s", header);
	if (be != BUF_OK || (id->mi_header = strdup(b.data)) == NULL) {
		buf_free(&b);
		return IDENTITY_ENOMEM;
	}
	buf_free(&b);
	snprintf(id->describe, sizeof(id->describe), "managed_identity (%s%s%s)",
	         id->imds ? "IMDS" : "App Service",
	         strcmp(from, "[identity] managed_identity_endpoint") == 0
	             ? ", managed_identity_endpoint"
	             : "",
	         client != NULL ? ", user-assigned" : "");
	return IDENTITY_OK;
}

/*
 * method = auto: the first configured credential in DefaultAzureCredential's
 * order (client secret, certificate, workload identity, managed identity),
 * looking at the INI keys first and the environment only when the INI names
 * no credential, so INI keys win. Managed identity is the last resort, as in
 * the SDKs. why receives the reason, for the start-up log line.
 */
static enum identity_method identity_choose(const struct policy_identity *pi, char *why,
                                            size_t wlen)
{
	static const struct {
		enum identity_method m;
		const char *env;
	} envs[] = {
	    {IDENTITY_CLIENT_SECRET, "AZURE_CLIENT_SECRET"},
	    {IDENTITY_CLIENT_CERTIFICATE, "AZURE_CLIENT_CERTIFICATE_PATH"},
	    {IDENTITY_WORKLOAD_IDENTITY, "AZURE_FEDERATED_TOKEN_FILE"},
	};
	const struct {
		enum identity_method m;
		const char *key, *value;
	} keys[] = {
	    {IDENTITY_CLIENT_SECRET, "client_secret_file", pi->client_secret_file},
	    {IDENTITY_CLIENT_CERTIFICATE, "client_certificate_file", pi->client_certificate_file},
	    {IDENTITY_WORKLOAD_IDENTITY, "federated_token_file", pi->federated_token_file},
	    {IDENTITY_MANAGED_IDENTITY, "managed_identity_endpoint", pi->managed_identity_endpoint},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].value != NULL && keys[i].value[0] != '\0') {
			identity_say(why, wlen, "[identity] %s is set", keys[i].key);
			return keys[i].m;
		}
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
		if (identity_env(envs[i].env) != NULL) {
			identity_say(why, wlen, "%s is set", envs[i].env);
			return envs[i].m;
		}
	if (identity_env("IDENTITY_ENDPOINT") != NULL && identity_env("IDENTITY_HEADER") != NULL)
		identity_say(why, wlen, "IDENTITY_ENDPOINT and IDENTITY_HEADER are set");
	else
		identity_say(why, wlen,
		             "no client secret, certificate or federated token is configured "
		             "(client_secret_file, client_certificate_file, federated_token_file "
		             "or their AZURE_* variables)");
	return IDENTITY_MANAGED_IDENTITY;
}

/*
 * Make the identity for policy p (see identity.h). The method is resolved
 * here and logged once, with the reason when auto chose it. On error *out
 * stays NULL and errbuf says what is missing, naming the INI key or
 * environment variable to set; it never quotes a secret.
 */
enum identity_err identity_new(const struct policy *p, struct http *h, struct identity **out,
                               char *errbuf, size_t errlen)
{
	const struct policy_identity *pi = policy_identity(p);
	char why[256] = "";
	struct identity *id;
	enum identity_err err;

	*out = NULL;
	identity_say(errbuf, errlen, "%s", "");
	if ((id = calloc(1, sizeof(*id))) == NULL) {
		identity_say(errbuf, errlen, "out of memory");
		return IDENTITY_ENOMEM;
	}
	id->http = h;
	id->now = identity_clock;
	id->backoff = IDENTITY_RETRY_MIN;
	id->method = pi->method;
	if (id->method == IDENTITY_AUTO)
		id->method = identity_choose(pi, why, sizeof(why));
	switch (id->method) {
	case IDENTITY_CLIENT_SECRET:
		err = identity_setup_client_secret(id, pi, errbuf, errlen);
		break;
	case IDENTITY_CLIENT_CERTIFICATE:
		err = identity_setup_certificate(id, pi, errbuf, errlen);
		break;
	case IDENTITY_WORKLOAD_IDENTITY:
		err = identity_setup_workload(id, pi, errbuf, errlen);
		break;
	case IDENTITY_MANAGED_IDENTITY:
		err = identity_setup_managed(id, pi, errbuf, errlen);
		break;
	case IDENTITY_AUTO:
	default:
		identity_say(errbuf, errlen, "[identity] method is not a known method");
		err = IDENTITY_ECONFIG;
		break;
	}
	if (err != IDENTITY_OK)
		goto fail;
	if (why[0] != '\0')
		log_info("identity: method = auto chose %s: %s", id->describe, why);
	else
		log_info("identity: %s", id->describe);
	*out = id;
	return IDENTITY_OK;

fail:
	if (err == IDENTITY_ENOMEM)
		identity_say(errbuf, errlen, "out of memory");
	else if (why[0] != '\0' && errbuf != NULL && strlen(errbuf) + 1 < errlen) {
		/* Say why auto went for this method, so the fix is obvious. */
		size_t n = strlen(errbuf);

		snprintf(errbuf + n, errlen - n, " (method = auto chose %s: %s)",
		         identity_method_name(id->method), why);
	}
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

static void identity_forget(struct identity *id);
static void identity_share_key(const struct identity *id, char *key, size_t len);

/* Wipe and forget the cached token, so the next identity_token() fetches
 * a new one at once (the vault refused this one); the host's shared copy
 * too, if it is the same. */
void identity_invalidate(struct identity *id)
{
	char key[1024];

	if (id->share.drop != NULL && id->token != NULL) {
		identity_share_key(id, key, sizeof(key));
		id->share.drop(id->share.ctx, key, id->token);
	}
	identity_forget(id);
	id->fetch_fresh = true;
}

/* Forget the cached token locally (it expired, or the tenant changed). */
static void identity_forget(struct identity *id)
{
	identity_free_secret(&id->token);
	id->refresh_at = 0;
	id->valid_until = 0;
	id->retry_at = 0;
	id->backoff = IDENTITY_RETRY_MIN;
}

/* Ask tenant from now on (see identity.h): the tenant-based methods only. */
enum identity_err identity_use_tenant(struct identity *id, const char *tenant)
{
	char *url;
	size_t n;

	identity_invalidate(id);
	if (id->authority == NULL || id->tenant_id == NULL || !identity_tenant_valid(tenant))
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

/* Release the identity: token, client secret, private key, federated token
 * and identity header are wiped first. The http handle is borrowed and
 * stays. Accepts NULL. */
void identity_free(struct identity *id)
{
	if (id == NULL)
		return;
	identity_forget(id); /* the host's shared copy stays in use */
	identity_free_secret(&id->secret);
	identity_free_secret(&id->assertion);
	identity_free_secret(&id->mi_header);
	EVP_PKEY_free(id->key); /* OpenSSL clears key material on free */
	free(id->x5t);
	free(id->x5t_s256);
	free(id->token_file);
	free(id->mi_url);
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

/* Token requests sent so far, failed ones and IMDS retries included. */
void identity_share(struct identity *id, const struct identity_share *s)
{
	if (s != NULL)
		id->share = *s;
	else
		memset(&id->share, 0, sizeof(id->share));
}

/* What a shared token is for: the method, the endpoint asked (the tenant's
 * token URL, or the managed identity URL) and the client. */
static void identity_share_key(const struct identity *id, char *key, size_t len)
{
	/* And a fingerprint of the credential, so that a process holding a
	 * wrong or older credential never borrows a token it could not get. */
	const char *cred = id->secret       ? id->secret
	                   : id->x5t_s256   ? id->x5t_s256
	                   : id->mi_header  ? id->mi_header
	                   : id->token_file ? id->token_file
	                                    : "";
	unsigned char d[SHA256_LEN];
	char *fp;

	/* Our own SHA-256 (same digest as EVP's): a process that only
	 * borrows the host's token never loads libcrypto. */
	sha256(cred, strlen(cred), d);
	fp = base64url_encode(d, sizeof(d));

	snprintf(key, len, "%s\n%s\n%s\n%s", id->describe,
	         id->token_url ? id->token_url : (id->mi_url ? id->mi_url : ""),
	         id->client_id ? id->client_id : "", fp ? fp : "");
	free(fp);
}

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

/* The fields every client credentials request starts with (OAuth 2.0 client
 * credentials grant, Microsoft identity platform v2.0). */
static enum identity_err identity_form_start(const struct identity *id, struct identity_request *rq)
{
	rq->method = "POST";
	rq->url = id->token_url;
	rq->headers[0] = "Accept: application/json";
	rq->headers[1] = NULL;
	if (identity_form_add(&rq->body, "client_id", id->client_id) != BUF_OK ||
	    identity_form_add(&rq->body, "scope", IDENTITY_SCOPE) != BUF_OK ||
	    identity_form_add(&rq->body, "grant_type", "client_credentials") != BUF_OK)
		return IDENTITY_ENOMEM;
	return IDENTITY_OK;
}

/* The token request for client credentials with a client secret. */
static enum identity_err identity_form_client_secret(const struct identity *id,
                                                     struct identity_request *rq)
{
	if (identity_form_start(id, rq) != IDENTITY_OK ||
	    identity_form_add(&rq->body, "client_secret", id->secret) != BUF_OK)
		return IDENTITY_ENOMEM;
	return IDENTITY_OK;
}

/* The token request with a client assertion (RFC 7523 client
 * authentication): a signed JWT or a federated token. */
static enum identity_err identity_form_assertion(const struct identity *id,
                                                 struct identity_request *rq, const char *assertion)
{
	if (identity_form_start(id, rq) != IDENTITY_OK ||
	    identity_form_add(&rq->body, "client_assertion_type", IDENTITY_JWT_BEARER) != BUF_OK ||
	    identity_form_add(&rq->body, "client_assertion", assertion) != BUF_OK)
		return IDENTITY_ENOMEM;
	return IDENTITY_OK;
}

/* Append base64url(p, n) to b. */
static enum buf_err identity_b64_append(struct buf *b, const void *p, size_t n)
{
	char *s = base64url_encode(p, n);
	enum buf_err e;

	if (s == NULL)
		return BUF_ENOMEM;
	e = buf_puts(b, s);
	buf_wipe(s, strlen(s)); /* the assertion's signature makes it a credential */
	free(s);
	return e;
}

/* Append the compact JSON of object j, base64url-encoded, to b; j is put. */
static enum buf_err identity_b64_json(struct buf *b, struct json_object *j)
{
	const char *s;
	enum buf_err e;

	if (j == NULL)
		return BUF_ENOMEM;
	s = json_object_to_json_string_ext(j,
	                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	e = s != NULL ? identity_b64_append(b, s, strlen(s)) : BUF_ENOMEM;
	json_object_put(j);
	return e;
}

/* Add key: string value to object j (NULL-safe for the caller's chain). */
static bool identity_json_str(struct json_object *j, const char *key, const char *value)
{
	struct json_object *v = json_object_new_string(value);

	return j != NULL && v != NULL && json_object_object_add(j, key, v) == 0;
}

/* Add key: integer value to object j. */
static bool identity_json_int(struct json_object *j, const char *key, int64_t value)
{
	struct json_object *v = json_object_new_int64(value);

	return j != NULL && v != NULL && json_object_object_add(j, key, v) == 0;
}

/*
 * The client-assertion JWT for the certificate credential, into b (capped):
 * header {"alg":"RS256","typ":"JWT","x5t":…,"x5t#S256":…}, claims aud = the
 * token URL, iss = sub = client id, a random jti, nbf = iat = now and exp =
 * now + IDENTITY_JWT_LIFE, signed RSASSA-PKCS1-v1_5 SHA-256 with the
 * certificate's key. Returns IDENTITY_OK, IDENTITY_ENOMEM or IDENTITY_EPROTO
 * (the signature failed).
 */
static enum identity_err identity_jwt(const struct identity *id, struct buf *b)
{
	struct json_object *hdr = json_object_new_object(), *claims = json_object_new_object();
	unsigned char rnd[16], *sig = NULL;
	enum identity_err err = IDENTITY_ENOMEM;
	EVP_MD_CTX *ctx = NULL;
	time_t now = id->now();
	char jti[40];
	size_t slen = 0;
	bool built;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		err = IDENTITY_EPROTO;
		goto out;
	}
	rnd[6] = (unsigned char)((rnd[6] & 0x0f) | 0x40); /* a version 4 UUID */
	rnd[8] = (unsigned char)((rnd[8] & 0x3f) | 0x80);
	snprintf(jti, sizeof(jti),
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", rnd[0],
	         rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10],
	         rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
	built = identity_json_str(hdr, "alg", "RS256") && identity_json_str(hdr, "typ", "JWT") &&
	        identity_json_str(hdr, "x5t", id->x5t) &&
	        identity_json_str(hdr, "x5t#S256", id->x5t_s256) &&
	        identity_json_str(claims, "aud", id->token_url) &&
	        identity_json_str(claims, "iss", id->client_id) &&
	        identity_json_str(claims, "sub", id->client_id) &&
	        identity_json_str(claims, "jti", jti) &&
	        identity_json_int(claims, "nbf", (int64_t)now) &&
	        identity_json_int(claims, "iat", (int64_t)now) &&
	        identity_json_int(claims, "exp", (int64_t)now + IDENTITY_JWT_LIFE);
	if (!built)
		goto out;
	if (identity_b64_json(b, hdr) != BUF_OK || buf_puts(b, ".") != BUF_OK) {
		hdr = NULL;
		goto out;
	}
	hdr = NULL;
	if (identity_b64_json(b, claims) != BUF_OK) {
		claims = NULL;
		goto out;
	}
	claims = NULL;
	err = IDENTITY_EPROTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, id->key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &slen, (const unsigned char *)b->data, b->len) != 1 ||
	    (sig = OPENSSL_malloc(slen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)b->data, b->len) != 1)
		goto out;
	if (buf_puts(b, ".") != BUF_OK || identity_b64_append(b, sig, slen) != BUF_OK) {
		err = IDENTITY_ENOMEM;
		goto out;
	}
	err = IDENTITY_OK;
out:
	ERR_clear_error();
	json_object_put(hdr);
	json_object_put(claims);
	OPENSSL_clear_free(sig, slen);
	EVP_MD_CTX_free(ctx);
	return err;
}

/* The token request for the certificate credential: a fresh JWT each time
 * (each carries its own jti and is valid for minutes only). */
static enum identity_err identity_form_certificate(const struct identity *id,
                                                   struct identity_request *rq, char *detail,
                                                   size_t dlen)
{
	enum identity_err err;
	struct buf jwt;

	buf_init(&jwt, IDENTITY_FORM_MAX / 2);
	if ((err = identity_jwt(id, &jwt)) != IDENTITY_OK)
		identity_say(detail, dlen, "could not sign the client assertion");
	else
		err = identity_form_assertion(id, rq, jwt.data);
	buf_free(&jwt);
	return err;
}

/* The token request for workload identity: the federated token, re-read
 * first when the copy in memory is over IDENTITY_ASSERTION_AGE seconds old
 * (or the clock went back). */
static enum identity_err identity_form_workload(struct identity *id, struct identity_request *rq,
                                                char *detail, size_t dlen)
{
	time_t now = id->now();
	enum identity_err err;

	if (id->assertion == NULL || now < id->assertion_at ||
	    now - id->assertion_at > IDENTITY_ASSERTION_AGE) {
		if ((err = identity_read_assertion(id, detail, dlen)) != IDENTITY_OK)
			return err;
	}
	return identity_form_assertion(id, rq, id->assertion);
}

/* The managed identity request: a GET with the identity header. */
static enum identity_err identity_form_managed(const struct identity *id,
                                               struct identity_request *rq)
{
	rq->method = "GET";
	rq->url = id->mi_url;
	rq->headers[0] = "Accept: application/json";
	rq->headers[1] = id->mi_header;
	rq->headers[2] = NULL;
	return IDENTITY_OK;
}

/* Form the token request for the identity's method; detail says why not. */
static enum identity_err identity_form(struct identity *id, struct identity_request *rq,
                                       char *detail, size_t dlen)
{
	enum identity_err err = IDENTITY_ECONFIG;

	switch (id->method) {
	case IDENTITY_CLIENT_SECRET:
		err = identity_form_client_secret(id, rq);
		break;
	case IDENTITY_CLIENT_CERTIFICATE:
		return identity_form_certificate(id, rq, detail, dlen);
	case IDENTITY_WORKLOAD_IDENTITY:
		return identity_form_workload(id, rq, detail, dlen);
	case IDENTITY_MANAGED_IDENTITY:
		err = identity_form_managed(id, rq);
		break;
	case IDENTITY_AUTO:
		break;
	}
	if (err != IDENTITY_OK)
		identity_say(detail, dlen, "could not form the token request");
	return err;
}

/* Whether t looks like an access token: 1..IDENTITY_TOKEN_MAX visible ASCII
 * characters (a JWT is base64url and dots). It goes into an HTTP header, so
 * no space or control character may pass. */
static bool identity_token_valid(const char *t, size_t n)
{
	return identity_visible(t, n, IDENTITY_TOKEN_MAX);
}

/* A non-negative integer of at most digits digits: a JSON integer, or a
 * string of digits as IMDS and App Service send; else -1. */
static long long identity_number(struct json_object *v, size_t digits)
{
	const char *s;
	int64_t n;

	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (s[0] == '\0' || strlen(s) > digits || strspn(s, "0123456789") != strlen(s))
			return -1;
		n = strtoll(s, NULL, 10);
	} else {
		return -1;
	}
	return n >= 0 ? (long long)n : -1;
}

/* expires_in as a number of seconds in 1..IDENTITY_EXPIRES_MAX (a JSON
 * integer, or a string of digits as some endpoints send), else -1. */
static long identity_expires_in(struct json_object *v)
{
	long long n = identity_number(v, 9);

	return n >= 1 && n <= IDENTITY_EXPIRES_MAX ? (long)n : -1;
}

/*
 * Schedule the refresh of a token of life seconds fetched at `asked`: at
 * half-life when it lasts IDENTITY_LONG_LIFE or more (a 24 h managed
 * identity token is refreshed after 12 h) or less than twice the margin,
 * else IDENTITY_REFRESH_MARGIN before expiry. The token is used until
 * IDENTITY_EXPIRY_SKEW (a quarter of its life when short) before expiry,
 * which is how long a failed refresh can be ridden out.
 */
static void identity_schedule(struct identity *id, time_t asked, long life)
{
	long ahead, skew;

	if (life >= IDENTITY_LONG_LIFE || life <= 2 * IDENTITY_REFRESH_MARGIN)
		ahead = life / 2;
	else
		ahead = IDENTITY_REFRESH_MARGIN;
	skew = life >= 4 * IDENTITY_EXPIRY_SKEW ? IDENTITY_EXPIRY_SKEW : life / 4;
	id->refresh_at = asked + (time_t)(life - ahead);
	id->valid_until = asked + (time_t)(life - skew);
}

/*
 * Take the token from a 200 answer: token_type Bearer, access_token and its
 * life: expires_in; for managed identity, when there is no expires_in,
 * expires_on (Unix seconds, a string on App Service) less the time it was
 * asked. The old token is replaced only on success.
 */
static enum identity_err identity_take_token(struct identity *id, const struct buf *body,
                                             time_t asked, char *detail, size_t dlen)
{
	struct json_object *j, *v;
	enum identity_err err = IDENTITY_EPROTO;
	long long on;
	long life = -1;
	char *t;

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
	t = (char *)json_object_get_string(v);
	if (json_object_object_get_ex(j, "expires_in", &v)) {
		life = identity_expires_in(v);
	} else if (id->method == IDENTITY_MANAGED_IDENTITY &&
	           json_object_object_get_ex(j, "expires_on", &v) &&
	           (on = identity_number(v, 12)) > (long long)asked &&
	           on - (long long)asked <= IDENTITY_EXPIRES_MAX) {
		life = (long)(on - (long long)asked);
	}
	if (life < 1) {
		identity_say(detail, dlen, "%s missing or out of range",
		             id->method == IDENTITY_MANAGED_IDENTITY ? "expires_in/expires_on"
		                                                     : "expires_in");
		goto out;
	}
	identity_free_secret(&id->token);
	if ((id->token = strdup(t)) == NULL) {
		identity_say(detail, dlen, "out of memory");
		err = IDENTITY_ENOMEM;
		goto out;
	}
	identity_schedule(id, asked, life);
	err = IDENTITY_OK;
out:
	jsonparse_put_wiped(j); /* its access_token */
	return err;
}

/*
 * Map a non-200 answer. An OAuth error answer ({"error", "error_codes"})
 * with a 4xx status is a refusal, and so is any 4xx from a managed identity
 * endpoint (App Service answers {"statusCode","message"}); 408, 429 and 5xx
 * mean try later; anything else is not what a token endpoint says. The
 * detail quotes the status, the OAuth error code and the first AADSTS code,
 * never error_description or message.
 */
static enum identity_err identity_map_status(const struct identity *id,
                                             const struct http_response *r, char *detail,
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
	else if (r->status >= 400 && r->status <= 499 &&
	         (code[0] != '\0' || id->method == IDENTITY_MANAGED_IDENTITY))
		err = IDENTITY_EREJECTED;
	else
		err = IDENTITY_EPROTO;
	if (err != IDENTITY_EUNAVAILABLE && code[0] == '\0')
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

/* Whether IMDS answered with a status Azure documents as worth a retry:
 * 404 (the identity is still being assigned), 410 (IMDS is being updated),
 * 429 and 5xx. */
static bool identity_imds_retryable(long status)
{
	return status == 404 || status == 410 || status == 429 || (status >= 500 && status <= 599);
}

/*
 * Send the method's token request and cache the token it yields. IMDS is
 * retried (IDENTITY_IMDS_TRIES in all, backoff doubling from
 * IDENTITY_IMDS_BACKOFF_MS) within the http handle's current timeout, which
 * the caller set to what is left of its deadline; that timeout is restored
 * afterwards. Plain http to 169.254.169.254 is allowed only during the call.
 * The request body (client secret or assertion) and the response (token)
 * are wiped before returning.
 */
static enum identity_err identity_fetch(struct identity *id, char *detail, size_t dlen)
{
	struct identity_request rq = {0};
	struct http_response resp = {0};
	long budget = http_get_timeout(id->http), start = mono_ms(), wait, left;
	enum identity_err err;
	enum http_err herr;
	bool imds_url;
	time_t asked;

	buf_init(&rq.body, IDENTITY_FORM_MAX);
	if ((err = identity_form(id, &rq, detail, dlen)) != IDENTITY_OK)
		goto out;
	imds_url = http_url_is_imds(rq.url);
	for (int attempt = 1;; attempt++) {
		asked = id->now();
		id->requests++;
		if (imds_url)
			http_allow_imds(id->http, 1);
		herr = http_request(id->http, rq.method, rq.url, rq.headers, rq.body.data,
		                    IDENTITY_RESPONSE_MAX, &resp);
		if (imds_url)
			http_allow_imds(id->http, 0);
		if (herr != HTTP_OK) {
			err = identity_map_http(herr);
			identity_say(detail, dlen, "token endpoint: %s (%s)", http_strerror(herr),
			             http_last_error(id->http));
			break;
		}
		if (resp.status == 200) {
			err = identity_take_token(id, &resp.body, asked, detail, dlen);
			break;
		}
		err = identity_map_status(id, &resp, detail, dlen);
		if (id->method != IDENTITY_MANAGED_IDENTITY || !id->imds ||
		    !identity_imds_retryable(resp.status) || attempt >= IDENTITY_IMDS_TRIES)
			break;
		wait = IDENTITY_IMDS_BACKOFF_MS << (attempt - 1);
		left = budget - (mono_ms() - start);
		if (left < wait + IDENTITY_IMDS_MIN_CALL_MS)
			break;
		mono_sleep_ms(wait);
		http_set_timeout(id->http, budget - (mono_ms() - start));
		http_response_free(&resp);
	}
	http_set_timeout(id->http, budget);
out:
	buf_free(&rq.body);
	http_response_free(&resp);
	return err;
}

/*
 * Workload identity after a refusal: whether the token file now holds
 * another token than the one just refused (Kubernetes rotated it, and the
 * old one was revoked), read at once rather than after IDENTITY_ASSERTION_AGE.
 */
static bool identity_assertion_rotated(struct identity *id)
{
	char *old = id->assertion != NULL ? strdup(id->assertion) : NULL;
	bool rotated;

	rotated = old != NULL && identity_read_assertion(id, NULL, 0) == IDENTITY_OK &&
	          strcmp(old, id->assertion) != 0;
	identity_free_secret(&old);
	return rotated;
}

/*
 * A valid access token (see identity.h): the cached one until its refresh
 * time; then a new one. When the refresh fails but the cached token is
 * still valid, the cached one is returned (and the failure logged) and no
 * refresh is tried again before a backoff of IDENTITY_RETRY_MIN seconds,
 * doubling up to IDENTITY_RETRY_MAX, so a failing token endpoint is not
 * called on every request. Without a valid token every call tries.
 */
/*
 * Ask the host's shared token (identity_share): 1 when it was taken as this
 * identity's token, 0 when this process is to fetch (and then share), -1
 * when there is no sharing. key receives the shared token's key.
 */
static int identity_shared_token(struct identity *id, time_t now, char *key, size_t len)
{
	time_t refresh_at, valid_until;
	char *t = NULL;
	int r;

	identity_share_key(id, key, len);
	if (id->share.get == NULL)
		return -1;
	if (id->fetch_fresh) {
		/* After a refusal the next token is a fresh one, which is then
		 * shared (its put replaces the refused one for everyone). */
		id->fetch_fresh = false;
		return 0;
	}
	r = id->share.get(id->share.ctx, key, mono_ms() + http_get_timeout(id->http), &t,
	                  &refresh_at, &valid_until);
	if (r != 1)
		return r;
	if (now >= valid_until || (id->token != NULL && valid_until <= id->valid_until)) {
		/* Not better than this process's own: fetch without sharing. */
		identity_free_secret(&t);
		return -1;
	}
	identity_free_secret(&id->token);
	id->token = t;
	id->refresh_at = refresh_at;
	id->valid_until = valid_until;
	id->retry_at = 0;
	id->backoff = IDENTITY_RETRY_MIN;
	return 1;
}

enum identity_err identity_token(struct identity *id, const char **token, char *detail,
                                 size_t detail_len)
{
	enum identity_err err;
	time_t now = id->now();
	char key[1024];
	bool usable;
	int shared;

	*token = NULL;
	identity_say(detail, detail_len, "%s", "");
	usable = id->token != NULL && now < id->valid_until;
	if (usable && (now < id->refresh_at || now < id->retry_at || id->refreshing)) {
		*token = id->token;
		return IDENTITY_OK;
	}
	if (!usable)
		identity_forget(id);
	if (id->refreshing)
		return IDENTITY_EUNAVAILABLE;
	/* Another process of the host may hold a fresher token, or be
	 * fetching one: one token per host, not per process. */
	shared = identity_shared_token(id, now, key, sizeof(key));
	if (shared == 1) {
		*token = id->token;
		return IDENTITY_OK;
	}
	id->refreshing = true;
	err = identity_fetch(id, detail, detail_len);
	if (err == IDENTITY_EREJECTED && id->method == IDENTITY_WORKLOAD_IDENTITY &&
	    identity_assertion_rotated(id))
		err = identity_fetch(id, detail, detail_len);
	id->refreshing = false;
	if (shared == 0 && err == IDENTITY_OK)
		id->share.put(id->share.ctx, key, id->token, id->refresh_at, id->valid_until);
	else if (shared == 0)
		id->share.release(id->share.ctx, key);
	if (err == IDENTITY_OK) {
		id->retry_at = 0;
		id->backoff = IDENTITY_RETRY_MIN;
	} else if (usable) {
		id->retry_at = now + id->backoff;
		log_warn("identity: refreshing the token failed (%s: %s); the current one is "
		         "valid for %lld s more, next try in %ld s",
		         identity_strerror(err), detail, (long long)(id->valid_until - now),
		         id->backoff);
		id->backoff =
		    id->backoff * 2 < IDENTITY_RETRY_MAX ? id->backoff * 2 : IDENTITY_RETRY_MAX;
		identity_say(detail, detail_len, "%s", "");
		err = IDENTITY_OK;
	} else {
		return err;
	}
	*token = id->token;
	return err;
}
