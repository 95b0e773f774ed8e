/*
 * cache.c: the vault's answers, shared by one host's processes. See cache.h.
 *
 * The segment is one mapping of a POSIX shared memory object; every link in
 * it is an index (processes map it at different addresses), 1-based so that
 * a segment fresh from ftruncate(2), all zeros, is an empty cache (after
 * lib/shm.c's own header):
 *
 *   struct hdr | struct slot[nslots] | uint32_t bucket[nbuckets]
 *              | uint32_t chunk_next[nchunks] | chunk[nchunks][CHUNK]
 *
 * Slots and chunks are handed out from a free list, else from the top of
 * those never used (so that an idle segment touches few pages), else by
 * evicting the least recently used slot that no fetch holds.
 *
 * The segment's life (made under a temporary name and linked into place,
 * joined only when this user owns it with mode 0600, wiped and removed by
 * the last process to leave) is lib/shm.c's; this file owns what is in it.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ascii.h"
#include "buf.h"
#include "cache.h"
#include "log.h"
#include "mono.h"
#include "sha256.h"
#include "shm.h"

#define MAGIC 0x6b766763u /* "kvgc" */
#define LAYOUT 4u
#define NTOKENS 4u
#define TOKEN_MAX (12 * 1024)
#define CHUNK 1024u
#define NFAIL 32u
#define KEY_LEN SHA256_LEN /* keys are SHA-256 digests */
/* The key's text before hashing: kind, a (a name: 127 bytes), b (a version,
 * or a nextLink of KV_NEXTLINK_MAX bytes). */
#define KEY_TEXT_MAX (8 + 256 + KV_NEXTLINK_MAX)
/* A lease outlives its holder's deadline by this much before another
 * process may take it over. */
#define LEASE_MARGIN_MS 1000
/* How long a waiter sleeps at most before it looks at the lease again. */
#define WAIT_SLICE_MS 50

enum { SLOT_FREE = 0, SLOT_PENDING, SLOT_VALUE, SLOT_NEGATIVE };

struct slot {
	unsigned char key[KEY_LEN]; /* SHA-256 of the key's text */
	uint32_t hnext;             /* next slot in the bucket */
	uint32_t prev, next;        /* LRU list, head most recent; next: free list */
	uint32_t chunk;             /* first chunk of the answer */
	uint32_t len;               /* bytes of the answer */
	uint32_t state;
	uint32_t lease;      /* the fetch lease held, 0 when none */
	int32_t lease_pid;   /* its holder */
	int64_t lease_until; /* ms: after this another process may take it */
	int64_t fetched;     /* ms: the answer's ttl starts here */
	uint64_t gen;        /* which answer: unique per fill (cache_result.gen) */
};

/* An access token shared by the host's processes, with its fetch lease. */
struct token_slot {
	unsigned char key[KEY_LEN];
	uint32_t len;       /* 0: none */
	int64_t refresh_at; /* wall-clock seconds */
	int64_t valid_until;
	uint32_t lease;
	int32_t lease_pid;
	int64_t lease_until; /* ms */
	char data[TOKEN_MAX];
};

struct failure {
	uint32_t lease;
	struct kv_error e;
};

struct hdr {
	uint32_t magic, layout;
	uint64_t size;
	uint32_t nslots, nbuckets, nchunks, chunk;
	unsigned char scope[KEY_LEN];
	uint32_t seq; /* futex word: bumped whenever a lease ends */
	pthread_mutex_t lock;
	uint32_t next_lease;
	uint64_t epoch; /* random, per segment: generations never repeat across segments */
	uint64_t fills; /* answers stored: the generations */
	uint32_t free_slot, slot_top;
	uint32_t free_chunk, chunk_top;
	uint32_t lru_head, lru_tail;
	uint32_t fail_next;
	struct failure fail[NFAIL]; /* the last failed fetches, for their waiters */
	struct cache_stats st;
	struct token_slot tokens[NTOKENS];
};

struct cache {
	struct cache_config cfg;
	struct hdr *h;
	size_t size;
	struct slot *slots; /* slots[i - 1] is slot i */
	uint32_t *buckets;
	uint32_t *chunk_next; /* chunk_next[i - 1] follows chunk i */
	unsigned char *chunks;
	struct shm *shm; /* the host's segment; NULL: private memory */
	char name[64];   /* the segment's name */
	bool left;       /* cache_leave() ran */
	long (*now)(void);
};

struct layout {
	uint32_t nslots, nbuckets, nchunks;
	size_t slots, buckets, chunk_next, chunks, size;
};

static size_t align(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

static void plan(long max_entries, struct layout *l)
{
	l->nslots = (uint32_t)max_entries;
	l->nbuckets = 1;
	while (l->nbuckets < 2 * l->nslots)
		l->nbuckets <<= 1;
	l->nchunks = l->nslots * (CACHE_BYTES_PER_ENTRY / CHUNK) + CACHE_ENTRY_MAX / CHUNK + 1;
	l->slots = align(sizeof(struct hdr), 64);
	l->buckets = l->slots + align((size_t)l->nslots * sizeof(struct slot), 64);
	l->chunk_next = l->buckets + align((size_t)l->nbuckets * sizeof(uint32_t), 64);
	l->chunks = align(l->chunk_next + (size_t)l->nchunks * sizeof(uint32_t), 4096);
	l->size = l->chunks + (size_t)l->nchunks * CHUNK;
}

static struct slot *S(struct cache *c, uint32_t i)
{
	return &c->slots[i - 1];
}

static unsigned char *chunk_at(struct cache *c, uint32_t i)
{
	return c->chunks + (size_t)(i - 1) * CHUNK;
}

static void wire(struct cache *c, void *base, const struct layout *l)
{
	c->h = base;
	c->size = l->size;
	c->slots = (struct slot *)((char *)base + l->slots);
	c->buckets = (uint32_t *)((char *)base + l->buckets);
	c->chunk_next = (uint32_t *)((char *)base + l->chunk_next);
	c->chunks = (unsigned char *)base + l->chunks;
}

static void scope_hash(const struct cache_config *cfg, unsigned char out[KEY_LEN])
{
	char text[1024];
	int len;

	len = snprintf(text, sizeof(text), "kvgate cache %u %ld %u\n%s", LAYOUT, cfg->max_entries,
	               CHUNK, cfg->scope ? cfg->scope : "");
	if (len < 0 || (size_t)len >= sizeof(text))
		len = (int)sizeof(text) - 1;
	sha256(text, (size_t)len, out);
}

/* Initialise a zeroed header for layout l and scope; the mutex is
 * process-shared when the segment is. */
static int init_hdr(struct hdr *h, const struct layout *l, const unsigned char scope[KEY_LEN],
                    bool shared)
{
	h->layout = LAYOUT;
	if (getrandom(&h->epoch, sizeof(h->epoch), 0) != (ssize_t)sizeof(h->epoch))
		h->epoch = (uint64_t)mono_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	h->size = l->size;
	h->nslots = l->nslots;
	h->nbuckets = l->nbuckets;
	h->nchunks = l->nchunks;
	h->chunk = CHUNK;
	memcpy(h->scope, scope, KEY_LEN);
	if (shm_mutex_init(&h->lock, shared) != 0)
		return -1;
	__atomic_store_n(&h->magic, MAGIC, __ATOMIC_RELEASE);
	return 0;
}

/* Forget every answer, wiping every chunk ever used. The mutex is held (or
 * nobody else can reach the segment). */
static void reset(struct cache *c)
{
	struct hdr *h = c->h;
	struct cache_stats st = h->st;

	buf_wipe(c->chunks, (size_t)h->chunk_top * CHUNK);
	memset(c->slots, 0, (size_t)h->slot_top * sizeof(struct slot));
	memset(c->buckets, 0, (size_t)h->nbuckets * sizeof(uint32_t));
	memset(c->chunk_next, 0, (size_t)h->chunk_top * sizeof(uint32_t));
	h->free_slot = h->slot_top = h->free_chunk = h->chunk_top = 0;
	h->lru_head = h->lru_tail = 0;
	memset(h->fail, 0, sizeof(h->fail));
	buf_wipe(h->tokens, sizeof(h->tokens));
	h->st = st;
	h->st.resets++;
}

static struct cache *new_cache(const struct cache_config *cfg)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->cfg = *cfg;
	c->cfg.scope = NULL;
	c->now = mono_ms;
	return c;
}

static int open_private(struct cache *c, const struct layout *l, const unsigned char scope[KEY_LEN])
{
	void *p = mmap(NULL, l->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	(void)madvise(p, l->size, MADV_DONTDUMP);
	wire(c, p, l);
	if (init_hdr(c->h, l, scope, false) != 0) {
		munmap(p, l->size);
		c->h = NULL;
		return -1;
	}
	return 0;
}

/* What shm_join() needs to make or accept this configuration's segment. */
struct segment {
	const struct layout *l;
	const unsigned char *scope;
};

static int segment_init(void *data, void *arg)
{
	const struct segment *sg = arg;

	return init_hdr(data, sg->l, sg->scope, true);
}

static bool segment_check(const void *data, void *arg)
{
	const struct hdr *h = data;
	const struct segment *sg = arg;

	return __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == MAGIC && h->layout == LAYOUT &&
	       h->size == sg->l->size && memcmp(h->scope, sg->scope, KEY_LEN) == 0;
}

/* The last process out wipes every answer and token (shm_leave()). */
static void segment_wipe(void *data, void *arg)
{
	(void)data;
	reset(arg);
}

struct cache *cache_open(const struct cache_config *cfg)
{
	unsigned char scope[KEY_LEN];
	struct segment sg;
	struct layout l;
	struct cache *c;
	char why[256];

	if ((c = new_cache(cfg)) == NULL)
		return NULL;
	if (cfg->max_entries <= 0 || (cfg->ttl <= 0 && !cfg->shared))
		return c; /* off: every lookup says so */
	plan(cfg->max_entries, &l);
	scope_hash(cfg, scope);
	if (cfg->shared) {
		snprintf(c->name, sizeof(c->name), "/kvgate-%u-%02x%02x%02x%02x%02x%02x%02x%02x",
		         (unsigned)geteuid(), scope[0], scope[1], scope[2], scope[3], scope[4],
		         scope[5], scope[6], scope[7]);
		sg.l = &l;
		sg.scope = scope;
		c->shm =
		    shm_join(c->name, l.size, segment_init, segment_check, &sg, why, sizeof(why));
		if (c->shm != NULL)
			wire(c, shm_data(c->shm), &l);
		else
			log_warn(
			    "cache: %s: using a per-process cache instead of one shared by the "
			    "host",
			    why);
	}
	if (c->shm == NULL && open_private(c, &l, scope) != 0) {
		log_warn("cache: no memory for the cache: caching is off");
		c->h = NULL;
	}
	return c;
}

bool cache_is_shared(const struct cache *c)
{
	return c != NULL && c->shm != NULL;
}

void cache_set_clock(struct cache *c, long (*now_ms)(void))
{
	c->now = now_ms ? now_ms : mono_ms;
}

/* Take the mutex. A holder that died leaves the structure unknown: it is
 * wiped and rebuilt empty. -1: unusable. */
static int lock(struct cache *c)
{
	int rc = pthread_mutex_lock(&c->h->lock);

	if (rc == EOWNERDEAD) {
		reset(c);
		pthread_mutex_consistent(&c->h->lock);
		log_warn("cache: a process died while changing the cache: emptied it");
		return 0;
	}
	return rc == 0 ? 0 : -1;
}

static void unlock(struct cache *c)
{
	pthread_mutex_unlock(&c->h->lock);
}

static void wake(struct cache *c)
{
	__atomic_add_fetch(&c->h->seq, 1, __ATOMIC_RELEASE);
	if (c->shm != NULL)
		syscall(SYS_futex, &c->h->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Sleep until the sequence moves on from seq, or ms pass. */
static void wait_seq(struct cache *c, uint32_t seq, long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	if (c->shm != NULL)
		syscall(SYS_futex, &c->h->seq, FUTEX_WAIT, seq, &ts, NULL, 0);
	else
		mono_sleep_ms(ms); /* private: only a test's clock can end a lease */
}

/*
 * Leave the cache: shm_leave() for a shared segment (the last process out
 * wipes it through segment_wipe(), marks it dead and removes its name), a
 * wipe for a private one. Only system calls and memset: safe in a signal
 * handler.
 */
void cache_leave(struct cache *c)
{
	if (c == NULL || c->h == NULL || c->left)
		return;
	c->left = true;
	if (c->shm != NULL)
		shm_leave(c->shm, segment_wipe, c);
	else
		reset(c);
}

void cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	cache_leave(c);
	if (c->shm != NULL)
		shm_close(c->shm, segment_wipe, c);
	else if (c->h != NULL)
		munmap(c->h, c->size);
	free(c);
}

/* ---- the table (mutex held) ------------------------------------------ */

static void make_key(enum cache_kind kind, const char *a, const char *b, unsigned char out[KEY_LEN])
{
	char text[KEY_TEXT_MAX];
	size_t la = strnlen(a, 256), lb = strnlen(b, KV_NEXTLINK_MAX);

	text[0] = (char)kind;
	memcpy(text + 1, a, la);
	text[1 + la] = '\0';
	memcpy(text + 2 + la, b, lb);
	ascii_lower_n(text + 1, la);
	if (kind == CACHE_SECRET)
		ascii_lower_n(text + 2 + la, lb);
	sha256(text, 2 + la + lb, out);
}

static uint32_t bucket_of(struct cache *c, const unsigned char key[KEY_LEN])
{
	uint32_t v;

	memcpy(&v, key, sizeof(v));
	return v & (c->h->nbuckets - 1);
}

static uint32_t find(struct cache *c, const unsigned char key[KEY_LEN])
{
	for (uint32_t i = c->buckets[bucket_of(c, key)]; i != 0; i = S(c, i)->hnext)
		if (memcmp(S(c, i)->key, key, KEY_LEN) == 0)
			return i;
	return 0;
}

static void lru_unlink(struct cache *c, uint32_t i)
{
	struct slot *s = S(c, i);

	if (s->prev)
		S(c, s->prev)->next = s->next;
	else
		c->h->lru_head = s->next;
	if (s->next)
		S(c, s->next)->prev = s->prev;
	else
		c->h->lru_tail = s->prev;
	s->prev = s->next = 0;
}

static void lru_push(struct cache *c, uint32_t i)
{
	struct slot *s = S(c, i);

	s->prev = 0;
	s->next = c->h->lru_head;
	if (s->next)
		S(c, s->next)->prev = i;
	else
		c->h->lru_tail = i;
	c->h->lru_head = i;
}

static void touch(struct cache *c, uint32_t i)
{
	if (c->h->lru_head != i) {
		lru_unlink(c, i);
		lru_push(c, i);
	}
}

/* Wipe and free a slot's chunks. */
static void drop_data(struct cache *c, struct slot *s)
{
	uint32_t i = s->chunk, next;

	while (i != 0) {
		next = c->chunk_next[i - 1];
		buf_wipe(chunk_at(c, i), CHUNK);
		c->chunk_next[i - 1] = c->h->free_chunk;
		c->h->free_chunk = i;
		i = next;
	}
	s->chunk = 0;
	s->len = 0;
}

/* Take slot i out of the table and put it on the free list. */
static void release_slot(struct cache *c, uint32_t i)
{
	struct slot *s = S(c, i);
	uint32_t *p = &c->buckets[bucket_of(c, s->key)];

	drop_data(c, s);
	while (*p != 0 && *p != i)
		p = &S(c, *p)->hnext;
	if (*p == i)
		*p = s->hnext;
	lru_unlink(c, i);
	memset(s, 0, sizeof(*s));
	s->next = c->h->free_slot;
	c->h->free_slot = i;
}

static bool lease_live(struct cache *c, const struct slot *s, long now)
{
	return s->lease != 0 && now < s->lease_until;
}

/* Whether a slot's answer is past every use. */
static bool spent(struct cache *c, const struct slot *s, long now)
{
	long age = now - (long)s->fetched;

	if (s->state == SLOT_NEGATIVE)
		return age >= c->cfg.negative_ttl * 1000;
	if (s->state == SLOT_VALUE)
		return age >= (c->cfg.ttl + c->cfg.stale_if_error) * 1000;
	return s->state == SLOT_PENDING && !lease_live(c, s, now);
}

/* Evict the least recently used slot that no live lease holds, other than
 * keep. 0 when none can go. */
static int evict_one(struct cache *c, uint32_t keep, long now)
{
	for (uint32_t i = c->h->lru_tail; i != 0; i = S(c, i)->prev) {
		if (i == keep || lease_live(c, S(c, i), now))
			continue;
		if (!spent(c, S(c, i), now))
			c->h->st.evictions++;
		else
			c->h->st.expired++;
		release_slot(c, i);
		return 1;
	}
	return 0;
}

/* Wipe up to two spent answers at the cold end, so that expired values do
 * not linger in memory until their slot is needed. */
static void reap(struct cache *c, long now)
{
	for (int n = 0; n < 2; n++) {
		uint32_t i = c->h->lru_tail;

		if (i == 0 || lease_live(c, S(c, i), now) || !spent(c, S(c, i), now))
			return;
		c->h->st.expired++;
		release_slot(c, i);
	}
}

static uint32_t new_slot(struct cache *c, const unsigned char key[KEY_LEN], long now)
{
	struct hdr *h = c->h;
	uint32_t i, b;

	if (h->free_slot == 0 && h->slot_top == h->nslots && !evict_one(c, 0, now))
		return 0;
	if (h->free_slot != 0) {
		i = h->free_slot;
		h->free_slot = S(c, i)->next;
	} else {
		i = ++h->slot_top;
	}
	memset(S(c, i), 0, sizeof(struct slot));
	memcpy(S(c, i)->key, key, KEY_LEN);
	b = bucket_of(c, key);
	S(c, i)->hnext = c->buckets[b];
	c->buckets[b] = i;
	lru_push(c, i);
	return i;
}

static uint32_t new_chunk(struct cache *c, uint32_t keep, long now)
{
	struct hdr *h = c->h;
	uint32_t i;

	while (h->free_chunk == 0 && h->chunk_top == h->nchunks)
		if (!evict_one(c, keep, now))
			return 0;
	if (h->free_chunk != 0) {
		i = h->free_chunk;
		h->free_chunk = c->chunk_next[i - 1];
	} else {
		i = ++h->chunk_top;
	}
	c->chunk_next[i - 1] = 0;
	return i;
}

/* Store data in slot i's chain of chunks; -1 when there is no room. */
static int store(struct cache *c, uint32_t i, const char *data, size_t len, long now)
{
	struct slot *s = S(c, i);
	uint32_t *link = &s->chunk, k;
	size_t off = 0, n;

	drop_data(c, s);
	while (off < len) {
		if ((k = new_chunk(c, i, now)) == 0) {
			drop_data(c, s);
			return -1;
		}
		*link = k;
		link = &c->chunk_next[k - 1];
		n = len - off < CHUNK ? len - off : CHUNK;
		memcpy(chunk_at(c, k), data + off, n);
		off += n;
	}
	s->len = (uint32_t)len;
	return 0;
}

/* A copy of slot i's answer, NUL-terminated, or NULL (no memory). */
static char *copy_out(struct cache *c, uint32_t i)
{
	struct slot *s = S(c, i);
	char *out = malloc((size_t)s->len + 1);
	size_t off = 0, n;

	if (out == NULL)
		return NULL;
	for (uint32_t k = s->chunk; k != 0 && off < s->len; k = c->chunk_next[k - 1]) {
		n = s->len - off < CHUNK ? s->len - off : CHUNK;
		memcpy(out + off, chunk_at(c, k), n);
		off += n;
	}
	out[off] = '\0';
	return out;
}

static void take_lease(struct cache *c, uint32_t i, long deadline, struct cache_result *res)
{
	struct slot *s = S(c, i);

	if (++c->h->next_lease == 0)
		c->h->next_lease = 1;
	s->lease = c->h->next_lease;
	s->lease_pid = (int32_t)getpid();
	s->lease_until = (int64_t)deadline + LEASE_MARGIN_MS;
	res->slot = (int32_t)i;
	res->lease = s->lease;
}

static const struct failure *failure_of(struct cache *c, uint32_t lease)
{
	for (uint32_t k = 0; k < NFAIL; k++)
		if (c->h->fail[k].lease == lease)
			return &c->h->fail[k];
	return NULL;
}

/* Attach slot i's answer to res when it is within stale_if_error. */
static void attach_stale(struct cache *c, uint32_t i, long now, struct cache_result *res)
{
	struct slot *s = S(c, i);

	if (s->state == SLOT_VALUE && !spent(c, s, now) && (res->data = copy_out(c, i)) != NULL) {
		res->len = s->len;
		res->age_ms = now - (long)s->fetched;
	}
}

/* The lease holder of s is a process that no longer exists. */
static bool holder_gone(const struct slot *s)
{
	return s->lease_pid > 0 && s->lease_pid != (int32_t)getpid() &&
	       kill((pid_t)s->lease_pid, 0) != 0 && errno == ESRCH;
}

void cache_lookup(struct cache *c, enum cache_kind kind, const char *a, const char *b,
                  long deadline_ms, struct cache_result *res)
{
	cache_lookup_known(c, kind, a, b, deadline_ms, 0, res);
}

void cache_lookup_known(struct cache *c, enum cache_kind kind, const char *a, const char *b,
                        long deadline_ms, uint64_t known, struct cache_result *res)
{
	unsigned char key[KEY_LEN];
	uint32_t i, waited = 0, seq;
	long now, ttl_ms, window, age;
	struct slot *s;
	int polls = 0;

	memset(res, 0, sizeof(*res));
	res->c = c;
	res->state = CACHE_OFF;
	res->error.retry_after = -1;
	if (c == NULL || c->h == NULL || c->left || c->cfg.ttl <= 0 || lock(c) != 0)
		return;
	make_key(kind, a, b ? b : "", key);
	ttl_ms = c->cfg.ttl * 1000;
	window = ttl_ms / 10 < 5000 ? ttl_ms / 10 : 5000;
	for (;;) {
		now = c->now();
		reap(c, now);
		i = find(c, key);
		if (waited != 0 && (i == 0 || S(c, i)->lease != waited)) {
			/* The fetch waited for is over. When it failed, its
			 * waiters fail alike rather than all trying in turn. */
			const struct failure *f = failure_of(c, waited);

			waited = 0;
			if (f != NULL) {
				res->state = CACHE_FAILED;
				res->error = f->e;
				if (i != 0)
					attach_stale(c, i, now, res);
				break;
			}
			/* Given up or taken over: on as if new. */
		}
		if (i == 0) {
			if ((i = new_slot(c, key, now)) == 0)
				break; /* every slot is being fetched: go without */
			S(c, i)->state = SLOT_PENDING;
			take_lease(c, i, deadline_ms, res);
			res->state = CACHE_FETCH;
			c->h->st.misses++;
			break;
		}
		s = S(c, i);
		touch(c, i);
		age = now - (long)s->fetched;
		if (s->state == SLOT_VALUE && age < ttl_ms) {
			res->gen = s->gen;
			if (known != 0 && s->gen == known)
				res->same = true; /* the caller has this very answer */
			else if ((res->data = copy_out(c, i)) == NULL)
				break;
			else
				res->len = s->len;
			res->age_ms = age;
			res->state = CACHE_HIT;
			c->h->st.hits++;
			if (age >= ttl_ms - window && !lease_live(c, s, now)) {
				take_lease(c, i, deadline_ms, res);
				res->refresh = true;
				c->h->st.refreshes++;
			}
			break;
		}
		if (s->state == SLOT_NEGATIVE && age < c->cfg.negative_ttl * 1000 &&
		    !lease_live(c, s, now)) {
			res->state = CACHE_NEGATIVE;
			c->h->st.negative_hits++;
			break;
		}
		if (lease_live(c, s, now) && !(++polls % 4 == 0 && holder_gone(s))) {
			if (now >= deadline_ms) {
				res->state = CACHE_FAILED;
				res->error.err = KV_EDEADLINE;
				snprintf(res->error.message, sizeof(res->error.message),
				         "deadline_ms was spent waiting for another process's "
				         "fetch");
				attach_stale(c, i, now, res);
				break;
			}
			if (waited == 0) {
				waited = s->lease;
				res->collapsed = true;
				c->h->st.collapsed++;
			}
			seq = __atomic_load_n(&c->h->seq, __ATOMIC_ACQUIRE);
			unlock(c);
			wait_seq(c, seq,
			         deadline_ms - now < WAIT_SLICE_MS ? deadline_ms - now
			                                           : WAIT_SLICE_MS);
			if (lock(c) != 0) {
				if (res->data != NULL)
					buf_wipe(res->data, res->len);
				free(res->data);
				memset(res, 0, sizeof(*res));
				res->c = c;
				res->state = CACHE_OFF;
				return;
			}
			continue;
		}
		/* Missing, expired or negative past its time, and nobody (alive)
		 * fetching: this caller fetches. */
		take_lease(c, i, deadline_ms, res);
		attach_stale(c, i, now, res);
		if (res->data == NULL) {
			drop_data(c, s); /* past every use: wiped now */
			s->state = SLOT_PENDING;
		}
		res->state = CACHE_FETCH;
		c->h->st.misses++;
		break;
	}
	unlock(c);
}

/* The slot res's lease is on, if that lease is still held: 0 otherwise. */
static uint32_t leased(struct cache_result *res)
{
	struct cache *c = res->c;

	if (res->lease == 0 || res->slot <= 0 || (uint32_t)res->slot > c->h->nslots)
		return 0;
	return S(c, (uint32_t)res->slot)->lease == res->lease ? (uint32_t)res->slot : 0;
}

static void end_lease(struct cache *c, struct slot *s)
{
	s->lease = 0;
	s->lease_pid = 0;
	s->lease_until = 0;
}

void cache_fill(struct cache_result *res, const char *data, size_t len)
{
	struct cache *c = res->c;
	struct slot *s;
	uint32_t i;
	long now, ttl_ms;

	if (c == NULL || c->h == NULL || res->lease == 0 || lock(c) != 0)
		return;
	if ((i = leased(res)) != 0) {
		s = S(c, i);
		now = c->now();
		ttl_ms = c->cfg.ttl * 1000;
		if (len > CACHE_ENTRY_MAX || store(c, i, data, len, now) != 0) {
			c->h->st.too_big++;
			end_lease(c, s);
			release_slot(c, i);
		} else {
			/* A refresh ahead continues the old answer's ttl, so that
			 * the vault sees one read per ttl. */
			if (res->refresh && s->state == SLOT_VALUE &&
			    (long)s->fetched + ttl_ms < now)
				s->fetched = (int64_t)now;
			else if (res->refresh && s->state == SLOT_VALUE)
				s->fetched += ttl_ms;
			else
				s->fetched = (int64_t)now;
			s->state = SLOT_VALUE;
			s->gen = c->h->epoch + ++c->h->fills;
			if (s->gen == 0)
				s->gen = c->h->epoch + ++c->h->fills;
			end_lease(c, s);
			c->h->st.fills++;
		}
		wake(c);
	}
	res->lease = 0;
	unlock(c);
}

void cache_fill_negative(struct cache_result *res)
{
	struct cache *c = res->c;
	struct slot *s;
	uint32_t i;

	if (c == NULL || c->h == NULL || res->lease == 0 || lock(c) != 0)
		return;
	if ((i = leased(res)) != 0) {
		s = S(c, i);
		end_lease(c, s);
		if (c->cfg.negative_ttl > 0) {
			drop_data(c, s);
			s->state = SLOT_NEGATIVE;
			s->fetched = (int64_t)c->now();
		} else {
			release_slot(c, i); /* the secret is gone: so is its answer */
		}
		c->h->st.fills++;
		wake(c);
	}
	res->lease = 0;
	unlock(c);
}

void cache_fail(struct cache_result *res, const struct kv_error *e)
{
	struct cache *c = res->c;
	struct failure *f;
	uint32_t i;

	if (c == NULL || c->h == NULL || res->lease == 0 || lock(c) != 0)
		return;
	if ((i = leased(res)) != 0) {
		f = &c->h->fail[c->h->fail_next++ % NFAIL];
		f->lease = res->lease;
		f->e = *e;
		end_lease(c, S(c, i));
		if (S(c, i)->state == SLOT_PENDING)
			release_slot(c, i);
		c->h->st.failures++;
		wake(c);
	}
	res->lease = 0;
	unlock(c);
}

void cache_done(struct cache_result *res)
{
	struct cache *c = res->c;
	uint32_t i;

	if (c != NULL && c->h != NULL && res->lease != 0 && lock(c) == 0) {
		if ((i = leased(res)) != 0) {
			end_lease(c, S(c, i));
			if (S(c, i)->state == SLOT_PENDING)
				release_slot(c, i);
			wake(c);
		}
		unlock(c);
	}
	res->lease = 0;
	if (res->data != NULL) {
		buf_wipe(res->data, res->len);
		free(res->data);
	}
	res->data = NULL;
	res->len = 0;
}

bool cache_stale_ok(const struct kv_error *e)
{
	switch (e->err) {
	case KV_ETHROTTLED:
	case KV_EUNAVAILABLE:
	case KV_ETIMEOUT:
	case KV_EUPSTREAM:
	case KV_EPROTO:
	case KV_EIDENTITY:
	case KV_EDROPPED:
	case KV_EDEADLINE:
	case KV_ETOOBIG:
		return true;
	default:
		return false;
	}
}

void cache_get_stats(struct cache *c, struct cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (c == NULL || c->h == NULL || lock(c) != 0)
		return;
	*st = c->h->st;
	unlock(c);
}

/* ---- access tokens ----------------------------------------------------- */

static void token_key(const char *key, unsigned char out[KEY_LEN])
{
	sha256(key, strlen(key), out);
}

static struct token_slot *token_find(struct cache *c, const unsigned char key[KEY_LEN])
{
	for (uint32_t i = 0; i < NTOKENS; i++)
		if (memcmp(c->h->tokens[i].key, key, KEY_LEN) == 0)
			return &c->h->tokens[i];
	return NULL;
}

/* The slot for key, taking an empty one or the one valid the shortest. */
static struct token_slot *token_slot_for(struct cache *c, const unsigned char key[KEY_LEN])
{
	struct token_slot *t = token_find(c, key), *victim = NULL;
	long now = c->now();

	if (t != NULL)
		return t;
	for (uint32_t i = 0; i < NTOKENS; i++) {
		t = &c->h->tokens[i];
		if (t->lease != 0 && now < t->lease_until)
			continue;
		if (victim == NULL || t->len == 0 || t->valid_until < victim->valid_until)
			victim = t;
		if (t->len == 0)
			break;
	}
	if (victim != NULL) {
		buf_wipe(victim, sizeof(*victim));
		memcpy(victim->key, key, KEY_LEN);
	}
	return victim;
}

static bool token_lease_live(struct cache *c, const struct token_slot *t, long now)
{
	if (t->lease == 0 || now >= t->lease_until)
		return false;
	return !(t->lease_pid > 0 && t->lease_pid != (int32_t)getpid() &&
	         kill((pid_t)t->lease_pid, 0) != 0 && errno == ESRCH);
}

enum cache_token_state cache_token_get(struct cache *c, const char *key, long wall_now,
                                       long deadline_ms, char **token, long *refresh_at,
                                       long *valid_until)
{
	unsigned char k[KEY_LEN];
	struct token_slot *t;
	enum cache_token_state st = CACHE_TOKEN_NONE;
	uint32_t seq;
	long now;

	*token = NULL;
	if (c == NULL || c->h == NULL || c->left || c->shm == NULL || lock(c) != 0)
		return CACHE_TOKEN_NONE;
	token_key(key, k);
	for (;;) {
		now = c->now();
		if ((t = token_slot_for(c, k)) == NULL)
			break; /* every slot is being fetched: go alone */
		if (t->len > 0 && wall_now < t->valid_until &&
		    (wall_now < t->refresh_at ||
		     (token_lease_live(c, t, now) && t->lease_pid != (int32_t)getpid()))) {
			if ((*token = malloc(t->len + 1)) != NULL) {
				memcpy(*token, t->data, t->len);
				(*token)[t->len] = '\0';
				*refresh_at = (long)t->refresh_at;
				*valid_until = (long)t->valid_until;
				st = CACHE_TOKEN_FOUND;
			}
			break;
		}
		if (!token_lease_live(c, t, now) || t->lease_pid == (int32_t)getpid()) {
			if (++c->h->next_lease == 0)
				c->h->next_lease = 1;
			t->lease = c->h->next_lease;
			t->lease_pid = (int32_t)getpid();
			t->lease_until = deadline_ms + LEASE_MARGIN_MS;
			st = CACHE_TOKEN_FETCH;
			break;
		}
		if (now >= deadline_ms)
			break; /* waited long enough: fetch alone */
		seq = __atomic_load_n(&c->h->seq, __ATOMIC_ACQUIRE);
		unlock(c);
		wait_seq(c, seq,
		         deadline_ms - now < WAIT_SLICE_MS ? deadline_ms - now : WAIT_SLICE_MS);
		if (lock(c) != 0)
			return CACHE_TOKEN_NONE;
	}
	unlock(c);
	return st;
}

static void token_end(struct cache *c, const char *key, const char *token, long refresh_at,
                      long valid_until, bool drop)
{
	unsigned char k[KEY_LEN];
	struct token_slot *t;
	size_t n;

	if (c == NULL || c->h == NULL || c->left || c->shm == NULL || lock(c) != 0)
		return;
	token_key(key, k);
	t = token != NULL && !drop ? token_slot_for(c, k) : token_find(c, k);
	if (t != NULL && drop) {
		if (t->len == strlen(token) && memcmp(t->data, token, t->len) == 0) {
			buf_wipe(t->data, t->len);
			t->len = 0;
			t->refresh_at = t->valid_until = 0;
		}
	} else if (t != NULL) {
		if (token != NULL && (n = strlen(token)) < TOKEN_MAX) {
			buf_wipe(t->data, t->len);
			memcpy(t->data, token, n);
			t->len = (uint32_t)n;
			t->refresh_at = refresh_at;
			t->valid_until = valid_until;
		}
		if (t->lease_pid == (int32_t)getpid()) {
			t->lease = 0;
			t->lease_pid = 0;
			t->lease_until = 0;
		}
		wake(c);
	}
	unlock(c);
}

void cache_token_put(struct cache *c, const char *key, const char *token, long refresh_at,
                     long valid_until)
{
	token_end(c, key, token, refresh_at, valid_until, false);
}

void cache_token_release(struct cache *c, const char *key)
{
	token_end(c, key, NULL, 0, 0, false);
}

void cache_token_drop(struct cache *c, const char *key, const char *token)
{
	if (token != NULL)
		token_end(c, key, token, 0, 0, true);
}
