/*
 * lazy.c: shared libraries loaded on first use. See lazy.h.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "lazy.h"
#include "log.h"

bool lazy_open(struct lazy_lib *l)
{
	const char *e;

	if (l->handle != NULL)
		return true;
	if (l->failed)
		return false;
	if (l->before != NULL)
		l->before();
	/* RTLD_NOW: a library that cannot resolve everything fails here, in
	 * one place, instead of in the middle of a request. RTLD_LOCAL: its
	 * symbols are for us to look up, not for other libraries to bind. */
	if ((l->handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL)) != NULL) {
		log_debug("loaded %s", l->soname);
		return true;
	}
	e = dlerror();
	snprintf(l->why, sizeof(l->why), "%s", e != NULL ? e : "unknown dlopen() error");
	l->failed = true;
	log_error("cannot load %s (%s): every call that needs it fails", l->soname, l->why);
	return false;
}

bool lazy_loaded(const struct lazy_lib *l)
{
	return l->handle != NULL;
}

void *lazy_sym(struct lazy_lib *l, struct lazy_fn *f, const char *name)
{
	const char *e;

	if (f->addr != NULL)
		return f->addr;
	if (f->failed || !lazy_open(l)) {
		f->failed = true;
		return NULL;
	}
	dlerror();
	if ((f->addr = dlsym(l->handle, name)) == NULL) {
		e = dlerror();
		f->failed = true;
		log_error("%s has no %s (%s): every call to it fails", l->soname, name,
		          e != NULL ? e : "NULL");
	}
	return f->addr;
}
