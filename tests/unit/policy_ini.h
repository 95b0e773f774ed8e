/*
 * policy_ini.h: a complete, valid policy INI for the unit tests, with
 * changes. Every section and key design.md requires must be in a policy
 * file, so a test that cares about one key writes all the others too: it
 * states only its changes, and policy_ini() writes the rest.
 *
 * policy_ini(changes) returns (malloc'd) the base file below, one
 * "key = value" line per key, sections in design.md's order, with changes
 * applied. changes is INI-like text, read line by line:
 *   [section]      the section the following lines apply to; a section
 *                  not in the base is added at the end, header as written
 *   key = value    replaces the base line of that key, verbatim (quotes,
 *                  comments and all); a key the section does not have yet,
 *                  or has already replaced, is added after its keys
 *   !key           removes the key's line
 *   ![section]     removes the whole section, header and keys
 *   anything else  is kept verbatim after the section's keys (before the
 *                  first section: at the top of the file)
 * Names compare ignoring case. The base's lines are numbered as in
 * POLICY_INI_LINE_* below; policy_ini_line() finds a line in any result.
 */
#ifndef KVGATE_POLICY_INI_H
#define KVGATE_POLICY_INI_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* design.md's documented values; the vault is a placeholder. */
static const char *const policy_ini_base[][3] = {
    {"gateway", "base_path", "/api"},
    {"gateway", "public_url", ""},
    {"vault", "url", "https://v.vault.azure.net"},
    {"vault", "api_version", "7.6"},
    {"vault", "ca_file", ""},
    {"vault", "timeout_ms", "5000"},
    {"vault", "max_retries", "3"},
    {"identity", "method", "auto"},
    {"identity", "tenant_id", ""},
    {"identity", "client_id", ""},
    {"identity", "client_secret_file", ""},
    {"identity", "authority_host", "https://login.microsoftonline.com"},
    {"cors", "allowed_origins", ""},
    {"cors", "allowed_methods", "GET HEAD"},
    {"cors", "allowed_headers", ""},
    {"cors", "expose_headers", ""},
    {"cors", "allow_credentials", "false"},
    {"cors", "max_age", "600"},
    {"secrets", "allow", "*"},
    {"secrets", "deny", ""},
    {"cache", "ttl", "60"},
};
#define POLICY_INI_NKEYS (sizeof(policy_ini_base) / sizeof(policy_ini_base[0]))
#define POLICY_INI_NSECTIONS 6
#define POLICY_INI_MAX_LINES 64 /* changes, in all */

/* Line numbers in policy_ini("") (and in any result whose changes only
 * replace values). */
#define POLICY_INI_LINES 27 /* in all */

struct policy_ini_section {
	const char *name; /* NULL for the lines before any section */
	const char *header;
	bool removed;
	const char *extra[POLICY_INI_MAX_LINES];
	size_t nextra;
};

__attribute__((unused)) static char *policy_ini_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* The base section called name (ignoring case), or -1. */
__attribute__((unused)) static int policy_ini_base_section(const char *name)
{
	const char *last = NULL;
	int n = -1;

	for (size_t i = 0; i < POLICY_INI_NKEYS; i++) {
		if (last == NULL || strcmp(last, policy_ini_base[i][0]) != 0) {
			last = policy_ini_base[i][0];
			n++;
			if (strcasecmp(last, name) == 0)
				return n;
		}
	}
	return -1;
}

__attribute__((unused)) static const char *policy_ini_section_name(int s)
{
	const char *last = NULL;
	int n = -1;

	for (size_t i = 0; i < POLICY_INI_NKEYS; i++) {
		if (last == NULL || strcmp(last, policy_ini_base[i][0]) != 0) {
			last = policy_ini_base[i][0];
			if (++n == s)
				return last;
		}
	}
	return NULL;
}

__attribute__((unused)) static char *policy_ini(const char *changes)
{
	/* [0] the top of the file, [1..6] the base sections, then added ones. */
	struct policy_ini_section sec[2 + POLICY_INI_NSECTIONS + POLICY_INI_MAX_LINES];
	const char *line_for[POLICY_INI_NKEYS] = {0};
	bool removed[POLICY_INI_NKEYS] = {false};
	char *copy = strdup(changes), *next = copy, *l, *out = NULL;
	size_t nsec = 1 + POLICY_INI_NSECTIONS, cur = 0, outlen = 0;
	FILE *f;

	if (copy == NULL)
		abort();
	memset(sec, 0, sizeof(sec));
	for (int s = 0; s < POLICY_INI_NSECTIONS; s++)
		sec[1 + s].name = policy_ini_section_name(s);
	while (next != NULL && *next != '\0') {
		char *t, *eq;

		l = next;
		if ((next = strchr(l, '\n')) != NULL)
			*next++ = '\0';
		t = policy_ini_trim(l);
		if (t[0] == '!' && t[1] == '[') {
			char *name = policy_ini_trim(t + 2);
			int s;

			name[strcspn(name, "]")] = '\0';
			if ((s = policy_ini_base_section(policy_ini_trim(name))) >= 0)
				sec[1 + s].removed = true;
			continue;
		}
		if (t[0] == '!') {
			for (size_t i = 0;
			     cur >= 1 && cur <= POLICY_INI_NSECTIONS && i < POLICY_INI_NKEYS; i++)
				if (strcmp(policy_ini_base[i][0], sec[cur].name) == 0 &&
				    strcasecmp(policy_ini_base[i][1], policy_ini_trim(t + 1)) == 0)
					removed[i] = true;
			continue;
		}
		if (t[0] == '[' && t[strlen(t) - 1] == ']') {
			char name[128];
			int s;

			snprintf(name, sizeof(name), "%.*s", (int)strlen(t) - 2, t + 1);
			if ((s = policy_ini_base_section(policy_ini_trim(name))) >= 0) {
				cur = 1 + (size_t)s;
			} else {
				cur = nsec++;
				sec[cur].name = "";
				sec[cur].header = l;
			}
			continue;
		}
		if (cur >= 1 && cur <= POLICY_INI_NSECTIONS && (eq = strchr(t, '=')) != NULL) {
			char key[128];
			bool done = false;

			snprintf(key, sizeof(key), "%.*s", (int)(eq - t), t);
			for (size_t i = 0; i < POLICY_INI_NKEYS && !done; i++) {
				if (strcmp(policy_ini_base[i][0], sec[cur].name) == 0 &&
				    strcasecmp(policy_ini_base[i][1], policy_ini_trim(key)) == 0 &&
				    line_for[i] == NULL && !removed[i]) {
					line_for[i] = l;
					done = true;
				}
			}
			if (done)
				continue;
		}
		if (sec[cur].nextra < POLICY_INI_MAX_LINES)
			sec[cur].extra[sec[cur].nextra++] = l;
	}

	if ((f = open_memstream(&out, &outlen)) == NULL)
		abort();
	for (size_t s = 0; s < nsec; s++) {
		if (sec[s].removed)
			continue;
		if (s >= 1 && s <= POLICY_INI_NSECTIONS) {
			fprintf(f, "[%s]\n", sec[s].name);
			for (size_t i = 0; i < POLICY_INI_NKEYS; i++) {
				if (strcmp(policy_ini_base[i][0], sec[s].name) != 0 || removed[i])
					continue;
				if (line_for[i] != NULL)
					fprintf(f, "%s\n", line_for[i]);
				else
					fprintf(f, "%s =%s%s\n", policy_ini_base[i][1],
					        *policy_ini_base[i][2] ? " " : "",
					        policy_ini_base[i][2]);
			}
		} else if (s > POLICY_INI_NSECTIONS) {
			fprintf(f, "%s\n", sec[s].header);
		}
		for (size_t i = 0; i < sec[s].nextra; i++)
			fprintf(f, "%s\n", sec[s].extra[i]);
	}
	fclose(f);
	free(copy);
	return out;
}

/* The number (from 1) of the first line of text that starts with start
 * once its leading blanks are skipped, or 0. */
__attribute__((unused)) static int policy_ini_line(const char *text, const char *start)
{
	int n = 1;

	for (const char *l = text; *l != '\0'; n++) {
		const char *s = l + strspn(l, " \t");

		if (strncmp(s, start, strlen(start)) == 0)
			return n;
		if ((l = strchr(l, '\n')) == NULL)
			break;
		l++;
	}
	return 0;
}

#endif
