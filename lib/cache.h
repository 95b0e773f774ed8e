/*
 * cache: secrets fetched from the vault, reused for [cache] ttl seconds.
 *
 * Key Vault asks clients to cache (it allows 4,000 reads per vault per 10 s),
 * and a cached answer costs the browser no round trip to the vault. This is
 * the per-process cache: entries live in the process that fetched them, are
 * bounded in number (least recently used goes first) and in size, and their
 * bytes are wiped when they expire, are replaced or evicted, because they
 * hold secret values. Only successful answers are cached.
 *
 * Entries hold the vault's answer as JSON text, before it is shaped for a
 * request (shaping depends on the request's origin), keyed by the secret's
 * name ignoring case and the version ("" for the latest).
 */
#ifndef KVGATE_CACHE_H
#define KVGATE_CACHE_H

#include <stddef.h>
#include <json-c/json.h>

#define CACHE_MAX_ENTRIES 256
/* A bundle holds a value of 25 KB at most, JSON-escaped up to 6 bytes each. */
#define CACHE_ENTRY_MAX (160 * 1024)

struct cache;

/* Make a cache whose entries live ttl seconds (ttl 0: every lookup misses
 * and nothing is stored). Returns NULL when out of memory. */
struct cache *cache_new(long ttl);

/* Wipe and release every entry. Accepts NULL. */
void cache_free(struct cache *c);

/* The cached answer for name/version, as a new JSON object the caller owns
 * (json_object_put), or NULL on a miss. */
struct json_object *cache_get(struct cache *c, const char *name, const char *version);

/* Remember obj (serialized now) for name/version. Failures (no memory, too
 * big) only mean the next lookup misses. */
void cache_put(struct cache *c, const char *name, const char *version, struct json_object *obj);

/* For tests: the clock the cache uses (seconds, monotonic by default). */
void cache_set_clock(struct cache *c, long (*now)(void));

#endif
