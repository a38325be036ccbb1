/*
 * jwt.h - JSON Web Tokens and JWK Sets, verified with OpenSSL EVP.
 *
 * Why not libjwt (reference/toolchain.md section 4): 1.10.2 parses the PEM
 * key again on every call (about 300 us for RS256), has no JWK Sets, no
 * claim checks, no PS* or EdDSA, accepts an HS256 token whose secret is the
 * RSA public key, and ships no static library.  Here a key set is turned
 * into EVP_PKEYs once (per snapshot, or per fetched OIDC key set) and every
 * key is pinned to the algorithms it may verify: the JWK's own "alg" when it
 * has one, else every allowed algorithm its type and curve fit.  A token's
 * header "alg" must be one of its key's; HS* only ever fits an "oct" key,
 * and oct keys are only loaded when HMAC is allowed, so "none" and the
 * HS/RS confusion have nothing to match.
 *
 * Limits: a token is at most MCPG_JWT_MAX_LEN bytes; base64url is decoded
 * strictly (URL alphabet, no padding, no stray bits).
 */
#ifndef MCPG_JWT_H
#define MCPG_JWT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#define MCPG_JWT_MAX_LEN 8192
#define MCPG_JWK_KID_MAX 128

/* One verification key. */
struct mcpg_jwk {
	char kid[MCPG_JWK_KID_MAX]; /* "" when the JWK has none */
	uint32_t algs;              /* bit (1 << MCPG_JWT_ALG_x) per algorithm it may verify */
	EVP_PKEY *pkey;             /* RSA, EC, Ed25519 */
	unsigned char *secret;      /* oct (HS*) */
	size_t secret_len;
};

/* An immutable set of keys, shared by reference. */
struct mcpg_keyset {
	atomic_int refs;
	uint64_t serial; /* unique per built set: a cached token names the set it verified against */
	size_t n;
	struct mcpg_jwk keys[];
};

/*
 * Build a key set from JWK Set JSON.  `allowed` is the mask of allowed
 * algorithms (HMAC bits only when HMAC is allowed).  Keys that are not
 * usable (unknown type or curve, "use" other than "sig", an "alg" outside
 * `allowed`) are skipped; a set with no usable key is an error.  Returns
 * the set with one reference, or NULL with a message in `err`.
 */
struct mcpg_keyset *mcpg_keyset_parse(const char *json, size_t len, uint32_t allowed,
				      char *err, size_t errlen);
void mcpg_keyset_hold(struct mcpg_keyset *ks);
void mcpg_keyset_put(struct mcpg_keyset *ks);

/* Why a token was refused (static text for logs and the 401 body). */
enum mcpg_jwt_status {
	MCPG_JWT_OK = 0,
	MCPG_JWT_MALFORMED,
	MCPG_JWT_TOO_LONG,
	MCPG_JWT_BAD_ALG,
	MCPG_JWT_UNKNOWN_KID,
	MCPG_JWT_BAD_SIGNATURE,
	MCPG_JWT_EXPIRED,
	MCPG_JWT_NOT_YET_VALID,
	MCPG_JWT_BAD_ISSUER,
	MCPG_JWT_BAD_AUDIENCE,
	MCPG_JWT_NO_EXP,
};

const char *mcpg_jwt_status_text(enum mcpg_jwt_status st);

/* A decoded (not yet verified) token. */
struct mcpg_jwt {
	json_t *header;
	json_t *claims;
	int alg;             /* MCPG_JWT_ALG_x, or -1 when unknown ("none" included) */
	const char *kid;     /* in `header`, or NULL */
	const char *iss;     /* in `claims`, or NULL */
	size_t signed_len;   /* bytes of header.payload */
	unsigned char *sig;  /* decoded signature (malloc) */
	size_t sig_len;
};

/* Split and decode `tok` (`len` bytes).  On error nothing needs freeing. */
enum mcpg_jwt_status mcpg_jwt_decode(const char *tok, size_t len, struct mcpg_jwt *t);
void mcpg_jwt_free(struct mcpg_jwt *t);

/*
 * Find the key for `t` in `ks` (by kid; a token without kid may use the
 * only key of the set that fits its alg) and check the signature.
 */
enum mcpg_jwt_status mcpg_jwt_verify(const struct mcpg_jwt *t, const char *tok,
				     const struct mcpg_keyset *ks);

/* Check the signature of `tok` with one key (`alg` already checked against it). */
int mcpg_jwt_verify_with(const struct mcpg_jwk *k, int alg, const char *tok, size_t signed_len,
			 const unsigned char *sig, size_t sig_len);

/*
 * Check exp (required), nbf, iss (when `iss` is not NULL) and aud (when
 * `naud` > 0: the token's aud, a string or a list, must hold one of them)
 * at `now` (Unix seconds) with `skew` seconds of tolerance.
 */
enum mcpg_jwt_status mcpg_jwt_check_claims(const struct mcpg_jwt *t, const char *iss,
					   const char *const *auds, size_t naud, int64_t now,
					   int64_t skew);

/* The token's exp (call after mcpg_jwt_check_claims() passed), else 0. */
int64_t mcpg_jwt_exp(const struct mcpg_jwt *t);

/* Strict base64url (no padding): decoded bytes into `out` (room for len*3/4+3), or -1. */
long mcpg_b64url_decode(const char *s, size_t len, unsigned char *out);

/* The algorithm called `name` ("RS256" ...), or -1. */
int mcpg_jwt_alg_of(const char *name);

#endif /* MCPG_JWT_H */
