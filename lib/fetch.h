/*
 * fetch: the programs' upstream calls, made by kvgate-fetch.
 *
 * Debian's libcurl brings some thirty libraries (OpenSSL, GnuTLS, Kerberos,
 * LDAP, ...) that add about 9 MB to the resident size of every process that
 * loads them. So that no web-facing process loads them, the programs hand
 * each HTTP call (to the vault and to the identity endpoints) to one helper
 * process per policy file and user: kvgate-fetch, which makes the call with
 * libcurl and sends the answer back.
 *
 * The helper listens on an abstract Unix socket (no file to leave behind,
 * none to squat on disk) named after the user id and a hash of the
 * helper's path and the policy file's path. Both ends check the other's
 * user id (SO_PEERCRED): a process of another user that took the name
 * first gets nothing, and kvgate never talks to it. The first program that
 * needs the helper starts it (detached, in its own session, with an
 * environment stripped to what libcurl reads); a second one started at the
 * same moment finds the name taken and leaves. Each program keeps its one
 * connection for its lifetime, and the helper gives each connection its own
 * libcurl handle (and so its own kept-alive TLS connection to the vault). The
 * helper leaves once no program has been connected for FETCHD_IDLE_MS.
 *
 * When the helper cannot be started or reached, the process logs why, once,
 * and makes its calls itself from then on (the libcurl it then loads is the
 * cost; the answers are the same).
 *
 * Wire format, native byte order (both ends are the same build on the same
 * machine): a frame is a u32 magic, a u32 payload length, the payload.
 * Strings are a u32 length and the bytes; an absent string has length
 * 0xffffffff. Request payload: u8 method (0 GET, 1 POST), u8 allow_imds,
 * u16 zero, u32 timeout_ms, u32 max_body, string ca_file, string url, u32
 * header count, each header line, string body. Answer payload: u32 http_err,
 * u32 status, string error text, the four kept headers (Retry-After,
 * retry-after-ms, WWW-Authenticate, Content-Type), string body.
 */
#ifndef KVGATE_FETCH_H
#define KVGATE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "http.h"

#define FETCH_REQUEST_MAGIC 0x3146564bu /* "KVF1" */
#define FETCH_ANSWER_MAGIC 0x3141564bu  /* "KVA1" */
/* Caps on one frame's payload: a request carries a URL, a few headers and
 * at most a client assertion; an answer a body under its cap (at most
 * FETCH_BODY_MAX) and four headers. */
#define FETCH_REQUEST_MAX (256u * 1024)
#define FETCH_BODY_MAX (8u * 1024 * 1024)
#define FETCH_ANSWER_MAX (FETCH_BODY_MAX + 64u * 1024)
/* The helper leaves once it has had no connection for this long. */
#define FETCHD_IDLE_MS 5000
/* How long a program waits for a helper it started to listen. */
#define FETCH_START_MS 3000
/* What a program allows beyond the call's own timeout before it gives the
 * helper up (the helper enforces the timeout itself). */
#define FETCH_GRACE_MS 2000
/* Tries of a call whose helper went away under it (lib/fetch.c). */
#define FETCH_TRIES 3
/* The abstract socket name: "kvgate-fetch-UID-" and 16 hex digits. */
#define FETCH_NAME_MAX 64

/* One call, as sent to the helper. */
struct fetch_call {
	const char *method; /* "GET" or "POST" */
	const char *url;
	const char *const *headers; /* NULL-terminated, or NULL */
	const char *body;           /* NULL for none */
	const char *ca_file;        /* NULL for the system store only */
	size_t max_body;
	long timeout_ms;
	bool allow_imds;
};

/*
 * Turn the helper on for this process: exe is kvgate-fetch's path, scope
 * names what the helper serves (the policy file's path). NULL exe turns it
 * off: calls are made in-process. Returns 0, or -1 when exe is too long.
 */
int fetch_configure(const char *exe, const char *scope);

/* Whether calls go to the helper (configured and not given up). */
bool fetch_enabled(void);

/* The helper's path next to the running program (kvgate-fetch in the
 * directory of /proc/self/exe), in out. Returns 0 or -1. */
int fetch_default_exe(char *out, size_t n);

/*
 * Make one call through the helper, on the connection *fd (-1 for none
 * yet: it is opened, starting the helper when none listens). resp must be
 * zeroed or freed; errbuf gets the reason of a failure. Returns an
 * http_err, or -1 when the helper cannot be reached at all: the caller
 * then makes the call itself (fetch_enabled() is false from then on).
 */
int fetch_request(int *fd, const struct fetch_call *c, struct http_response *resp, char *errbuf,
                  size_t errlen);

/* Close a connection (-1 is fine) and set it to -1. */
void fetch_close(int *fd);

/* The socket name for scope and exe (no leading NUL), in out. */
void fetch_name(const char *exe, const char *scope, char out[FETCH_NAME_MAX]);

/* Wire helpers, shared with the helper (lib/fetchd.c). */

/* Append a u32, or a string (NULL for absent), to b. 0 or -1. */
int fetch_put_u32(struct buf *b, unsigned v);
int fetch_put_str(struct buf *b, const char *s, size_t n);

/* A cursor over a received payload. */
struct fetch_cursor {
	const unsigned char *p;
	size_t left;
	bool bad; /* ran past the end, or a string with a NUL in it */
};

unsigned fetch_get_u32(struct fetch_cursor *c);
unsigned char fetch_get_u8(struct fetch_cursor *c);
/* A new NUL-terminated copy of the next string (NULL when absent or bad:
 * check c->bad). */
char *fetch_get_str(struct fetch_cursor *c);

/* Write all n bytes to fd (MSG_NOSIGNAL), and read exactly n, waiting at
 * most until deadline (a mono_ms() time; 0 for none). 0, or -1 with errno
 * set (ETIMEDOUT, or ECONNRESET at end of file). */
int fetch_send_all(int fd, const void *p, size_t n, long deadline);
int fetch_recv_all(int fd, void *p, size_t n, long deadline);

/* Read one frame with magic into b (its cap: max). 0, or -1 with errno set
 * (EPROTO for a bad magic or length). */
int fetch_recv_frame(int fd, unsigned magic, size_t max, struct buf *b, long deadline);

/* Run the helper: listen on the abstract socket name and serve until idle.
 * Returns the process's exit status. */
int fetchd_main(const char *name);

#endif
