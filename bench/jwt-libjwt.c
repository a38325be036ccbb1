/*
 * bench/jwt-libjwt.c - libjwt 1.10's RS256 verify, for comparison in
 * bench/jwt-verify.c only (the runtime never links libjwt).  Its own
 * translation unit because <jwt.h> and runtime/jwt.h share a name.
 */
#include <string.h>
#include <time.h>

#include <jwt.h>

double libjwt_verify_us(const char *tok, const char *pem, int iters);

/* Microseconds per jwt_decode() with the PEM key, or -1 when it fails. */
double
libjwt_verify_us(const char *tok, const char *pem, int iters)
{
	struct timespec a, b;
	size_t pl = strlen(pem);

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < iters; i++) {
		jwt_t *j = NULL;

		if (jwt_decode(&j, tok, (const unsigned char *)pem, (int)pl))
			return -1;
		jwt_free(j);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / iters;
}
