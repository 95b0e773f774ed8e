/*
 * hex.h: hex text to bytes and back, for unit tests whose vectors (FIPS,
 * RFC 4231, RFC 8439) are given in hex.
 */
#ifndef KVGATE_TEST_HEX_H
#define KVGATE_TEST_HEX_H

#include <stdio.h>

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
static inline void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* Bytes from hex into out; the number of bytes. Stops at the first pair
 * that is not hex. */
static inline size_t unhex(const char *s, unsigned char *out)
{
	size_t n = 0;
	unsigned v;

	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (unsigned char)v;
	}
	return n;
}

#endif
