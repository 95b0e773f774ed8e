/*
 * canned.h: a tiny HTTP/1.1 server for the unit tests of the upstream
 * clients (http, identity, kv), in the manner of curl's test servers: each
 * request gets the next reply of a script the test wrote, and the exact
 * request is logged for the test to check.
 *
 * The server runs in a forked child on 127.0.0.1 (plain http:// to loopback
 * is what http_url_allowed() permits). It serves one connection at a time and
 * keeps it open between requests, as a real server would, so a test can see
 * whether the client reused it. Requests whose path contains "/oauth2/" take
 * their reply from the token script, all others from the main script; past
 * the end of a script the answer is 599, which no test expects.
 *
 * Every request is written to DIR/req.N (N counts from 0 over both scripts)
 * before the reply is sent, and the number of accepted connections to
 * DIR/accepts, so the parent can read them once its call has returned.
 */
#ifndef KVGATE_CANNED_H
#define KVGATE_CANNED_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Every helper is static (each test is one program) and may go unused. */
#define CANNED_API static __attribute__((unused))

/* Cap on a logged request: the tests send a few KB at most. */
#define CANNED_REQUEST_MAX (256 * 1024)

struct canned_reply {
	int status;
	const char *headers; /* extra lines, each "Name: value\r\n"; NULL for none */
	const char *body;    /* NULL for an empty body */
	int delay_ms;        /* wait this long before answering */
	int no_length;       /* no Content-Length: the body ends when the connection closes */
	int close;           /* close the connection after answering */
};

struct canned_server {
	pid_t pid;
	int port;
	char dir[64]; /* where req.N and accepts are written */
};

/* Sleep ms milliseconds. */
CANNED_API void canned_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Write the whole of p to fd, ignoring errors (the client may be gone). */
CANNED_API void canned_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

/* Write the file dir/name with n bytes of p. */
CANNED_API void canned_put_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return;
	canned_write_all(fd, p, n);
	close(fd);
}

/* The value of Content-Length in the header block hdr, 0 when absent. */
CANNED_API size_t canned_content_length(const char *hdr)
{
	const char *p = hdr;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return (size_t)strtoul(p + 15, NULL, 10);
	}
	return 0;
}

/* Send reply r on connection fd. */
CANNED_API void canned_send(int fd, const struct canned_reply *r)
{
	char head[4096];
	size_t blen = r->body != NULL ? strlen(r->body) : 0;
	int n;

	if (r->delay_ms > 0)
		canned_sleep_ms(r->delay_ms);
	if (r->no_length)
		n = snprintf(head, sizeof(head),
		             "HTTP/1.1 %d Canned\r\nConnection: close\r\n%s\r\n", r->status,
		             r->headers != NULL ? r->headers : "");
	else
		n = snprintf(head, sizeof(head),
		             "HTTP/1.1 %d Canned\r\nContent-Length: %zu\r\n%s%s\r\n", r->status,
		             blen, r->close ? "Connection: close\r\n" : "",
		             r->headers != NULL ? r->headers : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	canned_write_all(fd, head, (size_t)n);
	canned_write_all(fd, r->body, blen);
}

/*
 * The child: accept, read requests (header block and Content-Length body),
 * log each, answer from the script. Never returns.
 */
CANNED_API void canned_serve(int lfd, const char *dir, const struct canned_reply *main_script,
                             size_t nmain, const struct canned_reply *token_script, size_t ntoken)
{
	static const struct canned_reply exhausted = {599, NULL, "script exhausted", 0, 0, 1};
	static char buf[CANNED_REQUEST_MAX + 1];
	size_t imain = 0, itoken = 0, have, need, clen;
	int accepts = 0, nreq = 0, fd;
	char name[32], count[16];
	const struct canned_reply *r;
	char *end;
	ssize_t got;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		accepts++;
		snprintf(count, sizeof(count), "%d", accepts);
		canned_put_file(dir, "accepts", count, strlen(count));
		have = 0;
		for (;;) {
			buf[have] = '\0';
			end = strstr(buf, "\r\n\r\n");
			need =
			    end != NULL ? (size_t)(end + 4 - buf) + canned_content_length(buf) : 0;
			if (end == NULL || have < need) {
				if (have >= CANNED_REQUEST_MAX)
					break;
				got = read(fd, buf + have, CANNED_REQUEST_MAX - have);
				if (got < 0 && errno == EINTR)
					continue;
				if (got <= 0)
					break;
				have += (size_t)got;
				continue;
			}
			clen = need;
			snprintf(name, sizeof(name), "req.%d", nreq++);
			canned_put_file(dir, name, buf, clen);
			/* Route on the request line only. */
			end = strstr(buf, "\r\n");
			if (memmem(buf, (size_t)(end - buf), "/oauth2/", 8) != NULL)
				r = itoken < ntoken ? &token_script[itoken++] : &exhausted;
			else
				r = imain < nmain ? &main_script[imain++] : &exhausted;
			canned_send(fd, r);
			memmove(buf, buf + clen, have - clen);
			have -= clen;
			if (r->close || r->no_length)
				break;
		}
		close(fd);
	}
}

/*
 * Start a server with the two scripts (either may be NULL with n 0). The
 * scripts must stay alive until canned_stop(). Returns 0, or -1 with a
 * message on stderr.
 */
CANNED_API int canned_start(struct canned_server *s, const struct canned_reply *main_script,
                            size_t nmain, const struct canned_reply *token_script, size_t ntoken)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int lfd, one = 1;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/kvgate-canned-XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
		perror("canned listen");
		return -1;
	}
	s->port = ntohs(a.sin_port);
	fflush(stdout);
	fflush(stderr);
	if ((s->pid = fork()) < 0) {
		perror("fork");
		close(lfd);
		return -1;
	}
	if (s->pid == 0) {
		canned_serve(lfd, s->dir, main_script, nmain, token_script, ntoken);
		_exit(0);
	}
	close(lfd);
	return 0;
}

/* Stop the server and remove its log. */
CANNED_API void canned_stop(struct canned_server *s)
{
	char path[400];
	struct dirent *d;
	DIR *dir;

	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if ((dir = opendir(s->dir)) != NULL) {
		while ((d = readdir(dir)) != NULL) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", s->dir, d->d_name);
			unlink(path);
		}
		closedir(dir);
	}
	rmdir(s->dir);
}

/* The contents of dir/name (malloc'd, NUL-terminated), or NULL. */
CANNED_API char *canned_read_file(const char *dir, const char *name)
{
	char path[128], *p;
	struct stat st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || (p = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(p, 1, (size_t)st.st_size, f);
	p[n] = '\0';
	fclose(f);
	return p;
}

/* Request n as received (malloc'd), or NULL when there was none. */
CANNED_API char *canned_request(const struct canned_server *s, int n)
{
	char name[32];

	snprintf(name, sizeof(name), "req.%d", n);
	return canned_read_file(s->dir, name);
}

/* How many requests the server has received. */
CANNED_API int canned_count(const struct canned_server *s)
{
	char *p;
	int n = 0;

	while ((p = canned_request(s, n)) != NULL) {
		free(p);
		n++;
	}
	return n;
}

/* How many requests had needle in their request line. */
CANNED_API int canned_count_matching(const struct canned_server *s, const char *needle)
{
	int i, n = canned_count(s), hits = 0;
	char *p, *eol;

	for (i = 0; i < n; i++) {
		if ((p = canned_request(s, i)) == NULL)
			continue;
		if ((eol = strstr(p, "\r\n")) != NULL)
			*eol = '\0';
		if (strstr(p, needle) != NULL)
			hits++;
		free(p);
	}
	return hits;
}

/* How many connections the server has accepted. */
CANNED_API int canned_accepts(const struct canned_server *s)
{
	char *p = canned_read_file(s->dir, "accepts");
	int n = p != NULL ? atoi(p) : 0;

	free(p);
	return n;
}

/* A port on 127.0.0.1 nothing listens on (bound, then released). */
CANNED_API int canned_dead_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd, port = 0;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Milliseconds on the monotonic clock. */
CANNED_API long canned_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
