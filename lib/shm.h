/*
 * shm: a segment of POSIX shared memory that the processes of one host
 * share, made and retired safely: the cache's answers and tokens
 * (lib/cache.c) and the rate limiter's counters (lib/ratelimit.c):
 *
 *   - the segment lives in /dev/shm (RAM only), under a name that holds
 *     the user id, and is refused unless this user owns it with mode 0600;
 *   - it is made under a temporary name, initialised, and linked into
 *     place, so that no process ever sees one half made;
 *   - every process holds a shared flock(2) on it while it uses it; the
 *     last one to leave is the only one that gets the exclusive lock, and
 *     it wipes the segment, marks it dead and unlinks the name; a process
 *     that opened the name just before that sees the mark and starts over.
 *
 * The caller's data follows a small header; its layout and any lock inside
 * it are the caller's (a robust process-shared mutex, see shm_mutex_init()).
 */
#ifndef KVGATE_SHM_H
#define KVGATE_SHM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct shm;

/*
 * Join the segment called name ("/kvgate-…", at most 63 bytes) of size
 * bytes of data, making it when there is none: init(data, arg) fills a
 * zeroed segment before it is published, and check(data, arg) must accept
 * a segment another process made (its layout and scope are this
 * caller's). Returns the segment, or NULL with the reason in why (the
 * caller then keeps its state in private memory).
 */
struct shm *shm_join(const char *name, size_t size, int (*init)(void *data, void *arg),
                     bool (*check)(const void *data, void *arg), void *arg, char *why, size_t wlen);

/* The caller's data in the segment. */
void *shm_data(struct shm *s);

/*
 * Leave the segment: the last process to leave calls wipe(data, arg) (may
 * be NULL) before the segment is marked dead and its name removed. Safe in
 * a signal handler (system calls and wipe only); runs once. The data stays
 * mapped until shm_close(). Accepts NULL.
 */
void shm_leave(struct shm *s, void (*wipe)(void *data, void *arg), void *arg);

/* shm_leave() if not done yet, then unmap and release. Accepts NULL. */
void shm_close(struct shm *s, void (*wipe)(void *data, void *arg), void *arg);

/* Initialise a robust mutex, process-shared when shared: a holder that
 * dies makes the next locker get EOWNERDEAD. Returns 0 or -1. */
int shm_mutex_init(pthread_mutex_t *m, bool shared);

#endif
