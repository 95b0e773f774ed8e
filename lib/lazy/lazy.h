/*
 * lazy: shared libraries loaded on first use, for the programs.
 *
 * The programs in cgi-bin/ link lib/lazy/curl.c and lib/lazy/crypto.c
 * instead of -lcurl and -lcrypto. Those files define the libcurl and
 * libcrypto functions kvgate calls; each forwards to the real one, found
 * with dlsym() in a library that lazy_open() loads with dlopen() the first
 * time any of them needs it. A process that never talks to the vault and
 * never checks a signature (every preflight process, a get-secret process
 * answering from the shared cache) never maps libcurl, libcrypto or the
 * thirty-odd libraries libcurl pulls in: about 7 MB less VmRSS each.
 *
 * Unit tests and fuzzers link the real libraries and never see this
 * directory (it is not part of build/libkvgate.a).
 *
 * The programs are single-threaded and nothing here runs in a signal
 * handler, so there is no locking. Everything here has hidden visibility:
 * a symbol of ours in the executable's dynamic symbol table could be bound
 * by the very libraries we load (libssl calling our EVP_ shims).
 */
#ifndef KVGATE_LAZY_H
#define KVGATE_LAZY_H

#include <stdbool.h>

#pragma GCC visibility push(hidden)

/* One library to load on first use. Define with only soname set. */
struct lazy_lib {
	const char *soname;   /* what dlopen() is asked for, e.g. "libcurl.so.4" */
	void (*before)(void); /* called once, just before dlopen(); or NULL */
	void *handle;         /* NULL until loaded */
	bool failed;          /* dlopen() failed: logged once, never retried */
	char why[256];        /* dlerror() of that failure */
};

/* One function of a lazy_lib, resolved on first use. */
struct lazy_fn {
	void *addr;  /* NULL until resolved */
	bool failed; /* missing from the library (logged once), or no library */
};

/* Load l if it is not loaded yet. Returns true when it is loaded; false
 * (with one log line naming the library and dlerror(), the first time) when
 * it cannot be. */
bool lazy_open(struct lazy_lib *l);

/* Whether l is loaded (without trying to load it). */
bool lazy_loaded(const struct lazy_lib *l);

/* The address of name in l, loading l first; NULL when l cannot be loaded
 * or lacks name (logged once per function). f caches the answer. */
void *lazy_sym(struct lazy_lib *l, struct lazy_fn *f, const char *name);

#pragma GCC visibility pop

#endif
