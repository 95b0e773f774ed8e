/*
 * cache: the vault's answers (secret bundles and list pages), shared by the
 * processes of one host.
 *
 * Key Vault allows 4,000 reads per vault per 10 s and asks clients to cache;
 * a web server runs many kvgate processes, so a per-process cache would
 * multiply the vault's load by the process count. Here one host's processes
 * that read the same vault as the same identity share one segment of POSIX
 * shared memory (/dev/shm, RAM only), created with mode 0600 by the gateway's
 * user and refused when anyone else owns it or could read it. The segment
 * holds:
 *
 *   - a table of max_entries slots, found by a hash of the key, evicted least
 *     recently used first, each holding one answer as JSON text in a chain of
 *     fixed-size chunks (so that no answer's size fragments the space);
 *   - a robust process-shared mutex: a process that dies holding it makes the
 *     next one wipe the cache and start again, never trust half a change;
 *   - a fetch lease per slot: one process fetches a missing or expiring answer
 *     while the others wait for it (a futex), so a hot secret costs the vault
 *     one read however many processes ask at once. A lease whose process died
 *     or ran past its deadline is taken over.
 *
 * Bytes that held an answer are wiped when the answer is replaced, expires or
 * is evicted, and the last process to close the segment wipes it and removes
 * its name. Nothing is ever written to disk.
 *
 * Freshness is judged by the reader's policy: an answer is fresh for ttl
 * seconds; in the last tenth of that (5 s at most) the first reader takes
 * the lease and refreshes it after answering (refresh ahead), and the new
 * answer's ttl runs on from the old one's expiry, so a hot secret never makes
 * a browser wait and the vault sees one read per ttl. A "not found" is
 * remembered negative_ttl seconds. When a fetch fails because the vault is
 * down, slow or throttling, an answer up to stale_if_error seconds past its
 * ttl may still be served.
 *
 * With shared = false (or when the segment cannot be used safely) the same
 * structure lives in private memory: a per-process cache.
 */
#ifndef KVGATE_CACHE_H
#define KVGATE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"

/* The largest answer kept: a bundle with a 25 KB value, JSON-escaped, or a
 * list page of 25 items with their tags. */
#define CACHE_ENTRY_MAX (160 * 1024)
/* Shared memory per slot, on average, for the answers' chunks. */
#define CACHE_BYTES_PER_ENTRY 4096

enum cache_kind {
	CACHE_SECRET = 1, /* a SecretBundle: a = name, b = version ("" latest) */
	CACHE_PAGE = 2,   /* a list page: a = name ("" all secrets), b = what selects it */
};

struct cache_config {
	long ttl;            /* seconds an answer is fresh; 0 turns the cache off (a
	                        shared segment still shares access tokens) */
	long negative_ttl;   /* seconds a "not found" is remembered; 0: never */
	long stale_if_error; /* seconds past ttl an answer may serve while the vault fails */
	long max_entries;    /* slots */
	bool shared;         /* one segment per host, else private memory */
	const char *scope;   /* what answers depend on (vault, API version, identity);
	                        processes with the same scope share a segment */
};

enum cache_state {
	CACHE_OFF,      /* no caching (ttl 0, or no memory): fetch, nothing to fill */
	CACHE_HIT,      /* data is a fresh answer */
	CACHE_NEGATIVE, /* the vault said "not found" less than negative_ttl ago */
	CACHE_FETCH,    /* the caller holds the lease: fetch, then cache_fill(),
	                   cache_fill_negative() or cache_fail(); data is an answer
	                   within stale_if_error when there is one */
	CACHE_FAILED,   /* the fetch this caller waited for failed: error says how;
	                   data is an answer within stale_if_error when there is one */
};

struct cache_result {
	enum cache_state state;
	char *data; /* the answer (NUL-terminated), or NULL; wiped by cache_done() */
	size_t len;
	long age_ms;           /* of data, since it was fetched (its ttl's start) */
	bool refresh;          /* CACHE_HIT, and this caller holds the lease to refresh
	                          the answer ahead of its expiry, after answering */
	bool collapsed;        /* the caller waited for another process's fetch */
	uint64_t gen;          /* CACHE_HIT: which answer (unique per fill, never 0) */
	bool same;             /* CACHE_HIT of the answer `known` names: data is NULL */
	struct kv_error error; /* CACHE_FAILED */
	/* private */
	struct cache *c;
	int32_t slot;
	uint32_t lease;
};

struct cache_stats {
	uint64_t hits, negative_hits, misses, refreshes, stale, collapsed, fills, failures,
	    evictions, expired, resets, too_big;
};

struct cache;

/*
 * Open the cache for cfg (copied). With cfg->shared, the segment for
 * cfg->scope is created or joined; when that is impossible or unsafe the
 * reason is logged and a private cache is used instead. Returns NULL only
 * when out of memory.
 */
struct cache *cache_open(const struct cache_config *cfg);

/* Leave the cache; the last process to leave a shared segment wipes it and
 * removes it. Accepts NULL. */
void cache_close(struct cache *c);

/* Leave the cache without freeing c (cache_close() still must): what
 * cache_close() does to the segment, safe to call from a signal handler
 * when no cache call is under way. c is unusable afterwards. */
void cache_leave(struct cache *c);

/* Whether c is a segment shared with other processes. */
bool cache_is_shared(const struct cache *c);

/*
 * Look kind/a/b up (a is compared ignoring case, and b too for secrets).
 * When another process holds the lease on a missing or expired answer, wait
 * for its fetch, up to deadline_ms (mono_ms() clock); past that, the result
 * is CACHE_FAILED with KV_EDEADLINE. Always end with cache_done(res).
 */
void cache_lookup(struct cache *c, enum cache_kind kind, const char *a, const char *b,
                  long deadline_ms, struct cache_result *res);

/* The same, for a caller that keeps its own copy of the answer of
 * generation known (0: none): a hit on that very answer is CACHE_HIT with
 * same set and no data copied. */
void cache_lookup_known(struct cache *c, enum cache_kind kind, const char *a, const char *b,
                        long deadline_ms, uint64_t known, struct cache_result *res);

/* Store the fetched answer for the lease res holds (data: JSON text of len
 * bytes), and wake the processes waiting for it. */
void cache_fill(struct cache_result *res, const char *data, size_t len);

/* Remember "not found" for the lease res holds (negative_ttl), dropping any
 * answer the slot held. */
void cache_fill_negative(struct cache_result *res);

/* The fetch for the lease res holds failed with e: the processes waiting for
 * it get e, and a stale answer stays for stale_if_error. */
void cache_fail(struct cache_result *res, const struct kv_error *e);

/* Release what res holds: a lease still held is given up (waiters then
 * fetch for themselves) and data is wiped and freed. */
void cache_done(struct cache_result *res);

/* Whether a fetch that failed with e may be answered from a stale answer:
 * the vault or the token endpoint was down, slow or throttling, not a
 * refusal or a missing secret. */
bool cache_stale_ok(const struct kv_error *e);

/*
 * Access tokens, shared by the host's processes through the same segment,
 * so that a host fetches one token per token lifetime, not one per process.
 * key names the credential and the token endpoint; times are wall-clock
 * seconds (the identity's schedule). cache_token_get() gives a copy of the
 * shared token (FOUND; the caller wipes and frees it) while it is valid and
 * not due for refresh, or while another process is refreshing it; else the
 * caller holds the lease to fetch one (FETCH) and must end with
 * cache_token_put() or cache_token_release(). While another process fetches
 * a token where none is valid, it waits, up to deadline_ms. NONE: no shared
 * segment; fetch alone.
 */
enum cache_token_state { CACHE_TOKEN_NONE, CACHE_TOKEN_FOUND, CACHE_TOKEN_FETCH };

enum cache_token_state cache_token_get(struct cache *c, const char *key, long wall_now,
                                       long deadline_ms, char **token, long *refresh_at,
                                       long *valid_until);
void cache_token_put(struct cache *c, const char *key, const char *token, long refresh_at,
                     long valid_until);
void cache_token_release(struct cache *c, const char *key);
/* The vault refused token: forget it, if it is still the one shared. */
void cache_token_drop(struct cache *c, const char *key, const char *token);

/* Counters of this cache (the segment's, when shared). */
void cache_get_stats(struct cache *c, struct cache_stats *st);

/* For tests: the clock (milliseconds, monotonic by default). */
void cache_set_clock(struct cache *c, long (*now_ms)(void));

#endif
