/*
 * test_lazy: libcurl and libcrypto loaded on first use (lib/lazy/).
 *
 * This program is linked like the programs in cgi-bin/: against the shims
 * in lib/lazy/ (included here, to reach their statics), without -lcurl or
 * -lcrypto. It pins down what issue 6 is about: nothing of libcurl or
 * libcrypto is mapped at start, nor after http_new() (which every
 * get-secret process calls at start, also one that will only ever answer
 * from the cache: libcurl's handle is made by the first request); a hash
 * through EVP maps libcrypto and gives the right digest; the first transfer
 * maps libcurl and behaves exactly as with libcurl linked in (options,
 * callbacks, header lists, connection reuse); and a library that cannot be
 * loaded gives one log line and a clean failure of the call (502 for the
 * client, through http.c's usual mapping), not a dead process.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/lazy/crypto.c"
#include "../../lib/lazy/curl.c"

#include "canned.h"
#include "http.h"
#include "sha256.h"
#include "tap.h"

#define MISSING_SONAME "libkvgate-test-no-such-library.so.9"

/* Whether a file whose name contains needle is mapped in this process. */
static bool mapped(const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return true; /* fail the "not mapped" checks loudly */
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void test_nothing_at_start(void)
{
	unsigned char d[SHA256_LEN];

	ok(!mapped("libcurl"), "libcurl is not mapped at start");
	ok(!mapped("libcrypto"), "libcrypto is not mapped at start");
	ok(!mapped("libssl"), "libssl is not mapped at start");

	/* What every request does (cache keys, rate limits) needs neither. */
	sha256("abc", 3, d);
	sha256_hmac("k", 1, "m", 1, d);
	/* Frees of NULL and clearing an empty error queue load nothing: an
	 * identity without a certificate frees its NULL key on every reload. */
	EVP_PKEY_free(NULL);
	EVP_MD_CTX_free(NULL);
	X509_free(NULL);
	CRYPTO_free(NULL, __FILE__, __LINE__);
	ERR_clear_error();
	ok(BIO_free(NULL) == 0, "BIO_free(NULL) is 0, as OpenSSL's");
	ok(!mapped("libcrypto"), "own SHA-256, frees of NULL and ERR_clear_error() load nothing");
}

/*
 * The child's part of the missing-library test: both sonames point at a
 * file that does not exist. Returns a bit mask of the checks that failed.
 */
static int missing_child(int port)
{
	struct http_options o = {"/dev/null", 2000};
	struct http_response r = {0};
	struct http *h = NULL;
	char url[128];
	int bad = 0;

	curl_lib.soname = MISSING_SONAME;
	crypto_lib.soname = MISSING_SONAME;

	/* libcrypto: failures as OpenSSL reports them. */
	if (EVP_sha256() != NULL || EVP_MD_CTX_new() != NULL)
		bad |= 1;
	if (EVP_Digest("abc", 3, NULL, NULL, NULL, NULL) != 0 || RAND_bytes(NULL, 0) != 0)
		bad |= 1;

	/* libcurl: http_new() needs none of it; the transfer fails. */
	if (http_new(&o, &h) != HTTP_OK || h == NULL)
		return bad | 2;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/secrets/a", port);
	if (http_request(h, "GET", url, NULL, NULL, 1000, &r) != HTTP_ETRANSPORT)
		bad |= 4;
	if (strstr(http_last_error(h), MISSING_SONAME) == NULL)
		bad |= 8;
	/* A second request fails the same way without trying (or logging)
	 * again. */
	if (http_request(h, "GET", url, NULL, NULL, 1000, &r) != HTTP_ETRANSPORT)
		bad |= 4;
	http_response_free(&r);
	http_free(h);
	if (mapped("libcurl") || mapped("libcrypto"))
		bad |= 16;
	return bad;
}

/* Run in a child (before this process loads anything), its stderr in a
 * file so that the log lines can be counted. */
static void test_missing_library(void)
{
	char path[] = "/tmp/kvgate-test-lazy-XXXXXX", buf[4096];
	int fd = mkstemp(path), status = 0, port = canned_dead_port(), lines = 0;
	ssize_t n;
	pid_t pid;

	if (fd < 0) {
		ok(0, "temporary file for the child's log");
		return;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		dup2(fd, 2);
		_exit(missing_child(port));
	}
	waitpid(pid, &status, 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	for (char *p = buf; (p = strstr(p, "cannot load " MISSING_SONAME)) != NULL; p++)
		lines++;

	ok(WIFEXITED(status), "missing libraries: the process lives on (status %d)", status);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
	ok(!(status & 1), "missing libcrypto: EVP_sha256, EVP_MD_CTX_new, EVP_Digest, RAND_bytes "
	                  "fail as OpenSSL reports failures");
	ok(!(status & 2),
	   "missing libcurl: http_new() still makes its handle (libcurl's comes later)");
	ok(!(status & 4), "missing libcurl: http_request() is a transport failure (502 upstream)");
	ok(!(status & 8), "missing libcurl: the request's error names the library");
	ok(!(status & 16), "missing libraries: nothing mapped");
	ok(lines == 2, "one log line per missing library, however many calls (%d):\n%s", lines,
	   buf);
}

static void test_crypto_on_first_use(void)
{
	unsigned char d[EVP_MAX_MD_SIZE], ours[SHA256_LEN];
	unsigned int n = 0;

	ok(EVP_Digest("abc", 3, d, &n, EVP_sha256(), NULL) == 1 && n == SHA256_LEN,
	   "EVP_Digest through the shim");
	sha256("abc", 3, ours);
	ok(memcmp(d, ours, SHA256_LEN) == 0, "... gives SHA-256(\"abc\")");
	ok(mapped("libcrypto"), "libcrypto is mapped after the first EVP call");
	ok(!mapped("libcurl"), "libcurl is still not mapped");
}

/* http.c's handle through the shim: libcurl loaded by the first transfer. */
static void test_curl_on_first_use(void)
{
	static const struct canned_reply script[] = {
	    {200, "Content-Type: application/json\r\n", "{\"value\":\"v1\"}", 0, 0, 0},
	    {200, NULL, "{\"value\":\"v2\"}", 0, 0, 0},
	};
	static const char *const headers[] = {"Authorization: Bearer t", NULL};
	/* A CA file makes the handle ask libcurl for its CA directory
	 * (CURLINFO_CAPATH), a variadic getinfo through the shim. */
	struct http_options o = {"/dev/null", 5000};
	struct http_response r = {0};
	struct canned_server s;
	struct http *h = NULL;
	char url[128], *req;
	enum http_err e;

	if (canned_start(&s, script, 2, NULL, 0) != 0) {
		ok(0, "canned server started");
		return;
	}
	ok(http_new(&o, &h) == HTTP_OK && h != NULL, "http_new through the shim");
	ok(!mapped("libcurl"), "libcurl is not mapped after http_new()");
	if (h == NULL)
		goto out;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/secrets/a?api-version=7.6", s.port);
	e = http_request(h, "GET", url, headers, NULL, 1000, &r);
	ok(e == HTTP_OK && r.status == 200, "the first transfer works (%s, %ld)", http_strerror(e),
	   r.status);
	ok(r.body.data != NULL && strcmp(r.body.data, "{\"value\":\"v1\"}") == 0,
	   "... its body arrives through the write callback");
	ok(r.content_type != NULL && strcmp(r.content_type, "application/json") == 0,
	   "... its headers through the header callback");
	ok(mapped("libcurl"), "libcurl is mapped after the first transfer");
	req = canned_request(&s, 0);
	ok(req != NULL && strstr(req, "GET /secrets/a?api-version=7.6 HTTP/1.1\r\n") == req,
	   "the request line is HTTP/1.1 (CURLOPT_HTTP_VERSION, a long option)");
	ok(req != NULL && strstr(req, "\r\nUser-Agent: kvgate/") != NULL,
	   "the User-Agent arrives (a string option)");
	ok(req != NULL && strstr(req, "\r\nAuthorization: Bearer t\r\n") != NULL,
	   "the header list (curl_slist_append through the shim) arrives");
	free(req);

	e = http_request(h, "GET", url, NULL, NULL, 1000, &r);
	ok(e == HTTP_OK && r.body.data != NULL && strcmp(r.body.data, "{\"value\":\"v2\"}") == 0,
	   "a second transfer on the same handle");
	ok(canned_accepts(&s) == 1, "... on the same connection (%d accepted)", canned_accepts(&s));
	http_response_free(&r);
	http_free(h);

	ok(strstr(curl_version(), "libcurl/") == curl_version(), "curl_version(): %s",
	   curl_version());
	ok(strcmp(curl_easy_strerror(CURLE_COULDNT_CONNECT), "Couldn't connect to server") == 0,
	   "curl_easy_strerror() is libcurl's once loaded");
out:
	canned_stop(&s);
}

int main(void)
{
	test_nothing_at_start();
	test_missing_library();
	test_crypto_on_first_use();
	test_curl_on_first_use();
	return tap_done();
}
