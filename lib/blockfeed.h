/*
 * blockfeed: the partial-block buffering that a block-at-a-time hash or MAC
 * needs in front of its compression function. SHA-256 (64-byte blocks) and
 * Poly1305 (16-byte blocks) share it.
 */
#ifndef KVGATE_BLOCKFEED_H
#define KVGATE_BLOCKFEED_H

#include <stddef.h>
#include <string.h>

/* whole(ctx, p, len): consume len bytes at p, len a multiple of the block
 * size and never 0. */
typedef void blockfeed_fn(void *ctx, const unsigned char *p, size_t len);

/* Add n bytes at data: top up the partial block (block, *used bytes of
 * size) first, pass whole blocks straight from the caller's bytes, keep the
 * rest for next time. Inline so the compiler sees whole() as a constant. */
static inline void blockfeed(unsigned char *block, size_t size, size_t *used, const void *data,
                             size_t n, blockfeed_fn *whole, void *ctx)
{
	const unsigned char *p = data;
	size_t take;

	/* (Also keeps a NULL p with n 0 away from memcpy().) */
	if (n == 0)
		return;
	if (*used > 0) {
		take = size - *used < n ? size - *used : n;
		memcpy(block + *used, p, take);
		*used += take;
		p += take;
		n -= take;
		if (*used < size)
			return;
		whole(ctx, block, size);
		*used = 0;
	}
	take = n - n % size;
	if (take > 0) {
		whole(ctx, p, take);
		p += take;
		n -= take;
	}
	if (n > 0) {
		memcpy(block, p, n);
		*used = n;
	}
}

#endif
