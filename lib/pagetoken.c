/*
 * pagetoken.c: sealed paging tokens. See pagetoken.h.
 *
 * A token is base64url of nonce (12 bytes), ciphertext and tag (16 bytes),
 * ChaCha20-Poly1305 (aead.c) under the paging key, with AAD_PREFIX and the
 * scope as associated data. Nothing here calls libcrypto.
 *
 * The nonce is 12 random bytes per token (getrandom(2)). A repeated nonce
 * under one key would give away the XOR of two links and allow forgeries
 * under that nonce, but with 96 random bits the chance of any repeat among
 * q tokens is below q^2 / 2^97: about 2^-33 after four billion tokens under
 * one key, far more than a gateway seals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "aead.h"
#include "base64.h"
#include "buf.h"
#include "pagetoken.h"
#include "sha256.h"

#define NONCE_LEN AEAD_NONCE_LEN
#define TAG_LEN AEAD_TAG_LEN
#define KEYFILE_MAX 4096
/* Domain separation: a key derived for paging tokens is good for nothing
 * else, and tells nothing about the secret it came from. */
#define DERIVE_LABEL "kvgate paging token key v1"
/* The format label, first in every token's associated data. v1 tokens were
 * AES-256-GCM; v2 are ChaCha20-Poly1305, and a v1 token no longer opens
 * (its caller starts the list again). */
#define AAD_PREFIX "kvgate-page-v2:"

_Static_assert(PAGETOKEN_KEY_LEN == SHA256_LEN, "the paging key is one HMAC-SHA256");
_Static_assert(PAGETOKEN_KEY_LEN == AEAD_KEY_LEN, "the paging key is a ChaCha20-Poly1305 key");

/* Read a key file into out (KEYFILE_MAX + 1 bytes). Returns the number of
 * bytes read, KEYFILE_MAX + 1 meaning "over the cap", or -1 with errno set. */
static ssize_t read_keyfile(const char *path, unsigned char *out)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;

	if (fd < 0)
		return -1;
	while (total <= KEYFILE_MAX &&
	       (n = read(fd, out + total, KEYFILE_MAX + 1 - (size_t)total)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		total += n;
	}
	close(fd);
	return total;
}

/* key = HMAC-SHA256(material, label). Our own HMAC rather than libcrypto's,
 * like the cipher, so that paging never loads libcrypto; the key is the
 * same either way. Returns 0. */
static int derive(const unsigned char *material, size_t n, unsigned char *key)
{
	sha256_hmac(material, n, DERIVE_LABEL, strlen(DERIVE_LABEL), key);
	return 0;
}

/* n bytes from the kernel's CSPRNG (getrandom(2), which blocks only until
 * the pool is first seeded). Returns 0, or -1 with errno set. */
static int fill_random(unsigned char *p, size_t n)
{
	ssize_t got;

	while (n > 0) {
		got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int pagetoken_key_init(const struct policy *p, const char *client_secret, struct pagetoken_key *key,
                       char *err, size_t errlen)
{
	const char *file = policy_gateway(p)->paging_key_file;
	unsigned char material[KEYFILE_MAX + 1];
	ssize_t n;
	int rc = -1;

	memset(key, 0, sizeof(*key));
	if (file[0] != '\0') {
		if ((n = read_keyfile(file, material)) < 0) {
			snprintf(err, errlen, "[gateway] paging_key_file: cannot read %s: %s", file,
			         strerror(errno));
		} else if (n > KEYFILE_MAX) {
			snprintf(err, errlen,
			         "[gateway] paging_key_file: %s is over %d bytes; 32 random bytes "
			         "are enough",
			         file, KEYFILE_MAX);
		} else if (n < PAGETOKEN_KEY_LEN) {
			snprintf(err, errlen,
			         "[gateway] paging_key_file: %s holds %zd bytes; at least 32 "
			         "random bytes are needed",
			         file, n);
		} else if ((rc = derive(material, (size_t)n, key->k)) != 0) {
			snprintf(err, errlen,
			         "[gateway] paging_key_file: the key could not be derived");
		}
		buf_wipe(material, sizeof(material));
		return rc;
	}
	if (client_secret != NULL && client_secret[0] != '\0') {
		if ((rc = derive((const unsigned char *)client_secret, strlen(client_secret),
		                 key->k)) != 0)
			snprintf(err, errlen, "the paging key could not be derived");
		return rc;
	}
	key->ephemeral = true;
	if (fill_random(key->k, PAGETOKEN_KEY_LEN) != 0) {
		snprintf(err, errlen, "no random bytes for the paging key: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void pagetoken_key_free(struct pagetoken_key *key)
{
	buf_wipe(key->k, sizeof(key->k));
}

/* The associated data of a token for scope: AAD_PREFIX, then the scope.
 * Returns a new buffer (caller frees; its length in *len), or NULL. */
static unsigned char *token_aad(const char *scope, size_t *len)
{
	size_t pn = strlen(AAD_PREFIX), sn = strlen(scope);
	unsigned char *aad = malloc(pn + sn);

	if (aad == NULL)
		return NULL;
	memcpy(aad, AAD_PREFIX, pn);
	memcpy(aad + pn, scope, sn);
	*len = pn + sn;
	return aad;
}

/* Seal the n bytes at plain for scope under key and the nonce at raw,
 * writing ciphertext and tag after the nonce (raw then holds a whole
 * token's bytes). Returns 0 or -1. */
static int seal_raw(const unsigned char *key, const char *scope, const unsigned char *plain,
                    size_t n, unsigned char *raw)
{
	unsigned char *aad;
	size_t alen;
	int rc;

	if ((aad = token_aad(scope, &alen)) == NULL)
		return -1;
	rc = aead_seal(key, raw, aad, alen, plain, n, raw + NONCE_LEN, raw + NONCE_LEN + n);
	free(aad);
	return rc;
}

/* Open the n bytes (at least NONCE_LEN + TAG_LEN) of a token's nonce,
 * ciphertext and tag at raw for scope under key, writing the plain text
 * (n - NONCE_LEN - TAG_LEN bytes) to out. Returns 0, or -1 when the tag
 * does not verify (out is then not written). */
static int open_raw(const unsigned char *key, const char *scope, const unsigned char *raw, size_t n,
                    unsigned char *out)
{
	size_t plen = n - NONCE_LEN - TAG_LEN, alen;
	unsigned char *aad;
	int rc;

	if ((aad = token_aad(scope, &alen)) == NULL)
		return -1;
	rc = aead_open(key, raw, aad, alen, raw + NONCE_LEN, plen, raw + NONCE_LEN + plen, out);
	free(aad);
	return rc;
}

char *pagetoken_seal(const struct pagetoken_key *key, const char *scope, const char *plain)
{
	unsigned char raw[NONCE_LEN + PAGETOKEN_PLAIN_MAX + TAG_LEN];
	size_t n = strlen(plain);

	if (n == 0 || n > PAGETOKEN_PLAIN_MAX || fill_random(raw, NONCE_LEN) != 0)
		return NULL;
	if (seal_raw(key->k, scope, (const unsigned char *)plain, n, raw) != 0)
		return NULL;
	return base64url_encode(raw, NONCE_LEN + n + TAG_LEN);
}

char *pagetoken_open(const struct pagetoken_key *key, const char *scope, const char *token)
{
	size_t n, plen;
	unsigned char *raw;
	char *plain = NULL;

	raw = base64url_decode(token, (NONCE_LEN + PAGETOKEN_PLAIN_MAX + TAG_LEN + 2) / 3 * 4, &n);
	if (raw == NULL || n <= NONCE_LEN + TAG_LEN)
		goto out;
	plen = n - NONCE_LEN - TAG_LEN;
	if ((plain = malloc(plen + 1)) == NULL)
		goto out;
	if (open_raw(key->k, scope, raw, n, (unsigned char *)plain) != 0 ||
	    memchr(plain, '\0', plen) != NULL) {
		free(plain);
		plain = NULL;
		goto out;
	}
	plain[plen] = '\0';
out:
	free(raw);
	return plain;
}
