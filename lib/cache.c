/*
 * cache.c: the per-process secret cache. See cache.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ascii.h"
#include "buf.h"
#include "cache.h"
#include "route.h"

struct entry {
	char key[ROUTE_NAME_MAX + 1 + ROUTE_VERSION_LEN + 1]; /* "name/version", lower case */
	char *json; /* the vault's answer; NULL when the slot is free */
	size_t len;
	long expires;      /* clock value after which the entry is stale */
	long used;         /* clock value of the last hit, for LRU eviction */
	unsigned long seq; /* tie-break for entries used in the same second */
};

struct cache {
	long ttl;
	long (*now)(void);
	unsigned long seq;
	struct entry e[CACHE_MAX_ENTRIES];
};

static long monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

struct cache *cache_new(long ttl)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ttl = ttl;
	c->now = monotonic;
	return c;
}

void cache_set_clock(struct cache *c, long (*now)(void))
{
	c->now = now;
}

static void drop(struct entry *e)
{
	if (e->json != NULL) {
		buf_wipe(e->json, e->len);
		free(e->json);
	}
	e->json = NULL;
	e->len = 0;
	e->key[0] = '\0';
}

void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CACHE_MAX_ENTRIES; i++)
		drop(&c->e[i]);
	free(c);
}

/* "name/version" in lower case: names compare ignoring case, as in Key
 * Vault, and versions are hexadecimal. */
static void make_key(char *key, size_t len, const char *name, const char *version)
{
	snprintf(key, len, "%s/%s", name, version ? version : "");
	ascii_lower_n(key, len);
}

static struct entry *find(struct cache *c, const char *key)
{
	for (size_t i = 0; i < CACHE_MAX_ENTRIES; i++)
		if (c->e[i].json != NULL && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

struct json_object *cache_get(struct cache *c, const char *name, const char *version)
{
	char key[sizeof(c->e[0].key)];
	struct entry *e;
	long now;

	if (c == NULL || c->ttl <= 0)
		return NULL;
	make_key(key, sizeof(key), name, version);
	if ((e = find(c, key)) == NULL)
		return NULL;
	now = c->now();
	if (now >= e->expires) {
		drop(e);
		return NULL;
	}
	e->used = now;
	e->seq = ++c->seq;
	return json_tokener_parse(e->json);
}

void cache_put(struct cache *c, const char *name, const char *version, struct json_object *obj)
{
	char key[sizeof(c->e[0].key)];
	struct entry *e, *victim = NULL;
	const char *s;
	size_t n;
	long now;

	if (c == NULL || c->ttl <= 0)
		return;
	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &n);
	if (s == NULL || n > CACHE_ENTRY_MAX)
		return;
	now = c->now();
	make_key(key, sizeof(key), name, version);
	if ((e = find(c, key)) == NULL) {
		/* A free slot, else an expired one, else the least recently used. */
		for (size_t i = 0; i < CACHE_MAX_ENTRIES && e == NULL; i++)
			if (c->e[i].json == NULL)
				e = &c->e[i];
		for (size_t i = 0; i < CACHE_MAX_ENTRIES && e == NULL; i++) {
			struct entry *x = &c->e[i];

			if (now >= x->expires)
				e = x;
			else if (victim == NULL || x->used < victim->used ||
			         (x->used == victim->used && x->seq < victim->seq))
				victim = x;
		}
		if (e == NULL)
			e = victim;
	}
	drop(e);
	if ((e->json = malloc(n + 1)) == NULL)
		return;
	memcpy(e->json, s, n + 1);
	e->len = n;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->expires = now + c->ttl;
	e->used = now;
	e->seq = ++c->seq;
}
