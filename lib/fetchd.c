/*
 * fetchd.c: kvgate-fetch, the helper that makes the programs' HTTP calls
 * with libcurl (see fetch.h).
 *
 * One thread per connected program, each with its own libcurl handle (its
 * own kept-alive connections and TLS sessions), so that a slow vault call
 * for one program never holds up another's. A program sends one call at a
 * time and waits for its answer. Nothing is kept between calls but the
 * handles: request bodies (a client secret or assertion), headers (a bearer
 * token) and answers (a secret value, a token) are wiped once sent.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fetch.h"
#include "log.h"
#include "mono.h"

/* Connections served at once; more are closed at once (their programs
 * then make their calls themselves). */
#define FETCHD_CONN_MAX 1024
#define FETCHD_HEADERS_MAX 64
/* A program that stops reading its answer is given up after this long. */
#define FETCHD_SEND_MS 10000

static int active;      /* connections being served (atomic) */
static long idle_since; /* mono_ms() when active last became 0 (atomic) */

/* One request, parsed. Strings are owned and wiped on free. */
struct call {
	char *ca_file, *url, *body;
	char *headers[FETCHD_HEADERS_MAX + 1];
	size_t nheaders;
	bool post, imds;
	long timeout_ms;
	size_t max_body;
};

static void wipe_free(char *s)
{
	if (s != NULL) {
		buf_wipe(s, strlen(s));
		free(s);
	}
}

static void call_free(struct call *c)
{
	wipe_free(c->ca_file);
	wipe_free(c->url);
	wipe_free(c->body);
	for (size_t i = 0; i < c->nheaders; i++)
		wipe_free(c->headers[i]);
	memset(c, 0, sizeof(*c));
}

/* Parse a request payload into c. 0, or -1 when it is malformed. */
static int parse(const struct buf *in, struct call *c)
{
	struct fetch_cursor cur = {(const unsigned char *)in->data, in->len, false};
	unsigned char post = fetch_get_u8(&cur), imds = fetch_get_u8(&cur);
	unsigned nh;

	memset(c, 0, sizeof(*c));
	(void)fetch_get_u8(&cur);
	(void)fetch_get_u8(&cur);
	c->post = post == 1;
	c->imds = imds == 1;
	c->timeout_ms = (long)fetch_get_u32(&cur);
	c->max_body = fetch_get_u32(&cur);
	c->ca_file = fetch_get_str(&cur);
	c->url = fetch_get_str(&cur);
	nh = fetch_get_u32(&cur);
	if (cur.bad || post > 1 || imds > 1 || c->url == NULL || nh > FETCHD_HEADERS_MAX ||
	    c->max_body > FETCH_BODY_MAX)
		return -1;
	for (; c->nheaders < nh; c->nheaders++)
		if ((c->headers[c->nheaders] = fetch_get_str(&cur)) == NULL)
			return -1;
	c->body = fetch_get_str(&cur);
	return cur.bad || cur.left != 0 ? -1 : 0;
}

/* Encode the answer to a call into out. 0 or -1 (out of memory). */
static int encode(struct buf *out, enum http_err e, const struct http_response *r,
                  const char *why)
{
	const char *kept[] = {r->retry_after, r->retry_after_ms, r->www_authenticate,
	                      r->content_type};
	uint32_t len;
	int rc = 0;

	rc |= fetch_put_u32(out, FETCH_ANSWER_MAGIC);
	rc |= fetch_put_u32(out, 0);
	rc |= fetch_put_u32(out, (unsigned)e);
	rc |= fetch_put_u32(out, (unsigned)r->status);
	rc |= fetch_put_str(out, why, strlen(why));
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		rc |= fetch_put_str(out, kept[i], kept[i] != NULL ? strlen(kept[i]) : 0);
	rc |= fetch_put_str(out, r->body.data != NULL ? r->body.data : "", r->body.len);
	if (rc != 0)
		return -1;
	len = (uint32_t)(out->len - 8);
	memcpy(out->data + 4, &len, 4);
	return 0;
}

/* The handle for ca_file: h as it is, or a new one when ca_file changed. */
static struct http *handle_for(struct http *h, char **have_ca, const char *ca_file)
{
	struct http_options o = {.ca_file = ca_file, .timeout_ms = 5000};
	const char *a = *have_ca != NULL ? *have_ca : "", *b = ca_file != NULL ? ca_file : "";

	if (h != NULL && strcmp(a, b) == 0)
		return h;
	http_free(h);
	free(*have_ca);
	*have_ca = NULL;
	h = NULL;
	if (b[0] != '\0' && (*have_ca = strdup(b)) == NULL)
		return NULL;
	if (http_new(&o, &h) != HTTP_OK)
		return NULL;
	return h;
}

/* Serve one connection until the program closes it. */
static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct http_response r = {0};
	struct http *h = NULL;
	struct buf in, out;
	char *ca = NULL;
	struct call c;
	enum http_err e;

	buf_init(&in, FETCH_REQUEST_MAX);
	buf_init(&out, FETCH_ANSWER_MAX + 8);
	while (fetch_recv_frame(fd, FETCH_REQUEST_MAGIC, FETCH_REQUEST_MAX, &in, 0) == 0) {
		if (parse(&in, &c) != 0) {
			log_warn("a malformed request: closing that connection");
			call_free(&c);
			break;
		}
		buf_reset(&in);
		if ((h = handle_for(h, &ca, c.ca_file)) == NULL) {
			e = HTTP_ENOMEM;
			http_response_free(&r);
		} else {
			http_set_timeout(h, c.timeout_ms);
			http_allow_imds(h, c.imds);
			e = http_request(h, c.post ? "POST" : "GET", c.url,
			                 (const char *const *)c.headers, c.body, c.max_body, &r);
		}
		call_free(&c);
		if (encode(&out, e, &r, h != NULL ? http_last_error(h) : "out of memory") != 0 ||
		    fetch_send_all(fd, out.data, out.len, mono_ms() + FETCHD_SEND_MS) != 0) {
			http_response_free(&r);
			break;
		}
		http_response_free(&r);
		buf_reset(&out);
	}
	buf_free(&in);
	buf_free(&out);
	http_free(h);
	free(ca);
	close(fd);
	if (__atomic_sub_fetch(&active, 1, __ATOMIC_ACQ_REL) == 0)
		__atomic_store_n(&idle_since, mono_ms(), __ATOMIC_RELEASE);
	return NULL;
}

/* Take one connection from the listening socket: a thread for it, or a
 * refusal. */
static void take(int lfd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	pthread_attr_t attr;
	pthread_t t;
	int fd, rc;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || cred.uid != geteuid()) {
		log_warn("refused a connection from uid %u (not ours)", (unsigned)cred.uid);
		close(fd);
		return;
	}
	if (__atomic_load_n(&active, __ATOMIC_ACQUIRE) >= FETCHD_CONN_MAX) {
		log_warn("%d connections already: refused one more", FETCHD_CONN_MAX);
		close(fd);
		return;
	}
	__atomic_add_fetch(&active, 1, __ATOMIC_ACQ_REL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, serve, (void *)(intptr_t)fd);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("cannot start a thread: %s", strerror(rc));
		close(fd);
		if (__atomic_sub_fetch(&active, 1, __ATOMIC_ACQ_REL) == 0)
			__atomic_store_n(&idle_since, mono_ms(), __ATOMIC_RELEASE);
	}
}

int fetchd_main(const char *name)
{
	const struct rlimit none = {0, 0};
	struct sockaddr_un a;
	size_t n = name != NULL ? strlen(name) : 0;
	struct pollfd p;
	int lfd;

	log_init("kvgate-fetch");
	/* Tokens, client secrets and secret values pass through: no core
	 * dump, no ptrace or /proc/PID/mem for other processes of the user. */
	(void)setrlimit(RLIMIT_CORE, &none);
	(void)prctl(PR_SET_DUMPABLE, 0);
	signal(SIGPIPE, SIG_IGN);
	if (n == 0 || n >= sizeof(a.sun_path) - 1 || strncmp(name, "kvgate-fetch-", 13) != 0) {
		log_error("usage: kvgate-fetch NAME (started by the kvgate programs)");
		return 2;
	}
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path + 1, name, n);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		log_error("socket: %s", strerror(errno));
		return 1;
	}
	if (bind(lfd, (struct sockaddr *)&a,
	         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0) {
		/* Another helper won the race to start: it serves. */
		if (errno == EADDRINUSE)
			return 0;
		log_error("bind @%s: %s", name, strerror(errno));
		return 1;
	}
	if (listen(lfd, 128) != 0) {
		log_error("listen @%s: %s", name, strerror(errno));
		return 1;
	}
	idle_since = mono_ms();
	log_info("serving @%s", name);
	p.fd = lfd;
	p.events = POLLIN;
	for (;;) {
		if (poll(&p, 1, 500) > 0)
			take(lfd);
		if (__atomic_load_n(&active, __ATOMIC_ACQUIRE) == 0 &&
		    mono_ms() - __atomic_load_n(&idle_since, __ATOMIC_ACQUIRE) >= FETCHD_IDLE_MS) {
			/* Last look: a program that connected just now is served. */
			p.revents = 0;
			if (poll(&p, 1, 0) > 0)
				continue;
			break;
		}
	}
	close(lfd);
	log_info("no program connected for %d s: leaving", FETCHD_IDLE_MS / 1000);
	return 0;
}
