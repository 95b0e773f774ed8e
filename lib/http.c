/*
 * http.c: the per-process libcurl handle. See http.h.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/*
 * Whether url may be called: https:// anywhere, http:// only to a loopback
 * host, because a bearer token or client secret must never cross a network in
 * clear. Loopback is 127.0.0.0/8, [::1] and localhost.
 */
int http_url_allowed(const char *url)
{
	const char *host, *end;
	size_t n;

	if (url == NULL)
		return 0;
	if (strncmp(url, "https://", 8) == 0)
		return url[8] != '\0' && url[8] != '/' && url[8] != ':';
	if (strncmp(url, "http://", 7) != 0)
		return 0;
	host = url + 7;
	if (strncmp(host, "[::1]", 5) == 0) {
		end = host + 5;
	} else {
		end = host + strcspn(host, ":/?#");
	}
	n = (size_t)(end - host);
	if (*end != '\0' && *end != ':' && *end != '/' && *end != '?')
		return 0;
	if (n == 5 && strncmp(host, "[::1]", 5) == 0)
		return 1;
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return 1;
	if (n >= 7 && n <= 15 && strncmp(host, "127.", 4) == 0) {
		int dots = 0;

		for (size_t i = 0; i < n; i++) {
			if (host[i] == '.')
				dots++;
			else if (host[i] < '0' || host[i] > '9')
				return 0;
		}
		return dots == 3;
	}
	return 0;
}
