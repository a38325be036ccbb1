/*
 * jwt.c - JWT and JWK Set verification on OpenSSL EVP (see jwt.h).
 */
#include "jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "mcpg_config.h"

static atomic_ullong keyset_serial;

static const char *const alg_names[MCPG_JWT_ALG__COUNT] = {
	[MCPG_JWT_ALG_RS256] = "RS256", [MCPG_JWT_ALG_RS384] = "RS384",
	[MCPG_JWT_ALG_RS512] = "RS512", [MCPG_JWT_ALG_PS256] = "PS256",
	[MCPG_JWT_ALG_PS384] = "PS384", [MCPG_JWT_ALG_PS512] = "PS512",
	[MCPG_JWT_ALG_ES256] = "ES256", [MCPG_JWT_ALG_ES384] = "ES384",
	[MCPG_JWT_ALG_EDDSA] = "EdDSA", [MCPG_JWT_ALG_HS256] = "HS256",
	[MCPG_JWT_ALG_HS384] = "HS384", [MCPG_JWT_ALG_HS512] = "HS512",
};

#define ALG(a) (1u << MCPG_JWT_ALG_##a)
#define RSA_ALGS (ALG(RS256) | ALG(RS384) | ALG(RS512) | ALG(PS256) | ALG(PS384) | ALG(PS512))
#define HMAC_ALGS (ALG(HS256) | ALG(HS384) | ALG(HS512))

int
mcpg_jwt_alg_of(const char *name)
{
	for (int i = 0; name && i < MCPG_JWT_ALG__COUNT; i++)
		if (!strcmp(name, alg_names[i]))
			return i;
	return -1;
}

const char *
mcpg_jwt_status_text(enum mcpg_jwt_status st)
{
	switch (st) {
	case MCPG_JWT_OK:
		return "ok";
	case MCPG_JWT_MALFORMED:
		return "malformed token";
	case MCPG_JWT_TOO_LONG:
		return "token too long";
	case MCPG_JWT_BAD_ALG:
		return "algorithm not accepted for this key";
	case MCPG_JWT_UNKNOWN_KID:
		return "no key for this token";
	case MCPG_JWT_BAD_SIGNATURE:
		return "bad signature";
	case MCPG_JWT_EXPIRED:
		return "token expired";
	case MCPG_JWT_NOT_YET_VALID:
		return "token not yet valid";
	case MCPG_JWT_BAD_ISSUER:
		return "wrong issuer";
	case MCPG_JWT_BAD_AUDIENCE:
		return "wrong audience";
	case MCPG_JWT_NO_EXP:
		return "token has no exp";
	}
	return "invalid token";
}

/* ------------------------------------------------------------------------
 * base64url
 */

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long
mcpg_b64url_decode(const char *s, size_t len, unsigned char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	long n = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64val((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one text, one value. */
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	return n;
}

/* A base64url JSON member decoded into a malloc'd buffer. */
static unsigned char *
b64_member(const json_t *o, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, name));
	unsigned char *buf;
	long n;

	if (!s || !*s)
		return NULL;
	buf = malloc(strlen(s) * 3 / 4 + 3);
	if (!buf)
		return NULL;
	n = mcpg_b64url_decode(s, strlen(s), buf);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

/* ------------------------------------------------------------------------
 * Keys
 */

static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static EVP_PKEY *
rsa_key(const json_t *k)
{
	size_t nl = 0, el = 0;
	unsigned char *n = b64_member(k, "n", &nl), *e = b64_member(k, "e", &el);
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	/* 2048 bits at least: a short modulus is a forgery waiting to happen. */
	if (!n || !e || nl < 256 || nl > 1024)
		goto out;
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pkey = pkey_fromdata("RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return pkey;
}

static EVP_PKEY *
ec_key(const json_t *k, const char *group, size_t clen)
{
	size_t xl = 0, yl = 0;
	unsigned char *x = b64_member(k, "x", &xl), *y = b64_member(k, "y", &yl);
	unsigned char pt[1 + 2 * 66];
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (!x || !y || xl != clen || yl != clen)
		goto out;
	pt[0] = 0x04;
	memcpy(pt + 1, x, clen);
	memcpy(pt + 1 + clen, y, clen);
	bld = OSSL_PARAM_BLD_new();
	if (bld &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * clen))
		pkey = pkey_fromdata("EC", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

/* Fill `out` from JWK `k`; 0 when usable under `allowed`, else -1. */
static int
jwk_load(const json_t *k, uint32_t allowed, struct mcpg_jwk *out)
{
	const char *kty = json_string_value(json_object_get(k, "kty"));
	const char *crv = json_string_value(json_object_get(k, "crv"));
	const char *use = json_string_value(json_object_get(k, "use"));
	const char *kid = json_string_value(json_object_get(k, "kid"));
	const json_t *algv = json_object_get(k, "alg");
	uint32_t fits = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(k) || !kty || (use && strcmp(use, "sig")))
		return -1;
	if (kid && strlen(kid) >= sizeof(out->kid))
		return -1;
	if (!strcmp(kty, "RSA"))
		fits = RSA_ALGS;
	else if (!strcmp(kty, "EC") && crv && !strcmp(crv, "P-256"))
		fits = ALG(ES256);
	else if (!strcmp(kty, "EC") && crv && !strcmp(crv, "P-384"))
		fits = ALG(ES384);
	else if (!strcmp(kty, "OKP") && crv && !strcmp(crv, "Ed25519"))
		fits = ALG(EDDSA);
	else if (!strcmp(kty, "oct"))
		fits = HMAC_ALGS;
	if (algv) {
		int a = mcpg_jwt_alg_of(json_string_value(algv));

		if (a < 0)
			return -1;
		fits &= 1u << a;
	}
	fits &= allowed;
	if (!fits)
		return -1;
	if (fits & RSA_ALGS)
		out->pkey = rsa_key(k);
	else if (fits & ALG(ES256))
		out->pkey = ec_key(k, "prime256v1", 32);
	else if (fits & ALG(ES384))
		out->pkey = ec_key(k, "secp384r1", 48);
	else if (fits & ALG(EDDSA)) {
		size_t xl = 0;
		unsigned char *x = b64_member(k, "x", &xl);

		if (x && xl == 32)
			out->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
		free(x);
	} else {
		out->secret = b64_member(k, "k", &out->secret_len);
		/* RFC 7518 3.2: an HMAC key is at least as long as the hash. */
		if (out->secret && out->secret_len < 32) {
			OPENSSL_clear_free(out->secret, out->secret_len);
			out->secret = NULL;
		}
	}
	if (!out->pkey && !out->secret)
		return -1;
	out->algs = fits;
	snprintf(out->kid, sizeof(out->kid), "%s", kid ? kid : "");
	return 0;
}

struct mcpg_keyset *
mcpg_keyset_parse(const char *json, size_t len, uint32_t allowed, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *set = json_loadb(json, len, 0, &jerr), *keys;
	struct mcpg_keyset *ks = NULL;
	size_t n;

	if (!set) {
		snprintf(err, errlen, "key set is not JSON: %s", jerr.text);
		return NULL;
	}
	keys = json_object_get(set, "keys");
	if (!json_is_array(keys)) {
		snprintf(err, errlen, "key set has no \"keys\" array");
		goto out;
	}
	n = json_array_size(keys);
	ks = calloc(1, sizeof(*ks) + (n ? n : 1) * sizeof(ks->keys[0]));
	if (!ks) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	atomic_init(&ks->refs, 1);
	ks->serial = atomic_fetch_add(&keyset_serial, 1) + 1;
	for (size_t i = 0; i < n; i++)
		if (jwk_load(json_array_get(keys, i), allowed, &ks->keys[ks->n]) == 0)
			ks->n++;
	if (!ks->n) {
		snprintf(err, errlen, "key set has no key usable with the allowed algorithms");
		free(ks);
		ks = NULL;
	}
out:
	json_decref(set);
	return ks;
}

void
mcpg_keyset_hold(struct mcpg_keyset *ks)
{
	if (ks)
		atomic_fetch_add_explicit(&ks->refs, 1, memory_order_relaxed);
}

void
mcpg_keyset_put(struct mcpg_keyset *ks)
{
	if (!ks || atomic_fetch_sub_explicit(&ks->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		EVP_PKEY_free(ks->keys[i].pkey);
		if (ks->keys[i].secret)
			OPENSSL_clear_free(ks->keys[i].secret, ks->keys[i].secret_len);
	}
	free(ks);
}

/* ------------------------------------------------------------------------
 * Tokens
 */

static json_t *
b64_json(const char *s, size_t len)
{
	unsigned char buf[MCPG_JWT_MAX_LEN];
	long n;

	if (len > sizeof(buf) / 4 * 3)
		return NULL;
	n = mcpg_b64url_decode(s, len, buf);
	if (n <= 0)
		return NULL;
	return json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
}

enum mcpg_jwt_status
mcpg_jwt_decode(const char *tok, size_t len, struct mcpg_jwt *t)
{
	const char *d1, *d2;
	size_t slen;
	long n;

	memset(t, 0, sizeof(*t));
	t->alg = -1;
	if (len > MCPG_JWT_MAX_LEN)
		return MCPG_JWT_TOO_LONG;
	d1 = memchr(tok, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
		return MCPG_JWT_MALFORMED;
	t->header = b64_json(tok, (size_t)(d1 - tok));
	t->claims = b64_json(d1 + 1, (size_t)(d2 - d1 - 1));
	slen = len - (size_t)(d2 + 1 - tok);
	t->sig = malloc(slen * 3 / 4 + 3);
	if (!json_is_object(t->header) || !json_is_object(t->claims) || !t->sig || !slen ||
	    (n = mcpg_b64url_decode(d2 + 1, slen, t->sig)) <= 0) {
		mcpg_jwt_free(t);
		return MCPG_JWT_MALFORMED;
	}
	t->sig_len = (size_t)n;
	t->signed_len = (size_t)(d2 - tok);
	t->alg = mcpg_jwt_alg_of(json_string_value(json_object_get(t->header, "alg")));
	t->kid = json_string_value(json_object_get(t->header, "kid"));
	t->iss = json_string_value(json_object_get(t->claims, "iss"));
	/* A critical extension we do not implement makes the token unusable (RFC 7515 4.1.11). */
	if (json_object_get(t->header, "crit")) {
		mcpg_jwt_free(t);
		return MCPG_JWT_MALFORMED;
	}
	return MCPG_JWT_OK;
}

void
mcpg_jwt_free(struct mcpg_jwt *t)
{
	json_decref(t->header);
	json_decref(t->claims);
	free(t->sig);
	memset(t, 0, sizeof(*t));
	t->alg = -1;
}

static const EVP_MD *
alg_md(int alg)
{
	switch (alg) {
	case MCPG_JWT_ALG_RS256:
	case MCPG_JWT_ALG_PS256:
	case MCPG_JWT_ALG_ES256:
	case MCPG_JWT_ALG_HS256:
		return EVP_sha256();
	case MCPG_JWT_ALG_RS384:
	case MCPG_JWT_ALG_PS384:
	case MCPG_JWT_ALG_ES384:
	case MCPG_JWT_ALG_HS384:
		return EVP_sha384();
	case MCPG_JWT_ALG_RS512:
	case MCPG_JWT_ALG_PS512:
	case MCPG_JWT_ALG_HS512:
		return EVP_sha512();
	}
	return NULL; /* EdDSA: no separate digest */
}

/* JOSE R||S (RFC 7518 3.4) to the DER ECDSA-Sig-Value OpenSSL verifies. */
static unsigned char *
ecdsa_der(const unsigned char *sig, size_t len, size_t clen, int *derlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *der = NULL;

	if (len != 2 * clen)
		return NULL;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, (int)clen, NULL);
	s = BN_bin2bn(sig + clen, (int)clen, NULL);
	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	*derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	return *derlen > 0 ? der : NULL;
}

int
mcpg_jwt_verify_with(const struct mcpg_jwk *k, int alg, const char *tok, size_t signed_len,
		     const unsigned char *sig, size_t sig_len)
{
	const EVP_MD *md = alg_md(alg);
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	int derlen = 0, ok = 0;

	if (alg < 0 || !(k->algs & (1u << alg)))
		return 0;
	if (k->secret) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;

		if (!HMAC(md, k->secret, (int)k->secret_len, (const unsigned char *)tok,
			  signed_len, mac, &maclen))
			return 0;
		return maclen == sig_len && CRYPTO_memcmp(mac, sig, sig_len) == 0;
	}
	if (alg == MCPG_JWT_ALG_ES256 || alg == MCPG_JWT_ALG_ES384) {
		der = ecdsa_der(sig, sig_len, alg == MCPG_JWT_ALG_ES256 ? 32 : 48, &derlen);
		if (!der)
			return 0;
		sig = der;
		sig_len = (size_t)derlen;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey) > 0) {
		if (alg >= MCPG_JWT_ALG_PS256 && alg <= MCPG_JWT_ALG_PS512 &&
		    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
		     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0))
			goto out;
		ok = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)tok,
				      signed_len) == 1;
	}
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

enum mcpg_jwt_status
mcpg_jwt_verify(const struct mcpg_jwt *t, const char *tok, const struct mcpg_keyset *ks)
{
	const struct mcpg_jwk *k = NULL;

	if (t->alg < 0)
		return MCPG_JWT_BAD_ALG;
	if (t->kid) {
		for (size_t i = 0; i < ks->n && !k; i++)
			if (!strcmp(ks->keys[i].kid, t->kid))
				k = &ks->keys[i];
	} else {
		/* No kid: only when exactly one key of the set fits the alg. */
		for (size_t i = 0; i < ks->n; i++)
			if (ks->keys[i].algs & (1u << t->alg)) {
				if (k)
					return MCPG_JWT_UNKNOWN_KID;
				k = &ks->keys[i];
			}
	}
	if (!k)
		return MCPG_JWT_UNKNOWN_KID;
	if (!(k->algs & (1u << t->alg)))
		return MCPG_JWT_BAD_ALG;
	return mcpg_jwt_verify_with(k, t->alg, tok, t->signed_len, t->sig, t->sig_len)
		       ? MCPG_JWT_OK
		       : MCPG_JWT_BAD_SIGNATURE;
}

/* A NumericDate claim: 1 with *v set, 0 when absent, -1 when not a number. */
static int
num_claim(const json_t *claims, const char *name, int64_t *v)
{
	const json_t *j = json_object_get(claims, name);

	/* Beyond 2^53 (JSON's exact integers) a date is nonsense, and exp + skew could overflow. */
	const int64_t lim = (int64_t)1 << 53;

	if (!j)
		return 0;
	if (json_is_integer(j) && json_integer_value(j) > -lim && json_integer_value(j) < lim)
		*v = (int64_t)json_integer_value(j);
	else if (json_is_real(j) && json_real_value(j) > -(double)lim &&
		 json_real_value(j) < (double)lim)
		*v = (int64_t)json_real_value(j);
	else
		return -1;
	return 1;
}

enum mcpg_jwt_status
mcpg_jwt_check_claims(const struct mcpg_jwt *t, const char *iss, const char *const *auds,
		      size_t naud, int64_t now, int64_t skew)
{
	int64_t exp = 0, nbf = 0;
	int r;

	r = num_claim(t->claims, "exp", &exp);
	if (r < 0)
		return MCPG_JWT_MALFORMED;
	if (r == 0)
		return MCPG_JWT_NO_EXP;
	if (now >= exp + skew)
		return MCPG_JWT_EXPIRED;
	r = num_claim(t->claims, "nbf", &nbf);
	if (r < 0)
		return MCPG_JWT_MALFORMED;
	if (r && now + skew < nbf)
		return MCPG_JWT_NOT_YET_VALID;
	if (iss && (!t->iss || strcmp(t->iss, iss)))
		return MCPG_JWT_BAD_ISSUER;
	if (naud) {
		const json_t *aud = json_object_get(t->claims, "aud");
		size_t i, k, m = json_is_array(aud) ? json_array_size(aud) : 1;

		for (i = 0; i < m; i++) {
			const char *a = json_string_value(json_is_array(aud) ? json_array_get(aud, i)
									     : aud);

			for (k = 0; a && k < naud && strcmp(a, auds[k]); k++)
				;
			if (a && k < naud)
				break;
		}
		if (i == m)
			return MCPG_JWT_BAD_AUDIENCE;
	}
	return MCPG_JWT_OK;
}

int64_t
mcpg_jwt_exp(const struct mcpg_jwt *t)
{
	int64_t exp = 0;

	return num_claim(t->claims, "exp", &exp) == 1 ? exp : 0;
}
