/*
 * fetch.c: the program's side of kvgate-fetch, and the wire format both
 * sides use. See fetch.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "log.h"
#include "mono.h"
#include "sha256.h"

#define ABSENT 0xffffffffu

/* The process-wide setting (programs are single-threaded). */
static struct {
	bool on;
	char exe[PATH_MAX];
	char name[FETCH_NAME_MAX];
} fetch;

/*
 * Environment variables the helper keeps: what libcurl and OpenSSL read
 * (proxies, CA locations), the log level, and the sanitizers' options. Not
 * HTTP_PROXY: in CGI that is the request's own Proxy header. Everything
 * else (KVGATE_CONFIG, AZURE_CLIENT_SECRET, ...) stays behind: the helper
 * needs no credential, and holds none between calls.
 */
static const char *const kept_env[] = {
    "http_proxy",   "https_proxy",     "HTTPS_PROXY",   "all_proxy",     "ALL_PROXY",
    "no_proxy",     "NO_PROXY",        "SSL_CERT_FILE", "SSL_CERT_DIR",  "CURL_CA_BUNDLE",
    "OPENSSL_CONF", "KVGATE_LOG_LEVEL", "TZ",           "ASAN_OPTIONS",  "UBSAN_OPTIONS",
    "LSAN_OPTIONS", NULL,
};

void fetch_name(const char *exe, const char *scope, char out[FETCH_NAME_MAX])
{
	unsigned char d[SHA256_LEN];
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, exe, strlen(exe) + 1);
	sha256_update(&c, scope, strlen(scope));
	sha256_final(&c, d);
	snprintf(out, FETCH_NAME_MAX, "kvgate-fetch-%u-%02x%02x%02x%02x%02x%02x%02x%02x",
	         (unsigned)geteuid(), d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
}

int fetch_configure(const char *exe, const char *scope)
{
	if (exe == NULL) {
		fetch.on = false;
		return 0;
	}
	if (strlen(exe) >= sizeof(fetch.exe))
		return -1;
	strcpy(fetch.exe, exe);
	fetch_name(exe, scope != NULL ? scope : "", fetch.name);
	fetch.on = true;
	return 0;
}

bool fetch_enabled(void)
{
	return fetch.on;
}

/* kvgate-fetch in the directory of path, in out. 0, or -1 when path has
 * no directory or out is too small. */
static int beside(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	int len;

	if (slash == NULL)
		return -1;
	len = snprintf(out, n, "%.*s/kvgate-fetch", (int)(slash - path), path);
	return len > 0 && (size_t)len < n ? 0 : -1;
}

/*
 * The helper next to the running program: beside /proc/self/exe, else
 * beside argv[0] (a program started by a wrapper, valgrind for one, runs
 * as the wrapper's executable). The first that exists wins; when none
 * does, out names the first place looked.
 */
int fetch_default_exe(char *out, size_t n)
{
	extern char *program_invocation_name;
	char self[PATH_MAX], alt[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int rc = -1;

	if (len > 0) {
		self[len] = '\0';
		rc = beside(self, out, n);
	}
	if ((rc != 0 || access(out, X_OK) != 0) && program_invocation_name != NULL &&
	    beside(program_invocation_name, alt, sizeof(alt)) == 0 && access(alt, X_OK) == 0 &&
	    strlen(alt) < n) {
		strcpy(out, alt);
		rc = 0;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Wire                                                                */
/* ------------------------------------------------------------------ */

int fetch_put_u32(struct buf *b, unsigned v)
{
	uint32_t x = v;

	return buf_append(b, &x, sizeof(x)) == BUF_OK ? 0 : -1;
}

int fetch_put_str(struct buf *b, const char *s, size_t n)
{
	if (s == NULL)
		return fetch_put_u32(b, ABSENT);
	if (n >= ABSENT || fetch_put_u32(b, (unsigned)n) != 0)
		return -1;
	return buf_append(b, s, n) == BUF_OK ? 0 : -1;
}

static const unsigned char *take(struct fetch_cursor *c, size_t n)
{
	const unsigned char *p = c->p;

	if (c->bad || c->left < n) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

unsigned fetch_get_u32(struct fetch_cursor *c)
{
	const unsigned char *p = take(c, 4);
	uint32_t x = 0;

	if (p != NULL)
		memcpy(&x, p, 4);
	return x;
}

unsigned char fetch_get_u8(struct fetch_cursor *c)
{
	const unsigned char *p = take(c, 1);

	return p != NULL ? *p : 0;
}

char *fetch_get_str(struct fetch_cursor *c)
{
	unsigned n = fetch_get_u32(c);
	const unsigned char *p;
	char *s;

	if (c->bad || n == ABSENT)
		return NULL;
	if ((p = take(c, n)) == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL || (s = malloc((size_t)n + 1)) == NULL) {
		c->bad = true;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Wait until fd is ready for events, or deadline (0: none). 0, or -1
 * with errno ETIMEDOUT. */
static int wait_fd(int fd, short events, long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long left;
	int rc;

	for (;;) {
		left = deadline != 0 ? deadline - mono_ms() : -1;
		if (deadline != 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

int fetch_send_all(int fd, const void *p, size_t n, long deadline)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

int fetch_recv_all(int fd, void *p, size_t n, long deadline)
{
	char *d = p;
	ssize_t r;

	while (n > 0) {
		if (wait_fd(fd, POLLIN, deadline) != 0)
			return -1;
		r = recv(fd, d, n, MSG_DONTWAIT);
		if (r > 0) {
			d += r;
			n -= (size_t)r;
		} else if (r == 0) {
			errno = ECONNRESET;
			return -1;
		} else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			return -1;
		}
	}
	return 0;
}

int fetch_recv_frame(int fd, unsigned magic, size_t max, struct buf *b, long deadline)
{
	uint32_t head[2];
	char chunk[16384];
	size_t left, n;

	if (fetch_recv_all(fd, head, sizeof(head), deadline) != 0)
		return -1;
	if (head[0] != magic || head[1] > max) {
		errno = EPROTO;
		return -1;
	}
	buf_reset(b);
	b->max = max;
	for (left = head[1]; left > 0; left -= n) {
		n = left < sizeof(chunk) ? left : sizeof(chunk);
		if (fetch_recv_all(fd, chunk, n, deadline) != 0) {
			buf_wipe(chunk, sizeof(chunk));
			return -1;
		}
		if (buf_append(b, chunk, n) != BUF_OK) {
			buf_wipe(chunk, sizeof(chunk));
			errno = ENOMEM;
			return -1;
		}
	}
	buf_wipe(chunk, sizeof(chunk));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reaching the helper                                                 */
/* ------------------------------------------------------------------ */

static socklen_t address(struct sockaddr_un *a)
{
	size_t n = strlen(fetch.name);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, fetch.name, n); /* abstract: sun_path[0] is NUL */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* Connect to the helper. Returns the socket, or -1 with errno set:
 * ECONNREFUSED when nobody listens, EPERM when someone of another user
 * does. */
static int dial(void)
{
	struct sockaddr_un a;
	socklen_t alen = address(&a), clen;
	struct ucred cred;
	int fd, saved;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, alen) != 0)
		goto fail;
	clen = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
		goto fail;
	if (cred.uid != geteuid()) {
		log_error("kvgate-fetch: the socket @%s belongs to uid %u, not to us: not using it",
		          fetch.name, (unsigned)cred.uid);
		errno = EPERM;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Build the helper's environment in env (max entries, NULL-terminated). */
static void helper_env(const char **env, size_t max)
{
	static char gnutls[] = "GNUTLS_NO_IMPLICIT_INIT=1";
	extern char **environ;
	size_t n = 0, len;

	/* GnuTLS (pulled in by librtmp, never used) would otherwise set
	 * itself up when loaded: 0.8 MB for nothing. */
	env[n++] = gnutls;
	for (char **e = environ; e != NULL && *e != NULL && n + 1 < max; e++) {
		for (const char *const *k = kept_env; *k != NULL; k++) {
			len = strlen(*k);
			if (strncmp(*e, *k, len) == 0 && (*e)[len] == '=') {
				env[n++] = *e;
				break;
			}
		}
	}
	env[n] = NULL;
}

/*
 * Start the helper, detached: fork, new session, fork again (so that it is
 * nobody's child here and is never a zombie of ours), standard input and
 * output on /dev/null, standard error kept (the web server's error log),
 * every other descriptor closed. Returns 0 when the first child was
 * started and reaped.
 */
static int spawn(void)
{
	const char *env[32];
	char *argv[] = {"kvgate-fetch", fetch.name, NULL};
	sigset_t none;
	pid_t pid;
	int st, null;

	helper_env(env, sizeof(env) / sizeof(env[0]));
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (setsid() < 0 || (pid = fork()) < 0)
			_exit(1);
		if (pid > 0)
			_exit(0);
		/* Not the FastCGI listening socket (a FastCGI program's
		 * standard input): the helper must never accept requests. */
		if ((null = open("/dev/null", O_RDWR)) < 0)
			_exit(1);
		dup2(null, 0);
		dup2(null, 1);
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(fetch.exe, argv, (char *const *)env);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* Connect, starting the helper when nobody listens. Returns the socket,
 * or -1 with the reason in errbuf. */
static int connect_helper(char *errbuf, size_t errlen)
{
	long end;
	int fd;

	if ((fd = dial()) >= 0)
		return fd;
	if (errno != ECONNREFUSED && errno != ENOENT) {
		snprintf(errbuf, errlen, "kvgate-fetch: cannot connect: %s", strerror(errno));
		return -1;
	}
	if (access(fetch.exe, X_OK) != 0) {
		snprintf(errbuf, errlen, "kvgate-fetch: cannot run %s: %s", fetch.exe,
		         strerror(errno));
		return -1;
	}
	if (spawn() != 0) {
		snprintf(errbuf, errlen, "kvgate-fetch: cannot start it: %s", strerror(errno));
		return -1;
	}
	end = mono_ms() + FETCH_START_MS;
	while (mono_ms() < end) {
		if ((fd = dial()) >= 0)
			return fd;
		if (errno != ECONNREFUSED && errno != ENOENT)
			break;
		mono_sleep_ms(5);
	}
	snprintf(errbuf, errlen, "kvgate-fetch: %s did not start listening (%s)", fetch.exe,
	         strerror(errno));
	return -1;
}

/* Whether an open connection is still good: nothing to read and no
 * hang-up (a helper that went away leaves end-of-file behind). */
static bool alive(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 0;
}

void fetch_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int encode(struct buf *b, const struct fetch_call *c)
{
	size_t nh = 0, at;
	uint32_t len;

	while (c->headers != NULL && c->headers[nh] != NULL)
		nh++;
	if (fetch_put_u32(b, FETCH_REQUEST_MAGIC) != 0 || fetch_put_u32(b, 0) != 0)
		return -1;
	at = b->len;
	{
		unsigned char flags[4] = {strcmp(c->method, "POST") == 0, c->allow_imds, 0, 0};

		if (buf_append(b, flags, sizeof(flags)) != BUF_OK)
			return -1;
	}
	if (fetch_put_u32(b, (unsigned)c->timeout_ms) != 0 ||
	    fetch_put_u32(b, (unsigned)(c->max_body < FETCH_BODY_MAX ? c->max_body
	                                                            : FETCH_BODY_MAX)) != 0 ||
	    fetch_put_str(b, c->ca_file, c->ca_file != NULL ? strlen(c->ca_file) : 0) != 0 ||
	    fetch_put_str(b, c->url, strlen(c->url)) != 0 || fetch_put_u32(b, (unsigned)nh) != 0)
		return -1;
	for (size_t i = 0; i < nh; i++)
		if (fetch_put_str(b, c->headers[i], strlen(c->headers[i])) != 0)
			return -1;
	if (fetch_put_str(b, c->body, c->body != NULL ? strlen(c->body) : 0) != 0)
		return -1;
	len = (uint32_t)(b->len - at);
	memcpy(b->data + at - 4, &len, 4);
	return 0;
}

/* Fill resp from an answer's payload. Returns the http_err it carries, or
 * -2 when the payload is malformed. */
static int decode(struct buf *in, struct http_response *resp, char *errbuf, size_t errlen)
{
	struct fetch_cursor c = {(const unsigned char *)in->data, in->len, false};
	char **slots[] = {&resp->retry_after, &resp->retry_after_ms, &resp->www_authenticate,
	                  &resp->content_type};
	unsigned err = fetch_get_u32(&c), status = fetch_get_u32(&c), n;
	char *why = fetch_get_str(&c);
	const unsigned char *body;

	if (why != NULL) {
		snprintf(errbuf, errlen, "%s", why);
		free(why);
	}
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		*slots[i] = fetch_get_str(&c);
	n = fetch_get_u32(&c);
	if (!c.bad && n != ABSENT && (body = take(&c, n)) != NULL &&
	    buf_append(&resp->body, body, n) != BUF_OK)
		return HTTP_ETOOBIG;
	if (c.bad || c.left != 0 || err > HTTP_ETRANSPORT)
		return -2;
	resp->status = (long)status;
	return (int)err;
}

int fetch_request(int *fd, const struct fetch_call *c, struct http_response *resp, char *errbuf,
                  size_t errlen)
{
	struct buf out, in;
	long deadline;
	int rc = HTTP_OK, tries = 0;

	errbuf[0] = '\0';
	buf_init(&out, FETCH_REQUEST_MAX + 8);
	buf_init(&in, FETCH_ANSWER_MAX);
	if (encode(&out, c) != 0) {
		snprintf(errbuf, errlen, "kvgate-fetch: request too large or out of memory");
		rc = out.len > FETCH_REQUEST_MAX ? HTTP_EURL : HTTP_ENOMEM;
		goto out;
	}
	deadline = mono_ms() + (c->timeout_ms > 0 ? c->timeout_ms : 0) + FETCH_GRACE_MS;
again:
	if (*fd >= 0 && !alive(*fd))
		fetch_close(fd);
	if (*fd < 0 && (*fd = connect_helper(errbuf, errlen)) < 0) {
		log_error("%s; making upstream calls in this process from now on", errbuf);
		fetch.on = false;
		rc = -1;
		goto out;
	}
	if (fetch_send_all(*fd, out.data, out.len, deadline) != 0 ||
	    fetch_recv_frame(*fd, FETCH_ANSWER_MAGIC, FETCH_ANSWER_MAX, &in, deadline) != 0) {
		fetch_close(fd);
		/* The helper went away (killed, or leaving as this program
		 * connected): again, with a new one. The call is a GET or a
		 * token request, either of which may be made twice. A helper
		 * that is dying may still take a connection and then reset it,
		 * hence a few tries, a little apart. */
		if ((errno == ECONNRESET || errno == EPIPE) && ++tries < FETCH_TRIES &&
		    mono_ms() < deadline) {
			mono_sleep_ms(10L * tries);
			goto again;
		}
		rc = errno == ETIMEDOUT ? HTTP_ETIMEOUT : HTTP_ETRANSPORT;
		snprintf(errbuf, errlen, "kvgate-fetch: %s",
		         errno == ETIMEDOUT ? "no answer in time" : strerror(errno));
	} else if ((rc = decode(&in, resp, errbuf, errlen)) == -2) {
		rc = HTTP_ETRANSPORT;
		snprintf(errbuf, errlen, "kvgate-fetch: malformed answer");
		fetch_close(fd);
	}
out:
	buf_free(&out);
	buf_free(&in);
	return rc;
}
