/*
 * crypto.c: the libcrypto functions kvgate calls, loading libcrypto on
 * first use. See lazy.h.
 *
 * What still needs OpenSSL: the client certificate of the identity (PEM,
 * RS256 signing) and JWT verification ([callers] jwt). Hashing, HMAC,
 * comparisons, random bytes and the sealing of paging tokens do not go
 * through here any more (lib/sha256.c, getrandom(2), lib/aead.c), so a
 * process loads libcrypto only for one of those two, or because libcurl
 * (linked against OpenSSL) brought it in; dlopen() then returns that same
 * copy.
 *
 * The list is what the programs leave undefined when linked without
 * -lcrypto (OPENSSL_malloc/OPENSSL_free/OPENSSL_clear_free are macros over
 * the CRYPTO_ functions; BIO_reset is BIO_ctrl). Each definition below is
 * checked against OpenSSL's own declaration. When libcrypto or one of its
 * functions is missing, a call fails the way OpenSSL reports a failure
 * (NULL, 0, or -1 for i2d_*), which every caller already handles; a free of
 * NULL never loads anything; a void function that cannot run is fatal
 * (_exit(70), EX_SOFTWARE), since its caller cannot know.
 */
#include <stddef.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lazy.h"
#include "log.h"

#ifndef LAZY_CRYPTO_SONAME
#define LAZY_CRYPTO_SONAME "libcrypto.so.3"
#endif

#pragma GCC visibility push(hidden)

static struct lazy_lib crypto_lib = {.soname = LAZY_CRYPTO_SONAME};

/* For a void function whose object came from libcrypto (so libcrypto is
 * loaded) but which is missing from it: nothing sensible can follow. */
static void *crypto_must(struct lazy_fn *f, const char *name)
{
	void *p = lazy_sym(&crypto_lib, f, name);

	if (p == NULL) {
		log_error("%s: cannot call %s, stopping", crypto_lib.soname, name);
		_exit(70);
	}
	return p;
}

/*
 * SHIM(type, name, (parameters), (arguments), value on failure): define
 * name to call libcrypto's name. The union turns dlsym()'s void * into the
 * function's own pointer type, taken from OpenSSL's declaration.
 */
#define SHIM(ret, name, params, args, fail)                                                        \
	static struct lazy_fn name##_lazy;                                                         \
	ret name params                                                                            \
	{                                                                                          \
		union {                                                                            \
			void *p;                                                                   \
			__typeof__(&name) f;                                                       \
		} lz = {lazy_sym(&crypto_lib, &name##_lazy, #name)};                               \
		return lz.p != NULL ? lz.f args : (fail);                                          \
	}

/* SHIM_FREE(name, type): a void free function; NULL is a no-op without
 * loading anything (an identity without a certificate frees its NULL key). */
#define SHIM_FREE(name, type)                                                                      \
	static struct lazy_fn name##_lazy;                                                         \
	void name(type p)                                                                          \
	{                                                                                          \
		union {                                                                            \
			void *p;                                                                   \
			__typeof__(&name) f;                                                       \
		} lz;                                                                              \
		if (p == NULL)                                                                     \
			return;                                                                    \
		lz.p = crypto_must(&name##_lazy, #name);                                           \
		lz.f(p);                                                                           \
	}

/* Memory (OPENSSL_malloc, OPENSSL_free, OPENSSL_clear_free). */
SHIM(void *, CRYPTO_malloc, (size_t num, const char *file, int line), (num, file, line), NULL)

static struct lazy_fn CRYPTO_free_lazy, CRYPTO_clear_free_lazy;

void CRYPTO_free(void *ptr, const char *file, int line)
{
	union {
		void *p;
		__typeof__(&CRYPTO_free) f;
	} lz;

	if (ptr == NULL)
		return;
	lz.p = crypto_must(&CRYPTO_free_lazy, "CRYPTO_free");
	lz.f(ptr, file, line);
}

void CRYPTO_clear_free(void *ptr, size_t num, const char *file, int line)
{
	union {
		void *p;
		__typeof__(&CRYPTO_clear_free) f;
	} lz;

	if (ptr == NULL)
		return;
	lz.p = crypto_must(&CRYPTO_clear_free_lazy, "CRYPTO_clear_free");
	lz.f(ptr, num, file, line);
}

/* The error queue: with libcrypto not loaded there is nothing to clear. */
static struct lazy_fn ERR_clear_error_lazy;

void ERR_clear_error(void)
{
	union {
		void *p;
		__typeof__(&ERR_clear_error) f;
	} lz;

	if (!lazy_loaded(&crypto_lib))
		return;
	lz.p = crypto_must(&ERR_clear_error_lazy, "ERR_clear_error");
	lz.f();
}

/* Digests and signatures (identity: certificate thumbprints and RS256
 * assertions; jwt: RS256 and ES256 verification). */
SHIM(const EVP_MD *, EVP_sha1, (void), (), NULL)
SHIM(const EVP_MD *, EVP_sha256, (void), (), NULL)
SHIM(int, EVP_Digest,
     (const void *data, size_t count, unsigned char *md, unsigned int *size, const EVP_MD *type,
      ENGINE *impl),
     (data, count, md, size, type, impl), 0)
SHIM(EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL)
SHIM_FREE(EVP_MD_CTX_free, EVP_MD_CTX *)
SHIM(int, EVP_DigestSignInit,
     (EVP_MD_CTX * ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e, EVP_PKEY *pkey),
     (ctx, pctx, type, e, pkey), 0)
SHIM(int, EVP_DigestSign,
     (EVP_MD_CTX * ctx, unsigned char *sigret, size_t *siglen, const unsigned char *tbs,
      size_t tbslen),
     (ctx, sigret, siglen, tbs, tbslen), 0)
SHIM(int, EVP_DigestVerifyInit,
     (EVP_MD_CTX * ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e, EVP_PKEY *pkey),
     (ctx, pctx, type, e, pkey), 0)
SHIM(int, EVP_DigestVerify,
     (EVP_MD_CTX * ctx, const unsigned char *sigret, size_t siglen, const unsigned char *tbs,
      size_t tbslen),
     (ctx, sigret, siglen, tbs, tbslen), 0)

/* Keys. */
SHIM_FREE(EVP_PKEY_free, EVP_PKEY *)
SHIM(int, EVP_PKEY_get_base_id, (const EVP_PKEY *pkey), (pkey), EVP_PKEY_NONE)
SHIM(int, EVP_PKEY_get_size, (const EVP_PKEY *pkey), (pkey), 0)
SHIM(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name,
     (OSSL_LIB_CTX * libctx, const char *name, const char *propquery), (libctx, name, propquery),
     NULL)
SHIM(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_pkey,
     (OSSL_LIB_CTX * libctx, EVP_PKEY *pkey, const char *propquery), (libctx, pkey, propquery),
     NULL)
SHIM_FREE(EVP_PKEY_CTX_free, EVP_PKEY_CTX *)
SHIM(int, EVP_PKEY_fromdata_init, (EVP_PKEY_CTX * ctx), (ctx), 0)
SHIM(int, EVP_PKEY_fromdata,
     (EVP_PKEY_CTX * ctx, EVP_PKEY **ppkey, int selection, OSSL_PARAM params[]),
     (ctx, ppkey, selection, params), 0)
SHIM(int, EVP_PKEY_public_check, (EVP_PKEY_CTX * ctx), (ctx), 0)

/* Building keys from JWKS members. */
SHIM(BIGNUM *, BN_bin2bn, (const unsigned char *s, int len, BIGNUM *ret), (s, len, ret), NULL)
SHIM_FREE(BN_free, BIGNUM *)
SHIM(int, BN_is_odd, (const BIGNUM *a), (a), 0)
SHIM(int, BN_num_bits, (const BIGNUM *a), (a), 0)
SHIM(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_new, (void), (), NULL)
SHIM_FREE(OSSL_PARAM_BLD_free, OSSL_PARAM_BLD *)
SHIM(int, OSSL_PARAM_BLD_push_BN, (OSSL_PARAM_BLD * bld, const char *key, const BIGNUM *bn),
     (bld, key, bn), 0)
SHIM(int, OSSL_PARAM_BLD_push_octet_string,
     (OSSL_PARAM_BLD * bld, const char *key, const void *buf, size_t bsize), (bld, key, buf, bsize),
     0)
SHIM(int, OSSL_PARAM_BLD_push_utf8_string,
     (OSSL_PARAM_BLD * bld, const char *key, const char *buf, size_t bsize), (bld, key, buf, bsize),
     0)
SHIM(OSSL_PARAM *, OSSL_PARAM_BLD_to_param, (OSSL_PARAM_BLD * bld), (bld), NULL)
SHIM_FREE(OSSL_PARAM_free, OSSL_PARAM *)

/* ES256 signatures: JOSE's r || s to DER for EVP_DigestVerify. */
SHIM(ECDSA_SIG *, ECDSA_SIG_new, (void), (), NULL)
SHIM_FREE(ECDSA_SIG_free, ECDSA_SIG *)
SHIM(int, ECDSA_SIG_set0, (ECDSA_SIG * sig, BIGNUM *r, BIGNUM *s), (sig, r, s), 0)
SHIM(int, i2d_ECDSA_SIG, (const ECDSA_SIG *a, unsigned char **out), (a, out), -1)

/* The identity's certificate file. */
SHIM(BIO *, BIO_new_mem_buf, (const void *buf, int len), (buf, len), NULL)
SHIM(long, BIO_ctrl, (BIO * bp, int cmd, long larg, void *parg), (bp, cmd, larg, parg), 0)

static struct lazy_fn BIO_free_lazy;

/* Not a SHIM_FREE: BIO_free() returns whether it freed. */
int BIO_free(BIO *a)
{
	union {
		void *p;
		__typeof__(&BIO_free) f;
	} lz;

	if (a == NULL)
		return 0;
	lz.p = crypto_must(&BIO_free_lazy, "BIO_free");
	return lz.f(a);
}

SHIM(X509 *, PEM_read_bio_X509, (BIO * out, X509 **x, pem_password_cb *cb, void *u),
     (out, x, cb, u), NULL)
SHIM(EVP_PKEY *, PEM_read_bio_PrivateKey, (BIO * out, EVP_PKEY **x, pem_password_cb *cb, void *u),
     (out, x, cb, u), NULL)
SHIM_FREE(X509_free, X509 *)
SHIM(int, X509_check_private_key, (const X509 *cert, const EVP_PKEY *pkey), (cert, pkey), 0)
SHIM(int, X509_cmp_current_time, (const ASN1_TIME *s), (s), 0)
SHIM(const ASN1_TIME *, X509_get0_notAfter, (const X509 *x), (x), NULL)
SHIM(int, i2d_X509, (const X509 *a, unsigned char **out), (a, out), -1)

/* Random bytes for the client assertion's jti (identity). */
SHIM(int, RAND_bytes, (unsigned char *buf, int num), (buf, num), 0)

#pragma GCC visibility pop
