/*
 * test_buf: the capped byte buffer (lib/buf.c).
 *
 * Every buffer kvgate fills from the network or a file is a buf with a named
 * cap, so these tests pin down the cap (going over it is BUF_ETOOBIG and
 * leaves the buffer exactly as it was), growth that keeps the bytes, the
 * terminating NUL, printf, and that reset/free wipe and release.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

/* malloc or die: a test has no use for a NULL. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/* A varargs front for buf_vprintf, to test it directly. */
__attribute__((format(printf, 2, 3))) static enum buf_err vp(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	enum buf_err e;

	va_start(ap, fmt);
	e = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return e;
}

static void test_init(void)
{
	struct buf b;

	memset(&b, 0xa5, sizeof(b));
	buf_init(&b, 42);
	ok(b.data == NULL && b.len == 0 && b.size == 0 && b.max == 42,
	   "buf_init: empty, nothing allocated, cap recorded (data NULL until the first write)");
	buf_free(&b);
	ok(b.data == NULL && b.len == 0 && b.max == 42,
	   "buf_free on a never-written buffer is safe and keeps the cap");
	buf_reset(&b);
	ok(b.data == NULL && b.len == 0, "buf_reset on a never-written buffer is safe");
}

static void test_append(void)
{
	struct buf b;
	char big[1000];

	buf_init(&b, 0);
	ok(buf_append(&b, "", 0) == BUF_OK && b.data != NULL && b.data[0] == '\0' && b.len == 0,
	   "appending nothing still gives a NUL-terminated empty string");
	ok(buf_append(&b, NULL, 0) == BUF_OK && b.len == 0,
	   "appending 0 bytes from NULL is allowed (no memcpy from NULL)");
	ok(buf_puts(&b, "abc") == BUF_OK && b.len == 3 && strcmp(b.data, "abc") == 0,
	   "buf_puts appends a string");
	ok(buf_append(&b, "d\0e", 3) == BUF_OK && b.len == 6 && memcmp(b.data, "abcd\0e", 7) == 0,
	   "buf_append copies binary bytes, embedded NUL included, and NUL-terminates after them");
	buf_free(&b);

	/* Growth: many small appends cross several reallocations (the first
	 * allocation is 256 bytes) and every byte must survive each move. */
	buf_init(&b, 0);
	for (int i = 0; i < 5000; i++) {
		char c = (char)('a' + i % 26);

		if (buf_append(&b, &c, 1) != BUF_OK)
			break;
	}
	{
		int good = b.len == 5000 && b.data[5000] == '\0' && b.size > 5000;

		for (int i = 0; good && i < 5000; i++)
			good = b.data[i] == (char)('a' + i % 26);
		ok(good,
		   "growth over many reallocations keeps every byte, in order, NUL-terminated");
	}
	buf_free(&b);

	memset(big, 'x', sizeof(big));
	buf_init(&b, 0);
	ok(buf_append(&b, big, sizeof(big)) == BUF_OK && b.len == 1000 && b.data[1000] == '\0',
	   "one append larger than the first allocation grows to fit at once");
	buf_free(&b);

	/* No cap: a megabyte goes in. */
	buf_init(&b, 0);
	{
		char *mb = xmalloc(1 << 20);
		enum buf_err e;

		memset(mb, 'm', 1 << 20);
		e = buf_append(&b, mb, 1 << 20);
		ok(e == BUF_OK && b.len == (1u << 20), "max 0 means no cap (1 MiB appended)");
		free(mb);
	}
	buf_free(&b);

	/* Overflow of len + n is its own error, never a wrapped size. */
	buf_init(&b, 0);
	buf_puts(&b, "x");
	ok(buf_append(&b, "y", SIZE_MAX) == BUF_ENOMEM && b.len == 1 && strcmp(b.data, "x") == 0,
	   "an append of SIZE_MAX bytes without a cap fails as ENOMEM, buffer unchanged (no size_t "
	   "wrap)");
	buf_free(&b);
	buf_init(&b, 10);
	ok(buf_append(&b, "y", SIZE_MAX) == BUF_ETOOBIG && b.len == 0,
	   "an append of SIZE_MAX bytes under a cap fails as ETOOBIG");
	buf_free(&b);
}

static void test_cap(void)
{
	struct buf b;
	char *before;
	size_t size;

	buf_init(&b, 10);
	ok(buf_append(&b, "0123456789ab", 12) == BUF_ETOOBIG && b.data == NULL && b.len == 0,
	   "cap 10: a first write of 12 bytes is ETOOBIG and allocates nothing");
	ok(buf_append(&b, "0123456789", 10) == BUF_OK && b.len == 10,
	   "cap 10: exactly 10 bytes fit (the cap counts len, not the NUL)");
	ok(b.size <= 11, "cap 10: the allocation never exceeds cap + 1 for the NUL (size %zu)",
	   b.size);
	before = b.data;
	size = b.size;
	ok(buf_append(&b, "x", 1) == BUF_ETOOBIG, "cap 10: one more byte is ETOOBIG");
	ok(b.len == 10 && b.data == before && b.size == size &&
	       memcmp(b.data, "0123456789", 11) == 0,
	   "ETOOBIG leaves the buffer unchanged: same bytes, len, allocation and NUL");
	ok(buf_puts(&b, "") == BUF_OK && b.len == 10, "an empty append at the cap still succeeds");
	ok(buf_printf(&b, "%d", 7) == BUF_ETOOBIG && b.len == 10 &&
	       memcmp(b.data, "0123456789", 11) == 0,
	   "buf_printf over the cap is ETOOBIG and writes nothing (no partial output)");
	buf_free(&b);

	buf_init(&b, 10);
	buf_puts(&b, "01234");
	ok(buf_append(&b, "abcdef", 6) == BUF_ETOOBIG && b.len == 5 && strcmp(b.data, "01234") == 0,
	   "cap 10 holding 5: appending 6 is ETOOBIG, the first 5 bytes untouched (no truncated "
	   "append)");
	ok(buf_append(&b, "abcde", 5) == BUF_OK && strcmp(b.data, "01234abcde") == 0,
	   "cap 10 holding 5: appending 5 fills it exactly");
	buf_free(&b);

	/* The cap survives reset and free. */
	buf_init(&b, 4);
	buf_puts(&b, "abcd");
	buf_reset(&b);
	ok(b.max == 4 && buf_puts(&b, "abcde") == BUF_ETOOBIG && buf_puts(&b, "abcd") == BUF_OK,
	   "the cap still applies after buf_reset");
	buf_free(&b);
	ok(b.max == 4 && buf_puts(&b, "abcde") == BUF_ETOOBIG,
	   "the cap still applies after buf_free");
	buf_free(&b);

	/* A cap larger than the first allocation: growth stops at the cap. */
	buf_init(&b, 300);
	{
		char blob[300];
		enum buf_err e1, e2;

		memset(blob, 'z', sizeof(blob));
		e1 = buf_append(&b, blob, 250);
		e2 = buf_append(&b, blob, 50);
		ok(e1 == BUF_OK && e2 == BUF_OK && b.len == 300 && b.size == 301 &&
		       b.data[300] == '\0',
		   "cap 300: growth past the first 256-byte block stops at cap + 1 bytes");
		ok(buf_append(&b, blob, 1) == BUF_ETOOBIG && b.len == 300,
		   "cap 300 reached: one more byte is ETOOBIG");
	}
	buf_free(&b);
}

static void test_printf(void)
{
	struct buf b;
	char longarg[600];

	buf_init(&b, 0);
	ok(buf_printf(&b, "%s=%d", "n", 42) == BUF_OK && strcmp(b.data, "n=42") == 0 && b.len == 4,
	   "buf_printf formats into an empty buffer");
	ok(buf_printf(&b, "&%s", "m") == BUF_OK && strcmp(b.data, "n=42&m") == 0 && b.len == 6,
	   "buf_printf appends after what is there");
	ok(buf_printf(&b, "%s", "") == BUF_OK && b.len == 6, "an empty format adds nothing");
	memset(longarg, 'L', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	ok(buf_printf(&b, "[%s]", longarg) == BUF_OK && b.len == 6 + 601 && b.data[6] == '[' &&
	       b.data[606] == ']' && b.data[607] == '\0',
	   "buf_printf output longer than the allocation grows the buffer and keeps it whole");
	ok(vp(&b, "%c%c", 'x', 'y') == BUF_OK && b.len == 609 && strcmp(b.data + 607, "xy") == 0,
	   "buf_vprintf appends like buf_printf");
	buf_free(&b);

	buf_init(&b, 5);
	ok(buf_printf(&b, "%d", 12345) == BUF_OK && strcmp(b.data, "12345") == 0,
	   "cap 5: printf of exactly 5 characters fits");
	buf_free(&b);
	buf_init(&b, 5);
	ok(buf_printf(&b, "%d", 123456) == BUF_ETOOBIG && b.len == 0,
	   "cap 5: printf of 6 characters is ETOOBIG and leaves the buffer empty");
	buf_free(&b);
}

static void test_reset_free(void)
{
	struct buf b;
	char *p;
	size_t size;
	int wiped = 1;

	buf_init(&b, 0);
	buf_puts(&b, "secret-value");
	p = b.data;
	size = b.size;
	buf_reset(&b);
	ok(b.len == 0 && b.data == p && b.size == size && b.data[0] == '\0',
	   "buf_reset empties the buffer but keeps its allocation");
	for (size_t i = 0; i < 12; i++)
		if (p[i] != '\0')
			wiped = 0;
	ok(wiped, "buf_reset wipes the bytes it held (a buf may have held a secret value)");
	ok(buf_puts(&b, "ab") == BUF_OK && strcmp(b.data, "ab") == 0 && b.len == 2,
	   "a reset buffer is written from the start again");
	buf_free(&b);
	ok(b.data == NULL && b.len == 0 && b.size == 0, "buf_free releases everything");
	ok(buf_puts(&b, "again") == BUF_OK && strcmp(b.data, "again") == 0,
	   "a freed buffer can be used again");
	buf_free(&b);
	buf_free(&b);
	ok(b.data == NULL, "buf_free twice is safe");
}

static void test_wipe_strerror(void)
{
	char s[8] = "abcdefg";

	buf_wipe(s, sizeof(s));
	ok(memcmp(s, "\0\0\0\0\0\0\0\0", 8) == 0, "buf_wipe zeroes every byte");
	buf_wipe(NULL, 10);
	ok(1, "buf_wipe(NULL, n) is a no-op");
	ok(strcmp(buf_strerror(BUF_OK), buf_strerror(BUF_ENOMEM)) != 0 &&
	       strcmp(buf_strerror(BUF_ENOMEM), buf_strerror(BUF_ETOOBIG)) != 0 &&
	       strcmp(buf_strerror(BUF_OK), buf_strerror(BUF_ETOOBIG)) != 0,
	   "buf_strerror gives each error its own text");
	ok(buf_strerror((enum buf_err)99) != NULL, "buf_strerror of an unknown value is not NULL");
}

int main(void)
{
	test_init();
	test_append();
	test_cap();
	test_printf();
	test_reset_free();
	test_wipe_strerror();
	return tap_done();
}
