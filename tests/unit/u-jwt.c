/*
 * u-jwt.c - runtime/jwt.c: strict base64url, key sets and algorithm
 * pinning, signatures of every algorithm (keys made here with OpenSSL),
 * the classic attacks (alg none, HS256 keyed with the RSA public key, a
 * key used with another algorithm, kid confusion), claims with clock skew,
 * and malformed tokens.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "jwt.h"
#include "jwtsign.h"
#include "test.h"

#define ALL_ALGS ((1u << MCPG_JWT_ALG__COUNT) - 1)
#define NOW 1700000000
#define CLAIMS "{\"sub\":\"a\",\"iss\":\"https://i\",\"aud\":\"x\",\"exp\":1700000300}"

static const unsigned char secret[48] = "0123456789abcdef0123456789abcdef0123456789abcd";

static void
b64url(void)
{
	unsigned char out[64];

	CHECK(mcpg_b64url_decode("", 0, out) == 0);
	CHECK(mcpg_b64url_decode("Zg", 2, out) == 1 && out[0] == 'f');
	CHECK(mcpg_b64url_decode("Zm8", 3, out) == 2 && !memcmp(out, "fo", 2));
	CHECK(mcpg_b64url_decode("Zm9v", 4, out) == 3 && !memcmp(out, "foo", 3));
	CHECK(mcpg_b64url_decode("-_8", 3, out) == 2 && out[0] == 0xfb && out[1] == 0xff);
	CHECK(mcpg_b64url_decode("Zg==", 4, out) < 0);  /* padding */
	CHECK(mcpg_b64url_decode("Zm+v", 4, out) < 0);  /* standard alphabet */
	CHECK(mcpg_b64url_decode("Zm9vY", 5, out) < 0); /* 1 char over */
	CHECK(mcpg_b64url_decode("Zh", 2, out) < 0);    /* stray low bits */
}

/* One algorithm: sign, verify, tamper. */
static void
one_alg(int alg)
{
	EVP_PKEY *k = ts_keygen(alg);
	static const char *const names[] = { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
					     "ES256", "ES384", "EdDSA", "HS256", "HS384", "HS512" };
	char *jwk = ts_jwk(k, secret, sizeof(secret), alg, "k1", names[alg]), set[5000], err[200];
	char hdr[100], *tok, *sig;
	struct mcpg_keyset *ks;
	struct mcpg_jwt t;
	size_t len;

	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk);
	ks = mcpg_keyset_parse(set, strlen(set), 1u << alg, err, sizeof(err));
	CHECK(ks && ks->n == 1);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"k1\"}", names[alg]);
	tok = ts_sign(k, secret, sizeof(secret), alg, hdr, CLAIMS);
	len = strlen(tok);
	CHECK(ks && mcpg_jwt_decode(tok, len, &t) == MCPG_JWT_OK);
	CHECK(t.alg == alg);
	CHECK(ks && mcpg_jwt_verify(&t, tok, ks) == MCPG_JWT_OK);
	CHECK(mcpg_jwt_check_claims(&t, "https://i", (const char *[]){ "x" }, 1, NOW, 60) ==
	      MCPG_JWT_OK);
	mcpg_jwt_free(&t);
	/* The signature's first character changed: its first byte differs. */
	sig = strrchr(tok, '.') + 1;
	*sig = *sig == 'A' ? 'B' : 'A';
	CHECK(mcpg_jwt_decode(tok, len, &t) == MCPG_JWT_OK);
	CHECK(ks && mcpg_jwt_verify(&t, tok, ks) == MCPG_JWT_BAD_SIGNATURE);
	mcpg_jwt_free(&t);
	/* Without its bit in `allowed` the key is not loaded at all. */
	CHECK(!mcpg_keyset_parse(set, strlen(set), ALL_ALGS & ~(1u << alg), err, sizeof(err)));
	mcpg_keyset_put(ks);
	EVP_PKEY_free(k);
	free(jwk);
	free(tok);
}

static void
all_algorithms(void)
{
	for (int a = 0; a < MCPG_JWT_ALG__COUNT; a++) {
		int before = test_failed_now;

		test_failed_now = 0;
		one_alg(a);
		if (test_failed_now)
			printf("    (algorithm %d)\n", a);
		test_failed_now |= before;
	}
}

/* Decode + verify `tok` against set text `set` under `allowed`. */
static enum mcpg_jwt_status
check(const char *set, uint32_t allowed, const char *tok)
{
	char err[200];
	struct mcpg_keyset *ks = mcpg_keyset_parse(set, strlen(set), allowed, err, sizeof(err));
	struct mcpg_jwt t;
	enum mcpg_jwt_status st;

	if (!ks)
		return 99;
	st = mcpg_jwt_decode(tok, strlen(tok), &t);
	if (!st)
		st = mcpg_jwt_verify(&t, tok, ks);
	mcpg_jwt_free(&t);
	mcpg_keyset_put(ks);
	return st;
}

static void
attacks(void)
{
	EVP_PKEY *rsa = ts_keygen(MCPG_JWT_ALG_RS256);
	char *jwk = ts_jwk(rsa, NULL, 0, MCPG_JWT_ALG_RS256, "r", "RS256");
	char *bare = ts_jwk(rsa, NULL, 0, MCPG_JWT_ALG_RS256, "r", NULL);
	char set[5000], bset[5000], pem[4096], *tok;
	BIO *bio = BIO_new(BIO_s_mem());
	long pl;
	char *pp;

	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk);
	snprintf(bset, sizeof(bset), "{\"keys\":[%s]}", bare);

	/* alg none: no algorithm matches, whatever the key. */
	tok = ts_sign(NULL, secret, sizeof(secret), MCPG_JWT_ALG_HS256, "{\"alg\":\"none\",\"kid\":\"r\"}",
		      CLAIMS);
	*strrchr(tok, '.') = '\0';
	strcat(tok, ".");
	CHECK(check(set, ALL_ALGS, tok) == MCPG_JWT_MALFORMED); /* empty signature */
	free(tok);
	tok = ts_sign(NULL, secret, sizeof(secret), MCPG_JWT_ALG_HS256, "{\"alg\":\"none\",\"kid\":\"r\"}",
		      CLAIMS);
	CHECK(check(set, ALL_ALGS, tok) == MCPG_JWT_BAD_ALG);
	free(tok);

	/* HS256 keyed with the RSA public key's PEM: an RSA key never does HMAC. */
	PEM_write_bio_PUBKEY(bio, rsa);
	pl = BIO_get_mem_data(bio, &pp);
	memcpy(pem, pp, (size_t)pl);
	tok = ts_sign(NULL, (unsigned char *)pem, (size_t)pl, MCPG_JWT_ALG_HS256,
		      "{\"alg\":\"HS256\",\"kid\":\"r\"}", CLAIMS);
	CHECK(check(set, ALL_ALGS, tok) == MCPG_JWT_BAD_ALG);
	CHECK(check(bset, ALL_ALGS, tok) == MCPG_JWT_BAD_ALG);
	free(tok);

	/* The JWK says RS256: a PS256 signature by the same key is refused... */
	tok = ts_sign(rsa, NULL, 0, MCPG_JWT_ALG_PS256, "{\"alg\":\"PS256\",\"kid\":\"r\"}", CLAIMS);
	CHECK(check(set, ALL_ALGS, tok) == MCPG_JWT_BAD_ALG);
	/* ...unless the JWK names no alg and PS256 is allowed. */
	CHECK(check(bset, ALL_ALGS, tok) == MCPG_JWT_OK);
	CHECK(check(bset, 1u << MCPG_JWT_ALG_RS256, tok) == MCPG_JWT_BAD_ALG);
	free(tok);

	/* kid: unknown is refused; absent works only with one fitting key. */
	tok = ts_sign(rsa, NULL, 0, MCPG_JWT_ALG_RS256, "{\"alg\":\"RS256\",\"kid\":\"zz\"}", CLAIMS);
	CHECK(check(set, ALL_ALGS, tok) == MCPG_JWT_UNKNOWN_KID);
	free(tok);
	tok = ts_sign(rsa, NULL, 0, MCPG_JWT_ALG_RS256, "{\"alg\":\"RS256\"}", CLAIMS);
	CHECK(check(set, ALL_ALGS, tok) == MCPG_JWT_OK);
	snprintf(set, sizeof(set), "{\"keys\":[%s,%s]}", jwk, jwk);
	CHECK(check(set, ALL_ALGS, tok) == MCPG_JWT_UNKNOWN_KID);
	free(tok);

	/* use: enc keys and oct keys without HMAC allowed are not loaded. */
	snprintf(set, sizeof(set), "{\"keys\":[{\"kty\":\"oct\",\"k\":\"%s\"}]}",
		 "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY");
	CHECK(check(set, ALL_ALGS & ~(7u << MCPG_JWT_ALG_HS256), "a.b.c") == 99);
	CHECK(check("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2hvcnQ\"}]}", ALL_ALGS, "a.b.c") == 99);
	CHECK(check("{\"keys\":[]}", ALL_ALGS, "a.b.c") == 99);
	CHECK(check("not json", ALL_ALGS, "a.b.c") == 99);

	BIO_free(bio);
	EVP_PKEY_free(rsa);
	free(jwk);
	free(bare);
}

static void
short_rsa_refused(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	char *jwk = ts_jwk(k, NULL, 0, MCPG_JWT_ALG_RS256, "s", "RS256"), set[3000], err[200];

	snprintf(set, sizeof(set), "{\"keys\":[%s]}", jwk);
	CHECK(!mcpg_keyset_parse(set, strlen(set), ALL_ALGS, err, sizeof(err)));
	EVP_PKEY_free(k);
	free(jwk);
}

static enum mcpg_jwt_status
claims(const char *c, const char *iss, const char *aud, int64_t now)
{
	char *tok = ts_sign(NULL, secret, sizeof(secret), MCPG_JWT_ALG_HS256, "{\"alg\":\"HS256\"}", c);
	struct mcpg_jwt t;
	enum mcpg_jwt_status st = mcpg_jwt_decode(tok, strlen(tok), &t);

	if (!st)
		st = mcpg_jwt_check_claims(&t, iss, &aud, aud ? 1 : 0, now, 60);
	mcpg_jwt_free(&t);
	free(tok);
	return st;
}

static void
claim_checks(void)
{
	CHECK(claims("{\"exp\":1000}", NULL, NULL, 1059) == MCPG_JWT_OK);      /* within skew */
	CHECK(claims("{\"exp\":1000}", NULL, NULL, 1060) == MCPG_JWT_EXPIRED);
	CHECK(claims("{\"exp\":1000.5}", NULL, NULL, 900) == MCPG_JWT_OK);
	CHECK(claims("{\"exp\":\"1000\"}", NULL, NULL, 900) == MCPG_JWT_MALFORMED);
	CHECK(claims("{\"sub\":\"a\"}", NULL, NULL, 900) == MCPG_JWT_NO_EXP);
	/* exp + skew must not overflow (UBSan would abort the gateway). */
	CHECK(claims("{\"exp\":9223372036854775807}", NULL, NULL, 900) == MCPG_JWT_MALFORMED);
	CHECK(claims("{\"exp\":9000,\"nbf\":-9223372036854775807}", NULL, NULL, 900) ==
	      MCPG_JWT_MALFORMED);
	CHECK(claims("{\"exp\":1e300}", NULL, NULL, 900) == MCPG_JWT_MALFORMED);
	CHECK(claims("{\"exp\":9000,\"nbf\":1000}", NULL, NULL, 941) == MCPG_JWT_OK);
	CHECK(claims("{\"exp\":9000,\"nbf\":1000}", NULL, NULL, 939) == MCPG_JWT_NOT_YET_VALID);
	CHECK(claims("{\"exp\":9000,\"iss\":\"a\"}", "a", NULL, 900) == MCPG_JWT_OK);
	CHECK(claims("{\"exp\":9000,\"iss\":\"ab\"}", "a", NULL, 900) == MCPG_JWT_BAD_ISSUER);
	CHECK(claims("{\"exp\":9000}", "a", NULL, 900) == MCPG_JWT_BAD_ISSUER);
	CHECK(claims("{\"exp\":9000,\"aud\":[\"q\",\"x\"]}", NULL, "x", 900) == MCPG_JWT_OK);
	CHECK(claims("{\"exp\":9000,\"aud\":[\"q\"]}", NULL, "x", 900) == MCPG_JWT_BAD_AUDIENCE);
	CHECK(claims("{\"exp\":9000,\"aud\":[]}", NULL, "x", 900) == MCPG_JWT_BAD_AUDIENCE);
	CHECK(claims("{\"exp\":9000}", NULL, "x", 900) == MCPG_JWT_BAD_AUDIENCE);
	CHECK(claims("{\"exp\":9000,\"aud\":\"x\"}", NULL, "x", 900) == MCPG_JWT_OK);
}

static void
malformed(void)
{
	struct mcpg_jwt t;
	char big[MCPG_JWT_MAX_LEN + 2];
	const char *bad[] = {
		"", "a", "a.b", "a.b.c.d", "..", "e30.e30.", "e30.e30.!!", "W10.e30.AA",
		/* header {"alg":"HS256","alg":"none"}: duplicate member */
		"eyJhbGciOiJIUzI1NiIsImFsZyI6Im5vbmUifQ.e30.AA",
		/* header {"alg":"HS256","crit":["x"]} */
		"eyJhbGciOiJIUzI1NiIsImNyaXQiOlsieCJdfQ.e30.AA",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mcpg_jwt_decode(bad[i], strlen(bad[i]), &t) != MCPG_JWT_MALFORMED) {
			printf("    accepted '%s'\n", bad[i]);
			test_failed_now = 1;
		}
	memset(big, 'A', sizeof(big));
	big[10] = big[20] = '.';
	CHECK(mcpg_jwt_decode(big, sizeof(big), &t) == MCPG_JWT_TOO_LONG);
	CHECK(mcpg_jwt_alg_of("none") < 0 && mcpg_jwt_alg_of("EdDSA") == MCPG_JWT_ALG_EDDSA);
	CHECK(strcmp(mcpg_jwt_status_text(MCPG_JWT_EXPIRED), "token expired") == 0);
}

int
main(void)
{
	TEST(b64url);
	TEST(all_algorithms);
	TEST(attacks);
	TEST(short_rsa_refused);
	TEST(claim_checks);
	TEST(malformed);
	return test_done();
}
