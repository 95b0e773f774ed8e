/*
 * curl.c: the libcurl functions kvgate calls, loading libcurl on first use.
 * See lazy.h.
 *
 * lib/http.c makes its easy handle on its first request (http_handle()),
 * so the first of these calls comes with the first transfer: a process that
 * answers from the shared cache never loads libcurl, nor the thirty-odd
 * libraries Debian's libcurl links (GnuTLS, Kerberos, LDAP, SSH...).
 *
 * When libcurl cannot be loaded (one log line names it and says why), each
 * call fails the way libcurl itself reports failure: curl_global_init()
 * with CURLE_FAILED_INIT, curl_easy_init() with NULL, and so on. http.c
 * turns that into a transport failure, so the client gets the gateway's
 * usual 502 envelope and the process carries on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "lazy.h"

/* curl.h's type-checking wrappers are macros; these are the functions. */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#ifndef LAZY_CURL_SONAME
#define LAZY_CURL_SONAME "libcurl.so.4"
#endif

#pragma GCC visibility push(hidden)

/*
 * Debian's libcurl links librtmp, which links GnuTLS, whose constructor
 * initialises it (and p11-kit's modules) as it is loaded: some 0.8 MB of
 * VmRSS for a library kvgate never calls (RTMP is not among the protocols
 * http.c allows). GnuTLS skips that when GNUTLS_NO_IMPLICIT_INIT is set; an
 * operator's own setting is kept.
 */
static void curl_before(void)
{
	(void)setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
}

static struct lazy_lib curl_lib = {.soname = LAZY_CURL_SONAME, .before = curl_before};

/*
 * The address of libcurl's name as a pointer of type fp (dlsym()'s void *
 * turned into a function pointer through a union), NULL when libcurl or the
 * function is missing.
 */
#define CURL_FN(fp, name)                                                                          \
	({                                                                                         \
		static struct lazy_fn f_;                                                          \
		union {                                                                            \
			void *p;                                                                   \
			fp f;                                                                      \
		} u_ = {lazy_sym(&curl_lib, &f_, name)};                                           \
		u_.f;                                                                              \
	})

CURLcode curl_global_init(long flags)
{
	__typeof__(&curl_global_init) f =
	    CURL_FN(__typeof__(&curl_global_init), "curl_global_init");

	return f != NULL ? f(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	__typeof__(&curl_global_cleanup) f;

	if (!lazy_loaded(&curl_lib))
		return; /* never initialised */
	if ((f = CURL_FN(__typeof__(&curl_global_cleanup), "curl_global_cleanup")) != NULL)
		f();
}

CURL *curl_easy_init(void)
{
	__typeof__(&curl_easy_init) f = CURL_FN(__typeof__(&curl_easy_init), "curl_easy_init");

	return f != NULL ? f() : NULL;
}

/*
 * The one variable argument is a long, a curl_off_t, a function pointer or
 * an object pointer, as the option's number says (curl.h's CURLOPTTYPE_*
 * ranges). It is read as that type and passed on as that type.
 */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	__typeof__(&curl_easy_setopt) f =
	    CURL_FN(__typeof__(&curl_easy_setopt), "curl_easy_setopt");
	CURLcode rc;
	va_list ap;

	if (f == NULL)
		return CURLE_FAILED_INIT;
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = f(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = f(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = f(curl, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		rc = f(curl, option, va_arg(ap, curl_off_t));
	else
		rc = f(curl, option, va_arg(ap, void *)); /* struct curl_blob * */
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	__typeof__(&curl_easy_getinfo) f =
	    CURL_FN(__typeof__(&curl_easy_getinfo), "curl_easy_getinfo");
	CURLcode rc;
	va_list ap;

	if (f == NULL)
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = f(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *curl)
{
	__typeof__(&curl_easy_perform) f =
	    CURL_FN(__typeof__(&curl_easy_perform), "curl_easy_perform");

	return f != NULL ? f(curl) : CURLE_FAILED_INIT;
}

void curl_easy_cleanup(CURL *curl)
{
	__typeof__(&curl_easy_cleanup) f;

	/* A handle only ever comes from a loaded libcurl. */
	if (curl == NULL || !lazy_loaded(&curl_lib))
		return;
	if ((f = CURL_FN(__typeof__(&curl_easy_cleanup), "curl_easy_cleanup")) != NULL)
		f(curl);
}

const char *curl_easy_strerror(CURLcode code)
{
	static char why[sizeof(curl_lib.why) + 64];
	__typeof__(&curl_easy_strerror) f;

	if (!lazy_loaded(&curl_lib) ||
	    (f = CURL_FN(__typeof__(&curl_easy_strerror), "curl_easy_strerror")) == NULL) {
		/* What http.c puts in the request's error: the library and
		 * dlerror()'s reason. */
		snprintf(why, sizeof(why), "cannot load %s (%s)", curl_lib.soname,
		         curl_lib.failed ? curl_lib.why : "not loaded");
		return why;
	}
	return f(code);
}

char *curl_version(void)
{
	static char none[] = "libcurl not loaded";
	__typeof__(&curl_version) f = CURL_FN(__typeof__(&curl_version), "curl_version");

	return f != NULL ? f() : none;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data)
{
	__typeof__(&curl_slist_append) f =
	    CURL_FN(__typeof__(&curl_slist_append), "curl_slist_append");

	return f != NULL ? f(list, data) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	__typeof__(&curl_slist_free_all) f;

	/* A list only ever comes from a loaded libcurl. */
	if (list == NULL || !lazy_loaded(&curl_lib))
		return;
	if ((f = CURL_FN(__typeof__(&curl_slist_free_all), "curl_slist_free_all")) != NULL)
		f(list);
}

#pragma GCC visibility pop
