/*
 * buf.c: a growable byte buffer with a hard cap. See buf.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->size = 0;
	b->max = max;
}

/*
 * Make room for n more bytes plus the terminating NUL. Growth moves the
 * bytes into a new allocation and wipes the old one, so that no stale copy of
 * a secret stays behind in freed memory (realloc would leave one).
 */
static enum buf_err buf_grow(struct buf *b, size_t n)
{
	size_t need, size;
	char *p;

	if (b->max != 0 && (n > b->max || b->len > b->max - n))
		return BUF_ETOOBIG;
	if (n > SIZE_MAX - b->len - 1)
		return BUF_ENOMEM;
	need = b->len + n + 1;
	if (need <= b->size)
		return BUF_OK;
	size = b->size ? b->size : 256;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	if (b->max != 0 && size > b->max + 1)
		size = b->max + 1;
	if ((p = malloc(size)) == NULL)
		return BUF_ENOMEM;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		buf_wipe(b->data, b->size);
		free(b->data);
	}
	b->data = p;
	b->size = size;
	return BUF_OK;
}

enum buf_err buf_append(struct buf *b, const void *p, size_t n)
{
	enum buf_err e;

	if ((e = buf_grow(b, n)) != BUF_OK)
		return e;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return BUF_OK;
}

enum buf_err buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum buf_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	enum buf_err e;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return BUF_ENOMEM;
	if ((e = buf_grow(b, (size_t)n)) != BUF_OK)
		return e;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return BUF_OK;
}

enum buf_err buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	enum buf_err e;

	va_start(ap, fmt);
	e = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return e;
}

void buf_reset(struct buf *b)
{
	if (b->data != NULL) {
		buf_wipe(b->data, b->len);
		b->data[0] = '\0';
	}
	b->len = 0;
}

void buf_free(struct buf *b)
{
	if (b->data != NULL) {
		buf_wipe(b->data, b->size);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
	b->size = 0;
}

const char *buf_strerror(enum buf_err e)
{
	switch (e) {
	case BUF_OK:
		return "no error";
	case BUF_ENOMEM:
		return "out of memory";
	case BUF_ETOOBIG:
		return "over the size cap";
	}
	return "unknown buffer error";
}
