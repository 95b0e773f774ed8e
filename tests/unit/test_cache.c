/*
 * test_cache.c: the vault's answers, cached (lib/cache.c). Pins down, in a
 * private cache with a test clock: hits within ttl and misses after it,
 * names ignoring case, versions and pages apart, "not found" remembered
 * negative_ttl, refresh ahead in the last tenth of ttl continuing the old
 * answer's schedule, stale answers attached within stale_if_error only,
 * least recently used eviction at max_entries, answers too big refused,
 * bytes wiped when dropped, and ttl 0 caching nothing. Then, across real
 * processes sharing one segment: one fetch for many concurrent misses
 * (collapsed), a failed fetch reaching its waiters, a lease whose process
 * died taken over, a process dying holding the mutex, a segment someone
 * else could read refused, and the last process out removing the segment.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../lib/cache.c"
#include "tap.h"

static long fake_now = 1000000;

static long fake_clock(void)
{
	return fake_now;
}

static struct cache_config config(long ttl, const char *scope, bool shared)
{
	struct cache_config cfg = {.ttl = ttl,
	                           .negative_ttl = 10,
	                           .stale_if_error = 300,
	                           .max_entries = 16,
	                           .shared = shared,
	                           .scope = scope};
	return cfg;
}

/* Look up and fill at once when asked to fetch: the state seen. */
static enum cache_state get(struct cache *c, const char *name, const char *version,
                            const char *fill, char *seen, size_t seen_len)
{
	struct cache_result r;
	enum cache_state st;

	cache_lookup(c, CACHE_SECRET, name, version, c->now() + 1000, &r);
	st = r.state;
	if (seen != NULL)
		snprintf(seen, seen_len, "%s", r.data ? r.data : "");
	if (st == CACHE_FETCH && fill != NULL)
		cache_fill(&r, fill, strlen(fill));
	cache_done(&r);
	return st;
}

static void private_tests(void)
{
	struct cache_config cfg = config(60, "private", false);
	struct cache *c = cache_open(&cfg);
	struct cache_result r;
	struct cache_stats st;
	char seen[256], name[32], *big;
	size_t zero;

	cache_set_clock(c, fake_clock);
	ok(c != NULL && !cache_is_shared(c), "a private cache opens");
	ok(get(c, "Public-S", "", "{\"value\":\"one\"}", NULL, 0) == CACHE_FETCH,
	   "the first lookup asks the caller to fetch");
	ok(get(c, "public-s", "", NULL, seen, sizeof(seen)) == CACHE_HIT &&
	       strcmp(seen, "{\"value\":\"one\"}") == 0,
	   "the next lookup hits, with the name in another case");
	ok(get(c, "public-s", "0123456789abcdef0123456789abcdef", NULL, NULL, 0) == CACHE_FETCH,
	   "a version is cached apart from the latest");
	cache_lookup(c, CACHE_PAGE, "public-s", "", fake_now + 1000, &r);
	ok(r.state == CACHE_FETCH, "a list page is cached apart from a secret of the same name");
	cache_done(&r);

	fake_now += 53000; /* 53 s: not yet in the last 5 s (a tenth, at most 5 s) */
	cache_lookup(c, CACHE_SECRET, "public-s", "", fake_now + 1000, &r);
	ok(r.state == CACHE_HIT && !r.refresh, "53 s into a 60 s ttl: a plain hit");
	cache_done(&r);
	fake_now += 2000; /* 55 s */
	cache_lookup(c, CACHE_SECRET, "public-s", "", fake_now + 1000, &r);
	ok(r.state == CACHE_HIT && r.refresh, "55 s: a hit that takes the refresh ahead");
	{
		struct cache_result r2;

		cache_lookup(c, CACHE_SECRET, "public-s", "", fake_now + 1000, &r2);
		ok(r2.state == CACHE_HIT && !r2.refresh,
		   "while a refresh is under way, others just hit");
		cache_done(&r2);
	}
	fake_now += 100;
	cache_fill(&r, "{\"value\":\"two\"}", 15);
	cache_done(&r);
	fake_now += 6000; /* 61.1 s after the first fetch */
	ok(get(c, "public-s", "", NULL, seen, sizeof(seen)) == CACHE_HIT &&
	       strcmp(seen, "{\"value\":\"two\"}") == 0,
	   "past the old ttl the refreshed answer serves");
	fake_now += 54000; /* 115.1 s: the refreshed answer's ttl ran from 60 s */
	cache_lookup(c, CACHE_SECRET, "public-s", "", fake_now + 1000, &r);
	ok(r.state == CACHE_HIT && r.refresh,
	   "the refreshed answer's ttl continues the old one's (one read per ttl)");
	cache_done(&r); /* given up: the lease goes back */
	cache_lookup(c, CACHE_SECRET, "public-s", "", fake_now + 1000, &r);
	ok(r.state == CACHE_HIT && r.refresh, "a refresh given up can be taken again");
	cache_done(&r);

	fake_now += 10000; /* expired, within stale_if_error */
	cache_lookup(c, CACHE_SECRET, "public-s", "", fake_now + 1000, &r);
	ok(r.state == CACHE_FETCH && r.data != NULL && strcmp(r.data, "{\"value\":\"two\"}") == 0,
	   "an expired answer asks for a fetch and comes along as stale");
	{
		struct kv_error e = {.err = KV_EUNAVAILABLE, .retry_after = -1};

		ok(cache_stale_ok(&e), "an unavailable vault may be answered stale");
		cache_fail(&r, &e);
	}
	cache_done(&r);
	cache_lookup(c, CACHE_SECRET, "public-s", "", fake_now + 1000, &r);
	ok(r.state == CACHE_FETCH && r.data != NULL, "a failed fetch keeps the stale answer");
	cache_done(&r);
	fake_now += 301000;
	cache_lookup(c, CACHE_SECRET, "public-s", "", fake_now + 1000, &r);
	ok(r.state == CACHE_FETCH && r.data == NULL,
	   "past stale_if_error nothing stale comes along");
	cache_done(&r);
	{
		struct kv_error e = {.err = KV_EFORBIDDEN, .retry_after = -1};
		struct kv_error e2 = {.err = KV_ENOTFOUND, .retry_after = -1};

		ok(!cache_stale_ok(&e) && !cache_stale_ok(&e2),
		   "a refusal or a missing secret is never answered stale");
	}

	ok(get(c, "gone", "", NULL, NULL, 0) == CACHE_FETCH, "a missing secret is fetched");
	cache_lookup(c, CACHE_SECRET, "gone", "", fake_now + 1000, &r);
	cache_fill_negative(&r);
	cache_done(&r);
	ok(get(c, "gone", "", NULL, NULL, 0) == CACHE_NEGATIVE, "then remembered as not found");
	fake_now += 10000;
	ok(get(c, "gone", "", NULL, NULL, 0) == CACHE_FETCH,
	   "and fetched again after negative_ttl");

	/* LRU: 16 slots. */
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		get(c, name, "", "{\"value\":\"x\"}", NULL, 0);
	}
	ok(get(c, "n0", "", NULL, NULL, 0) == CACHE_HIT, "n0 is cached");
	get(c, "newcomer", "", "{\"value\":\"new\"}", NULL, 0);
	ok(get(c, "newcomer", "", NULL, NULL, 0) == CACHE_HIT, "a new entry enters a full cache");
	ok(get(c, "n0", "", NULL, NULL, 0) == CACHE_HIT, "the recently used entry survives");
	ok(get(c, "n1", "", NULL, NULL, 0) == CACHE_FETCH, "the least recently used one went");
	cache_get_stats(c, &st);
	ok(st.evictions >= 1, "evictions are counted (%llu)", (unsigned long long)st.evictions);

	big = malloc(CACHE_ENTRY_MAX + 2);
	memset(big, 'x', CACHE_ENTRY_MAX + 1);
	big[CACHE_ENTRY_MAX + 1] = '\0';
	ok(get(c, "big", "", big, NULL, 0) == CACHE_FETCH &&
	       get(c, "big", "", NULL, NULL, 0) == CACHE_FETCH,
	   "an answer over CACHE_ENTRY_MAX is not cached");
	big[CACHE_ENTRY_MAX - 10] = '\0';
	ok(get(c, "big2", "", big, NULL, 0) == CACHE_FETCH &&
	       get(c, "big2", "", NULL, seen, sizeof(seen)) == CACHE_HIT,
	   "an answer just under CACHE_ENTRY_MAX is, across many chunks");
	free(big);

	/* Wiped when dropped: every chunk ever used is zero after the
	 * entries holding a marker are gone. */
	get(c, "wipe", "", "{\"value\":\"wipe-me-marker\"}", NULL, 0);
	fake_now += 10000000; /* everything is spent */
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "z%d", i);
		get(c, name, "", "", NULL, 0); /* empty answers: no chunks */
	}
	zero = 0;
	for (size_t i = 0; i < (size_t)c->h->chunk_top * CHUNK; i++)
		zero += c->chunks[i] == 0;
	ok(zero == (size_t)c->h->chunk_top * CHUNK && c->h->chunk_top > 0,
	   "dropped answers' bytes are wiped (%u chunks)", c->h->chunk_top);
	cache_close(c);
	cache_close(NULL);
	ok(1, "cache_close accepts NULL");

	cfg.ttl = 0;
	c = cache_open(&cfg);
	ok(get(c, "s", "", "{}", NULL, 0) == CACHE_OFF &&
	       get(c, "s", "", NULL, NULL, 0) == CACHE_OFF,
	   "ttl 0 caches nothing");
	cache_close(c);
}

/* ---- across processes ---------------------------------------------- */

static char scope[128];

/* A child: open the shared cache, look the key up once; when asked to
 * fetch, wait ms then fill (or fail when fail is set, or die holding the
 * lease when die is set). Exit status: the state seen, +10 when collapsed. */
static pid_t child(const char *key, long ms, int fail, int die)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct cache_config cfg = config(60, scope, true);
		struct cache *c = cache_open(&cfg);
		struct cache_result r;
		int code;

		if (!cache_is_shared(c))
			_exit(99);
		cache_lookup(c, CACHE_SECRET, key, "", mono_ms() + 5000, &r);
		code = (int)r.state + (r.collapsed ? 10 : 0);
		if (r.state == CACHE_FETCH) {
			mono_sleep_ms(ms);
			if (die)
				_exit(code);
			if (fail) {
				struct kv_error e = {.err = KV_ETHROTTLED, .retry_after = 7};

				cache_fail(&r, &e);
			} else {
				cache_fill(&r, "{\"value\":\"shared\"}", 18);
			}
		}
		if (r.state == CACHE_FAILED && r.error.err == KV_ETHROTTLED &&
		    r.error.retry_after == 7)
			code += 20;
		cache_done(&r);
		cache_close(c);
		_exit(code);
	}
	return pid;
}

static int status_of(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void shared_tests(void)
{
	struct cache_config cfg;
	struct cache *holder, *c;
	pid_t pids[8];
	int fetches, collapsed, hits, failed, code;
	char path[160], seen[64];
	struct stat st;
	struct cache_stats stats;

	snprintf(scope, sizeof(scope), "test %ld %ld", (long)getpid(), mono_ms());
	cfg = config(60, scope, true);
	/* A process that stays for the whole test, like a long-lived one. */
	holder = cache_open(&cfg);
	ok(holder != NULL && cache_is_shared(holder), "a shared cache opens (%s)", holder->name);
	snprintf(path, sizeof(path), "/dev/shm%s", holder->name);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_uid == geteuid(),
	   "its segment is the user's, mode 0600");

	/* Eight processes miss the same secret at once: one fetch. */
	for (int i = 0; i < 8; i++)
		pids[i] = child("hot", 300, 0, 0);
	fetches = collapsed = hits = 0;
	for (int i = 0; i < 8; i++) {
		code = status_of(pids[i]);
		fetches += code == CACHE_FETCH;
		hits += code % 10 == CACHE_HIT;
		collapsed += code == CACHE_HIT + 10;
	}
	ok(fetches == 1 && hits == 7, "8 concurrent misses make 1 fetch, 7 hits (%d, %d)", fetches,
	   hits);
	ok(collapsed >= 1, "the hits waited for that fetch (%d collapsed)", collapsed);
	ok(get(holder, "hot", "", NULL, seen, sizeof(seen)) == CACHE_HIT &&
	       strcmp(seen, "{\"value\":\"shared\"}") == 0,
	   "another process sees the answer one process fetched");

	/* A failed fetch reaches those waiting for it. */
	for (int i = 0; i < 4; i++)
		pids[i] = child("down", 300, 1, 0);
	fetches = failed = 0;
	for (int i = 0; i < 4; i++) {
		code = status_of(pids[i]);
		fetches += code == CACHE_FETCH;
		failed += code == CACHE_FAILED + 10 + 20;
	}
	ok(fetches == 1 && failed == 3,
	   "a failed fetch fails its 3 waiters alike, with its error (%d, %d)", fetches, failed);

	/* A process dies holding the lease: another takes over at once. */
	pids[0] = child("orphan", 0, 0, 1);
	ok(status_of(pids[0]) == CACHE_FETCH, "a process takes the lease and dies");
	{
		long t0 = mono_ms();
		struct cache_result r;

		cache_lookup(holder, CACHE_SECRET, "orphan", "", mono_ms() + 5000, &r);
		ok(r.state == CACHE_FETCH && mono_ms() - t0 < 2000,
		   "the dead holder's lease is taken over well before it ends (%ld ms)",
		   mono_ms() - t0);
		cache_done(&r);
	}

	/* A process dies holding the mutex: the next one empties the cache. */
	pids[0] = fork();
	if (pids[0] == 0) {
		struct cache *cc = cache_open(&cfg);

		pthread_mutex_lock(&cc->h->lock);
		_exit(0);
	}
	status_of(pids[0]);
	ok(get(holder, "hot", "", NULL, NULL, 0) == CACHE_FETCH,
	   "after a process died holding the lock, the cache starts empty");
	cache_get_stats(holder, &stats);
	ok(stats.resets == 1, "and the reset is counted");
	ok(get(holder, "hot", "", "{\"value\":\"again\"}", NULL, 0) == CACHE_FETCH &&
	       get(holder, "hot", "", NULL, NULL, 0) == CACHE_HIT,
	   "and works again");

	/* Access tokens: six processes without one, one fetch. */
	for (int i = 0; i < 6; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct cache *cc = cache_open(&cfg);
			char *tok = NULL;
			long ra = 0, vu = 0;
			enum cache_token_state ts;
			int rc;

			ts = cache_token_get(cc, "cred\nurl", 1000, mono_ms() + 5000, &tok, &ra,
			                     &vu);
			rc = (int)ts;
			if (ts == CACHE_TOKEN_FETCH) {
				mono_sleep_ms(300);
				cache_token_put(cc, "cred\nurl", "eyJ.token.one", 4000, 4500);
			} else if (ts == CACHE_TOKEN_FOUND && (strcmp(tok, "eyJ.token.one") != 0 ||
			                                       ra != 4000 || vu != 4500)) {
				rc = 9;
			}
			free(tok);
			cache_close(cc);
			_exit(rc);
		}
	}
	fetches = hits = 0;
	for (int i = 0; i < 6; i++) {
		code = status_of(pids[i]);
		fetches += code == CACHE_TOKEN_FETCH;
		hits += code == CACHE_TOKEN_FOUND;
	}
	ok(fetches == 1 && hits == 5, "6 processes without a token make 1 token fetch (%d, %d)",
	   fetches, hits);
	{
		char *tok = NULL, *tok2 = NULL;
		long ra, vu;

		ok(cache_token_get(holder, "cred\nurl", 3999, mono_ms() + 1000, &tok, &ra, &vu) ==
		           CACHE_TOKEN_FOUND &&
		       strcmp(tok, "eyJ.token.one") == 0,
		   "a valid token not yet due is shared");
		free(tok);
		tok = NULL;
		ok(cache_token_get(holder, "other\nurl", 3999, mono_ms() + 1000, &tok, &ra, &vu) ==
		       CACHE_TOKEN_FETCH,
		   "another credential's token is not");
		cache_token_release(holder, "other\nurl");
		ok(cache_token_get(holder, "cred\nurl", 4100, mono_ms() + 1000, &tok, &ra, &vu) ==
		       CACHE_TOKEN_FETCH,
		   "a token due for refresh: the first process to see it refreshes");
		pids[0] = fork();
		if (pids[0] == 0) {
			struct cache *cc = cache_open(&cfg);
			int r = cache_token_get(cc, "cred\nurl", 4100, mono_ms() + 1000, &tok2, &ra,
			                        &vu);

			cache_close(cc);
			_exit(r);
		}
		ok(status_of(pids[0]) == CACHE_TOKEN_FOUND,
		   "meanwhile the others keep using the valid one");
		cache_token_put(holder, "cred\nurl", "eyJ.token.two", 8000, 8500);
		ok(cache_token_get(holder, "cred\nurl", 4100, mono_ms() + 1000, &tok, &ra, &vu) ==
		           CACHE_TOKEN_FOUND &&
		       strcmp(tok, "eyJ.token.two") == 0 && ra == 8000,
		   "then the refreshed one is shared");
		free(tok);
		tok = NULL;
		cache_token_drop(holder, "cred\nurl", "eyJ.token.one");
		ok(cache_token_get(holder, "cred\nurl", 4100, mono_ms() + 1000, &tok, &ra, &vu) ==
		       CACHE_TOKEN_FOUND,
		   "dropping a token that is no longer the shared one changes nothing");
		free(tok);
		tok = NULL;
		cache_token_drop(holder, "cred\nurl", "eyJ.token.two");
		ok(cache_token_get(holder, "cred\nurl", 4100, mono_ms() + 1000, &tok, &ra, &vu) ==
		       CACHE_TOKEN_FETCH,
		   "a token the vault refused is dropped for every process");
		cache_token_release(holder, "cred\nurl");
		ok(cache_token_get(holder, "cred\nurl", 9000, mono_ms() + 1000, &tok, &ra, &vu) ==
		       CACHE_TOKEN_FETCH,
		   "an expired token is never shared");
		cache_token_put(holder, "cred\nurl", "eyJ.token.three", 12000, 12500);
	}

	/* The last process out removes the segment (and wipes it). */
	c = cache_open(&cfg);
	cache_close(c);
	ok(stat(path, &st) == 0, "a process leaving while another stays keeps the segment");
	cache_close(holder);
	ok(stat(path, &st) != 0 && errno == ENOENT, "the last process out removes it");

	/* A segment anyone else could read is not used. */
	{
		char name[64];
		int fd;

		snprintf(scope, sizeof(scope), "test-foreign %ld %ld", (long)getpid(), mono_ms());
		cfg = config(60, scope, true);
		c = cache_open(&cfg);
		snprintf(name, sizeof(name), "%s", c->name);
		cache_close(c);
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
		fchmod(fd, 0644);
		c = cache_open(&cfg);
		ok(fd >= 0 && c != NULL && !cache_is_shared(c),
		   "a segment readable by others is refused: a private cache instead");
		ok(get(c, "s", "", "{}", NULL, 0) == CACHE_FETCH &&
		       get(c, "s", "", NULL, NULL, 0) == CACHE_HIT,
		   "and the private cache works");
		cache_close(c);
		close(fd);
		shm_unlink(name);
	}
}

int main(void)
{
	private_tests();
	shared_tests();
	return tap_done();
}
