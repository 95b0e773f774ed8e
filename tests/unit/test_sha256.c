/*
 * test_sha256: SHA-256, HMAC-SHA-256 and ct_equal (lib/sha256.c).
 *
 * Cache keys, rate-limit keys, API-key hashes and the derived paging key are
 * all SHA-256 or HMAC-SHA-256, and were computed by libcrypto before
 * lib/sha256.c existed: a digest that differs in one bit would empty every
 * cache, reject every API key and break every paging token in flight. These
 * tests pin the published vectors (FIPS 180-2 appendix B, the one-million
 * 'a' message, RFC 4231 test cases 1 to 7), streaming at every split, the
 * padding boundaries around 55/56/64 bytes, and agreement with libcrypto on
 * a few thousand random inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sha256.h"
#include "hex.h"
#include "tap.h"

static int digest_is(const void *p, size_t n, const char *want)
{
	unsigned char d[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];

	sha256(p, n, d);
	hex(d, sizeof(d), h);
	return strcmp(h, want) == 0;
}

/* FIPS 180-2 appendix B (and the NIST example values for the empty message). */
static void test_fips_vectors(void)
{
	static const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	                          "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	struct sha256_ctx c;
	unsigned char d[SHA256_LEN], a[1000];
	char h[2 * SHA256_LEN + 1];

	ok(digest_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	   "SHA-256 of the empty message");
	ok(digest_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	   "SHA-256 of \"abc\"");
	ok(digest_is(m448, strlen(m448),
	             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
	   "SHA-256 of the 448-bit message (two blocks after padding)");
	ok(digest_is(m896, strlen(m896),
	             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
	   "SHA-256 of the 896-bit message");

	/* One million 'a', in 1000-byte updates. */
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, a, sizeof(a));
	sha256_final(&c, d);
	hex(d, sizeof(d), h);
	ok(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
	   "SHA-256 of one million 'a': %s", h);
}

/* RFC 4231 section 4: test cases 1 to 7 (case 5's output is truncated to
 * 128 bits by the RFC; the first 16 bytes are compared). */
static void test_hmac_vectors(void)
{
	static const struct {
		const char *key, *data, *mac;
		size_t cmp; /* bytes of the MAC the RFC gives */
	} v[] = {
	    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32},
	    {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	     "dddddddddddddddddd",
	     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32},
	    {"0102030405060708090a0b0c0d0e0f10111213141516171819",
	     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	     "cdcdcdcdcdcdcdcdcdcd",
	     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32},
	    {"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
	     "a3b6167473100ee06e0c796c2955552b", 16},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaa",
	     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048"
	     "617368204b6579204669727374",
	     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaa",
	     "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d"
	     "73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174"
	     "612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e"
	     "6720757365642062792074686520484d414320616c676f726974686d2e",
	     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32},
	};
	unsigned char key[256], data[256], mac[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];
	size_t kn, dn;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		kn = unhex(v[i].key, key);
		dn = unhex(v[i].data, data);
		sha256_hmac(key, kn, data, dn, mac);
		hex(mac, v[i].cmp, h);
		ok(strcmp(h, v[i].mac) == 0, "RFC 4231 test case %zu (key %zu bytes, data %zu): %s",
		   i + 1, kn, dn, h);
	}
}

/* Every split point of a 200-byte message, and odd chunk sizes over 1000
 * bytes: the partial-block bookkeeping must never change the digest. */
static void test_streaming(void)
{
	unsigned char msg[1000], whole[SHA256_LEN], part[SHA256_LEN];
	static const size_t chunks[] = {1, 3, 7, 13, 63, 64, 65, 127, 129};
	struct sha256_ctx c;
	int bad = 0;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(i * 131 + 7);
	sha256(msg, 200, whole);
	for (size_t cut = 0; cut <= 200; cut++) {
		sha256_init(&c);
		sha256_update(&c, msg, cut);
		sha256_update(&c, msg + cut, 200 - cut);
		sha256_final(&c, part);
		bad += memcmp(whole, part, SHA256_LEN) != 0;
	}
	ok(bad == 0, "a 200-byte message split at each of 201 points hashes the same (%d differ)",
	   bad);

	sha256(msg, sizeof(msg), whole);
	bad = 0;
	for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		sha256_init(&c);
		for (size_t off = 0; off < sizeof(msg); off += chunks[k])
			sha256_update(&c, msg + off,
			              sizeof(msg) - off < chunks[k] ? sizeof(msg) - off
			                                            : chunks[k]);
		sha256_final(&c, part);
		bad += memcmp(whole, part, SHA256_LEN) != 0;
	}
	ok(bad == 0, "1000 bytes fed in chunks of 1, 3, 7, 13, 63, 64, 65, 127, 129 hash the same");

	/* Zero-length updates anywhere are no-ops. */
	sha256_init(&c);
	sha256_update(&c, msg, 0);
	sha256_update(&c, msg, 10);
	sha256_update(&c, NULL, 0);
	sha256_update(&c, msg + 10, 190);
	sha256_final(&c, part);
	sha256(msg, 200, whole);
	ok(memcmp(whole, part, SHA256_LEN) == 0, "empty updates change nothing");

	/* sha256_final() wipes the context. */
	{
		static const unsigned char zero[sizeof(c)];

		ok(memcmp(&c, zero, sizeof(c)) == 0, "sha256_final() leaves the context zeroed");
	}
}

/* Lengths around the padding boundaries, and random lengths 0..300 with
 * random bytes, against libcrypto's EVP SHA-256 and HMAC (keys 0..150
 * bytes, so shorter than, equal to and longer than a block). */
static void test_against_libcrypto(void)
{
	unsigned char msg[300], key[150], ours[SHA256_LEN], theirs[EVP_MAX_MD_SIZE];
	unsigned int tn;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	int bad_hash = 0, bad_mac = 0, n = 0;

	for (int i = 0; i < 4000; i++) {
		size_t len, klen;

		for (size_t j = 0; j < sizeof(msg); j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			msg[j] = (unsigned char)x;
			if (j < sizeof(key))
				key[j] = (unsigned char)(x >> 8);
		}
		/* The first 130 lengths one by one (every padding case), then
		 * random ones. */
		len = i < 130 ? (size_t)i : (size_t)(x >> 16) % (sizeof(msg) + 1);
		klen = (size_t)(x >> 40) % (sizeof(key) + 1);

		sha256(msg, len, ours);
		tn = 0;
		if (EVP_Digest(msg, len, theirs, &tn, EVP_sha256(), NULL) != 1 ||
		    tn != SHA256_LEN || memcmp(ours, theirs, SHA256_LEN) != 0)
			bad_hash++;

		sha256_hmac(key, klen, msg, len, ours);
		tn = 0;
		if (HMAC(EVP_sha256(), key, (int)klen, msg, len, theirs, &tn) == NULL ||
		    tn != SHA256_LEN || memcmp(ours, theirs, SHA256_LEN) != 0)
			bad_mac++;
		n++;
	}
	ok(bad_hash == 0, "SHA-256 agrees with libcrypto on %d inputs of 0..300 bytes (%d differ)",
	   n, bad_hash);
	ok(bad_mac == 0, "HMAC-SHA-256 agrees with libcrypto on %d keys/messages (%d differ)", n,
	   bad_mac);
}

static void test_ct_equal(void)
{
	unsigned char a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	ok(ct_equal(a, b, sizeof(a)), "ct_equal: equal buffers");
	ok(ct_equal(a, b, 0), "ct_equal: zero bytes are equal");
	b[0] ^= 1;
	ok(!ct_equal(a, b, sizeof(a)), "ct_equal: a difference in the first byte");
	b[0] ^= 1;
	b[31] ^= 0x80;
	ok(!ct_equal(a, b, sizeof(a)), "ct_equal: a difference in the last bit");
	ok(ct_equal(a, b, 31), "ct_equal: only the first n bytes count");
}

int main(void)
{
	test_fips_vectors();
	test_hmac_vectors();
	test_streaming();
	test_against_libcrypto();
	test_ct_equal();
	return tap_done();
}
