/*
 * base64.c: strict base64url without padding. See base64.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *base64url_encode(const unsigned char *s, size_t n)
{
	size_t i, o = 0;
	char *out;

	if (n > (SIZE_MAX - 4) / 4 * 3 || (out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = alphabet[s[i] >> 2];
		out[o++] = alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		out[o++] = alphabet[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		out[o++] = alphabet[s[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = alphabet[s[i] >> 2];
		out[o++] = alphabet[(s[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = alphabet[s[i] >> 2];
		out[o++] = alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		out[o++] = alphabet[(s[i + 1] & 15) << 2];
	}
	out[o] = '\0';
	return out;
}

static int value_of(char c)
{
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

unsigned char *base64url_decode(const char *s, size_t max, size_t *n)
{
	size_t len = strnlen(s, max < SIZE_MAX ? max + 1 : SIZE_MAX), i, o = 0;
	unsigned long acc = 0;
	unsigned char *out;
	int bits = 0;

	*n = 0;
	if (len > max || len % 4 == 1)
		return NULL;
	if ((out = malloc(len * 3 / 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		int v = value_of(s[i]);

		if (v < 0)
			goto bad;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	if (acc != 0) /* unused low bits must be zero */
		goto bad;
	out[o] = '\0';
	*n = o;
	return out;
bad:
	free(out);
	return NULL;
}
