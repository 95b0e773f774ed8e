/*
 * buf: a growable byte buffer with a hard size cap.
 *
 * Everything kvgate reads from the network or a file goes through a buf whose
 * cap is named by the caller, so remote data can never grow without bound.
 * Going over the cap is its own error (BUF_ETOOBIG), distinct from running
 * out of memory. The bytes are always NUL-terminated (not counted in len).
 * buf_free() and buf_reset() wipe the bytes before releasing them, because a
 * buf may have held a secret value or a token.
 */
#ifndef KVGATE_BUF_H
#define KVGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

enum buf_err {
	BUF_OK = 0,
	BUF_ENOMEM,  /* allocation failed */
	BUF_ETOOBIG, /* the write would exceed the buffer's cap */
};

struct buf {
	char *data;  /* NULL until the first write; then NUL-terminated */
	size_t len;  /* bytes held, excluding the terminating NUL */
	size_t size; /* bytes allocated */
	size_t max;  /* cap on len; 0 means no cap */
};

/* Prepare an empty buffer that may hold at most max bytes (0: no cap). */
void buf_init(struct buf *b, size_t max);

/* Append n bytes. On error the buffer is left as it was. */
enum buf_err buf_append(struct buf *b, const void *p, size_t n);

/* Append a NUL-terminated string. */
enum buf_err buf_puts(struct buf *b, const char *s);

/* Append printf-formatted text. */
enum buf_err buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum buf_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Empty the buffer (wiping its bytes) but keep the allocation and the cap. */
void buf_reset(struct buf *b);

/* Wipe and release the bytes; the buffer is empty again, with its cap. */
void buf_free(struct buf *b);

/* Overwrite n bytes at p with zeros in a way the compiler may not elide. */
void buf_wipe(void *p, size_t n);

const char *buf_strerror(enum buf_err e);

#endif
