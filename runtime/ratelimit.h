/*
 * ratelimit.h - per-client-IP token buckets for callers below verified
 * trust (gateway.server.anonymous_rate_limit_per_min / _burst).
 *
 * The client IP is the TCP peer, or, when the peer is one of
 * gateway.server.trusted_proxies, the right-most X-Forwarded-For entry that
 * is not itself a trusted proxy.  Each IP has a bucket of `burst` tokens
 * that refills at per_min / 60 tokens a second and starts full; a request
 * costs one.  Limits are read from the live snapshot on every check, so a
 * reload changes them at once; the buckets themselves live outside
 * snapshots and survive reloads.  Buckets idle for 10 minutes are dropped
 * when more than 100,000 are held.
 */
#ifndef MCPG_RATELIMIT_H
#define MCPG_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#include "rt.h"

/*
 * Take a token for the request from `peer` carrying X-Forwarded-For `xff`
 * (NULL when absent).  Returns 0 when allowed, else the seconds after which
 * a token will be there (for Retry-After).
 */
int mcpg_ratelimit_take(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
			int64_t now_ms);

/* Drop idle buckets when there are too many (housekeeping, about 1/s). */
void mcpg_ratelimit_sweep(int64_t now_ms);

#endif /* MCPG_RATELIMIT_H */
