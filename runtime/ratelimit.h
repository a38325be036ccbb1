/*
 * ratelimit.h - per-client-IP token buckets in fixed-size tables.
 *
 * Two limiters use them:
 *   - anonymous: MCP POSTs of callers below verified trust
 *     (gateway.server.anonymous_rate_limit_per_min / _burst);
 *   - failed authentication: every rejected token costs one
 *     (failed_auth_rate_limit_per_min / _burst), and an IP whose bucket is
 *     empty is answered 429 before its token is even looked at, so guessing
 *     bearer tokens is as slow as guessing passwords.
 *
 * The client IP is the TCP peer, or, when the peer is one of
 * gateway.server.trusted_proxies, the right-most X-Forwarded-For entry that
 * is not itself a trusted proxy.  A bucket holds `burst` tokens, refills at
 * per_min / 60 tokens a second and starts full.  Limits are read from the
 * live snapshot on every check, so a reload changes them at once; the
 * tables live outside snapshots and survive reloads.
 *
 * Memory is fixed: each table is 4096 sets of 8 entries (32 bytes each,
 * 1 MiB per table) allocated once.  An address hashes to one set; when the
 * set is full the entry with the most tokens is replaced.  That entry is
 * the one whose loss matters least, since a forgotten address starts over
 * with a full bucket anyway; an address being throttled has few tokens and
 * stays.  So a flood from many addresses can only push out other
 * well-behaved addresses, never grow memory.
 */
#ifndef MCPG_RATELIMIT_H
#define MCPG_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#include "rt.h"
#include "strbuf.h"

#define MCPG_RATELIMIT_SETS 4096
#define MCPG_RATELIMIT_WAYS 8

/*
 * Take a token for the request from `peer` carrying X-Forwarded-For `xff`
 * (NULL when absent).  Returns 0 when allowed, else the seconds after which
 * a token will be there (for Retry-After).
 */
int mcpg_ratelimit_take(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
			int64_t now_ms);

/*
 * Whether the client has used up its failed-authentication allowance.
 * Returns 0 when it may present a token, else the seconds to wait (for
 * Retry-After).  Takes nothing.
 */
int mcpg_authfail_blocked(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
			  int64_t now_ms);

/* A token from this client was rejected: it costs one from its bucket. */
void mcpg_authfail_note(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
			int64_t now_ms);

/*
 * The client address (16 bytes, IPv4 as ::ffff:a.b.c.d) as described
 * above; -1 when there is none.
 */
int mcpg_client_ip(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
		   unsigned char out[16]);

/* Append the limiter counters to the Prometheus page. */
void mcpg_ratelimit_metrics(struct strbuf *out);

#endif /* MCPG_RATELIMIT_H */
