/*
 * test_cache.c: the per-process secret cache (lib/cache.c). Pins down:
 * hits within ttl and misses after it, names ignoring case, latest and
 * versions kept apart, ttl 0 caching nothing, LRU eviction at capacity,
 * oversized entries refused, and entries wiped when dropped.
 */
#include <string.h>

#include "../../lib/cache.c"
#include "tap.h"

static long fake_now;

static long fake_clock(void)
{
	return fake_now;
}

static struct json_object *bundle(const char *value)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "value", json_object_new_string(value));
	json_object_object_add(o, "id", json_object_new_string("https://v/secrets/a/b"));
	return o;
}

/* The value of a cached bundle, or NULL on a miss (the object is freed). */
static int hit_is(struct cache *c, const char *name, const char *version, const char *want)
{
	struct json_object *o = cache_get(c, name, version), *v;
	int same;

	if (o == NULL)
		return want == NULL;
	same = want != NULL && json_object_object_get_ex(o, "value", &v) &&
	       strcmp(json_object_get_string(v), want) == 0;
	json_object_put(o);
	return same;
}

int main(void)
{
	struct cache *c = cache_new(60);
	struct json_object *o;
	char name[32], *big;
	int all;

	cache_set_clock(c, fake_clock);
	fake_now = 1000;
	ok(hit_is(c, "s", "", NULL), "an empty cache misses");
	o = bundle("v1");
	cache_put(c, "Public-S", "", o);
	json_object_put(o);
	ok(hit_is(c, "public-s", "", "v1"), "a stored answer is found, the name ignoring case");
	ok(hit_is(c, "public-s", "0123456789abcdef0123456789abcdef", NULL),
	   "a version is not the latest: kept apart");
	fake_now += 59;
	ok(hit_is(c, "PUBLIC-S", "", "v1"), "still fresh one second before ttl");
	fake_now += 1;
	ok(hit_is(c, "public-s", "", NULL), "stale at ttl: the next request goes to the vault");
	ok(c->e[0].json == NULL, "a stale entry is dropped when found stale");

	o = bundle("v2");
	cache_put(c, "s", "", o);
	json_object_put(o);
	o = bundle("v3");
	cache_put(c, "s", "", o);
	json_object_put(o);
	ok(hit_is(c, "s", "", "v3"), "a newer answer replaces the entry");
	all = 0;
	for (size_t i = 0; i < CACHE_MAX_ENTRIES; i++)
		all += c->e[i].json != NULL;
	ok(all == 1, "replacing does not take a second slot");

	/* Fill the cache; the least recently used entry goes first. */
	for (int i = 0; i < CACHE_MAX_ENTRIES; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		o = bundle(name);
		cache_put(c, name, "", o);
		json_object_put(o);
		if (i == 0)
			fake_now++;
	}
	ok(hit_is(c, "n0", "", "n0"), "entry n0 is there (and now recently used)");
	fake_now++;
	o = bundle("new");
	cache_put(c, "newcomer", "", o);
	json_object_put(o);
	ok(hit_is(c, "newcomer", "", "new"), "a new entry enters a full cache");
	ok(hit_is(c, "n0", "", "n0"), "the recently used entry survives eviction");
	all = 0;
	for (size_t i = 0; i < CACHE_MAX_ENTRIES; i++)
		all += c->e[i].json != NULL;
	ok(all == CACHE_MAX_ENTRIES, "the cache never holds more than CACHE_MAX_ENTRIES");

	big = malloc(CACHE_ENTRY_MAX + 1);
	memset(big, 'x', CACHE_ENTRY_MAX);
	big[CACHE_ENTRY_MAX] = '\0';
	o = bundle(big);
	cache_put(c, "big", "", o);
	json_object_put(o);
	free(big);
	ok(hit_is(c, "big", "", NULL), "an answer over CACHE_ENTRY_MAX is not cached");
	cache_free(c);
	cache_free(NULL);
	ok(1, "cache_free accepts NULL");

	c = cache_new(0);
	o = bundle("v");
	cache_put(c, "s", "", o);
	json_object_put(o);
	ok(hit_is(c, "s", "", NULL), "ttl 0 caches nothing");
	cache_free(c);

	/* drop() wipes before freeing: check on an entry we drop by hand. */
	c = cache_new(60);
	o = bundle("wipe-me");
	cache_put(c, "w", "", o);
	json_object_put(o);
	{
		struct entry *e = find(c, "w/");
		char *p = e->json;
		size_t n = e->len;
		char copy[256];

		/* Keep the allocation alive to look at it after the wipe. */
		e->json = NULL;
		memcpy(copy, p, n);
		ok(strstr(copy, "wipe-me") != NULL, "the entry holds the value");
		buf_wipe(p, n);
		all = 1;
		for (size_t i = 0; i < n; i++)
			all &= p[i] == 0;
		ok(all, "buf_wipe, as drop() uses it, zeroes the entry's bytes");
		free(p);
	}
	cache_free(c);
	return tap_done();
}
