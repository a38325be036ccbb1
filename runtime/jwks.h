/*
 * jwks.h - key sets fetched over HTTP: governance.access.jwks.url and the
 * OIDC providers' published JWKS (found through their discovery document).
 *
 * A remote key source lives outside snapshots, in a small registry keyed
 * by its settings, so a reload that keeps a provider keeps its keys (and
 * /ready stays 200).  Snapshots hold references; the last one removes it.
 * One background thread fetches: at first as soon as a source appears (then
 * every second until it succeeds), afterwards every refresh interval, and
 * at most once more per interval when a token names a kid the set lacks
 * (mcpg_jwks_kick).  Requests never wait for the network: they use the last
 * good set, for up to max_staleness after the refresh that failed was due
 * (last success + refresh interval + fetch timeout).
 */
#ifndef MCPG_JWKS_H
#define MCPG_JWKS_H

#include <stdint.h>

#include "jwt.h"

struct mcpg_jwks_src;

struct mcpg_jwks_cfg {
	const char *jwks_uri;      /* fetch this set directly, or */
	const char *discovery_uri; /* read jwks_uri from this document */
	const char *issuer;        /* the discovery document's issuer must equal it (may be NULL) */
	uint32_t allowed;          /* algorithm mask (HMAC bits only with allow_hmac) */
	int64_t refresh_ms, timeout_ms, max_stale_ms;
};

/* The source for `cfg`, shared with any snapshot that has the same settings. */
struct mcpg_jwks_src *mcpg_jwks_get(const struct mcpg_jwks_cfg *cfg);
void mcpg_jwks_put(struct mcpg_jwks_src *s);

/*
 * The current set with a reference (mcpg_keyset_put it), or NULL when none
 * was ever loaded (*stale = 0) or the last good one is older than
 * max_staleness (*stale = 1).
 */
struct mcpg_keyset *mcpg_jwks_keys(struct mcpg_jwks_src *s, int64_t now_ms, int *stale);

/* Serial of the current set (0 when none): cheap check for cached tokens. */
uint64_t mcpg_jwks_serial(struct mcpg_jwks_src *s, int64_t now_ms);

/* A token named a kid the set lacks: refetch, at most once per refresh interval. */
void mcpg_jwks_kick(struct mcpg_jwks_src *s, int64_t now_ms);

/* 1 once a key set has been loaded. */
int mcpg_jwks_loaded(struct mcpg_jwks_src *s);

/* Stop the fetch thread (shutdown); sources stay usable. */
void mcpg_jwks_shutdown(void);

#endif /* MCPG_JWKS_H */
