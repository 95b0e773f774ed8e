/*
 * ascii.c: locale-free ASCII case folding. See ascii.h.
 */
#include "ascii.h"

void ascii_lower_n(char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++)
		s[i] = (char)ascii_lower((unsigned char)s[i]);
}
