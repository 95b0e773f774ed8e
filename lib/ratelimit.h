/*
 * ratelimit: [limits] requests_per_minute, per caller (or per client
 * address for anonymous callers), counted by all of one host's processes
 * together.
 *
 * A web server runs several processes of each program; a limit counted per
 * process would let a caller through N times as often. The counters live in
 * one segment of shared memory (shm.h: /dev/shm, mode 0600, wiped by the last
 * process to leave) under a robust process-shared mutex; when the segment
 * cannot be used they fall back to private memory (and the log says so).
 *
 * The window slides, as APIM's rate-limit-by-key does, and is exact to the
 * second: each key keeps a count for each of the last 61 seconds (this one
 * and the 60 before), and a request is allowed while their sum is below the
 * limit. So no 60 s span ever holds more than limit allowed requests,
 * whatever the timing (a request counts for 60 to 61 s; an estimate from
 * two fixed minutes, as Cloudflare's, lets a burst through when the
 * previous minute's requests came at its end). Refused requests are not
 * counted, so a client that keeps knocking gets in again on time.
 *
 * Keys are hashed (SHA-256) before they are stored: the segment holds no
 * caller name or address. The table has RATELIMIT_SLOTS slots; a key is
 * looked for among RATELIMIT_PROBE of them, and when all are busy the one
 * idle longest is taken over (its caller's count starts again: a flood of
 * addresses can make the limit lenient, never refuse a caller wrongly).
 */
#ifndef KVGATE_RATELIMIT_H
#define KVGATE_RATELIMIT_H

#include <stdbool.h>

#define RATELIMIT_SLOTS 8192
#define RATELIMIT_PROBE 32
#define RATELIMIT_WINDOW_MS 60000L

struct ratelimit;

/*
 * Open the limiter for limit requests per minute (0: off; every request is
 * allowed and nothing is mapped). Processes that pass the same scope (the
 * policy file) and limit share one segment when shared is true. Returns
 * NULL only when out of memory.
 */
struct ratelimit *ratelimit_open(long limit, const char *scope, bool shared);

/* Leave the limiter; the last process wipes and removes the segment.
 * Accepts NULL. */
void ratelimit_close(struct ratelimit *rl);

/* Leave the shared segment (the last process out wipes and removes it),
 * keeping the structure: safe in a signal handler. Accepts NULL. */
void ratelimit_leave(struct ratelimit *rl);

/* Whether the counters are shared with other processes. */
bool ratelimit_is_shared(const struct ratelimit *rl);

/*
 * Count one request for key (a caller id or "addr:" and the client
 * address). Returns true when it is allowed. When it is not, *retry_after
 * (may be NULL) is the number of whole seconds, at least 1, after which
 * one request will be allowed again. Always true when rl is NULL or off.
 */
bool ratelimit_take(struct ratelimit *rl, const char *key, long *retry_after);

/* For tests: the clock, in milliseconds (monotonic by default). */
void ratelimit_set_clock(struct ratelimit *rl, long (*now_ms)(void));

#endif
