/*
 * aead: ChaCha20-Poly1305 (RFC 8439, AEAD_CHACHA20_POLY1305): a 256-bit
 * key, a 96-bit nonce and a 128-bit tag.
 *
 * Paging tokens (pagetoken.c) are sealed with it. They used to be sealed
 * with AES-256-GCM through libcrypto, and loading libcrypto for that alone
 * cost a list-secrets process about 3.7 MB of VmRSS. ChaCha20-Poly1305 is
 * short, needs no tables and is constant time in plain C, so, like SHA-256
 * (sha256.c), it is done here. The output is that of any other
 * implementation: tests/unit/test_aead.c checks the RFC 8439 vectors and
 * agreement with libcrypto's EVP_chacha20_poly1305 on a few thousand random
 * inputs.
 *
 * Constant time: ChaCha20 is additions, rotations and XORs; Poly1305 is
 * done on 26-bit limbs with the final reduction chosen by a mask; no branch
 * and no memory index depends on the key, the text or the tag, and
 * aead_open() compares tags with ct_equal(). Only lengths, which are
 * public, change the running time.
 *
 * A (key, nonce) pair must seal one message only: a second one reveals the
 * XOR of the two plain texts and lets anyone forge under that nonce.
 *
 * Nothing here allocates. Every key-derived intermediate (the ChaCha20
 * state and keystream, the Poly1305 one-time key and accumulator, the
 * computed tag) is wiped before returning.
 */
#ifndef KVGATE_AEAD_H
#define KVGATE_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN 32   /* bytes in a key */
#define AEAD_NONCE_LEN 12 /* bytes in a nonce */
#define AEAD_TAG_LEN 16   /* bytes in a tag */
/* The longest text one (key, nonce) can seal: 2^32 - 1 blocks of 64 bytes,
 * RFC 8439 section 2.8 (P_MAX). Beyond it the block counter would wrap
 * and the keystream repeat. */
#define AEAD_MAX ((uint64_t)0xffffffffu * 64)

/*
 * Seal the n bytes at plain under key and nonce, authenticating the aadlen
 * bytes at aad with them (aad and plain may be NULL when their length is
 * 0). Writes n bytes of ciphertext to out (which may be plain itself, but
 * must not otherwise overlap it) and the tag to tag.
 *
 * Returns 0, or -1 (nothing written) when n is over AEAD_MAX.
 */
int aead_seal(const unsigned char key[AEAD_KEY_LEN], const unsigned char nonce[AEAD_NONCE_LEN],
              const void *aad, size_t aadlen, const void *plain, size_t n, unsigned char *out,
              unsigned char tag[AEAD_TAG_LEN]);

/*
 * Open what aead_seal() sealed: check tag against key, nonce, the aadlen
 * bytes at aad and the n bytes of ciphertext at cipher, and only then
 * decrypt them into out (n bytes; it may be cipher itself, but must not
 * otherwise overlap it).
 *
 * Returns 0, or -1 when the tag does not verify (any change to key, nonce,
 * aad, ciphertext or tag) or n is over AEAD_MAX; out is then left as it
 * was, so no unauthenticated plain text is ever released.
 */
int aead_open(const unsigned char key[AEAD_KEY_LEN], const unsigned char nonce[AEAD_NONCE_LEN],
              const void *aad, size_t aadlen, const void *cipher, size_t n,
              const unsigned char tag[AEAD_TAG_LEN], unsigned char *out);

#endif
