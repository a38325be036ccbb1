/*
 * fedmap.h - the federation state that belongs to a client session and must
 * reach an upstream: which upstream (and upstream session) a server-initiated
 * request came from, and which resources a client session subscribed to.
 *
 * It is a small string key/value store with a TTL, so that a coordinator
 * (Redis, NATS KV) can hold it for a fleet where any replica serves the
 * session; today it lives in this process.  Keys are built by fed.c:
 *
 *   sreq\x1f<client session>\x1f<gateway request id>
 *        -> {"up":NAME,"usid":UPSTREAM SESSION,"id":UPSTREAM REQUEST ID}
 *   sub\x1f<upstream>\x1f<uri>\x1f<client session> -> "1"
 *
 * Values are copied in and out (malloc'd strings the caller frees).
 */
#ifndef MCPG_FEDMAP_H
#define MCPG_FEDMAP_H

#include <stddef.h>
#include <stdint.h>

/* Set `key` to `val` for `ttl_ms` (0: no expiry).  Returns 0, or -1 (memory). */
int mcpg_fedmap_put(const char *key, const char *val, int64_t ttl_ms);

/* The value of `key` (malloc'd), or NULL when absent or expired. */
char *mcpg_fedmap_get(const char *key);

/* Get and delete `key` in one step (a client answers a request once). */
char *mcpg_fedmap_take(const char *key);

/* Delete `key`.  Returns 1 when it was there. */
int mcpg_fedmap_del(const char *key);

/*
 * Call fn(key, val, arg) for every live key that starts with `prefix` and,
 * when `suffix` is not NULL, ends with it; with `del` set, the keys are
 * deleted after the call.  Returns how many matched.
 */
size_t mcpg_fedmap_scan(const char *prefix, const char *suffix, int del,
			void (*fn)(const char *key, const char *val, void *arg), void *arg);

/* Drop everything (shutdown). */
void mcpg_fedmap_clear(void);

#endif /* MCPG_FEDMAP_H */
