/*
 * bench/jwt-verify.c - the uncached cost of verifying one JWT in mcpg
 * (runtime/jwt.c: decode, key lookup, signature, claims) per algorithm,
 * the cost of the cache lookup's hash, and libjwt 1.10's RS256 verify for
 * comparison.  Run by bench/auth.sh; prints one table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/sha.h>

#include "jwt.h"
#include "jwtsign.h"

double libjwt_verify_us(const char *tok, const char *pem, int iters);

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static const unsigned char secret[32] = "bench-secret-bench-secret-bench!";

/* Verify `tok` `iters` times; microseconds each, or -1 when it does not verify. */
static double
ours_us(const char *tok, const struct mcpg_keyset *ks, int iters)
{
	size_t len = strlen(tok);
	double t0 = now_us();

	for (int i = 0; i < iters; i++) {
		struct mcpg_jwt t;
		int st = mcpg_jwt_decode(tok, len, &t);

		if (!st)
			st = mcpg_jwt_verify(&t, tok, ks);
		if (!st)
			st = mcpg_jwt_check_claims(&t, "https://idp", (const char *[]){ "mcpg" }, 1,
						   (int64_t)time(NULL), 60);
		mcpg_jwt_free(&t);
		if (st)
			return -1;
	}
	return (now_us() - t0) / iters;
}

int
main(int argc, char **argv)
{
	static const int algs[] = { MCPG_JWT_ALG_RS256, MCPG_JWT_ALG_PS256, MCPG_JWT_ALG_ES256,
				    MCPG_JWT_ALG_EDDSA, MCPG_JWT_ALG_HS256 };
	static const char *const names[] = { [MCPG_JWT_ALG_RS256] = "RS256",
					     [MCPG_JWT_ALG_PS256] = "PS256",
					     [MCPG_JWT_ALG_ES256] = "ES256",
					     [MCPG_JWT_ALG_EDDSA] = "EdDSA",
					     [MCPG_JWT_ALG_HS256] = "HS256" };
	int iters = argc > 1 ? atoi(argv[1]) : 2000;
	char claims[256], hdr[64], err[200], set[6000];
	EVP_PKEY *rsa = NULL;
	char *rsa_tok = NULL;

	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"https://idp\",\"aud\":\"mcpg\",\"sub\":\"alice\",\"exp\":%lld,"
		 "\"groups\":[\"dev\",\"ops\"],\"scope\":\"read write\"}",
		 (long long)time(NULL) + 3600);
	printf("%-28s %10s %12s\n", "verify (uncached)", "us/op", "ops/s/core");
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		int a = algs[i];
		EVP_PKEY *k = ts_keygen(a);
		char *jwk = ts_jwk(k, secret, sizeof(secret), a, "k", names[a]), *tok;
		struct mcpg_keyset *ks;
		double us;

		snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk);
		ks = mcpg_keyset_parse(set, strlen(set), 1u << a, err, sizeof(err));
		if (!ks) {
			fprintf(stderr, "key set: %s\n", err);
			return 1;
		}
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"k\",\"typ\":\"JWT\"}", names[a]);
		tok = ts_sign(k, secret, sizeof(secret), a, hdr, claims);
		ours_us(tok, ks, iters / 10 + 1); /* warm up */
		us = ours_us(tok, ks, iters);
		printf("mcpg %-23s %10.1f %12.0f\n", names[a], us, us > 0 ? 1e6 / us : 0);
		if (a == MCPG_JWT_ALG_RS256) {
			rsa = k;
			rsa_tok = tok;
		} else {
			EVP_PKEY_free(k);
			free(tok);
		}
		free(jwk);
		mcpg_keyset_put(ks);
	}
	{
		BIO *bio = BIO_new(BIO_s_mem());
		char *pem, *p;
		long n;
		double us;

		PEM_write_bio_PUBKEY(bio, rsa);
		n = BIO_get_mem_data(bio, &p);
		pem = strndup(p, (size_t)n);
		libjwt_verify_us(rsa_tok, pem, iters / 10 + 1);
		us = libjwt_verify_us(rsa_tok, pem, iters);
		printf("libjwt 1.10 %-16s %10.1f %12.0f%s\n", "RS256 (PEM)", us, us > 0 ? 1e6 / us : 0,
		       us < 0 ? "  (jwt_decode failed)" : "");
		BIO_free(bio);
		free(pem);
	}
	{
		unsigned char h[32];
		size_t len = strlen(rsa_tok);
		double t0 = now_us(), us;

		for (int i = 0; i < iters * 10; i++)
			SHA256((unsigned char *)rsa_tok, len, h);
		us = (now_us() - t0) / (iters * 10);
		printf("cache key: SHA-256 of %4zu B %7.2f %12.0f\n", len, us, 1e6 / us);
	}
	EVP_PKEY_free(rsa);
	free(rsa_tok);
	return 0;
}
