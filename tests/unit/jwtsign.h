/*
 * jwtsign.h - make keys, JWKs and signed JWTs in C with OpenSSL, for
 * u-jwt.c and bench/jwt-verify.c.  Test code: aborts on any failure.
 */
#ifndef MCPG_TEST_JWTSIGN_H
#define MCPG_TEST_JWTSIGN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "jwt.h"
#include "mcpg_config.h"

static inline void
ts_die(const char *what)
{
	fprintf(stderr, "jwtsign: %s failed\n", what);
	abort();
}

static inline char *
ts_b64(const unsigned char *p, size_t n)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *o = malloc(n * 4 / 3 + 4), *q = o;
	size_t i;

	if (!o)
		ts_die("malloc");
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		*q++ = a[v >> 18], *q++ = a[v >> 12 & 63], *q++ = a[v >> 6 & 63], *q++ = a[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;

		*q++ = a[v >> 18], *q++ = a[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;

		*q++ = a[v >> 18], *q++ = a[v >> 12 & 63], *q++ = a[v >> 6 & 63];
	}
	*q = '\0';
	return o;
}

static inline const EVP_MD *
ts_md(int alg)
{
	switch (alg) {
	case MCPG_JWT_ALG_RS384:
	case MCPG_JWT_ALG_PS384:
	case MCPG_JWT_ALG_ES384:
	case MCPG_JWT_ALG_HS384:
		return EVP_sha384();
	case MCPG_JWT_ALG_RS512:
	case MCPG_JWT_ALG_PS512:
	case MCPG_JWT_ALG_HS512:
		return EVP_sha512();
	case MCPG_JWT_ALG_EDDSA:
		return NULL;
	}
	return EVP_sha256();
}

/* A fresh key for `alg` (NULL for HS*: use a secret). */
static inline EVP_PKEY *
ts_keygen(int alg)
{
	EVP_PKEY *k = NULL;

	if (alg <= MCPG_JWT_ALG_PS512)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (alg == MCPG_JWT_ALG_ES256)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (alg == MCPG_JWT_ALG_ES384)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (alg == MCPG_JWT_ALG_EDDSA)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		return NULL;
	if (!k)
		ts_die("keygen");
	return k;
}

static inline char *
ts_bn_b64(const EVP_PKEY *k, const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;
	char *s;

	if (!EVP_PKEY_get_bn_param(k, param, &bn))
		ts_die("get_bn_param");
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	s = ts_b64(buf, (size_t)n);
	return s;
}

/* The public JWK of `k` (or of `secret` for HS*) as JSON text, with `kid` and `alg` (may be NULL). */
static inline char *
ts_jwk(EVP_PKEY *k, const unsigned char *secret, size_t slen, int alg, const char *kid,
       const char *alg_name)
{
	char *out = malloc(4096), *a = NULL, *b = NULL, extra[256];

	if (!out)
		ts_die("malloc");
	snprintf(extra, sizeof(extra), "%s%s%s%s%s%s", kid ? ",\"kid\":\"" : "", kid ? kid : "",
		 kid ? "\"" : "", alg_name ? ",\"alg\":\"" : "", alg_name ? alg_name : "",
		 alg_name ? "\"" : "");
	if (!k) {
		a = ts_b64(secret, slen);
		snprintf(out, 4096, "{\"kty\":\"oct\",\"k\":\"%s\"%s}", a, extra);
	} else if (alg <= MCPG_JWT_ALG_PS512) {
		a = ts_bn_b64(k, OSSL_PKEY_PARAM_RSA_N);
		b = ts_bn_b64(k, OSSL_PKEY_PARAM_RSA_E);
		snprintf(out, 4096, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}", a, b, extra);
	} else if (alg == MCPG_JWT_ALG_EDDSA) {
		unsigned char pub[32];
		size_t pl = sizeof(pub);

		if (!EVP_PKEY_get_raw_public_key(k, pub, &pl))
			ts_die("raw public key");
		a = ts_b64(pub, pl);
		snprintf(out, 4096, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s}", a, extra);
	} else {
		unsigned char pt[133];
		size_t pl = 0, c = alg == MCPG_JWT_ALG_ES256 ? 32 : 48;

		if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &pl) ||
		    pl != 1 + 2 * c)
			ts_die("EC public point");
		a = ts_b64(pt + 1, c);
		b = ts_b64(pt + 1 + c, c);
		snprintf(out, 4096, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}",
			 c == 32 ? "P-256" : "P-384", a, b, extra);
	}
	free(a);
	free(b);
	return out;
}

/* header.payload.signature for `alg` over the given JSON texts. */
static inline char *
ts_sign(EVP_PKEY *k, const unsigned char *secret, size_t slen, int alg, const char *header,
	const char *claims)
{
	char *h = ts_b64((const unsigned char *)header, strlen(header));
	char *c = ts_b64((const unsigned char *)claims, strlen(claims));
	size_t silen = strlen(h) + 1 + strlen(c);
	char *si = malloc(silen + 1), *sig64, *out;
	unsigned char sig[1024];
	size_t sl = sizeof(sig);

	if (!si)
		ts_die("malloc");
	snprintf(si, silen + 1, "%s.%s", h, c);
	if (!k) {
		unsigned int ml = 0;

		if (!HMAC(ts_md(alg), secret, (int)slen, (unsigned char *)si, silen, sig, &ml))
			ts_die("HMAC");
		sl = ml;
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;

		if (!ctx || EVP_DigestSignInit(ctx, &pctx, ts_md(alg), NULL, k) <= 0)
			ts_die("DigestSignInit");
		if (alg >= MCPG_JWT_ALG_PS256 && alg <= MCPG_JWT_ALG_PS512 &&
		    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
			ts_die("PSS");
		if (EVP_DigestSign(ctx, sig, &sl, (unsigned char *)si, silen) <= 0)
			ts_die("DigestSign");
		EVP_MD_CTX_free(ctx);
		if (alg == MCPG_JWT_ALG_ES256 || alg == MCPG_JWT_ALG_ES384) {
			/* DER -> JOSE R||S */
			const unsigned char *p = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
			size_t cl = alg == MCPG_JWT_ALG_ES256 ? 32 : 48;

			if (!es)
				ts_die("d2i_ECDSA_SIG");
			BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)cl);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + cl, (int)cl);
			ECDSA_SIG_free(es);
			sl = 2 * cl;
		}
	}
	sig64 = ts_b64(sig, sl);
	out = malloc(silen + strlen(sig64) + 2);
	if (!out)
		ts_die("malloc");
	sprintf(out, "%s.%s", si, sig64);
	free(h);
	free(c);
	free(si);
	free(sig64);
	return out;
}

#endif /* MCPG_TEST_JWTSIGN_H */
