/*
 * ratelimit.c: per-caller request counters shared by the host's processes.
 * See ratelimit.h.
 *
 * The segment: struct table, then RATELIMIT_SLOTS struct counter. A slot
 * is free when its key is all zeros or its last counted request has left
 * the window (its counts would all be zero anyway).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "mono.h"
#include "ratelimit.h"
#include "sha256.h"
#include "shm.h"

#define RL_MAGIC 0x6b767232u /* "kvr2" */
#define RL_KEY 16            /* bytes of the key's hash kept */
/* One count per second: this one and the RL_SPAN - 1 before it. */
#define RL_SPAN (RATELIMIT_WINDOW_MS / 1000 + 1)

struct counter {
	unsigned char key[RL_KEY];
	int64_t head;        /* s: the newest second in n[] */
	int64_t last;        /* s: the second of the last request counted */
	uint32_t sum;        /* the sum of n[] */
	uint32_t n[RL_SPAN]; /* requests counted in second s, at n[s % RL_SPAN] */
};

struct table {
	uint32_t magic;
	uint32_t nslots;
	int64_t limit;
	unsigned char scope[32];
	pthread_mutex_t lock;
	uint64_t resets;
	struct counter slot[RATELIMIT_SLOTS];
};

struct ratelimit {
	long limit;
	struct table *t;
	struct shm *shm; /* NULL: t is private memory */
	unsigned char scope[32];
	long (*now)(void);
};

static long default_now(void)
{
	return mono_ms();
}

/* What a segment is for: this scope and this limit. */
struct rl_arg {
	const unsigned char *scope;
	long limit;
};

static int table_init(void *data, void *arg)
{
	struct table *t = data;
	const struct rl_arg *a = arg;

	t->nslots = RATELIMIT_SLOTS;
	t->limit = a->limit;
	memcpy(t->scope, a->scope, sizeof(t->scope));
	if (shm_mutex_init(&t->lock, true) != 0)
		return -1;
	t->magic = RL_MAGIC;
	return 0;
}

static bool table_check(const void *data, void *arg)
{
	const struct table *t = data;
	const struct rl_arg *a = arg;

	return t->magic == RL_MAGIC && t->nslots == RATELIMIT_SLOTS && t->limit == a->limit &&
	       memcmp(t->scope, a->scope, sizeof(t->scope)) == 0;
}

/* Forget every counter (the mutex is held, or nobody else can reach t). */
static void table_wipe(void *data, void *arg)
{
	struct table *t = data;

	(void)arg;
	memset(t->slot, 0, sizeof(t->slot));
}

/* The SHA-256 of a key's text: the first RL_KEY bytes name its counter. */
static void digest(const char *text, size_t len, unsigned char out[SHA256_LEN])
{
	sha256(text, len, out);
}

struct ratelimit *ratelimit_open(long limit, const char *scope, bool shared)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	char text[1200], name[64], why[256];
	struct rl_arg a;
	void *p;
	int n;

	if (rl == NULL)
		return NULL;
	rl->limit = limit;
	rl->now = default_now;
	if (limit <= 0)
		return rl;
	n = snprintf(text, sizeof(text), "kvgate ratelimit 2 %d %ld\n%s", RATELIMIT_SLOTS, limit,
	             scope ? scope : "");
	digest(text, n > 0 && (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1, rl->scope);
	a.scope = rl->scope;
	a.limit = limit;
	if (shared) {
		snprintf(name, sizeof(name), "/kvgate-rl-%u-%02x%02x%02x%02x%02x%02x%02x%02x",
		         (unsigned)geteuid(), rl->scope[0], rl->scope[1], rl->scope[2],
		         rl->scope[3], rl->scope[4], rl->scope[5], rl->scope[6], rl->scope[7]);
		rl->shm = shm_join(name, sizeof(struct table), table_init, table_check, &a, why,
		                   sizeof(why));
		if (rl->shm != NULL) {
			rl->t = shm_data(rl->shm);
			return rl;
		}
		log_warn("limits: %s: counting requests per process instead of per host "
		         "(the limit is then per process)",
		         why);
	}
	p = mmap(NULL, sizeof(struct table), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	         -1, 0);
	if (p == MAP_FAILED) {
		free(rl);
		return NULL;
	}
	rl->t = p;
	memset(rl->t, 0, offsetof(struct table, slot));
	rl->t->nslots = RATELIMIT_SLOTS;
	rl->t->limit = limit;
	if (shm_mutex_init(&rl->t->lock, false) != 0) {
		munmap(p, sizeof(struct table));
		free(rl);
		return NULL;
	}
	rl->t->magic = RL_MAGIC;
	return rl;
}

void ratelimit_leave(struct ratelimit *rl)
{
	if (rl != NULL && rl->shm != NULL)
		shm_leave(rl->shm, table_wipe, NULL);
}

void ratelimit_close(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	if (rl->shm != NULL)
		shm_close(rl->shm, table_wipe, NULL);
	else if (rl->t != NULL)
		munmap(rl->t, sizeof(struct table));
	free(rl);
}

bool ratelimit_is_shared(const struct ratelimit *rl)
{
	return rl != NULL && rl->shm != NULL;
}

void ratelimit_set_clock(struct ratelimit *rl, long (*now_ms)(void))
{
	rl->now = now_ms ? now_ms : default_now;
}

/* Move c on to second now: the seconds that left the window stop counting. */
static void roll(struct counter *c, int64_t now)
{
	if (now <= c->head)
		return;
	if (now - c->head >= RL_SPAN) {
		memset(c->n, 0, sizeof(c->n));
		c->sum = 0;
	} else {
		for (int64_t s = c->head + 1; s <= now; s++) {
			c->sum -= c->n[s % RL_SPAN];
			c->n[s % RL_SPAN] = 0;
		}
	}
	c->head = now;
}

/* Whole seconds from second now until one more request fits under limit:
 * the oldest seconds leave one by one (c rolled to now). */
static long wait_for(const struct counter *c, int64_t now, long limit)
{
	uint32_t sum = c->sum;
	long k;

	for (k = 1; k < RL_SPAN; k++) {
		sum -= c->n[(now - RL_SPAN + k) % RL_SPAN];
		if ((long)sum < limit)
			return k;
	}
	return RL_SPAN;
}

static bool is_free(const struct counter *c, int64_t now)
{
	static const unsigned char zero[RL_KEY];

	return memcmp(c->key, zero, RL_KEY) == 0 || now - c->last >= RL_SPAN;
}

bool ratelimit_take(struct ratelimit *rl, const char *key, long *retry_after)
{
	unsigned char h[32];
	struct table *t;
	struct counter *c = NULL, *spare = NULL;
	int64_t now;
	uint32_t start;
	bool ok;
	int rc;

	if (retry_after != NULL)
		*retry_after = 0;
	if (rl == NULL || rl->limit <= 0 || rl->t == NULL)
		return true;
	t = rl->t;
	digest(key, strlen(key), h);
	/* A key hashing to all zeros would look free: nudge it. */
	h[0] |= 1;
	start = ((uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 | h[19]) %
	        RATELIMIT_SLOTS;
	/* In seconds. The clock starts far from zero, so that an empty slot
	 * (last 0) is long idle. */
	now = ((int64_t)rl->now() + 10 * RATELIMIT_WINDOW_MS) / 1000;

	rc = pthread_mutex_lock(&t->lock);
	if (rc == EOWNERDEAD) {
		/* A process died while changing a counter: start afresh. */
		table_wipe(t, NULL);
		t->resets++;
		pthread_mutex_consistent(&t->lock);
		log_warn("limits: a process died while counting: the counters restart");
	} else if (rc != 0) {
		return true; /* an unusable lock must not take the gateway down */
	}
	for (uint32_t i = 0; i < RATELIMIT_PROBE; i++) {
		struct counter *s = &t->slot[(start + i) % RATELIMIT_SLOTS];

		if (memcmp(s->key, h, RL_KEY) == 0 && !is_free(s, now)) {
			c = s;
			break;
		}
		if (spare == NULL ||
		    (!is_free(spare, now) && (is_free(s, now) || s->last < spare->last)))
			spare = s;
	}
	if (c == NULL) {
		c = spare;
		memset(c, 0, sizeof(*c));
		memcpy(c->key, h, RL_KEY);
		c->head = now;
	}
	roll(c, now);
	ok = (long)c->sum < rl->limit;
	if (ok) {
		c->n[now % RL_SPAN]++;
		c->sum++;
		c->last = now;
	} else if (retry_after != NULL) {
		*retry_after = wait_for(c, now, rl->limit);
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}
