/*
 * test_pagetoken: sealed paging tokens (lib/pagetoken.c).
 *
 * A nextLink's $skiptoken is the vault's own nextLink sealed with
 * ChaCha20-Poly1305 (lib/aead.c), so a caller can neither read it (it names
 * the vault and, in Key Vault's marker, the next secret, hidden ones
 * included) nor forge or alter one, nor replay a token of one list against
 * another. These tests pin down: the round trip; the token format (base64url
 * of nonce, ciphertext and tag, standard ChaCha20-Poly1305 that libcrypto
 * opens too, with "kvgate-page-v2:" and the scope as associated data); a
 * fresh nonce per seal; that any change to a token (one bit, one character,
 * truncation, extension, garbage) or the wrong scope, key or format label
 * makes it unopenable, AES-256-GCM tokens of format v1 included; the plain
 * text cap; and where the key comes from: [gateway] paging_key_file (the
 * same key in every process, its problems reported by key name), else the
 * client secret (derived, never the secret itself), else random per
 * process.
 *
 * pagetoken.c is included to reach seal_raw(), so a token can be sealed
 * around a plain text the API cannot produce (one holding a NUL). No key
 * byte, client secret or token is ever printed.
 */
#include "../../lib/pagetoken.c"

#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/evp.h>

#include "policy_ini.h"
#include "tap.h"

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define LINK                                                                                       \
	"https://myvault.vault.azure.net:443/secrets?api-version=7.6&$skiptoken="                  \
	"eyJOZXh0TWFya2VyIjoiMiE4OCFNREF3TURJeUlYTmxZM0psZEM5TVNWTlVVMFZEVWtWVVZFVlRWREVoTURBd"    \
	"01ESTRJVEl3TVRZdE1USXRNVGxVTWpNNk1UQTZORFV1T0RneE9ERXhNRm9oIiwiVGFyZ2V0TG9jYXRpb24iOj"    \
	"B9&maxresults=1"

static char dir[PATH_MAX]; /* the temporary directory, canonical */

/* malloc or die: a test has no use for a NULL. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		perror("malloc");
		exit(2);
	}
	return p;
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

/* Write a complete policy (policy_ini.h) with changes to dir/policy.ini
 * and load it. Returns the policy, or NULL; the error lines go to errors
 * when it is not NULL, else are printed. */
static struct policy *load(const char *changes, struct strlist *errors)
{
	struct strlist own = {0};
	struct policy *p = NULL;
	char *text = policy_ini(changes);

	put(tmp("policy.ini"), text, strlen(text));
	free(text);
	if (policy_load(tmp("policy.ini"), &p, errors ? errors : &own) != 0)
		p = NULL;
	for (size_t i = 0; errors == NULL && i < own.n; i++)
		printf("# %s\n", own.v[i]);
	strlist_free(&own);
	return p;
}

#define VAULT "[vault]\nurl = https://v.vault.azure.net\n"
#define WITH_KEYFILE "[gateway]\npaging_key_file = paging.key\n" VAULT

/* Whether n bytes at p are all zero. */
static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Whether t opens with key and scope (the plain text is discarded). */
static bool opens(const struct pagetoken_key *key, const char *scope, const char *t)
{
	char *p = pagetoken_open(key, scope, t);

	free(p);
	return p != NULL;
}

/* ---- seal and open ---- */

static void test_round_trip(void)
{
	struct pagetoken_key k = {0};
	char *t, *p, *big;
	size_t bad = 0;

	memset(k.k, 7, sizeof(k.k));
	t = pagetoken_seal(&k, "secrets", LINK);
	p = t ? pagetoken_open(&k, "secrets", t) : NULL;
	ok(t != NULL && p != NULL && strcmp(p, LINK) == 0,
	   "a recorded nextLink seals and opens to exactly itself");
	ok(t != NULL && strspn(t, B64URL) == strlen(t) &&
	       strlen(t) == ((NONCE_LEN + strlen(LINK) + TAG_LEN) * 4 + 2) / 3,
	   "the token is base64url without padding of nonce, ciphertext and tag");
	ok(t != NULL && strstr(t, "skiptoken") == NULL && strstr(t, "eyJOZXh0") == NULL,
	   "the token does not carry the link's text");
	free(t);
	free(p);

	/* Every plain text length up to the cap, each remainder mod 3 of the
	 * token's bytes included. */
	big = xmalloc(PAGETOKEN_PLAIN_MAX + 2);
	for (size_t i = 0; i < PAGETOKEN_PLAIN_MAX + 1; i++)
		big[i] = (char)('!' + i % 94);
	for (size_t len = 1; len <= PAGETOKEN_PLAIN_MAX; len += len < 64 ? 1 : 61) {
		char c = big[len];

		big[len] = '\0';
		t = pagetoken_seal(&k, "secrets", big);
		p = t ? pagetoken_open(&k, "secrets", t) : NULL;
		if (p == NULL || strcmp(p, big) != 0)
			bad++;
		free(t);
		free(p);
		big[len] = c;
	}
	ok(bad == 0, "plain texts of 1-%d bytes round-trip (%zu do not)", PAGETOKEN_PLAIN_MAX, bad);

	/* The cap: PAGETOKEN_PLAIN_MAX bytes are sealed, one more is not. */
	big[PAGETOKEN_PLAIN_MAX] = '\0';
	t = pagetoken_seal(&k, "secrets", big);
	p = t ? pagetoken_open(&k, "secrets", t) : NULL;
	ok(t != NULL && p != NULL && strcmp(p, big) == 0,
	   "a plain text of PAGETOKEN_PLAIN_MAX (%d) bytes seals and opens", PAGETOKEN_PLAIN_MAX);
	ok(t != NULL && strlen(t) == ((NONCE_LEN + PAGETOKEN_PLAIN_MAX + TAG_LEN) * 4 + 2) / 3,
	   "...into a token of %zu characters", t ? strlen(t) : 0);
	if (t != NULL) {
		/* One character more than the longest token is refused
		 * before any decryption. */
		char *longer = xmalloc(strlen(t) + 2);

		sprintf(longer, "%sA", t);
		ok(!opens(&k, "secrets", longer),
		   "a token one character longer than the longest possible is refused");
		free(longer);
	}
	free(t);
	free(p);
	big[PAGETOKEN_PLAIN_MAX] = 'x';
	big[PAGETOKEN_PLAIN_MAX + 1] = '\0';
	t = pagetoken_seal(&k, "secrets", big);
	ok(t == NULL, "a plain text of PAGETOKEN_PLAIN_MAX + 1 bytes is refused");
	free(t);
	free(big);

	/* Regression: seal("") returned a token (nonce and tag only) that open
	 * refuses. Whatever seal hands out must open again; the empty link is
	 * never sealed by shape_list, so refusing it in seal is the fix. */
	t = pagetoken_seal(&k, "secrets", "");
	p = t ? pagetoken_open(&k, "secrets", t) : NULL;
	ok(t == NULL || (p != NULL && p[0] == '\0'),
	   "the empty plain text is either refused by seal or opens again (seal %s, open %s)",
	   t ? "gave a token" : "refused", p ? "gave it back" : "refused");
	free(t);
	free(p);

	/* A C string cannot carry a NUL into a token: only the bytes before
	 * it are sealed. */
	t = pagetoken_seal(&k, "secrets", "https://v/secrets\0?evil");
	p = t ? pagetoken_open(&k, "secrets", t) : NULL;
	ok(p != NULL && strcmp(p, "https://v/secrets") == 0,
	   "a plain text with a NUL is sealed up to the NUL, nothing after it");
	free(t);
	free(p);
}

/* A fresh random nonce per seal: two tokens of one link never match, so
 * tokens say nothing about whether two pages continue the same way. */
static void test_nonce(void)
{
	enum { N = 64 };
	struct pagetoken_key k = {0};
	char *t[N];
	size_t same = 0, same_nonce = 0, opened = 0;

	memset(k.k, 7, sizeof(k.k));
	for (int i = 0; i < N; i++)
		t[i] = pagetoken_seal(&k, "secrets", LINK);
	for (int i = 0; i < N; i++) {
		if (t[i] != NULL && opens(&k, "secrets", t[i]))
			opened++;
		for (int j = i + 1; j < N; j++) {
			if (t[i] == NULL || t[j] == NULL)
				continue;
			if (strcmp(t[i], t[j]) == 0)
				same++;
			/* The nonce is the first 12 bytes: 16 characters. */
			if (strncmp(t[i], t[j], NONCE_LEN * 4 / 3) == 0)
				same_nonce++;
		}
	}
	ok(opened == N, "%d seals of the same link all open (%zu do)", N, opened);
	ok(same == 0 && same_nonce == 0,
	   "no two of %d seals of the same link are equal or share a nonce", N);
	for (int i = 0; i < N; i++)
		free(t[i]);
}

/* Any change to a token is detected: Poly1305's tag covers nonce (through
 * the one-time key), ciphertext and scope, and the decoder takes one
 * encoding only. */
static void test_tamper(void)
{
	struct pagetoken_key k = {0}, k2;
	unsigned char *raw;
	size_t n, bad = 0, tried = 0;
	char *t, *u;
	size_t len;

	memset(k.k, 7, sizeof(k.k));
	t = pagetoken_seal(&k, "secrets", "https://v/secrets?$skiptoken=abc");
	if (!ok(t != NULL, "a short link is sealed"))
		return;
	len = strlen(t);

	/* Every bit of the raw token. */
	raw = base64url_decode(t, 4096, &n);
	for (size_t i = 0; raw != NULL && i < n * 8; i++) {
		raw[i / 8] ^= (unsigned char)(1u << (i % 8));
		u = base64url_encode(raw, n);
		tried++;
		if (u == NULL || opens(&k, "secrets", u))
			bad++;
		free(u);
		raw[i / 8] ^= (unsigned char)(1u << (i % 8));
	}
	ok(raw != NULL && tried == n * 8 && bad == 0,
	   "each of the %zu bits of nonce, ciphertext and tag, flipped alone, makes the token "
	   "unopenable (%zu open)",
	   tried, bad);
	free(raw);

	/* Every character replaced by every other base64url character. */
	u = xmalloc(len + 1);
	bad = tried = 0;
	for (size_t i = 0; i < len; i++) {
		for (const char *c = B64URL; *c != '\0'; c++) {
			if (*c == t[i])
				continue;
			memcpy(u, t, len + 1);
			u[i] = *c;
			tried++;
			if (opens(&k, "secrets", u))
				bad++;
		}
	}
	ok(bad == 0, "each of the %zu one-character changes makes the token unopenable (%zu open)",
	   tried, bad);

	/* Every truncation, and one character more. */
	bad = 0;
	for (size_t i = 0; i < len; i++) {
		memcpy(u, t, i);
		u[i] = '\0';
		if (opens(&k, "secrets", u))
			bad++;
	}
	ok(bad == 0,
	   "each of the %zu truncations of the token, the empty one included, is "
	   "refused (%zu open)",
	   len, bad);
	free(u);
	u = xmalloc(len + 3);
	bad = 0;
	for (const char *c = B64URL; *c != '\0'; c++) {
		snprintf(u, len + 3, "%s%c", t, *c);
		if (opens(&k, "secrets", u))
			bad++;
		snprintf(u, len + 3, "%s%c%c", t, *c, *c);
		if (opens(&k, "secrets", u))
			bad++;
	}
	snprintf(u, len + 3, "%s=", t);
	if (opens(&k, "secrets", u))
		bad++;
	ok(bad == 0, "the token with one or two characters (or '=') appended is refused");
	free(u);

	/* Another key, even one bit away. */
	k2 = k;
	k2.k[PAGETOKEN_KEY_LEN - 1] ^= 1;
	ok(!opens(&k2, "secrets", t), "a key differing in one bit does not open the token");
	free(t);
}

/* A token opens only for the list it was sealed for. */
static void test_scope(void)
{
	static const char *scopes[] = {
	    "secrets", "versions:a", "versions:b", "versions:ab", "versions:", "", "Secrets",
	};
	enum { NS = sizeof(scopes) / sizeof(scopes[0]) };
	struct pagetoken_key k = {0};
	size_t right = 0, wrong = 0;

	memset(k.k, 7, sizeof(k.k));
	for (size_t i = 0; i < NS; i++) {
		char *t = pagetoken_seal(&k, scopes[i], LINK);

		for (size_t j = 0; t != NULL && j < NS; j++) {
			char *p = pagetoken_open(&k, scopes[j], t);

			if (i == j && p != NULL && strcmp(p, LINK) == 0)
				right++;
			if (i != j && p != NULL)
				wrong++;
			free(p);
		}
		free(t);
	}
	ok(right == NS, "a token opens for the scope it was sealed for (%zu of %d)", right, NS);
	ok(wrong == 0,
	   "...and for no other: secrets, versions of a, of b, of ab, the empty scope, "
	   "and the scope in another case are all distinct (%zu cross-opens)",
	   wrong);
}

/* Tokens that were never sealed: garbage, too short, and a crafted one
 * whose plain text holds a NUL. */
static void test_forged(void)
{
	static const char *garbage[] = {
	    "",
	    "A",
	    "AAAA",
	    "!!!!",
	    "not a token",
	    "aHR0cHM6Ly92L3NlY3JldHM_JHNraXB0b2tlbj14",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "%41%41%41%41",
	};
	unsigned char raw[NONCE_LEN + 64 + TAG_LEN];
	struct pagetoken_key k = {0};
	size_t bad = 0;
	char *t;

	memset(k.k, 7, sizeof(k.k));
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		if (opens(&k, "secrets", garbage[i]))
			bad++;
	ok(bad == 0, "garbage, the empty token and an unsealed base64url link are refused");

	/* Too short to hold a nonce and a tag, or holding nothing more. */
	bad = 0;
	memset(raw, 0x5a, sizeof(raw));
	for (size_t n = 0; n <= NONCE_LEN + TAG_LEN; n++) {
		t = base64url_encode(raw, n);
		if (t == NULL || opens(&k, "secrets", t))
			bad++;
		free(t);
	}
	ok(bad == 0, "tokens of 0-%d raw bytes (up to exactly nonce + tag) are refused",
	   NONCE_LEN + TAG_LEN);

	/* Only nonce and tag, but a correct tag: the seal of the empty plain
	 * text. Refused for its length alone. */
	memset(raw, 1, NONCE_LEN);
	t = seal_raw(k.k, "secrets", (const unsigned char *)"", 0, raw) == 0
	        ? base64url_encode(raw, NONCE_LEN + TAG_LEN)
	        : NULL;
	ok(t != NULL && !opens(&k, "secrets", t),
	   "a correctly tagged token with an empty ciphertext (nonce + tag only) is refused");
	free(t);

	/* A plain text with a NUL, correctly sealed: open must refuse it, or
	 * a caller would act on a link cut short. */
	{
		static const char plain[] = "https://v/secrets\0?x";
		size_t n = sizeof(plain) - 1;

		memset(raw, 2, NONCE_LEN);
		t = seal_raw(k.k, "secrets", (const unsigned char *)plain, n, raw) == 0
		        ? base64url_encode(raw, NONCE_LEN + n + TAG_LEN)
		        : NULL;
		ok(t != NULL && !opens(&k, "secrets", t),
		   "a correctly sealed plain text holding a NUL is refused");
		free(t);
	}
}

/* ---- the format ---- */

/* libcrypto's AEAD cipher (ChaCha20-Poly1305 or AES-256-GCM, both with a
 * 12-byte nonce and a 16-byte tag) over the n bytes at in, with the text
 * aad as associated data. Sealing writes tag, opening checks it. Returns 0,
 * or -1 (also when the tag does not verify). */
static int evp_aead(const EVP_CIPHER *cipher, bool enc, const unsigned char *key,
                    const unsigned char *nonce, const char *aad, const unsigned char *in, size_t n,
                    unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, cipher, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &len) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* A token of LINK made by libcrypto with cipher, key k, the associated
 * data aad and a fixed nonce. Returns it (caller frees) or NULL. */
static char *evp_token(const EVP_CIPHER *cipher, const struct pagetoken_key *k, const char *aad)
{
	unsigned char raw[NONCE_LEN + sizeof(LINK) + TAG_LEN];
	size_t n = strlen(LINK);

	memset(raw, 3, NONCE_LEN);
	if (evp_aead(cipher, true, k->k, raw, aad, (const unsigned char *)LINK, n, raw + NONCE_LEN,
	             raw + NONCE_LEN + n) != 0)
		return NULL;
	return base64url_encode(raw, NONCE_LEN + n + TAG_LEN);
}

/* Tokens are standard ChaCha20-Poly1305 with "kvgate-page-v2:" and the
 * scope as associated data, which libcrypto seals and opens the same way;
 * and tokens of another format (the AES-256-GCM tokens of v1, or this
 * cipher under the v1 label) are refused, so a link handed out before an
 * upgrade fails cleanly (400, start the list again) instead of being
 * misread. */
static void test_format(void)
{
	static const char v2[] = "kvgate-page-v2:versions:my-secret";
	struct pagetoken_key k = {0};
	unsigned char *raw = NULL, out[sizeof(LINK)];
	size_t n = 0, len = strlen(LINK);
	char *t, *p;

	memset(k.k, 7, sizeof(k.k));
	t = pagetoken_seal(&k, "versions:my-secret", LINK);
	raw = t != NULL ? base64url_decode(t, 8192, &n) : NULL;
	ok(raw != NULL && n == NONCE_LEN + len + TAG_LEN &&
	       evp_aead(EVP_chacha20_poly1305(), false, k.k, raw, v2, raw + NONCE_LEN, len, out,
	                raw + NONCE_LEN + len) == 0 &&
	       memcmp(out, LINK, len) == 0,
	   "a token is nonce, ChaCha20-Poly1305 ciphertext and tag that libcrypto opens with "
	   "\"kvgate-page-v2:\" and the scope as associated data");
	free(raw);
	free(t);

	t = evp_token(EVP_chacha20_poly1305(), &k, v2);
	p = t != NULL ? pagetoken_open(&k, "versions:my-secret", t) : NULL;
	ok(p != NULL && strcmp(p, LINK) == 0, "a token sealed by libcrypto that way opens");
	free(p);
	free(t);

	t = evp_token(EVP_chacha20_poly1305(), &k, "kvgate-page-v1:versions:my-secret");
	ok(t != NULL && !opens(&k, "versions:my-secret", t),
	   "the same cipher and key under the old label \"kvgate-page-v1:\" does not open");
	free(t);

	t = evp_token(EVP_aes_256_gcm(), &k, "kvgate-page-v1:versions:my-secret");
	ok(t != NULL && !opens(&k, "versions:my-secret", t),
	   "a v1 token (AES-256-GCM, same key, same layout) does not open");
	free(t);

	t = evp_token(EVP_chacha20_poly1305(), &k, "versions:my-secret");
	ok(t != NULL && !opens(&k, "versions:my-secret", t),
	   "a token with the scope alone as associated data (no label) does not open");
	free(t);
}

/* ---- the key ---- */

/* Fill n pseudo-random bytes (not secret: a test key). */
static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* The key from dir/policy.ini with a paging_key_file of the given bytes, or
 * rc -1 with err set. */
static int key_from_file(const unsigned char *bytes, size_t n, const char *secret,
                         struct pagetoken_key *k, char *err, size_t errlen)
{
	struct policy *p;
	int rc;

	put(tmp("paging.key"), bytes, n);
	if ((p = load(WITH_KEYFILE, NULL)) == NULL) {
		snprintf(err, errlen, "the policy did not load");
		return -2;
	}
	rc = pagetoken_key_init(p, secret, k, err, errlen);
	policy_free(p);
	return rc;
}

/* In a child process, load the policy, set up the key and seal LINK; the
 * token comes back through a pipe. Returns it (caller frees) or NULL. */
static char *seal_in_child(void)
{
	char *t = xmalloc(8192);
	int fd[2];
	ssize_t n, total = 0;
	pid_t pid;
	int st;

	if (pipe(fd) != 0) {
		perror("pipe");
		exit(2);
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		struct pagetoken_key k;
		struct policy *p = load(WITH_KEYFILE, NULL);
		char err[512], *s = NULL;

		close(fd[0]);
		if (p != NULL && pagetoken_key_init(p, NULL, &k, err, sizeof(err)) == 0)
			s = pagetoken_seal(&k, "secrets", LINK);
		if (s != NULL && write(fd[1], s, strlen(s)) != (ssize_t)strlen(s))
			_exit(1);
		_exit(s != NULL ? 0 : 1);
	}
	close(fd[1]);
	while (total < 8191 && (n = read(fd[0], t + total, 8191 - (size_t)total)) > 0)
		total += n;
	close(fd[0]);
	t[total] = '\0';
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || total == 0) {
		free(t);
		return NULL;
	}
	return t;
}

static void test_key_file(void)
{
	unsigned char bytes[5000], other[5000];
	struct pagetoken_key a, b;
	struct strlist errors = {0};
	struct policy *p;
	char err[1024], *t;
	int rc;

	fill(bytes, sizeof(bytes), 1);
	memcpy(other, bytes, sizeof(other));

	/* A relative path is found next to the INI, whatever the working
	 * directory (the test runs from the source tree). */
	put(tmp("paging.key"), bytes, 32);
	p = load(WITH_KEYFILE, NULL);
	ok(p != NULL && strcmp(policy_gateway(p)->paging_key_file, tmp("paging.key")) == 0,
	   "paging_key_file = paging.key resolves to the INI's directory");
	rc = p ? pagetoken_key_init(p, NULL, &a, err, sizeof(err)) : -2;
	ok(rc == 0 && !a.ephemeral, "a 32-byte key file gives a key, not an ephemeral one");
	ok(rc == 0 && pagetoken_key_init(p, NULL, &b, err, sizeof(err)) == 0 &&
	       memcmp(a.k, b.k, PAGETOKEN_KEY_LEN) == 0,
	   "two inits from the same file give the same key");
	policy_free(p);

	/* Interoperation across processes, as between the FastCGI programs. */
	t = seal_in_child();
	ok(t != NULL && opens(&a, "secrets", t),
	   "a token sealed by another process with the same key file opens here");
	free(t);

	/* The file is the key material, whole: one byte more is another key.
	 * The client secret does not matter when there is a file. */
	ok(key_from_file(bytes, 33, NULL, &b, err, sizeof(err)) == 0 &&
	       memcmp(a.k, b.k, PAGETOKEN_KEY_LEN) != 0,
	   "a 33-byte file starting with the same 32 bytes gives another key");
	ok(key_from_file(bytes, 32, "a client secret", &b, err, sizeof(err)) == 0 &&
	       memcmp(a.k, b.k, PAGETOKEN_KEY_LEN) == 0 && !b.ephemeral,
	   "with a key file, the client secret is not used");
	other[0] ^= 1;
	ok(key_from_file(other, 32, NULL, &b, err, sizeof(err)) == 0 &&
	       memcmp(a.k, b.k, PAGETOKEN_KEY_LEN) != 0,
	   "a key file differing in one bit gives another key");
	other[0] ^= 1;
	ok(key_from_file(bytes, 4096, NULL, &b, err, sizeof(err)) == 0,
	   "a 4096-byte key file (KEYFILE_MAX) is accepted");

	/* Too short. */
	err[0] = '\0';
	rc = key_from_file(bytes, 31, NULL, &b, err, sizeof(err));
	ok(rc == -1 && strncmp(err, "[gateway] paging_key_file: ", 27) == 0 &&
	       strstr(err, tmp("paging.key")) != NULL && strstr(err, "31 bytes") != NULL &&
	       strstr(err, "32") != NULL,
	   "a 31-byte key file: -1, \"[gateway] paging_key_file: PATH holds 31 bytes; at least "
	   "32 ...\"");
	if (rc != -1)
		printf("# rc %d: %s\n", rc, err);
	err[0] = '\0';
	ok(key_from_file(bytes, 0, NULL, &b, err, sizeof(err)) == -1 &&
	       strncmp(err, "[gateway] paging_key_file: ", 27) == 0 &&
	       strstr(err, "0 bytes") != NULL,
	   "an empty key file: -1, naming [gateway] paging_key_file and 0 bytes");

	/* Regression: a key file over KEYFILE_MAX was read up to the cap and
	 * the rest ignored silently, so two files differing only after 4096
	 * bytes gave one key. Going over a cap is its own error (style rule 5). */
	err[0] = '\0';
	rc = key_from_file(bytes, 4097, NULL, &b, err, sizeof(err));
	ok(rc == -1 && strncmp(err, "[gateway] paging_key_file: ", 27) == 0,
	   "a key file of 4097 bytes (over KEYFILE_MAX) is refused, naming [gateway] "
	   "paging_key_file (rc %d)",
	   rc);

	/* A key file that does not exist: KEY_PATH requires a readable file,
	 * so the policy itself does not load, and says why by key. */
	unlink(tmp("paging.key"));
	p = load(WITH_KEYFILE, &errors);
	if (!ok(p == NULL && errors.n == 1 &&
	            strstr(errors.v[0], ": [gateway] paging_key_file: cannot read ") != NULL &&
	            strstr(errors.v[0], tmp("paging.key")) != NULL,
	        "a missing key file: the policy does not load; one error, \"FILE: [gateway] "
	        "paging_key_file: cannot read PATH: ...\""))
		for (size_t i = 0; i < errors.n; i++)
			printf("# %s\n", errors.v[i]);
	policy_free(p);
	strlist_free(&errors);

	/* Readable when the policy was loaded, gone when the key is set up. */
	put(tmp("paging.key"), bytes, 32);
	p = load(WITH_KEYFILE, NULL);
	unlink(tmp("paging.key"));
	err[0] = '\0';
	ok(p != NULL && pagetoken_key_init(p, NULL, &b, err, sizeof(err)) == -1 &&
	       strncmp(err, "[gateway] paging_key_file: cannot read ", 39) == 0,
	   "a key file removed after the policy loaded: -1, \"[gateway] paging_key_file: "
	   "cannot read ...\"");
	policy_free(p);

	/* A directory is not a key file. */
	mkdir(tmp("paging.key"), 0700);
	p = load(WITH_KEYFILE, &errors);
	ok(p == NULL && errors.n == 1 &&
	       strstr(errors.v[0], "[gateway] paging_key_file: ") != NULL &&
	       strstr(errors.v[0], "a directory") != NULL,
	   "a directory as paging_key_file: the policy does not load");
	policy_free(p);
	strlist_free(&errors);
	rmdir(tmp("paging.key"));

	pagetoken_key_free(&a);
	ok(all_zero(a.k, PAGETOKEN_KEY_LEN), "pagetoken_key_free wipes the key");
	pagetoken_key_free(&b);
}

static void test_key_secret(void)
{
	static const char s32[] = "0123456789abcdefghijklmnopqrstuv"; /* 32 bytes */
	struct pagetoken_key a, b;
	struct policy *p = load(VAULT, NULL);
	char err[512], *t;

	if (!ok(p != NULL, "a policy without paging_key_file loads"))
		return;
	ok(pagetoken_key_init(p, "the client secret", &a, err, sizeof(err)) == 0 && !a.ephemeral,
	   "a client secret gives a key, not an ephemeral one");
	ok(pagetoken_key_init(p, "the client secret", &b, err, sizeof(err)) == 0 &&
	       memcmp(a.k, b.k, PAGETOKEN_KEY_LEN) == 0,
	   "the same client secret gives the same key (every process of the gateway agrees)");
	t = pagetoken_seal(&a, "secrets", LINK);
	ok(t != NULL && opens(&b, "secrets", t), "...so a token of one opens with the other");
	free(t);
	ok(pagetoken_key_init(p, "the client secreT", &b, err, sizeof(err)) == 0 &&
	       memcmp(a.k, b.k, PAGETOKEN_KEY_LEN) != 0,
	   "a different client secret gives a different key");
	ok(pagetoken_key_init(p, s32, &b, err, sizeof(err)) == 0 &&
	       memcmp(b.k, s32, PAGETOKEN_KEY_LEN) != 0 && !all_zero(b.k, PAGETOKEN_KEY_LEN),
	   "the key derived from a 32-byte client secret is not the secret's bytes");

	/* Neither a key file nor a client secret: random, per process. */
	ok(pagetoken_key_init(p, NULL, &a, err, sizeof(err)) == 0 && a.ephemeral &&
	       pagetoken_key_init(p, NULL, &b, err, sizeof(err)) == 0 && b.ephemeral &&
	       memcmp(a.k, b.k, PAGETOKEN_KEY_LEN) != 0,
	   "no key file and no client secret: ephemeral, and two inits differ");
	ok(pagetoken_key_init(p, "", &b, err, sizeof(err)) == 0 && b.ephemeral,
	   "an empty client secret counts as none");
	pagetoken_key_free(&a);
	pagetoken_key_free(&b);
	policy_free(p);
}

int main(void)
{
	char templ[] = "/tmp/kvgate-test-pagetoken-XXXXXX";
	int status;

	if (mkdtemp(templ) == NULL || realpath(templ, dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_round_trip();
	test_nonce();
	test_tamper();
	test_scope();
	test_forged();
	test_format();
	test_key_file();
	test_key_secret();
	status = tap_done();
	unlink(tmp("paging.key"));
	unlink(tmp("policy.ini"));
	rmdir(dir);
	return status;
}
