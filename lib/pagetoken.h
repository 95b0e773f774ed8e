/*
 * pagetoken: the $skiptoken of the gateway's nextLinks, sealed.
 *
 * A list page's nextLink must lead back to the gateway, and the gateway must
 * then follow the vault's own nextLink. The vault's link names the vault's
 * host, and its $skiptoken is base64 JSON whose marker names the next secret
 * in the vault, hidden ones included. So the token handed to callers is the
 * vault's nextLink, whole, sealed with ChaCha20-Poly1305 (aead.h, our own,
 * so that paging never loads libcrypto): callers can neither read it nor
 * forge or alter one. The associated data binds a token to the list it came
 * from (all secrets, or one secret's versions) and to the token format
 * ("kvgate-page-v2:"; the AES-256-GCM tokens of v1 no longer open, so a
 * caller holding one gets a 400 and starts the list again).
 *
 * The key is shared by every process serving the API: read from
 * [gateway] paging_key_file, else derived (HMAC-SHA256) from the client
 * secret, else random per process (pagetoken_key_init says so).
 */
#ifndef KVGATE_PAGETOKEN_H
#define KVGATE_PAGETOKEN_H

#include <stdbool.h>
#include "policy.h"

#define PAGETOKEN_KEY_LEN 32
/* The longest text a token can carry (a nextLink is capped at 2048 bytes,
 * KV_NEXTLINK_MAX). A token is base64url of nonce, ciphertext and tag. */
#define PAGETOKEN_PLAIN_MAX 2048

struct pagetoken_key {
	unsigned char k[PAGETOKEN_KEY_LEN];
	bool ephemeral; /* random for this process only */
};

/* Set up the key for policy p (see above). client_secret is the secret the
 * identity uses, or NULL. Returns 0, or -1 with a reason in err (a key file
 * that cannot be read or is shorter than 32 bytes). */
int pagetoken_key_init(const struct policy *p, const char *client_secret, struct pagetoken_key *key,
                       char *err, size_t errlen);

/* Wipe the key. */
void pagetoken_key_free(struct pagetoken_key *key);

/* Seal plain (1 to PAGETOKEN_PLAIN_MAX bytes) for the list named by
 * scope. Returns a new base64url string (caller frees), or NULL. */
char *pagetoken_seal(const struct pagetoken_key *key, const char *scope, const char *plain);

/* Open a token sealed for scope. Returns the plain text (caller frees), or
 * NULL when the token is malformed, forged, altered or for another list. */
char *pagetoken_open(const struct pagetoken_key *key, const char *scope, const char *token);

#endif
