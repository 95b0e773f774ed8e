/*
 * ascii.c: locale-free ASCII case folding. See ascii.h.
 */
#include <string.h>

#include "ascii.h"

void ascii_lower_n(char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++)
		s[i] = (char)ascii_lower((unsigned char)s[i]);
}

size_t ascii_decimal(unsigned long v, char *out)
{
	char t[ASCII_DECIMAL_MAX];
	size_t i = sizeof(t);

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(out, t + i, sizeof(t) - i);
	return sizeof(t) - i;
}
