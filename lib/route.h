/*
 * route: the request line of an API call, checked at the edge.
 *
 * The raw REQUEST_URI (never a decoded or normalized path) is split into
 * path and query and checked before anything else happens, so that `%2F`,
 * `..`, NUL bytes and other encodings cannot reach Key Vault or slip past the
 * secret name rules:
 *   {base}/secrets[/]                        ROUTE_LIST
 *   {base}/secrets/{name}/versions           ROUTE_VERSIONS
 *   {base}/secrets/{name}[/]                 ROUTE_GET (latest)
 *   {base}/secrets/{name}/{version}          ROUTE_GET
 * Query parameters: api-version (accepted, not forwarded), maxresults
 * (1-25), $skiptoken (the gateway's own paging token). Anything else, or any
 * parameter given twice, is refused. Query names and values are
 * percent-decoded once (the Azure SDK for JS sends "api%2Dversion"); what
 * they decode to must still be plain characters. Paths are never decoded.
 */
#ifndef KVGATE_ROUTE_H
#define KVGATE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_URI_MAX 4096 /* whole request-target */
#define ROUTE_PATH_MAX 1024
#define ROUTE_QUERY_MAX 3072
#define ROUTE_NAME_MAX 127
#define ROUTE_VERSION_LEN 32
#define ROUTE_API_VERSION_MAX 32
#define ROUTE_SKIPTOKEN_MAX 3000
#define ROUTE_MAXRESULTS_MAX 25

enum route_kind {
	ROUTE_NONE = 0,
	ROUTE_LIST,
	ROUTE_VERSIONS,
	ROUTE_GET,
};

enum route_err {
	ROUTE_OK = 0,
	ROUTE_ETOOLONG,    /* request-target, path or query over its cap */
	ROUTE_EPATH,       /* not under base_path, or not one of the routes */
	ROUTE_EENCODING,   /* percent-encoding, dot segments, control bytes, empty segments */
	ROUTE_ENAME,       /* bad secret name */
	ROUTE_EVERSION,    /* bad secret version */
	ROUTE_EQUERY,      /* unknown, repeated or malformed query parameter */
	ROUTE_EMAXRESULTS, /* maxresults not an integer in 1-25 */
};

struct route {
	enum route_kind kind;
	char name[ROUTE_NAME_MAX + 1];               /* "" for ROUTE_LIST */
	char version[ROUTE_VERSION_LEN + 1];         /* "" for the latest */
	char api_version[ROUTE_API_VERSION_MAX + 1]; /* "" when not given */
	int maxresults;                              /* 0 when not given */
	char skiptoken[ROUTE_SKIPTOKEN_MAX + 1];     /* "" when not given */
};

/*
 * Parse uri (the raw REQUEST_URI) against base_path into *out, which is
 * zeroed on entry. On error returns the reason and writes a message fit for
 * the caller (it quotes nothing from the request) to msg.
 */
enum route_err route_parse(const char *uri, const char *base_path, struct route *out, char *msg,
                           size_t msglen);

/* Whether the path part of uri lies under base_path ("{base}" or "{base}/…"). */
bool route_under_base(const char *uri, const char *base_path);

/* Key Vault's rule for secret names: 1-127 characters of [0-9A-Za-z-]. */
bool route_name_valid(const char *s);

/* A secret version: exactly 32 hexadecimal characters. */
bool route_version_valid(const char *s);

/* An api-version value: 1-32 characters of [0-9A-Za-z.-] ("7.6",
 * "2025-07-01", "2026-03-01-preview"). */
bool route_api_version_valid(const char *s);

const char *route_strerror(enum route_err e);

#endif
