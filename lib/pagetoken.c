/*
 * pagetoken.c: sealed paging tokens. See pagetoken.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base64.h"
#include "buf.h"
#include "pagetoken.h"
#include "sha256.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define KEYFILE_MAX 4096
/* Domain separation: a key derived for paging tokens is good for nothing
 * else, and tells nothing about the secret it came from. */
#define DERIVE_LABEL "kvgate paging token key v1"
#define AAD_PREFIX "kvgate-page-v1:"

_Static_assert(PAGETOKEN_KEY_LEN == SHA256_LEN, "the paging key is one HMAC-SHA256");

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
 * so that a process loads libcrypto only when it seals or opens a token;
 * the key is the same either way. Returns 0. */
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

/* AES-256-GCM in one direction. Returns 0 or -1 (also when the tag does not
 * verify). */
static int gcm(bool enc, const unsigned char *key, const unsigned char *nonce, const char *scope,
               const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)AAD_PREFIX,
	                     (int)strlen(AAD_PREFIX)) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)scope, (int)strlen(scope)) !=
	        1 ||
	    EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &len) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

char *pagetoken_seal(const struct pagetoken_key *key, const char *scope, const char *plain)
{
	unsigned char raw[NONCE_LEN + PAGETOKEN_PLAIN_MAX + TAG_LEN];
	size_t n = strlen(plain);

	if (n == 0 || n > PAGETOKEN_PLAIN_MAX || fill_random(raw, NONCE_LEN) != 0)
		return NULL;
	if (gcm(true, key->k, raw, scope, (const unsigned char *)plain, n, raw + NONCE_LEN,
	        raw + NONCE_LEN + n) != 0)
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
	if (gcm(false, key->k, raw, scope, raw + NONCE_LEN, plen, (unsigned char *)plain,
	        raw + NONCE_LEN + plen) != 0 ||
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
