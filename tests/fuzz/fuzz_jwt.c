/*
 * fuzz_jwt.c - libFuzzer target for runtime/jwt.c.
 *
 * The first byte picks what the rest is:
 *   0  a token: decode -> verify against a fixed key set (the fixtures'
 *      RSA key, an Ed25519 and an HMAC key, every algorithm allowed) ->
 *      claims; the seeds include tokens that verify, so the whole path
 *      runs; a verified token's alg must be one its key was pinned to
 *   1  a JWK Set: parse under every algorithm mask byte 2 of the input
 *      picks; a set that parses has at least one key, each pinned to a
 *      non-empty subset of the allowed algorithms
 *   2  base64url: decode must not write more than len * 3 / 4 bytes
 * A broken invariant aborts, so libFuzzer records it as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"
#include "mcpg_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_jwt: %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                            \
			abort();                                             \
		}                                                            \
	} while (0)

/* The RSA key of tests/config-fixtures/jwks.json (so seeds can verify), and two more. */
static const char keyset_json[] =
	"{\"keys\":["
	"{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"rPOWe5ehkYo8xh8GdkgITno-gcqur-oPUqR-KEA-nDMqGywkk"
	"Pn7nPeIW1-0vatFIltMISK1kTMeqDO2X-6-LwJVRLfF9u2ZWU7t8DDN3jd_9JW1lcUwVFhXXW3zkus-qBV36wQf"
	"vwxuy2HdoH3oOaZCY-0Y51vgE48MfIB_ITgq79rAwsP7H8I0yOyzAWMhoiiVx-ueYSWEMupRIqj8K-qLoFHktp4"
	"5eieVFYITG46Wr3Ife5GzpGYlp1r-7-gErqX-aIp50DwdEjIdKjIi5q-GjWiNZhtl2J17gwkpUgRlphN9tWCsnZ"
	"kZ4JnoiIti_6VFAZUb5evP1CCbcROiCQ\",\"e\":\"AQAB\"},"
	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"d\","
	"\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
	"{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0LXRoYXQtdGhlLWZ1enplci1jYW5ub3QtZ3Vlc3MtOTg3\"}"
	"]}";

static struct mcpg_keyset *ks;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];

	if (!ks) {
		ks = mcpg_keyset_parse(keyset_json, strlen(keyset_json),
				       (1u << MCPG_JWT_ALG__COUNT) - 1, err, sizeof(err));
		CHECK(ks && ks->n == 3);
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		struct mcpg_jwt t;
		const char *tok = (const char *)data + 1;
		size_t len = size - 1;
		char *copy = malloc(len + 1);

		CHECK(copy);
		memcpy(copy, tok, len);
		copy[len] = '\0';
		if (mcpg_jwt_decode(copy, len, &t) == MCPG_JWT_OK) {
			if (mcpg_jwt_verify(&t, copy, ks) == MCPG_JWT_OK) {
				size_t i;

				for (i = 0; i < ks->n && !(t.kid && !strcmp(ks->keys[i].kid, t.kid)); i++)
					;
				CHECK(t.alg >= 0 && (i == ks->n || (ks->keys[i].algs >> t.alg & 1)));
			}
			mcpg_jwt_check_claims(&t, "i", (const char *[]){ "a" }, 1, 1700000000, 60);
			mcpg_jwt_free(&t);
		}
		free(copy);
		break;
	}
	case 1: {
		uint32_t allowed = size > 2 ? ((uint32_t)data[1] | (uint32_t)data[2] << 8) &
						      ((1u << MCPG_JWT_ALG__COUNT) - 1)
					    : 1;
		const char *json = size > 3 ? (const char *)data + 3 : "";
		struct mcpg_keyset *k = mcpg_keyset_parse(json, size > 3 ? size - 3 : 0, allowed,
							  err, sizeof(err));

		if (k) {
			CHECK(k->n > 0);
			for (size_t i = 0; i < k->n; i++)
				CHECK(k->keys[i].algs && !(k->keys[i].algs & ~allowed) &&
				      (k->keys[i].pkey || k->keys[i].secret));
			mcpg_keyset_put(k);
		}
		break;
	}
	case 2: {
		size_t len = size - 1;
		unsigned char *out = malloc(len * 3 / 4 + 1);
		long n;

		CHECK(out);
		n = mcpg_b64url_decode((const char *)data + 1, len, out);
		CHECK(n < 0 || (size_t)n <= len * 3 / 4);
		free(out);
		break;
	}
	}
	return 0;
}
