/*
 * base64: base64url without padding (RFC 4648 section 5), as used in paging
 * tokens and, later, JWTs. Decoding is strict: one encoding per value (no
 * padding, no white space, unused bits zero).
 */
#ifndef KVGATE_BASE64_H
#define KVGATE_BASE64_H

#include <stddef.h>

/* Encode n bytes. Returns a new NUL-terminated string (caller frees) or
 * NULL when out of memory. */
char *base64url_encode(const unsigned char *p, size_t n);

/* Decode s. Returns a new buffer (caller frees; NUL-terminated for
 * convenience, not counted in *n) and sets *n, or NULL when s is not strict
 * base64url or longer than max characters. */
unsigned char *base64url_decode(const char *s, size_t max, size_t *n);

#endif
