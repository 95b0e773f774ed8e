/*
 * shm.c: shared memory segments made and retired safely. See shm.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

#define SHM_MAGIC 0x6b76736du /* "kvsm" */
/* The header is padded so that the caller's data is aligned for anything. */
#define SHM_HDR 64

struct shm_hdr {
	uint32_t magic;
	uint32_t dead; /* set by the last process to leave, before the unlink */
	uint64_t size; /* of the caller's data */
};
_Static_assert(sizeof(struct shm_hdr) <= SHM_HDR, "shm header fits its padding");

struct shm {
	struct shm_hdr *h;
	size_t len; /* mapped: header and data */
	int fd;     /* holds the shared lock; -1 once left */
	bool left;  /* shm_leave() ran */
	char path[96];
};

int shm_mutex_init(pthread_mutex_t *m, bool shared)
{
	pthread_mutexattr_t a;
	int rc;

	if (pthread_mutexattr_init(&a) != 0)
		return -1;
	rc = pthread_mutexattr_setpshared(&a, shared ? PTHREAD_PROCESS_SHARED
	                                             : PTHREAD_PROCESS_PRIVATE);
	if (rc == 0)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (rc == 0)
		rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc == 0 ? 0 : -1;
}

void *shm_data(struct shm *s)
{
	return (char *)s->h + SHM_HDR;
}

/*
 * Make the segment under a temporary name, initialise it, and link it
 * into place. Returns its descriptor, -2 when another process published
 * one first (open that instead), or -1.
 */
static int create(const char *path, size_t len, int (*init)(void *, void *), void *arg)
{
	char tmp[160];
	struct shm_hdr *h;
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)len) != 0)
		goto fail;
	h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		goto fail;
	h->size = len - SHM_HDR;
	rc = init((char *)h + SHM_HDR, arg);
	if (rc == 0)
		__atomic_store_n(&h->magic, SHM_MAGIC, __ATOMIC_RELEASE);
	munmap(h, len);
	if (rc != 0)
		goto fail;
	if (link(tmp, path) != 0) {
		rc = errno == EEXIST ? -2 : -1;
		unlink(tmp);
		close(fd);
		return rc;
	}
	unlink(tmp);
	return fd;
fail:
	unlink(tmp);
	close(fd);
	return -1;
}

/* One attempt: 1 joined, 0 try again (dead, or just made by another), -1
 * unusable (why says so). */
static int try_join(struct shm *s, int (*init)(void *, void *), bool (*check)(const void *, void *),
                    void *arg, char *why, size_t wlen)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(s->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && (fd = create(s->path, s->len, init, arg)) == -2)
		return 0;
	if (fd < 0) {
		snprintf(why, wlen, "cannot open %s: %s", s->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "%s is not owned by this user with mode 0600", s->path);
		close(fd);
		return -1;
	}
	if ((size_t)st.st_size != s->len) {
		snprintf(why, wlen, "%s has another size", s->path);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_SH) != 0 ||
	    (p = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		snprintf(why, wlen, "cannot map %s: %s", s->path, strerror(errno));
		close(fd);
		return -1;
	}
	(void)madvise(p, s->len, MADV_DONTDUMP);
	s->h = p;
	if (__atomic_load_n(&s->h->dead, __ATOMIC_ACQUIRE)) {
		/* Its last user left just after we opened it. */
		munmap(p, s->len);
		s->h = NULL;
		close(fd);
		return 0;
	}
	if (__atomic_load_n(&s->h->magic, __ATOMIC_ACQUIRE) != SHM_MAGIC ||
	    s->h->size != s->len - SHM_HDR || !check((char *)p + SHM_HDR, arg)) {
		snprintf(why, wlen, "%s is not this configuration's segment", s->path);
		munmap(p, s->len);
		s->h = NULL;
		close(fd);
		return -1;
	}
	s->fd = fd;
	return 1;
}

struct shm *shm_join(const char *name, size_t size, int (*init)(void *data, void *arg),
                     bool (*check)(const void *data, void *arg), void *arg, char *why, size_t wlen)
{
	struct shm *s = calloc(1, sizeof(*s));
	int rc = 0;

	if (s == NULL) {
		snprintf(why, wlen, "out of memory");
		return NULL;
	}
	s->fd = -1;
	s->len = SHM_HDR + size;
	snprintf(s->path, sizeof(s->path), "/dev/shm%s", name);
	for (int tries = 0; tries < 5 && (rc = try_join(s, init, check, arg, why, wlen)) == 0;
	     tries++)
		;
	if (rc != 1) {
		if (rc == 0)
			snprintf(why, wlen, "%s kept being retired while joining it", s->path);
		free(s);
		return NULL;
	}
	return s;
}

/*
 * Leave the segment: first drop this process's own shared lock (through a
 * second descriptor of the same file), so that processes leaving together,
 * as when the web server stops, do not each keep the others from being
 * last; then try for the exclusive lock for up to 200 ms (mod_fcgid stops
 * its processes a little apart: 50 ms left the segment behind now and
 * then). Only system calls and the caller's wipe: safe in a signal
 * handler. The mapping stays until shm_close().
 */
void shm_leave(struct shm *s, void (*wipe)(void *data, void *arg), void *arg)
{
	const struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
	struct stat a, b;
	int fd2;

	if (s == NULL || s->left)
		return;
	s->left = true;
	fd2 = open(s->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd2 >= 0 && (fstat(fd2, &a) != 0 || fstat(s->fd, &b) != 0 || a.st_ino != b.st_ino ||
	                 a.st_dev != b.st_dev)) {
		close(fd2); /* the name is another segment's now */
		fd2 = -1;
	}
	/* Unlock explicitly: the mapping keeps the file open, and with it the
	 * lock, after close(). */
	flock(s->fd, LOCK_UN);
	close(s->fd);
	s->fd = -1;
	if (fd2 < 0)
		return;
	for (int i = 0; i < 20; i++) {
		if (flock(fd2, LOCK_EX | LOCK_NB) == 0) {
			if (!__atomic_load_n(&s->h->dead, __ATOMIC_ACQUIRE)) {
				if (wipe != NULL)
					wipe(shm_data(s), arg);
				__atomic_store_n(&s->h->dead, 1, __ATOMIC_RELEASE);
				if (stat(s->path, &b) == 0 && b.st_ino == a.st_ino &&
				    b.st_dev == a.st_dev)
					unlink(s->path);
			}
			break;
		}
		nanosleep(&pause, NULL);
	}
	close(fd2);
}

void shm_close(struct shm *s, void (*wipe)(void *data, void *arg), void *arg)
{
	if (s == NULL)
		return;
	shm_leave(s, wipe, arg);
	munmap(s->h, s->len);
	free(s);
}
