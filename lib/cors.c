/*
 * cors.c: CORS verdicts and headers. See cors.h for the rules.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cors.h"

/*
 * A host as it appears in a serialized origin: a lower-case DNS name
 * (labels of [a-z0-9-], not starting or ending with '-'), or a bracketed
 * IPv6 literal. IPv4 literals are DNS-shaped and pass the same rule. Browsers
 * serialize hosts in lower case (URL standard, host serializer), so upper
 * case can only come from a hand-written Origin and never matches.
 */
static bool host_valid(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return false;
	if (s[0] == '[') {
		if (n < 4 || s[n - 1] != ']')
			return false;
		for (i = 1; i < n - 1; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				return false;
		return true;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-';
}

bool cors_origin_valid(const char *s)
{
	const char *host, *colon, *end;
	size_t len, hostlen;
	long port;
	bool https;

	if (s == NULL)
		return false;
	len = strlen(s);
	if (len == 0 || len > CORS_ORIGIN_MAX)
		return false;
	if (strncmp(s, "https://", 8) == 0) {
		https = true;
		host = s + 8;
	} else if (strncmp(s, "http://", 7) == 0) {
		https = false;
		host = s + 7;
	} else {
		return false;
	}
	end = s + len;
	/* The port separator is the last ':' outside an IPv6 literal. */
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');

		if (rb == NULL)
			return false;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (colon == NULL && rb + 1 != end)
			return false;
	} else {
		colon = strchr(host, ':');
	}
	hostlen = (size_t)((colon ? colon : end) - host);
	if (!host_valid(host, hostlen))
		return false;
	if (colon == NULL)
		return true;
	/* A port: 1-5 digits, no leading zero, 1-65535, not the default. */
	if (colon[1] == '\0' || colon[1] == '0' || end - colon - 1 > 5)
		return false;
	port = 0;
	for (const char *p = colon + 1; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	if (port > 65535 || port == (https ? 443 : 80))
		return false;
	return true;
}
