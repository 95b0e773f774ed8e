/*
 * ascii: ASCII case folding that does not depend on the locale (tolower()
 * does). Host names, header names, secret names and scopes compare ignoring
 * ASCII case only.
 */
#ifndef KVGATE_ASCII_H
#define KVGATE_ASCII_H

#include <stddef.h>

/* c in lower case when it is an ASCII capital letter, else c. */
static inline unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Lower-case the first n bytes of s in place (stops early at a NUL). */
void ascii_lower_n(char *s, size_t n);

/* Digits in the largest unsigned long (2^64 - 1). */
#define ASCII_DECIMAL_MAX 20

/* v in decimal into out (ASCII_DECIMAL_MAX bytes at least), without a NUL;
 * returns the number of digits. For numbers formatted on every request
 * (Content-Length, the audit line, Cache-Status), where printf costs. */
size_t ascii_decimal(unsigned long v, char *out);

#endif
