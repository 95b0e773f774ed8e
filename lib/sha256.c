/*
 * sha256.c: SHA-256 and HMAC-SHA-256. See sha256.h.
 *
 * A direct transcription of FIPS 180-4 section 6.2 (the message schedule as
 * a 16-word ring, which is the same computation with a quarter of the
 * stack), with the padding of section 5.1.1. Words are loaded and stored
 * big-endian byte by byte, so alignment and host byte order never matter.
 */
#include <string.h>

#include "blockfeed.h"
#include "buf.h"
#include "sha256.h"

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of
 * the cube roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Section 5.3.3: the first 32 bits of the fractional parts of the square
 * roots of the first 8 primes. */
static const uint32_t H0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Section 6.2.2: fold one 64-byte block into the state. */
static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[16], a, b, c, d, e, f, g, hh, t1, t2, s0, s1;

	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	f = h[5];
	g = h[6];
	hh = h[7];
	for (unsigned t = 0; t < 64; t++) {
		if (t < 16) {
			w[t] = load_be32(p + 4 * t);
		} else {
			/* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16],
			 * where W[t-16] is the slot being replaced. */
			s0 = w[(t - 15) & 15];
			s0 = ror(s0, 7) ^ ror(s0, 18) ^ (s0 >> 3);
			s1 = w[(t - 2) & 15];
			s1 = ror(s1, 17) ^ ror(s1, 19) ^ (s1 >> 10);
			w[t & 15] += s1 + w[(t - 7) & 15] + s0;
		}
		t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] +
		     w[t & 15];
		t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
	/* The schedule holds words of the message (a key, say). */
	buf_wipe(w, sizeof(w));
}

void sha256_init(struct sha256_ctx *c)
{
	memcpy(c->h, H0, sizeof(c->h));
	c->total = 0;
	c->used = 0;
}

/* blockfeed_fn over sha256_block(). */
static void sha256_blocks(void *ctx, const unsigned char *p, size_t len)
{
	struct sha256_ctx *c = ctx;

	for (; len > 0; p += SHA256_BLOCK, len -= SHA256_BLOCK)
		sha256_block(c->h, p);
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t n)
{
	c->total += n;
	blockfeed(c->block, SHA256_BLOCK, &c->used, data, n, sha256_blocks, c);
}

void sha256_final(struct sha256_ctx *c, unsigned char out[SHA256_LEN])
{
	/* Section 5.1.1: a 1 bit, zeros up to 56 bytes into a block, then the
	 * message length in bits as a 64-bit big-endian number. */
	uint64_t bits = c->total * 8;

	c->block[c->used++] = 0x80;
	if (c->used > SHA256_BLOCK - 8) {
		memset(c->block + c->used, 0, SHA256_BLOCK - c->used);
		sha256_block(c->h, c->block);
		c->used = 0;
	}
	memset(c->block + c->used, 0, SHA256_BLOCK - 8 - c->used);
	store_be32(c->block + SHA256_BLOCK - 8, (uint32_t)(bits >> 32));
	store_be32(c->block + SHA256_BLOCK - 4, (uint32_t)bits);
	sha256_block(c->h, c->block);
	for (unsigned i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	buf_wipe(c, sizeof(*c));
}

void sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_final(&c, out);
}

/* RFC 2104: H((K ^ opad) || H((K ^ ipad) || msg)), K zero-padded to a
 * block (hashed first when longer). */
void sha256_hmac(const void *key, size_t klen, const void *msg, size_t n,
                 unsigned char out[SHA256_LEN])
{
	unsigned char k[SHA256_BLOCK], inner[SHA256_LEN];
	struct sha256_ctx c;

	memset(k, 0, sizeof(k));
	if (klen > SHA256_BLOCK)
		sha256(key, klen, k);
	else if (klen > 0)
		memcpy(k, key, klen);

	for (size_t i = 0; i < SHA256_BLOCK; i++)
		k[i] ^= 0x36;
	sha256_init(&c);
	sha256_update(&c, k, sizeof(k));
	sha256_update(&c, msg, n);
	sha256_final(&c, inner);

	/* 0x36 ^ 0x5c: from K ^ ipad to K ^ opad without keeping K. */
	for (size_t i = 0; i < SHA256_BLOCK; i++)
		k[i] ^= 0x36 ^ 0x5c;
	sha256_init(&c);
	sha256_update(&c, k, sizeof(k));
	sha256_update(&c, inner, sizeof(inner));
	sha256_final(&c, out);

	buf_wipe(k, sizeof(k));
	buf_wipe(inner, sizeof(inner));
}

bool ct_equal(const void *a, const void *b, size_t n)
{
	/* volatile: the compiler may neither stop at the first difference
	 * nor turn the loop into memcmp(). */
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}
