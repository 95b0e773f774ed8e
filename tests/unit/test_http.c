/*
 * test_http: the per-process libcurl handle against a canned local server,
 * first in this process, then through kvgate-fetch (lib/fetch.h) exactly as
 * the programs make their calls.
 *
 * Pins down: which URLs may carry a token (https anywhere, http to loopback
 * only, no user information smuggling another host in), the body cap, the
 * headers kept, connection reuse across calls, per-call option reset (a GET
 * after a POST sends no body, headers of one call do not leak into the
 * next), and the mapping of timeouts, refused connections and TLS failures.
 */
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "../../lib/http.c"
#include "canned.h"
#include "tap.h"

static void test_url_allowed(void)
{
	static const struct {
		const char *url;
		int want;
	} t[] = {
	    {"https://myvault.vault.azure.net", 1},
	    {"https://myvault.vault.azure.net/secrets/x?api-version=7.6", 1},
	    {"https://myvault.vault.azure.net:443/secrets", 1},
	    {"https://login.microsoftonline.com/t/oauth2/v2.0/token", 1},
	    {"https://[2001:db8::1]:8443/x", 1},
	    {"http://127.0.0.1", 1},
	    {"http://127.0.0.1:8080/secrets", 1},
	    {"http://127.1.2.3/x", 1},
	    {"http://localhost:9/x", 1},
	    {"http://LOCALHOST/x", 1},
	    {"http://[::1]:8443/x", 1},
	    {"http://[::1]", 1},
	    {"http://127.0.0.1?x=1", 1},
	    /* Plain http to anything else would put a token on the wire. */
	    {"http://myvault.vault.azure.net/", 0},
	    {"http://10.0.0.1/", 0},
	    {"http://127.0.0.1.evil.com/", 0},
	    {"http://127.0.0.1.evil.com", 0},
	    {"http://localhost.evil/", 0},
	    {"http://localhost.evil", 0},
	    {"http://localhostx/", 0},
	    {"http://127.0.0.1@evil.com/", 0},
	    {"http://127.0.0.1:80@evil.com/", 0},
	    {"http://localhost:x@evil.com/", 0},
	    {"http://[::1].x/", 0},
	    {"http://[::1]x/", 0},
	    {"http://[::2]/", 0},
	    {"http://127.0.0.1\\@evil.com/", 0},
	    {"http://127.0.0.1:/", 0},
	    {"http://127.0.0.1:80x/", 0},
	    {"http://127.1/", 0},
	    {"http://127.0.0.1.5/", 0},
	    {"http:///x", 0},
	    {"http://", 0},
	    {"https://", 0},
	    {"https:///secrets", 0},
	    {"https://:443/", 0},
	    {"https://user@myvault.vault.azure.net/", 0},
	    {"https://myvault.vault.azure.net:443@evil.com/", 0},
	    {"HTTPS://myvault.vault.azure.net/", 0},
	    {"ftp://127.0.0.1/", 0},
	    {"file:///etc/passwd", 0},
	    {"127.0.0.1/x", 0},
	    {"", 0},
	};

	ok(http_url_allowed(NULL) == 0, "url_allowed(NULL) is 0");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(http_url_allowed(t[i].url) == t[i].want, "url_allowed(%s) is %d", t[i].url,
		   t[i].want);
}

static void test_strerror(void)
{
	const char *seen[HTTP_ETRANSPORT + 1];
	bool distinct = true;

	for (int e = HTTP_OK; e <= HTTP_ETRANSPORT; e++) {
		seen[e] = http_strerror((enum http_err)e);
		ok(seen[e] != NULL && seen[e][0] != '\0' && strstr(seen[e], "unknown") == NULL,
		   "http_strerror(%d) names the error: %s", e,
		   seen[e] != NULL ? seen[e] : "(null)");
		for (int k = 0; k < e; k++)
			if (strcmp(seen[k], seen[e]) == 0)
				distinct = false;
	}
	ok(distinct, "http_strerror texts are distinct");
	ok(strstr(http_strerror((enum http_err)99), "unknown") != NULL,
	   "http_strerror of an unknown code says so");
}

/* The canned exchange: statuses, caps, headers, reuse, reset. */
static void test_exchange(void)
{
	static char big[3001];
	static const char *long_header_value;
	static char long_header[2100];
	struct canned_reply script[] = {
	    /* 0: GET with the three headers kvgate keeps */
	    {200,
	     "Content-Type: application/json; charset=utf-8\r\nRetry-After: 7\r\n"
	     "WWW-Authenticate: Bearer authorization=\"https://login.example/t\", "
	     "resource=\"https://vault.azure.net\"\r\nX-Other: 1\r\n",
	     "{\"ok\":true}", 0, 0, 0},
	    /* 1: a non-2xx status is not an error; headers reset */
	    {503, NULL, "busy", 0, 0, 0},
	    /* 2: POST */
	    {200, NULL, "posted", 0, 0, 0},
	    /* 3: GET after POST */
	    {200, NULL, "again", 0, 0, 0},
	    /* 4: body over the cap, with Content-Length */
	    {200, NULL, big, 0, 0, 0},
	    /* 5: after an aborted transfer the next call works */
	    {204, NULL, NULL, 0, 0, 0},
	    /* 6: body over the cap, no Content-Length (write callback cap) */
	    {200, NULL, big, 0, 1, 0},
	    /* 7: body exactly at the cap */
	    {200, NULL, big, 0, 0, 0},
	    /* 8: a kept header over its cap */
	    {200, long_header, "x", 0, 0, 0},
	    /* 9: a repeated challenge is joined */
	    {401, "WWW-Authenticate: Bearer a=1\r\nWWW-Authenticate: PoP b=2\r\n", "", 0, 0, 0},
	};
	const char *auth_headers[] = {"Authorization: Bearer test-token-not-secret",
	                              "Accept: application/json", NULL};
	struct http_options o = {NULL, 5000};
	struct http_response r = {0};
	struct canned_server s;
	struct http *h = NULL;
	enum http_err e;
	char url[128], *req;

	memset(big, 'a', sizeof(big) - 1);
	long_header_value = "Retry-After: ";
	snprintf(long_header, sizeof(long_header), "%s%0*d\r\n", long_header_value, 2000, 1);
	if (canned_start(&s, script, sizeof(script) / sizeof(script[0]), NULL, 0) != 0) {
		ok(0, "canned server started");
		return;
	}
	ok(http_new(&o, &h) == HTTP_OK && h != NULL, "http_new");
	if (h == NULL)
		goto out;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/secrets/a?api-version=7.6", s.port);
	e = http_request(h, "GET", url, auth_headers, NULL, 1000, &r);
	ok(e == HTTP_OK, "GET ok: %s", http_strerror(e));
	ok(r.status == 200, "status 200 captured (%ld)", r.status);
	ok(r.body.len == 11 && strcmp(r.body.data, "{\"ok\":true}") == 0, "body captured");
	ok(r.retry_after != NULL && strcmp(r.retry_after, "7") == 0, "Retry-After captured");
	ok(r.content_type != NULL && strcmp(r.content_type, "application/json; charset=utf-8") == 0,
	   "Content-Type captured");
	ok(r.www_authenticate != NULL &&
	       strcmp(r.www_authenticate, "Bearer authorization=\"https://login.example/t\", "
	                                  "resource=\"https://vault.azure.net\"") == 0,
	   "WWW-Authenticate captured");
	req = canned_request(&s, 0);
	ok(req != NULL && strncmp(req, "GET /secrets/a?api-version=7.6 HTTP/1.1\r\n", 41) == 0,
	   "request line sent verbatim");
	ok(req != NULL &&
	       strstr(req, "\r\nAuthorization: Bearer test-token-not-secret\r\n") != NULL,
	   "caller's Authorization header sent");
	ok(req != NULL && strstr(req, "\r\nAccept: application/json\r\n") != NULL,
	   "caller's Accept header sent");
	ok(req != NULL && strstr(req, "\r\nUser-Agent: kvgate/0.1\r\n") != NULL, "User-Agent");
	ok(req != NULL && strcasestr(req, "Accept-Encoding") == NULL,
	   "no Accept-Encoding: bodies stay plain so caps mean what they say");
	free(req);

	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	ok(e == HTTP_OK && r.status == 503, "503 is a status, not an error (%ld)", r.status);
	ok(r.retry_after == NULL && r.www_authenticate == NULL && r.content_type == NULL,
	   "headers of the previous response are not carried over");
	ok(strcmp(r.body.data, "busy") == 0, "body replaced, not appended");
	req = canned_request(&s, 1);
	ok(req != NULL && strstr(req, "Authorization") == NULL,
	   "headers of the previous call are not sent again");
	free(req);
	ok(canned_accepts(&s) == 1, "two calls, one connection (keep-alive reuse)");

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/t/oauth2x/token", s.port);
	e = http_request(h, "POST", url, NULL, "a=1&b=%2B", 1000, &r);
	ok(e == HTTP_OK && r.status == 200 && strcmp(r.body.data, "posted") == 0, "POST ok");
	req = canned_request(&s, 2);
	ok(req != NULL && strncmp(req, "POST /t/oauth2x/token HTTP/1.1\r\n", 32) == 0,
	   "POST request line");
	ok(req != NULL &&
	       strstr(req, "\r\nContent-Type: application/x-www-form-urlencoded\r\n") != NULL,
	   "POST form content type");
	ok(req != NULL && strstr(req, "\r\nContent-Length: 9\r\n") != NULL, "POST length");
	ok(req != NULL && strstr(req, "\r\n\r\na=1&b=%2B") != NULL, "POST body sent as given");
	ok(req != NULL && strstr(req, "Expect:") == NULL, "no Expect: 100-continue");
	free(req);

	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	ok(e == HTTP_OK && strcmp(r.body.data, "again") == 0, "GET after POST ok");
	req = canned_request(&s, 3);
	ok(req != NULL && strncmp(req, "GET ", 4) == 0 && strstr(req, "Content-Length") == NULL &&
	       strstr(req, "a=1") == NULL,
	   "GET after POST sends no body");
	free(req);
	ok(canned_accepts(&s) == 1, "still one connection after four calls");

	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	ok(e == HTTP_ETOOBIG, "body over cap (Content-Length) is HTTP_ETOOBIG: %s",
	   http_strerror(e));
	ok(r.body.len <= 1000, "no more than the cap kept");
	ok(http_last_error(h)[0] != '\0', "last error says why");

	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	ok(e == HTTP_OK && r.status == 204 && r.body.len == 0, "next call after a cap abort ok");
	ok(http_last_error(h)[0] == '\0', "last error cleared by a success");

	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	ok(e == HTTP_ETOOBIG, "body over cap (no Content-Length) is HTTP_ETOOBIG: %s",
	   http_strerror(e));
	ok(r.body.len <= 1000, "no more than the cap kept (streamed)");

	e = http_request(h, "GET", url, NULL, NULL, 3000, &r);
	ok(e == HTTP_OK && r.body.len == 3000, "body exactly at the cap is fine");

	e = http_request(h, "GET", url, NULL, NULL, 3000, &r);
	ok(e == HTTP_ETOOBIG, "a kept header over its cap is HTTP_ETOOBIG: %s", http_strerror(e));

	e = http_request(h, "GET", url, NULL, NULL, 3000, &r);
	ok(e == HTTP_OK && r.status == 401 && r.www_authenticate != NULL &&
	       strcmp(r.www_authenticate, "Bearer a=1, PoP b=2") == 0,
	   "repeated WWW-Authenticate joined with \", \"");

	/* Refused before any traffic. */
	e = http_request(h, "GET", "http://10.1.2.3/secrets", NULL, NULL, 1000, &r);
	ok(e == HTTP_EURL, "plain http to a non-loopback host refused: %s", http_strerror(e));
	e = http_request(h, "GET", "http://127.0.0.1:1@evil.com/", NULL, NULL, 1000, &r);
	ok(e == HTTP_EURL, "userinfo URL refused");
	e = http_request(h, "DELETE", url, NULL, NULL, 1000, &r);
	ok(e == HTTP_EURL, "methods other than GET and POST refused");
	ok(canned_count(&s) == 10, "refused calls sent nothing (%d requests)", canned_count(&s));

out:
	http_response_free(&r);
	ok(r.body.data == NULL && r.retry_after == NULL && r.status == 0,
	   "http_response_free empties the response");
	http_free(h);
	canned_stop(&s);
}

/* The call's total time is bounded, by http_new's timeout or a later one. */
static void test_timeout(void)
{
	struct canned_reply script[] = {
	    {200, NULL, "late", 1500, 0, 0},
	    {200, NULL, "late", 1500, 0, 0},
	};
	struct http_options o = {NULL, 300};
	struct http_response r = {0};
	struct canned_server s;
	struct http *h = NULL;
	enum http_err e;
	char url[128];
	long t0, dt;

	if (canned_start(&s, script, 2, NULL, 0) != 0) {
		ok(0, "canned server started");
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow", s.port);
	ok(http_new(&o, &h) == HTTP_OK, "http_new with a 300 ms timeout");
	t0 = canned_now_ms();
	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	dt = canned_now_ms() - t0;
	ok(e == HTTP_ETIMEOUT, "server slower than the timeout: HTTP_ETIMEOUT (%s)",
	   http_strerror(e));
	ok(dt >= 250 && dt < 1000, "gave up after about 300 ms (%ld ms)", dt);
	http_free(h);
	h = NULL;

	o.timeout_ms = 10000;
	ok(http_new(&o, &h) == HTTP_OK, "http_new with a 10 s timeout");
	http_set_timeout(h, 200);
	t0 = canned_now_ms();
	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	dt = canned_now_ms() - t0;
	ok(e == HTTP_ETIMEOUT && dt < 1000, "http_set_timeout shortens the next call (%ld ms)", dt);
	http_set_timeout(h, 0);
	ok(h->timeout_cur == 10000, "http_set_timeout(0) restores the handle's timeout");
	http_response_free(&r);
	http_free(h);
	canned_stop(&s);
}

static void test_refused(void)
{
	struct http_options o = {"", 2000};
	struct http_response r = {0};
	struct http *h = NULL;
	enum http_err e;
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", canned_dead_port());
	ok(http_new(&o, &h) == HTTP_OK, "http_new with an empty ca_file");
	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	ok(e == HTTP_ECONNECT, "connection refused: HTTP_ECONNECT (%s)", http_strerror(e));
	ok(r.status == 0, "no status when nothing answered");
	http_response_free(&r);
	http_free(h);
}

/* Run a shell command quietly; whether it succeeded. */
static bool sh(const char *cmd)
{
	return system(cmd) == 0;
}

/*
 * TLS against `openssl s_server` with a throw-away CA: verification is on
 * (an unknown CA is HTTP_ETLS), ca_file makes the CA trusted, and a
 * certificate for another name is refused even then. Skipped when the
 * openssl tool is missing.
 */
static void test_tls(void)
{
	char dir[] = "/tmp/kvgate-tls-XXXXXX", cmd[2048], url[128];
	struct http_response r = {0};
	struct http_options o = {NULL, 3000};
	struct http *h = NULL;
	int port, i;
	pid_t pid;
	enum http_err e;

	if (!sh("command -v openssl >/dev/null 2>&1")) {
		printf("# skip: TLS tests need the openssl tool\n");
		return;
	}
	if (mkdtemp(dir) == NULL)
		return;
	snprintf(cmd, sizeof(cmd),
	         "(cd %s && "
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	         "-keyout ca.key -out ca.pem -days 2 -subj /CN=kvgate-test-ca "
	         "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign "
	         "&& openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	         "-keyout srv.key -out srv.csr -subj /CN=localhost "
	         "&& printf 'subjectAltName=DNS:localhost\\n' >ext "
	         "&& openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	         "-out srv.pem -days 2 -extfile ext) >/dev/null 2>&1",
	         dir);
	if (!ok(sh(cmd), "made a throw-away CA and server certificate"))
		goto out;
	port = canned_dead_port();
	fflush(stdout);
	if ((pid = fork()) == 0) {
		char acc[32], cert[128], key[128];
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		snprintf(acc, sizeof(acc), "127.0.0.1:%d", port);
		snprintf(cert, sizeof(cert), "%s/srv.pem", dir);
		snprintf(key, sizeof(key), "%s/srv.key", dir);
		execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", acc, "-cert",
		       cert, "-key", key, (char *)NULL);
		_exit(127);
	}
	/* Wait for it to listen. */
	for (i = 0; i < 50; i++) {
		struct sockaddr_in a = {0};
		int fd = socket(AF_INET, SOCK_STREAM, 0), c;

		a.sin_family = AF_INET;
		a.sin_port = htons((unsigned short)port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c = connect(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		if (c == 0)
			break;
		canned_sleep_ms(100);
	}

	snprintf(url, sizeof(url), "https://localhost:%d/", port);
	ok(http_new(&o, &h) == HTTP_OK, "http_new without ca_file");
	e = http_request(h, "GET", url, NULL, NULL, 64 * 1024, &r);
	ok(e == HTTP_ETLS, "unknown CA: HTTP_ETLS (%s)", http_strerror(e));
	http_free(h);
	h = NULL;

	snprintf(cmd, sizeof(cmd), "%s/ca.pem", dir);
	o.ca_file = cmd;
	ok(http_new(&o, &h) == HTTP_OK, "http_new with ca_file");
	e = http_request(h, "GET", url, NULL, NULL, 64 * 1024, &r);
	ok(e == HTTP_OK && r.status == 200, "ca_file trusted: %s (%ld)", http_strerror(e),
	   r.status);
	/* The certificate names localhost only. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	e = http_request(h, "GET", url, NULL, NULL, 64 * 1024, &r);
	ok(e == HTTP_ETLS, "certificate for another host name refused: %s", http_strerror(e));
	http_free(h);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
out:
	http_response_free(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd);
}

/* kvgate-fetch as built next to this test: build/tests/test_http ->
 * cgi-bin/kvgate-fetch. */
static bool fetch_exe(char *out, size_t n)
{
	char self[PATH_MAX], *slash;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int i;

	if (len <= 0)
		return false;
	self[len] = '\0';
	for (i = 0; i < 3; i++) {
		if ((slash = strrchr(self, '/')) == NULL)
			return false;
		*slash = '\0';
	}
	return (size_t)snprintf(out, n, "%s/cgi-bin/kvgate-fetch", self) < n &&
	       access(out, X_OK) == 0;
}

/* The pid at the other end of a connection, or -1. */
static pid_t peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	return cred.pid;
}

/* Connect to the abstract socket name; the socket or -1. */
static int dial_name(const char *name)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(a.sun_path + 1, name, n);
	if (connect(fd, (struct sockaddr *)&a,
	            (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * What is particular to the helper: it is started on the first call, a
 * killed helper is replaced by the next call (even one in flight), a
 * malformed frame costs only its own connection, a helper that cannot run
 * makes the process call itself, and a socket of another user is never
 * used.
 */
static void test_fetcher(const char *exe, const char *scope)
{
	struct canned_reply script[] = {
	    {200, NULL, "one", 0, 0, 0},  {200, NULL, "two", 0, 0, 0},
	    {200, NULL, "three", 0, 0, 0}, {200, NULL, "slow", 1500, 0, 0},
	    {200, NULL, "resent", 0, 0, 0}, {200, NULL, "four", 0, 0, 0},
	    {200, NULL, "five", 0, 0, 0},  {200, NULL, "six", 0, 0, 0},
	};
	struct http_options o = {NULL, 5000};
	struct http_response r = {0};
	char url[128], name[FETCH_NAME_MAX], other[128];
	struct canned_server s;
	struct http *h = NULL;
	pid_t first, second, squat;
	enum http_err e;
	int fd, st;
	uint32_t bad[2] = {0xdeadbeef, 4};

	if (canned_start(&s, script, sizeof(script) / sizeof(script[0]), NULL, 0) != 0) {
		ok(0, "canned server started");
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.port);
	fetch_name(exe, scope, name);
	ok(http_new(&o, &h) == HTTP_OK, "http_new");
	e = http_request(h, "GET", url, NULL, NULL, 100, &r);
	ok(e == HTTP_OK && strcmp(r.body.data, "one") == 0, "a call through the helper");
	first = peer_pid(h->fetch_fd);
	ok(first > 0 && first != getpid(), "made by another process (pid %d)", (int)first);
	ok(h->curl == NULL, "this process made no libcurl handle");

	/* A malformed frame on another connection: that one is closed, the
	 * helper and the others go on. */
	fd = dial_name(name);
	ok(fd >= 0 && send(fd, bad, sizeof(bad), MSG_NOSIGNAL) == (ssize_t)sizeof(bad),
	   "sent a frame with a wrong magic");
	ok(fd >= 0 && recv(fd, bad, sizeof(bad), 0) == 0, "that connection is closed");
	if (fd >= 0)
		close(fd);
	e = http_request(h, "GET", url, NULL, NULL, 100, &r);
	ok(e == HTTP_OK && strcmp(r.body.data, "two") == 0 && peer_pid(h->fetch_fd) == first,
	   "the same helper still serves the others");

	kill(first, SIGKILL);
	canned_sleep_ms(100);
	e = http_request(h, "GET", url, NULL, NULL, 100, &r);
	second = peer_pid(h->fetch_fd);
	ok(e == HTTP_OK && strcmp(r.body.data, "three") == 0, "after the helper was killed: %s",
	   http_strerror(e));
	ok(second > 0 && second != first, "a new helper serves (pid %d, was %d)", (int)second,
	   (int)first);
	ok(fetch_enabled(), "calls still go through the helper");

	/* Killed while the call is in flight: sent again, to a new helper. */
	fflush(stdout);
	if ((squat = fork()) == 0) {
		canned_sleep_ms(300);
		kill(second, SIGKILL);
		_exit(0);
	}
	e = http_request(h, "GET", url, NULL, NULL, 100, &r);
	waitpid(squat, &st, 0);
	ok(e == HTTP_OK && strcmp(r.body.data, "resent") == 0,
	   "the helper killed during a call: the call is sent again and answered (%s: %s)",
	   http_strerror(e), http_last_error(h));
	ok(peer_pid(h->fetch_fd) != second && peer_pid(h->fetch_fd) > 0,
	   "by a third helper");

	/* A helper that cannot be run: the process calls itself, once told. */
	http_free(h);
	h = NULL;
	fetch_configure("/nonexistent/kvgate-fetch", scope);
	ok(http_new(&o, &h) == HTTP_OK, "http_new");
	e = http_request(h, "GET", url, NULL, NULL, 100, &r);
	ok(e == HTTP_OK && strcmp(r.body.data, "four") == 0 && h->curl != NULL,
	   "no helper to run: the call is made in this process");
	ok(!fetch_enabled(), "and the following ones too");
	http_free(h);
	h = NULL;

	/* Another user's socket under the name: never used. Needs root to
	 * be another user. */
	snprintf(other, sizeof(other), "%s squatted", scope);
	fetch_configure(exe, other);
	fetch_name(exe, other, name);
	if (geteuid() != 0) {
		printf("# skip: a socket of another user needs root to make\n");
	} else if ((squat = fork()) == 0) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		size_t n = strlen(name);
		int l = socket(AF_UNIX, SOCK_STREAM, 0);

		memcpy(a.sun_path + 1, name, n);
		if (setgid(65534) != 0 || setuid(65534) != 0 ||
		    bind(l, (struct sockaddr *)&a,
		         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0 ||
		    listen(l, 8) != 0)
			_exit(1);
		pause();
		_exit(0);
	} else {
		for (int i = 0; i < 100 && (fd = dial_name(name)) < 0; i++)
			canned_sleep_ms(10);
		if (fd >= 0)
			close(fd);
		ok(http_new(&o, &h) == HTTP_OK, "http_new");
		e = http_request(h, "GET", url, NULL, NULL, 100, &r);
		ok(e == HTTP_OK && strcmp(r.body.data, "five") == 0 && h->curl != NULL,
		   "a socket of another user is not used: the call is made in this process");
		ok(!fetch_enabled(), "nor tried again");
		kill(squat, SIGKILL);
		waitpid(squat, &st, 0);
		http_free(h);
		h = NULL;
	}
	http_response_free(&r);
	canned_stop(&s);
}

int main(void)
{
	char exe[PATH_MAX], scope[64];

	test_url_allowed();
	test_strerror();
	test_exchange();
	test_timeout();
	test_refused();
	test_tls();

	/* The same calls through kvgate-fetch, each test stack its own. */
	if (!ok(fetch_exe(exe, sizeof(exe)), "cgi-bin/kvgate-fetch is built"))
		return tap_done();
	snprintf(scope, sizeof(scope), "test_http %d", (int)getpid());
	fetch_configure(exe, scope);
	printf("# through kvgate-fetch\n");
	test_exchange();
	test_timeout();
	test_refused();
	test_tls();
	ok(fetch_enabled(), "every call above went through the helper");
	test_fetcher(exe, scope);
	return tap_done();
}
