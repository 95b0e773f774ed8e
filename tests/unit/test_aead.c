/*
 * test_aead: ChaCha20-Poly1305 (lib/aead.c).
 *
 * Paging tokens are sealed with it, and a forged or altered token must
 * never open: a slip in the cipher would hand callers the vault's own
 * nextLink, a slip in the MAC would let them forge one, and either would be
 * invisible in a round trip through our own code alone. These tests pin
 * the published vectors of RFC 8439 (the quarter round of 2.1.1 and 2.2.1,
 * the block function of 2.3.2, the cipher of 2.4.2, Poly1305 of 2.5.2 and
 * appendix A.3, whose vectors 5 to 11 aim at the carries and the final
 * reduction of limb arithmetic, the one-time key of 2.6.2 and A.4, the AEAD
 * of 2.8.2 and the decryption of A.5); agreement, bit for bit, with
 * libcrypto's ChaCha20, Poly1305 and ChaCha20-Poly1305 on a few thousand
 * random inputs of 0 to 300 bytes; and that every single-bit change to key,
 * nonce, associated data, ciphertext or tag makes aead_open() fail without
 * writing a byte of plain text.
 *
 * aead.c is included to reach the primitives (quarter_round(),
 * chacha20_block(), poly1305_*() ...), which are static.
 */
#include "../../lib/aead.c"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "hex.h"
#include "tap.h"

/* RFC 8439 section 2.4.2 and 2.8.2. */
static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                                "only one tip for the future, sunscreen would be it.";
/* Appendix A.2 test vector 2, A.3 test vectors 2 and 3. */
static const char ietf[] =
    "Any submission to the IETF intended by the Contributor for publication as all or part of "
    "an IETF Internet-Draft or RFC and any statement made within the context of an IETF "
    "activity is considered an \"IETF Contribution\". Such statements include oral statements "
    "in IETF sessions, as well as written and electronic communications made at any time or "
    "place, which are addressed to";
/* Appendix A.2 test vector 3, A.3 test vector 4. */
static const char jabberwocky[] = "'Twas brillig, and the slithy toves\nDid gyre and gimble in "
                                  "the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths "
                                  "outgrabe.";

/* Whether the n bytes at p are, in hex, want. */
static bool bytes_are(const unsigned char *p, size_t n, const char *want)
{
	char h[2 * 512 + 1];

	if (n > 512 || strlen(want) != 2 * n)
		return false;
	hex(p, n, h);
	return strcmp(h, want) == 0;
}

/* Whether all n bytes at p are c. */
static bool all_are(const unsigned char *p, size_t n, unsigned char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* Poly1305 of n bytes in one call. */
static void poly1305(const unsigned char key[POLY1305_KEY_LEN], const void *msg, size_t n,
                     unsigned char tag[AEAD_TAG_LEN])
{
	struct poly1305 st;

	poly1305_init(&st, key);
	poly1305_update(&st, msg, n);
	poly1305_final(&st, tag);
}

/* A pseudo-random byte stream (xorshift64; a test needs no more). */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(next() >> 24);
}

/* ---- ChaCha20 ---- */

static void test_quarter_round(void)
{
	static const uint32_t before[16] = {
	    0x879531e0, 0xc5ecf37d, 0x516461b1, 0xc9a62f8a, 0x44c20ef3, 0x3390af7f,
	    0xd9fc690b, 0x2a5f714c, 0x53372767, 0xb00a5631, 0x974c541a, 0x359e9963,
	    0x5c971061, 0x3d631689, 0x2098d9d6, 0x91dbd320,
	};
	static const uint32_t after[16] = {
	    0x879531e0, 0xc5ecf37d, 0xbdb886dc, 0xc9a62f8a, 0x44c20ef3, 0x3390af7f,
	    0xd9fc690b, 0xcfacafd2, 0xe46bea80, 0xb00a5631, 0x974c541a, 0x359e9963,
	    0x5c971061, 0xccc07c79, 0x2098d9d6, 0x91dbd320,
	};
	uint32_t x[16] = {0x11111111, 0x01020304, 0x9b8d6f43, 0x01234567};

	/* Section 2.1.1: four numbers, here words 0 to 3. */
	quarter_round(x, 0, 1, 2, 3);
	ok(x[0] == 0xea2a92f4 && x[1] == 0xcb1cf8ce && x[2] == 0x4581472e && x[3] == 0x5881c4bb,
	   "RFC 8439 2.1.1: the quarter round (%08x %08x %08x %08x)", (unsigned)x[0],
	   (unsigned)x[1], (unsigned)x[2], (unsigned)x[3]);

	/* Section 2.2.1: QUARTERROUND(2, 7, 8, 13) changes those four words
	 * of the state and no other. */
	memcpy(x, before, sizeof(x));
	quarter_round(x, 2, 7, 8, 13);
	ok(memcmp(x, after, sizeof(x)) == 0,
	   "RFC 8439 2.2.1: QUARTERROUND(2, 7, 8, 13) on a state");
}

static void test_block(void)
{
	static const struct {
		const char *name, *key, *nonce;
		uint32_t counter;
		const char *block;
	} v[] = {
	    /* Section 2.3.2. */
	    {"2.3.2", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	     "000000090000004a00000000", 1,
	     "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
	     "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"},
	    /* Appendix A.1, test vectors 1, 2 and 5 (all-zero key and
	     * nonce, counters 0 and 1; a nonce of 2). */
	    {"A.1 #1", "0000000000000000000000000000000000000000000000000000000000000000",
	     "000000000000000000000000", 0,
	     "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
	     "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"},
	    {"A.1 #2", "0000000000000000000000000000000000000000000000000000000000000000",
	     "000000000000000000000000", 1,
	     "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
	     "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"},
	    {"A.1 #5", "0000000000000000000000000000000000000000000000000000000000000000",
	     "000000000000000000000002", 0,
	     "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
	     "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d"},
	};
	static const uint32_t setup[16] = {
	    0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, 0x03020100, 0x07060504,
	    0x0b0a0908, 0x0f0e0d0c, 0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
	    0x00000001, 0x09000000, 0x4a000000, 0x00000000,
	};
	unsigned char key[32], nonce[12], out[64];
	uint32_t state[16];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex(v[i].key, key);
		unhex(v[i].nonce, nonce);
		chacha20_init(state, key, v[i].counter, nonce);
		if (i == 0)
			ok(memcmp(state, setup, sizeof(state)) == 0,
			   "RFC 8439 2.3.2: the state set up from key, counter and nonce");
		chacha20_block(state, out);
		ok(bytes_are(out, sizeof(out), v[i].block), "RFC 8439 %s: the block function",
		   v[i].name);
	}
}

static void test_cipher(void)
{
	/* Section 2.4.2: two blocks, the second partial; appendix A.2 test
	 * vector 3: counter 42, 127 bytes. */
	static const struct {
		const char *name, *key, *nonce;
		uint32_t counter;
		const char *plain;
		size_t len;
		const char *cipher;
	} v[] = {
	    {"2.4.2", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	     "000000000000004a00000000", 1, sunscreen, 114,
	     "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
	     "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
	     "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
	     "5af90bbf74a35be6b40b8eedf2785e42874d"},
	    {"A.2 #3", "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
	     "000000000000000000000002", 42, jabberwocky, 127,
	     "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf"
	     "166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553eb"
	     "f39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f77"
	     "04c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1"},
	};
	unsigned char key[32], nonce[12], out[sizeof(ietf)];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex(v[i].key, key);
		unhex(v[i].nonce, nonce);
		chacha20_xor(key, v[i].counter, nonce, (const unsigned char *)v[i].plain,
		             strlen(v[i].plain), out);
		ok(strlen(v[i].plain) == v[i].len && bytes_are(out, v[i].len, v[i].cipher),
		   "RFC 8439 %s: ChaCha20 encryption of %zu bytes from counter %u", v[i].name,
		   v[i].len, (unsigned)v[i].counter);
	}

	/* Decryption is the same operation, in place too. */
	memcpy(out, sunscreen, strlen(sunscreen));
	chacha20_xor(key, 7, nonce, out, strlen(sunscreen), out);
	chacha20_xor(key, 7, nonce, out, strlen(sunscreen), out);
	ok(memcmp(out, sunscreen, strlen(sunscreen)) == 0,
	   "ChaCha20 in place, twice, gives the text back");
}

/* ---- Poly1305 ---- */

static void test_poly1305(void)
{
	static const struct {
		const char *name, *key, *msg; /* msg in hex, or NULL: text */
		const char *text, *tag;
	} v[] = {
	    {"2.5.2", "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", NULL,
	     "Cryptographic Forum Research Group", "a8061dc1305136c6c22b8baf0c0127a9"},
	    {"A.3 #1", "0000000000000000000000000000000000000000000000000000000000000000",
	     "0000000000000000000000000000000000000000000000000000000000000000"
	     "0000000000000000000000000000000000000000000000000000000000000000",
	     NULL, "00000000000000000000000000000000"},
	    {"A.3 #2 (r = 0)", "0000000000000000000000000000000036e5f6b5c5e06070f0efca96227a863e",
	     NULL, ietf, "36e5f6b5c5e06070f0efca96227a863e"},
	    {"A.3 #3 (s = 0)", "36e5f6b5c5e06070f0efca96227a863e00000000000000000000000000000000",
	     NULL, ietf, "f3477e7cd95417af89a6b8794c310cf0"},
	    {"A.3 #4", "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", NULL,
	     jabberwocky, "4541669a7eaaee61e708dc7cbcc5eb62"},
	    {"A.3 #5 (partially reduced, not fully)",
	     "0200000000000000000000000000000000000000000000000000000000000000",
	     "ffffffffffffffffffffffffffffffff", NULL, "03000000000000000000000000000000"},
	    {"A.3 #6 (adding s overflows 2^128)",
	     "02000000000000000000000000000000ffffffffffffffffffffffffffffffff",
	     "02000000000000000000000000000000", NULL, "03000000000000000000000000000000"},
	    {"A.3 #7 (an all-ones limb with a carry into it)",
	     "0100000000000000000000000000000000000000000000000000000000000000",
	     "ffffffffffffffffffffffffffffffff"
	     "f0ffffffffffffffffffffffffffffff"
	     "11000000000000000000000000000000",
	     NULL, "05000000000000000000000000000000"},
	    {"A.3 #8 (h exactly 2^130 - 5)",
	     "0100000000000000000000000000000000000000000000000000000000000000",
	     "ffffffffffffffffffffffffffffffff"
	     "fbfefefefefefefefefefefefefefefe"
	     "01010101010101010101010101010101",
	     NULL, "00000000000000000000000000000000"},
	    {"A.3 #9 (h exactly 2^130 - 6)",
	     "0200000000000000000000000000000000000000000000000000000000000000",
	     "fdffffffffffffffffffffffffffffff", NULL, "faffffffffffffffffffffffffffffff"},
	    {"A.3 #10 (a 131-bit intermediate)",
	     "0100000000000000040000000000000000000000000000000000000000000000",
	     "e33594d7505e43b90000000000000000"
	     "3394d7505e4379cd0100000000000000"
	     "00000000000000000000000000000000"
	     "01000000000000000000000000000000",
	     NULL, "14000000000000005500000000000000"},
	    {"A.3 #11 (a 131-bit final result)",
	     "0100000000000000040000000000000000000000000000000000000000000000",
	     "e33594d7505e43b90000000000000000"
	     "3394d7505e4379cd0100000000000000"
	     "00000000000000000000000000000000",
	     NULL, "13000000000000000000000000000000"},
	};
	unsigned char key[32], msg[512], tag[16];
	char h[33];
	size_t n;

	ok(strlen(ietf) == 375, "the A.3 #2 text is the RFC's 375 bytes (%zu)", strlen(ietf));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex(v[i].key, key);
		if (v[i].msg != NULL) {
			n = unhex(v[i].msg, msg);
		} else {
			n = strlen(v[i].text);
			memcpy(msg, v[i].text, n);
		}
		poly1305(key, msg, n, tag);
		hex(tag, sizeof(tag), h);
		ok(strcmp(h, v[i].tag) == 0, "RFC 8439 %s: Poly1305 of %zu bytes: %s", v[i].name, n,
		   h);
	}
}

/* Every split point of a 200-byte message, and odd chunk sizes: the
 * partial-block bookkeeping must never change the tag. */
static void test_poly1305_streaming(void)
{
	static const size_t chunks[] = {1, 3, 15, 16, 17, 31, 33, 64};
	unsigned char key[32], msg[200], whole[16], part[16];
	struct poly1305 st;
	int bad = 0;

	fill(key, sizeof(key));
	fill(msg, sizeof(msg));
	poly1305(key, msg, sizeof(msg), whole);
	for (size_t cut = 0; cut <= sizeof(msg); cut++) {
		poly1305_init(&st, key);
		poly1305_update(&st, msg, cut);
		poly1305_update(&st, NULL, 0);
		poly1305_update(&st, msg + cut, sizeof(msg) - cut);
		poly1305_final(&st, part);
		bad += memcmp(whole, part, sizeof(whole)) != 0;
	}
	ok(bad == 0, "a 200-byte message split at each of 201 points has one tag (%d differ)", bad);

	bad = 0;
	for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		poly1305_init(&st, key);
		for (size_t off = 0; off < sizeof(msg); off += chunks[k])
			poly1305_update(&st, msg + off,
			                sizeof(msg) - off < chunks[k] ? sizeof(msg) - off
			                                              : chunks[k]);
		poly1305_final(&st, part);
		bad += memcmp(whole, part, sizeof(whole)) != 0;
	}
	ok(bad == 0, "200 bytes fed in chunks of 1, 3, 15, 16, 17, 31, 33, 64 have one tag");

	{
		static const unsigned char zero[sizeof(st)];

		ok(memcmp(&st, zero, sizeof(st)) == 0,
		   "poly1305_final() leaves the state (r, s, accumulator) zeroed");
	}
}

/* ---- the one-time key and the AEAD ---- */

static void test_key_gen(void)
{
	static const struct {
		const char *name, *key, *nonce, *otk;
	} v[] = {
	    {"2.6.2", "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	     "000000000001020304050607",
	     "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646"},
	    {"A.4 #1", "0000000000000000000000000000000000000000000000000000000000000000",
	     "000000000000000000000000",
	     "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"},
	    {"A.4 #2", "0000000000000000000000000000000000000000000000000000000000000001",
	     "000000000000000000000002",
	     "ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739"},
	    {"A.4 #3", "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
	     "000000000000000000000002",
	     "965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae"},
	};
	unsigned char key[32], nonce[12], otk[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex(v[i].key, key);
		unhex(v[i].nonce, nonce);
		poly1305_key_gen(key, nonce, otk);
		ok(bytes_are(otk, sizeof(otk), v[i].otk), "RFC 8439 %s: the Poly1305 one-time key",
		   v[i].name);
	}
}

static void test_aead_vectors(void)
{
	/* Appendix A.5: the plain text, 265 bytes. */
	static const char drafts[] =
	    "Internet-Drafts are draft documents valid for a maximum of six months and may be "
	    "updated, replaced, or obsoleted by other documents at any time. It is inappropriate "
	    "to use Internet-Drafts as reference material or to cite them other than as "
	    "/\xe2\x80\x9c"
	    "work in progress./\xe2\x80\x9d";
	unsigned char key[32], nonce[12], aad[16], cipher[300], tag[16], out[300];
	size_t n, an;
	int rc;

	/* Section 2.8.2. */
	unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key);
	unhex("070000004041424344454647", nonce);
	an = unhex("50515253c0c1c2c3c4c5c6c7", aad);
	rc = aead_seal(key, nonce, aad, an, sunscreen, strlen(sunscreen), cipher, tag);
	ok(rc == 0 && bytes_are(cipher, 114,
	                        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	                        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	                        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	                        "3ff4def08e4b7a9de576d26586cec64b6116"),
	   "RFC 8439 2.8.2: the AEAD ciphertext");
	ok(bytes_are(tag, sizeof(tag), "1ae10b594f09e26a7e902ecbd0600691"),
	   "RFC 8439 2.8.2: the AEAD tag");
	memset(out, 0, sizeof(out));
	ok(aead_open(key, nonce, aad, an, cipher, 114, tag, out) == 0 &&
	       memcmp(out, sunscreen, 114) == 0,
	   "RFC 8439 2.8.2: ...which opens to the plain text");

	/* Appendix A.5. */
	unhex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", key);
	unhex("000000000102030405060708", nonce);
	an = unhex("f33388860000000000004e91", aad);
	n = unhex("64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	          "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	          "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	          "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	          "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	          "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	          "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	          "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	          "a6ad5cb4022b02709b",
	          cipher);
	unhex("eead9d67890cbb22392336fea1851f38", tag);
	memset(out, 0, sizeof(out));
	ok(n == 265 && strlen(drafts) == 265 &&
	       aead_open(key, nonce, aad, an, cipher, n, tag, out) == 0 &&
	       memcmp(out, drafts, n) == 0,
	   "RFC 8439 A.5: the received tag verifies and the 265 bytes decrypt to the text");
}

/* libcrypto's ChaCha20-Poly1305 (EVP_chacha20_poly1305, 12-byte nonce,
 * 16-byte tag). Returns 0 or -1. */
static int evp_seal(const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
                    size_t an, const unsigned char *plain, size_t n, unsigned char *out,
                    unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce) != 1 ||
	    (an > 0 && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)an) != 1) ||
	    (n > 0 && EVP_EncryptUpdate(ctx, out, &len, plain, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(ctx, out + n, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* libcrypto's raw ChaCha20 (EVP_chacha20: a 16-byte IV of the counter,
 * little-endian, then the nonce). Returns 0 or -1. */
static int evp_chacha20(const unsigned char *key, uint32_t counter, const unsigned char *nonce,
                        const unsigned char *in, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char iv[16];
	int len, rc = -1;

	if (ctx == NULL)
		return -1;
	store_le32(iv, counter);
	memcpy(iv + 4, nonce, 12);
	if (EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, key, iv) != 1 ||
	    (n > 0 && EVP_EncryptUpdate(ctx, out, &len, in, (int)n) != 1))
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* libcrypto's Poly1305 (EVP_MAC "POLY1305"). Returns 0 or -1. */
static int evp_poly1305(EVP_MAC *mac, const unsigned char *key, const unsigned char *msg, size_t n,
                        unsigned char *tag)
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	size_t len = 0;
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_MAC_init(ctx, key, 32, NULL) == 1 && EVP_MAC_update(ctx, msg, n) == 1 &&
	    EVP_MAC_final(ctx, tag, &len, 16) == 1 && len == 16)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	return rc;
}

/* Random keys, nonces, associated data (0-80 bytes) and texts (every
 * length 0-299 once, then random ones up to 300), against libcrypto. */
static void test_against_libcrypto(void)
{
	unsigned char key[32], nonce[12], aad[80], plain[300], ours[300], theirs[300 + 16], tag[16],
	    ttag[16], back[300];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	int bad_seal = 0, bad_open = 0, bad_stream = 0, bad_mac = 0, failed = 0, n = 0;

	for (int i = 0; i < 4000; i++) {
		size_t len, an;
		uint32_t counter;

		fill(key, sizeof(key));
		fill(nonce, sizeof(nonce));
		fill(aad, sizeof(aad));
		fill(plain, sizeof(plain));
		len = i < 300 ? (size_t)i : (size_t)(next() % (sizeof(plain) + 1));
		an = (size_t)(next() % (sizeof(aad) + 1));
		/* Any counter that a 300-byte text cannot wrap. */
		counter = (uint32_t)(next() % 0xfffffff0u);

		if (evp_seal(key, nonce, aad, an, plain, len, theirs, ttag) != 0) {
			failed++;
			continue;
		}
		if (aead_seal(key, nonce, an ? aad : NULL, an, len ? plain : NULL, len, ours,
		              tag) != 0 ||
		    memcmp(ours, theirs, len) != 0 || memcmp(tag, ttag, 16) != 0)
			bad_seal++;
		memset(back, 0, sizeof(back));
		if (aead_open(key, nonce, aad, an, theirs, len, ttag, back) != 0 ||
		    memcmp(back, plain, len) != 0)
			bad_open++;

		if (evp_chacha20(key, counter, nonce, plain, len, theirs) != 0) {
			failed++;
			continue;
		}
		chacha20_xor(key, counter, nonce, plain, len, ours);
		if (memcmp(ours, theirs, len) != 0)
			bad_stream++;

		if (mac == NULL || evp_poly1305(mac, key, plain, len, ttag) != 0) {
			failed++;
			continue;
		}
		poly1305(key, plain, len, tag);
		if (memcmp(tag, ttag, 16) != 0)
			bad_mac++;
		n++;
	}
	EVP_MAC_free(mac);
	ok(failed == 0, "libcrypto did all it was asked (%d failures)", failed);
	ok(bad_seal == 0,
	   "ChaCha20-Poly1305 ciphertext and tag agree with libcrypto on %d random inputs (%d "
	   "differ)",
	   n, bad_seal);
	ok(bad_open == 0, "...and everything libcrypto sealed opens to its plain text (%d do not)",
	   bad_open);
	ok(bad_stream == 0, "ChaCha20 at random counters agrees with libcrypto (%d differ)",
	   bad_stream);
	ok(bad_mac == 0, "Poly1305 under random keys agrees with libcrypto (%d differ)", bad_mac);
}

/* Flip bit i of the bytes at p (bit 0 is the low bit of p[0]). */
static void flip(unsigned char *p, size_t i)
{
	p[i / 8] ^= (unsigned char)(1u << (i % 8));
}

/* Whether aead_open() fails and leaves out as it was (all 0xa5). */
static bool refused(const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
                    size_t an, const unsigned char *cipher, size_t n, const unsigned char *tag)
{
	unsigned char out[128];

	memset(out, 0xa5, sizeof(out));
	return aead_open(key, nonce, aad, an, cipher, n, tag, out) == -1 &&
	       all_are(out, sizeof(out), 0xa5);
}

/* Every single-bit change, to each input of aead_open(), is refused, and
 * refused before a byte of plain text is written. */
static void test_tamper(void)
{
	unsigned char key[32], nonce[12], aad[20], plain[70], cipher[71], tag[16], out[128];
	size_t bad[5] = {0}, tried[5] = {0};

	fill(key, sizeof(key));
	fill(nonce, sizeof(nonce));
	fill(aad, sizeof(aad));
	fill(plain, sizeof(plain));
	aead_seal(key, nonce, aad, sizeof(aad), plain, sizeof(plain), cipher, tag);
	memset(out, 0xa5, sizeof(out));
	ok(aead_open(key, nonce, aad, sizeof(aad), cipher, sizeof(plain), tag, out) == 0 &&
	       memcmp(out, plain, sizeof(plain)) == 0 && all_are(out + 70, sizeof(out) - 70, 0xa5),
	   "the untouched message opens, writing exactly its 70 bytes");

	/* The parts of the call, each flipped bit by bit: the ciphertext, the
	 * tag, the associated data, the nonce and the key. */
	{
		struct {
			unsigned char *p;
			size_t n;
			const char *name;
		} part[] = {{cipher, sizeof(plain), "ciphertext"},
		            {tag, sizeof(tag), "tag"},
		            {aad, sizeof(aad), "associated data"},
		            {nonce, sizeof(nonce), "nonce"},
		            {key, sizeof(key), "key"}};

		for (size_t k = 0; k < sizeof(part) / sizeof(part[0]); k++) {
			for (size_t i = 0; i < part[k].n * 8; i++, tried[k]++) {
				flip(part[k].p, i);
				bad[k] += !refused(key, nonce, aad, sizeof(aad), cipher,
				                   sizeof(plain), tag);
				flip(part[k].p, i);
			}
			ok(bad[k] == 0,
			   "each of the %zu %s bits, flipped, is refused with out untouched (%zu "
			   "are not)",
			   tried[k], part[k].name, bad[k]);
		}
	}

	/* Lengths are authenticated too: a byte less or more of either. */
	cipher[70] = 0;
	ok(refused(key, nonce, aad, sizeof(aad), cipher, sizeof(plain) - 1, tag) &&
	       refused(key, nonce, aad, sizeof(aad), cipher, sizeof(plain) + 1, tag) &&
	       refused(key, nonce, aad, sizeof(aad) - 1, cipher, sizeof(plain), tag) &&
	       refused(key, nonce, NULL, 0, cipher, sizeof(plain), tag),
	   "the ciphertext or the associated data one byte shorter or longer, or without the "
	   "associated data, is refused");

	/* The associated data and the ciphertext are told apart: moving the
	 * boundary between them is a different message. */
	{
		unsigned char joined[90];

		memcpy(joined, aad, sizeof(aad));
		memcpy(joined + sizeof(aad), cipher, sizeof(plain));
		ok(refused(key, nonce, joined, sizeof(aad) + 1, joined + sizeof(aad) + 1,
		           sizeof(plain) - 1, tag),
		   "the first ciphertext byte moved into the associated data is refused");
	}
}

/* In-place operation, empty inputs, and the length cap. */
static void test_edges(void)
{
	unsigned char key[32], nonce[12], buf[100], copy[100], cipher[100], tag[16], tag2[16];
	unsigned char dummy[16] = {0};

	fill(key, sizeof(key));
	fill(nonce, sizeof(nonce));
	fill(buf, sizeof(buf));
	memcpy(copy, buf, sizeof(buf));
	aead_seal(key, nonce, "ad", 2, copy, sizeof(copy), cipher, tag);
	ok(aead_seal(key, nonce, "ad", 2, buf, sizeof(buf), buf, tag2) == 0 &&
	       memcmp(buf, cipher, sizeof(buf)) == 0 && memcmp(tag, tag2, 16) == 0,
	   "sealing in place gives the same ciphertext and tag");
	ok(aead_open(key, nonce, "ad", 2, buf, sizeof(buf), tag, buf) == 0 &&
	       memcmp(buf, copy, sizeof(buf)) == 0,
	   "opening in place gives the plain text back");

	/* Nothing to seal, nothing to bind: still a tag, and only that one
	 * opens. */
	ok(aead_seal(key, nonce, NULL, 0, NULL, 0, NULL, tag) == 0 &&
	       aead_open(key, nonce, NULL, 0, NULL, 0, tag, NULL) == 0,
	   "the empty text with no associated data seals to a tag that opens");
	tag[0] ^= 1;
	ok(aead_open(key, nonce, NULL, 0, NULL, 0, tag, NULL) == -1,
	   "...and with one bit of that tag changed does not");

	/* Over RFC 8439's P_MAX the counter would wrap: refused before a
	 * byte is read (so a small buffer is safe here). */
	if ((uint64_t)SIZE_MAX > AEAD_MAX) {
		size_t huge = (size_t)(AEAD_MAX + 1);

		ok(aead_seal(key, nonce, NULL, 0, dummy, huge, dummy, tag) == -1 &&
		       aead_open(key, nonce, NULL, 0, dummy, huge, tag, dummy) == -1 &&
		       all_are(dummy, sizeof(dummy), 0),
		   "a text of AEAD_MAX + 1 bytes is refused by seal and open, nothing written");
	} else {
		ok(1, "a text of AEAD_MAX + 1 bytes is refused # SKIP size_t cannot hold it here");
	}
}

int main(void)
{
	test_quarter_round();
	test_block();
	test_cipher();
	test_poly1305();
	test_poly1305_streaming();
	test_key_gen();
	test_aead_vectors();
	test_against_libcrypto();
	test_tamper();
	test_edges();
	return tap_done();
}
