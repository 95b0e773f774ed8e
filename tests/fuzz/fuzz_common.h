/*
 * fuzz_common.h: what the libFuzzer targets share.
 *
 * Each target is one C file with LLVMFuzzerTestOneInput (and, when it needs
 * fixed state such as a policy or a key, LLVMFuzzerInitialize). Targets that
 * reach a module's static parsers include its .c file, as the unit tests do
 * (style.md rule 11); the archive then never pulls that module's object.
 *
 * Invariants a target checks beyond "no sanitizer report" go through
 * FUZZ_CHECK, which aborts: libFuzzer saves the input as a crash like any
 * other, and tests/fuzz/README.md says how it becomes a regression seed.
 */
#ifndef KVGATE_FUZZ_COMMON_H
#define KVGATE_FUZZ_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "strlist.h"

/* libFuzzer's entry points (declared for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort, naming the broken invariant, when cond is false. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: invariant failed: %s (%s:%d)\n", #cond, __FILE__,   \
			        __LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Abort with a message: the fixed set-up of a target failed, which is a bug
 * in the target, not a finding. */
__attribute__((unused, noreturn)) static void fuzz_die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz: set-up failed: %s%s%s\n", what, detail ? ": " : "",
	        detail ? detail : "");
	abort();
}

/* A NUL-terminated copy of the input (caller frees). Bytes after a NUL in
 * the input are unreachable through C strings, as they are in production
 * (CGI parameters and header values are C strings). */
__attribute__((unused)) static char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		fuzz_die("malloc", NULL);
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Split the input at NUL bytes into at most n fields (the last one takes
 * the rest, NULs and all cut at its first NUL). f[i] is NULL for a field the
 * input does not reach. Returns the copy the fields point into (caller
 * frees).
 */
__attribute__((unused)) static char *fuzz_fields(const uint8_t *data, size_t size, const char **f,
                                                 size_t n)
{
	char *s = fuzz_string(data, size), *p = s, *end = s + size;

	for (size_t i = 0; i < n; i++) {
		if (p > end) {
			f[i] = NULL;
			continue;
		}
		f[i] = p;
		p += strlen(p) + 1;
	}
	return s;
}

/* Whether the n bytes at s are well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
__attribute__((unused)) static bool fuzz_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e;

	if (n == 0)
		return true;
	e = p + n;

	while (p < e) {
		unsigned c = *p;
		size_t k;
		unsigned cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3, cp = c & 0x07;
		else
			return false;
		if ((size_t)(e - p) <= k)
			return false;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += k + 1;
	}
	return true;
}

/* The process's private directory for the files a target writes, made on
 * first use under $TMPDIR (default /tmp) and removed at exit. */
static char fuzz_dir[4096];

static void fuzz_cleanup(void)
{
	DIR *d;
	struct dirent *e;
	char path[sizeof(fuzz_dir) + 256];

	if (fuzz_dir[0] == '\0' || (d = opendir(fuzz_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(fuzz_dir);
}

__attribute__((unused)) static const char *fuzz_tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/kvgate-fuzz-XXXXXX",
	         tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir) == NULL)
		fuzz_die("mkdtemp", strerror(errno));
	atexit(fuzz_cleanup);
	return fuzz_dir;
}

/* Write n bytes at p to name in the private directory, replacing it.
 * Returns the file's path (static storage, overwritten by the next call). */
__attribute__((unused)) static const char *fuzz_write(const char *name, const void *p, size_t n)
{
	static char path[sizeof(fuzz_dir) + 256];
	const char *b = p;
	ssize_t w;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		fuzz_die(path, strerror(errno));
	while (n > 0) {
		if ((w = write(fd, b, n)) < 0) {
			if (errno == EINTR)
				continue;
			fuzz_die(path, strerror(errno));
		}
		b += w;
		n -= (size_t)w;
	}
	close(fd);
	return path;
}

/* Load the fixed policy ini (written as name in the private directory), or
 * abort with its problems: a target's own policy must be valid. The files it
 * names relatively must have been written first. */
__attribute__((unused)) static struct policy *fuzz_policy(const char *name, const char *ini)
{
	struct strlist errors = {0};
	struct policy *p = NULL;
	const char *path = fuzz_write(name, ini, strlen(ini));

	if (policy_load(path, &p, &errors) != 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "fuzz: %s\n", errors.v[i]);
		fuzz_die("the target's policy does not load", path);
	}
	strlist_free(&errors);
	return p;
}

/* What every target does first: only errors reach stderr (a finding's
 * report should not drown in log lines), and the client secret file the
 * fixed policies name exists. */
__attribute__((unused)) static void fuzz_setup(void)
{
	static const char secret[] = "fuzz-client-secret-value\n";

	log_init("fuzz");
	log_set_level(LOG_LEVEL_ERROR);
	fuzz_write("client-secret", secret, sizeof(secret) - 1);
}

/* Names the targets' fixed policies use. The vault and the identity are
 * placeholders: no target ever sends anything. */
#define FUZZ_TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define FUZZ_CLIENT "11111111-2222-3333-4444-555555555555"
#define FUZZ_VAULT_HOST "vaultname.vault.azure.net"
#define FUZZ_ORIGIN "https://gw.example.com"

#endif
