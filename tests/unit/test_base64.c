/*
 * test_base64: strict base64url without padding (lib/base64.c).
 *
 * Paging tokens (and, later, JWTs) are base64url as RFC 4648 section 5
 * defines it, without the '=' padding. These tests pin down the RFC's own
 * vectors in that alphabet, that every byte value survives a round trip, that
 * the output is NUL-terminated, and that decoding accepts exactly one
 * encoding per value: no padding, no standard-alphabet '+' or '/', no white
 * space, no impossible length, no stray bits in the last character, nothing
 * over the caller's cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "tap.h"

/* The RFC 4648 section 10 vectors, padding removed (section 3.2 lets a
 * specification drop it; ours does), plus the two characters in which
 * base64url differs from base64. */
static const struct {
	const char *plain, *enc;
} vectors[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
    {"\xfb\xef\xbe", "----"}, /* 62 62 62 62: '-' where base64 has '+' */
    {"\xff\xff\xff", "____"}, /* 63 63 63 63: '_' where base64 has '/' */
    {"\xfb\xff", "-_8"},
    {">>>", "Pj4-"},
    {"???", "Pz8_"},
};

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t len = strlen(vectors[i].plain), n = 99;
		char *e = base64url_encode((const unsigned char *)vectors[i].plain, len);
		unsigned char *d = base64url_decode(vectors[i].enc, 64, &n);

		ok(e != NULL && strcmp(e, vectors[i].enc) == 0,
		   "vector %zu: %zu bytes encode to \"%s\"", i, len, vectors[i].enc);
		ok(d != NULL && n == len && memcmp(d, vectors[i].plain, len) == 0 && d[n] == '\0',
		   "vector %zu: \"%s\" decodes to the %zu bytes, NUL-terminated after them", i,
		   vectors[i].enc, len);
		free(e);
		free(d);
	}
}

/* Every byte value, alone and all together, in every position of a 3-byte
 * group, comes back unchanged. */
static void test_round_trip(void)
{
	unsigned char all[256 + 2], *d;
	size_t n, bad = 0;
	char *e;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	/* Offsets 0-2 put every byte in each position of a 3-byte group. */
	for (size_t off = 0; off < 3; off++) {
		unsigned char in[256 + 2] = {0};

		memcpy(in + off, all, 256);
		e = base64url_encode(in, 256 + off);
		d = e ? base64url_decode(e, 1024, &n) : NULL;
		ok(e != NULL && strlen(e) == ((256 + off) * 4 + 2) / 3 &&
		       strspn(e,
		              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
		           strlen(e),
		   "all 256 byte values at offset %zu encode to %zu base64url characters, no '='",
		   off, ((256 + off) * 4 + 2) / 3);
		ok(d != NULL && n == 256 + off && memcmp(d, in, n) == 0 && d[n] == '\0',
		   "...and decode back to the same %zu bytes", 256 + off);
		free(e);
		free(d);
	}
	for (int i = 0; i < 256; i++) {
		unsigned char b = (unsigned char)i;

		e = base64url_encode(&b, 1);
		d = e ? base64url_decode(e, 2, &n) : NULL;
		if (e == NULL || strlen(e) != 2 || d == NULL || n != 1 || d[0] != b || d[1] != '\0')
			bad++;
		free(e);
		free(d);
	}
	ok(bad == 0, "each byte value alone round-trips through two characters (%zu do not)", bad);
	/* Lengths 0-64 of one pattern: every remainder mod 3, many times. */
	bad = 0;
	for (size_t len = 0; len <= 64; len++) {
		e = base64url_encode(all + 100, len);
		d = e ? base64url_decode(e, 128, &n) : NULL;
		if (e == NULL || strlen(e) != (len * 4 + 2) / 3 || d == NULL || n != len ||
		    memcmp(d, all + 100, len) != 0)
			bad++;
		free(e);
		free(d);
	}
	ok(bad == 0, "every length 0-64 round-trips, ceil(4n/3) characters (%zu do not)", bad);
}

/* Decoding refuses everything but the one canonical encoding. */
static void test_strict(void)
{
	static const struct {
		const char *enc, *why;
	} bad[] = {
	    {"Zg==", "padding '=='"},
	    {"Zg=", "padding '='"},
	    {"Zm8=", "padding after two bytes"},
	    {"Zm9v====", "a padding-only group"},
	    {"=", "a lone '='"},
	    {"Zm9v+g", "'+' (standard base64, not base64url)"},
	    {"Zm9v/w", "'/' (standard base64)"},
	    {"Zm9v+A", "'+' where '-' would decode"},
	    {"Zm9v/A", "'/' where '_' would decode"},
	    {" Zm9v", "a leading space"},
	    {"Zm9v ", "a trailing space"},
	    {"Zm 9v", "a space inside"},
	    {"Zm9v\n", "a trailing newline"},
	    {"Zm9v\r\n", "CR LF"},
	    {"Zm\t9v", "a tab"},
	    {"Zm9v.", "'.'"},
	    {"Zm9v%41", "percent-encoding"},
	    {"Zm9v\xc3\xa9", "a non-ASCII character"},
	    {"\x80", "a byte 0x80"},
	    {"Z", "length 1 (1 mod 4)"},
	    {"Zm9vY", "length 5 (1 mod 4)"},
	    {"Zm9vYmFyY", "length 9 (1 mod 4)"},
	    {"Zh", "nonzero unused bits after one byte ('h', not 'g')"},
	    {"Z_", "nonzero unused bits after one byte ('_')"},
	    {"Zm9", "nonzero unused bits after two bytes ('9', not '8')"},
	    {"Zm_", "nonzero unused bits after two bytes ('_')"},
	    {"Zm9vYh", "nonzero unused bits at the end of a longer string"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 99;
		unsigned char *d = base64url_decode(bad[i].enc, 64, &n);

		ok(d == NULL && n == 0, "decode refuses %s, and sets the length to 0", bad[i].why);
		free(d);
	}
}

/* max caps the input in characters: exactly max is decoded, max + 1 is not,
 * and nothing past max + 1 is read. */
static void test_max(void)
{
	unsigned char *d;
	char unterminated[8];
	size_t n = 99;

	d = base64url_decode("Zm9vYmFy", 8, &n);
	ok(d != NULL && n == 6 && memcmp(d, "foobar", 6) == 0, "8 characters with max 8 decode");
	free(d);
	n = 99;
	d = base64url_decode("Zm9vYmFy", 7, &n);
	ok(d == NULL && n == 0, "8 characters with max 7 are refused");
	free(d);
	d = base64url_decode("", 0, &n);
	ok(d != NULL && n == 0 && d[0] == '\0', "the empty string with max 0 decodes to 0 bytes");
	free(d);
	d = base64url_decode("Zg", 0, &n);
	ok(d == NULL, "2 characters with max 0 are refused");
	free(d);
	/* Not NUL-terminated within max + 1: refused without reading on
	 * (valgrind or ASan would see an overread). */
	memcpy(unterminated, "Zm9vYmFy", 8);
	d = base64url_decode(unterminated, 6, &n);
	ok(d == NULL, "an unterminated buffer longer than max is refused after max + 1 bytes");
	free(d);
	/* Regression: max + 1 wraps to 0 when max is SIZE_MAX, and strnlen(s, 0)
	 * then sees an empty string: "no cap" must not mean "decode nothing". */
	n = 99;
	d = base64url_decode("Zm9v", SIZE_MAX, &n);
	ok(d != NULL && n == 3 && memcmp(d, "foo", 3) == 0,
	   "max SIZE_MAX (no cap) still decodes \"Zm9v\" to \"foo\" (got %s, %zu bytes)",
	   d ? "a buffer" : "NULL", n);
	free(d);
}

int main(void)
{
	test_vectors();
	test_round_trip();
	test_strict();
	test_max();
	return tap_done();
}
