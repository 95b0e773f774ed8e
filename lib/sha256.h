/*
 * sha256: SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), plus a
 * constant-time comparison.
 *
 * kvgate hashes on every request (cache keys, rate-limit keys, API keys) and
 * derives the paging key once per process. Doing that here instead of
 * through libcrypto means a program that needs nothing else from OpenSSL
 * (the preflight program, a get-secret process answering from the cache)
 * never loads it: libcrypto alone adds about 1.4 MB to every process's
 * VmRSS. The outputs are those of any other SHA-256; tests/unit/test_sha256.c
 * checks them against the FIPS and RFC 4231 vectors and against libcrypto.
 *
 * No function here allocates or fails. Every context and intermediate is
 * wiped before returning, since the input may be a key or a secret.
 */
#ifndef KVGATE_SHA256_H
#define KVGATE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32   /* bytes in a digest */
#define SHA256_BLOCK 64 /* bytes in a block (and in an HMAC key block) */

/* A hash in progress. Opaque in spirit: use the functions below. */
struct sha256_ctx {
	uint32_t h[8];                     /* the chaining state */
	uint64_t total;                    /* bytes hashed so far */
	unsigned char block[SHA256_BLOCK]; /* the partial block */
	size_t used;                       /* bytes in block */
};

/* Start a hash. */
void sha256_init(struct sha256_ctx *c);

/* Add n bytes (any n, in as many calls as convenient). */
void sha256_update(struct sha256_ctx *c, const void *p, size_t n);

/* Finish: write the digest to out and wipe c (sha256_init() to reuse it). */
void sha256_final(struct sha256_ctx *c, unsigned char out[SHA256_LEN]);

/* The digest of n bytes at p, in one call (the context lives on the stack). */
void sha256(const void *p, size_t n, unsigned char out[SHA256_LEN]);

/* HMAC-SHA-256 of msg under key (any length; a key longer than a block is
 * hashed first, as RFC 2104 says). */
void sha256_hmac(const void *key, size_t klen, const void *msg, size_t n,
                 unsigned char out[SHA256_LEN]);

/* Whether the n bytes at a and b are equal, taking the same time whatever
 * they hold (for comparing digests of credentials: an early exit would tell
 * an attacker how many leading bytes matched). */
bool ct_equal(const void *a, const void *b, size_t n);

#endif
