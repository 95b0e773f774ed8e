/*
 * aead.c: ChaCha20-Poly1305. See aead.h.
 *
 * A direct transcription of RFC 8439: the quarter round and block function
 * of sections 2.1 to 2.3, the cipher of section 2.4, Poly1305 of section
 * 2.5 with the arithmetic of poly1305-donna's 32-bit version (the RFC's
 * own recommendation, section 3: five 26-bit limbs, 32 x 32 -> 64-bit
 * products, a partial reduction per block and a full one, by mask, at the
 * end), the one-time key of section 2.6 and the construction of section
 * 2.8. Words are loaded and stored little-endian byte by byte, so alignment
 * and host byte order never matter.
 */
#include <string.h>

#include "aead.h"
#include "blockfeed.h"
#include "buf.h"
#include "sha256.h"

#define CHACHA20_BLOCK 64   /* bytes of keystream per block */
#define POLY1305_BLOCK 16   /* bytes of message per block */
#define POLY1305_KEY_LEN 32 /* r, then s */

/* Poly1305 in progress (section 2.5), in 26-bit limbs, least significant
 * first. */
struct poly1305 {
	uint32_t r[5];                       /* r, clamped */
	uint32_t h[5];                       /* the accumulator */
	uint32_t s[4];                       /* s, as four 32-bit words */
	unsigned char block[POLY1305_BLOCK]; /* the partial block */
	size_t used;                         /* bytes in block */
};

static inline uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static inline uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void store_le64(unsigned char *p, uint64_t v)
{
	store_le32(p, (uint32_t)v);
	store_le32(p + 4, (uint32_t)(v >> 32));
}

/* Section 2.1: the quarter round on words a, b, c and d of x (section 2.2
 * names them by index). */
static inline void quarter_round(uint32_t x[16], unsigned a, unsigned b, unsigned c, unsigned d)
{
	x[a] += x[b];
	x[d] = rol32(x[d] ^ x[a], 16);
	x[c] += x[d];
	x[b] = rol32(x[b] ^ x[c], 12);
	x[a] += x[b];
	x[d] = rol32(x[d] ^ x[a], 8);
	x[c] += x[d];
	x[b] = rol32(x[b] ^ x[c], 7);
}

/* Section 2.3: the state for key, block counter and nonce: four constant
 * words ("expand 32-byte k"), eight of key, the counter, three of nonce. */
static void chacha20_init(uint32_t state[16], const unsigned char key[AEAD_KEY_LEN],
                          uint32_t counter, const unsigned char nonce[AEAD_NONCE_LEN])
{
	state[0] = 0x61707865;
	state[1] = 0x3320646e;
	state[2] = 0x79622d32;
	state[3] = 0x6b206574;
	for (unsigned i = 0; i < 8; i++)
		state[4 + i] = load_le32(key + 4 * i);
	state[12] = counter;
	for (unsigned i = 0; i < 3; i++)
		state[13 + i] = load_le32(nonce + 4 * i);
}

/* Section 2.3: one 64-byte keystream block for state (its counter word
 * included): 20 rounds, alternately by column and by diagonal, then the
 * input added back and the words serialized little-endian. */
static void chacha20_block(const uint32_t state[16], unsigned char out[CHACHA20_BLOCK])
{
	uint32_t x[16];

	memcpy(x, state, sizeof(x));
	for (unsigned i = 0; i < 10; i++) {
		quarter_round(x, 0, 4, 8, 12);
		quarter_round(x, 1, 5, 9, 13);
		quarter_round(x, 2, 6, 10, 14);
		quarter_round(x, 3, 7, 11, 15);
		quarter_round(x, 0, 5, 10, 15);
		quarter_round(x, 1, 6, 11, 12);
		quarter_round(x, 2, 7, 8, 13);
		quarter_round(x, 3, 4, 9, 14);
	}
	for (unsigned i = 0; i < 16; i++)
		store_le32(out + 4 * i, x[i] + state[i]);
	/* The rounds are a function of the key. */
	buf_wipe(x, sizeof(x));
}

/* Section 2.4: XOR the n bytes at in with the keystream of key and nonce
 * from block counter on, into out (which may be in). The caller keeps n
 * within AEAD_MAX, so the counter does not wrap. */
static void chacha20_xor(const unsigned char key[AEAD_KEY_LEN], uint32_t counter,
                         const unsigned char nonce[AEAD_NONCE_LEN], const unsigned char *in,
                         size_t n, unsigned char *out)
{
	uint32_t state[16];
	unsigned char ks[CHACHA20_BLOCK];
	size_t take;

	chacha20_init(state, key, counter, nonce);
	while (n > 0) {
		chacha20_block(state, ks);
		state[12]++;
		take = n < CHACHA20_BLOCK ? n : CHACHA20_BLOCK;
		for (size_t i = 0; i < take; i++)
			out[i] = in[i] ^ ks[i];
		in += take;
		out += take;
		n -= take;
	}
	buf_wipe(state, sizeof(state));
	buf_wipe(ks, sizeof(ks));
}

/* Section 2.5: start a MAC under the one-time key (r, then s, 16 bytes
 * each). r is clamped (r &= 0x0ffffffc0ffffffc0ffffffc0fffffff) while it
 * is cut into limbs: each mask below is the limb's 26 bits with the
 * clamped bits cleared. */
static void poly1305_init(struct poly1305 *st, const unsigned char key[POLY1305_KEY_LEN])
{
	st->r[0] = load_le32(key + 0) & 0x3ffffff;
	st->r[1] = (load_le32(key + 3) >> 2) & 0x3ffff03;
	st->r[2] = (load_le32(key + 6) >> 4) & 0x3ffc0ff;
	st->r[3] = (load_le32(key + 9) >> 6) & 0x3f03fff;
	st->r[4] = (load_le32(key + 12) >> 8) & 0x00fffff;
	for (unsigned i = 0; i < 5; i++)
		st->h[i] = 0;
	for (unsigned i = 0; i < 4; i++)
		st->s[i] = load_le32(key + 16 + 4 * i);
	st->used = 0;
}

/*
 * Fold the n bytes at m (a multiple of 16) into the accumulator: for each
 * block, h = (h + block + hibit) * r mod 2^130 - 5, where hibit is the
 * 2^128 a full block carries (1 << 24 in the top limb), or 0 for the last,
 * partial block, which poly1305_final() pads with its own 1 byte.
 *
 * The reduction is partial: 2^130 = 5 mod p, so what a product has above
 * 2^130 comes back in multiplied by 5 (the s1-s4 below), and the limbs are
 * carried once; h stays below 2^131, a little over 26 bits per limb, which
 * keeps every sum of products below 2^64.
 */
static void poly1305_blocks(struct poly1305 *st, const unsigned char *m, size_t n, uint32_t hibit)
{
	const uint32_t r0 = st->r[0], r1 = st->r[1], r2 = st->r[2], r3 = st->r[3], r4 = st->r[4];
	const uint32_t s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
	uint32_t h0 = st->h[0], h1 = st->h[1], h2 = st->h[2], h3 = st->h[3], h4 = st->h[4];
	uint64_t d0, d1, d2, d3, d4;
	uint32_t c;

	for (; n >= POLY1305_BLOCK; m += POLY1305_BLOCK, n -= POLY1305_BLOCK) {
		h0 += load_le32(m + 0) & 0x3ffffff;
		h1 += (load_le32(m + 3) >> 2) & 0x3ffffff;
		h2 += (load_le32(m + 6) >> 4) & 0x3ffffff;
		h3 += (load_le32(m + 9) >> 6) & 0x3ffffff;
		h4 += (load_le32(m + 12) >> 8) | hibit;

		d0 = (uint64_t)h0 * r0 + (uint64_t)h1 * s4 + (uint64_t)h2 * s3 + (uint64_t)h3 * s2 +
		     (uint64_t)h4 * s1;
		d1 = (uint64_t)h0 * r1 + (uint64_t)h1 * r0 + (uint64_t)h2 * s4 + (uint64_t)h3 * s3 +
		     (uint64_t)h4 * s2;
		d2 = (uint64_t)h0 * r2 + (uint64_t)h1 * r1 + (uint64_t)h2 * r0 + (uint64_t)h3 * s4 +
		     (uint64_t)h4 * s3;
		d3 = (uint64_t)h0 * r3 + (uint64_t)h1 * r2 + (uint64_t)h2 * r1 + (uint64_t)h3 * r0 +
		     (uint64_t)h4 * s4;
		d4 = (uint64_t)h0 * r4 + (uint64_t)h1 * r3 + (uint64_t)h2 * r2 + (uint64_t)h3 * r1 +
		     (uint64_t)h4 * r0;

		c = (uint32_t)(d0 >> 26);
		h0 = (uint32_t)d0 & 0x3ffffff;
		d1 += c;
		c = (uint32_t)(d1 >> 26);
		h1 = (uint32_t)d1 & 0x3ffffff;
		d2 += c;
		c = (uint32_t)(d2 >> 26);
		h2 = (uint32_t)d2 & 0x3ffffff;
		d3 += c;
		c = (uint32_t)(d3 >> 26);
		h3 = (uint32_t)d3 & 0x3ffffff;
		d4 += c;
		c = (uint32_t)(d4 >> 26);
		h4 = (uint32_t)d4 & 0x3ffffff;
		h0 += c * 5;
		c = h0 >> 26;
		h0 &= 0x3ffffff;
		h1 += c;
	}
	st->h[0] = h0;
	st->h[1] = h1;
	st->h[2] = h2;
	st->h[3] = h3;
	st->h[4] = h4;
}

/* blockfeed_fn over poly1305_blocks(), for full blocks (the 2^128 bit). */
static void poly1305_whole(void *ctx, const unsigned char *p, size_t len)
{
	poly1305_blocks(ctx, p, len, 1u << 24);
}

/* Add n bytes (any n, in as many calls as convenient). */
static void poly1305_update(struct poly1305 *st, const void *data, size_t n)
{
	blockfeed(st->block, POLY1305_BLOCK, &st->used, data, n, poly1305_whole, st);
}

/* Finish: the last, partial block (with its 1 byte), h reduced fully mod
 * 2^130 - 5, then tag = (h + s) mod 2^128, little-endian. Wipes st. */
static void poly1305_final(struct poly1305 *st, unsigned char tag[AEAD_TAG_LEN])
{
	uint32_t h0, h1, h2, h3, h4, g0, g1, g2, g3, g4, c, mask;
	uint64_t f;

	if (st->used > 0) {
		st->block[st->used] = 1;
		memset(st->block + st->used + 1, 0, POLY1305_BLOCK - st->used - 1);
		poly1305_blocks(st, st->block, POLY1305_BLOCK, 0);
	}
	h0 = st->h[0];
	h1 = st->h[1];
	h2 = st->h[2];
	h3 = st->h[3];
	h4 = st->h[4];

	/* Carry through every limb: h < 2^130 + a little, 26 bits a limb. */
	c = h1 >> 26;
	h1 &= 0x3ffffff;
	h2 += c;
	c = h2 >> 26;
	h2 &= 0x3ffffff;
	h3 += c;
	c = h3 >> 26;
	h3 &= 0x3ffffff;
	h4 += c;
	c = h4 >> 26;
	h4 &= 0x3ffffff;
	h0 += c * 5;
	c = h0 >> 26;
	h0 &= 0x3ffffff;
	h1 += c;

	/* g = h + 5 - 2^130 = h - p. If that did not go below zero (the top
	 * bit of g4 clear), h >= p and g is the reduced value. The choice is
	 * made with a mask, never a branch. */
	g0 = h0 + 5;
	c = g0 >> 26;
	g0 &= 0x3ffffff;
	g1 = h1 + c;
	c = g1 >> 26;
	g1 &= 0x3ffffff;
	g2 = h2 + c;
	c = g2 >> 26;
	g2 &= 0x3ffffff;
	g3 = h3 + c;
	c = g3 >> 26;
	g3 &= 0x3ffffff;
	g4 = h4 + c - (1u << 26);

	mask = (g4 >> 31) - 1; /* all ones when h >= p */
	h0 = (h0 & ~mask) | (g0 & mask);
	h1 = (h1 & ~mask) | (g1 & mask);
	h2 = (h2 & ~mask) | (g2 & mask);
	h3 = (h3 & ~mask) | (g3 & mask);
	h4 = (h4 & ~mask) | (g4 & mask);

	/* h mod 2^128, as four 32-bit words. */
	h0 = h0 | (h1 << 26);
	h1 = (h1 >> 6) | (h2 << 20);
	h2 = (h2 >> 12) | (h3 << 14);
	h3 = (h3 >> 18) | (h4 << 8);

	/* + s, mod 2^128. */
	f = (uint64_t)h0 + st->s[0];
	store_le32(tag + 0, (uint32_t)f);
	f = (uint64_t)h1 + st->s[1] + (f >> 32);
	store_le32(tag + 4, (uint32_t)f);
	f = (uint64_t)h2 + st->s[2] + (f >> 32);
	store_le32(tag + 8, (uint32_t)f);
	f = (uint64_t)h3 + st->s[3] + (f >> 32);
	store_le32(tag + 12, (uint32_t)f);

	buf_wipe(st, sizeof(*st));
}

/* Section 2.6: the Poly1305 one-time key for key and nonce, the first 32
 * bytes of the keystream block with counter 0. */
static void poly1305_key_gen(const unsigned char key[AEAD_KEY_LEN],
                             const unsigned char nonce[AEAD_NONCE_LEN],
                             unsigned char otk[POLY1305_KEY_LEN])
{
	uint32_t state[16];
	unsigned char block[CHACHA20_BLOCK];

	chacha20_init(state, key, 0, nonce);
	chacha20_block(state, block);
	memcpy(otk, block, POLY1305_KEY_LEN);
	buf_wipe(state, sizeof(state));
	buf_wipe(block, sizeof(block));
}

/* Section 2.8: the tag of aad and ciphertext, Poly1305 under the one-time
 * key of aad, zeros to a multiple of 16, ciphertext, zeros to a multiple
 * of 16, then both lengths as 64-bit little-endian numbers. */
static void aead_tag(const unsigned char key[AEAD_KEY_LEN],
                     const unsigned char nonce[AEAD_NONCE_LEN], const void *aad, size_t aadlen,
                     const void *cipher, size_t n, unsigned char tag[AEAD_TAG_LEN])
{
	static const unsigned char zeros[POLY1305_BLOCK];
	unsigned char otk[POLY1305_KEY_LEN], lens[16];
	struct poly1305 st;

	poly1305_key_gen(key, nonce, otk);
	poly1305_init(&st, otk);
	poly1305_update(&st, aad, aadlen);
	poly1305_update(&st, zeros, (POLY1305_BLOCK - aadlen % POLY1305_BLOCK) % POLY1305_BLOCK);
	poly1305_update(&st, cipher, n);
	poly1305_update(&st, zeros, (POLY1305_BLOCK - n % POLY1305_BLOCK) % POLY1305_BLOCK);
	store_le64(lens, (uint64_t)aadlen);
	store_le64(lens + 8, (uint64_t)n);
	poly1305_update(&st, lens, sizeof(lens));
	poly1305_final(&st, tag);
	buf_wipe(otk, sizeof(otk));
}

int aead_seal(const unsigned char key[AEAD_KEY_LEN], const unsigned char nonce[AEAD_NONCE_LEN],
              const void *aad, size_t aadlen, const void *plain, size_t n, unsigned char *out,
              unsigned char tag[AEAD_TAG_LEN])
{
	if ((uint64_t)n > AEAD_MAX)
		return -1;
	/* Counter 0 made the one-time key; the text starts at 1. */
	chacha20_xor(key, 1, nonce, plain, n, out);
	aead_tag(key, nonce, aad, aadlen, out, n, tag);
	return 0;
}

int aead_open(const unsigned char key[AEAD_KEY_LEN], const unsigned char nonce[AEAD_NONCE_LEN],
              const void *aad, size_t aadlen, const void *cipher, size_t n,
              const unsigned char tag[AEAD_TAG_LEN], unsigned char *out)
{
	unsigned char want[AEAD_TAG_LEN];
	int rc = -1;

	if ((uint64_t)n > AEAD_MAX)
		return -1;
	/* Verify, then decrypt: on a bad tag not one byte of out is written. */
	aead_tag(key, nonce, aad, aadlen, cipher, n, want);
	if (ct_equal(want, tag, AEAD_TAG_LEN)) {
		chacha20_xor(key, 1, nonce, cipher, n, out);
		rc = 0;
	}
	/* The right tag for a forged ciphertext is the forgery's last piece. */
	buf_wipe(want, sizeof(want));
	return rc;
}
