/*
 * coord.h - the cluster coordinator: state shared between mcpg replicas.
 *
 * One coordinator per process, chosen by cluster.kind at boot:
 *
 *   single_node  in process (coord_single.c): a hash table with TTLs and a
 *                local bus; nothing is shared, nothing can fail.
 *   redis        hiredis' RESP reader and command formatter over our own
 *                socket, with OpenSSL for rediss:// (coord_redis.c): a pool
 *                of command connections and one subscriber connection.
 *   nats         libnats (coord_nats.c): a JetStream KV bucket for state,
 *                one for leases, core NATS subjects for the bus.
 *
 * The API is what callers need and no more: a KV store whose values are
 * bytes with a time to live, compare-and-set, one pub/sub bus, and named
 * leases with fencing tokens.  Keys are short printable names without
 * spaces ("sess.<id>", "fed.<client>.<upstream>"); the coordinator adds
 * the deployment's key_prefix (Redis) or bucket (NATS).  Callers other
 * than sessions (federation's client-session -> upstream-session map)
 * should pick their own first key segment.
 *
 * Every operation is synchronous and bounded by operation_timeout_ms.
 * While the coordinator is down (mcpg_coord_up() is 0) operations fail at
 * once with -1 instead of waiting, and mcpg_coord_error() names the cause;
 * a background thread reconnects with backoff and flips it back.
 *
 * Thread-safe: any thread may call any function after mcpg_coord_start.
 */
#ifndef MCPG_COORD_H
#define MCPG_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct mcpg_rt;

/* A bus message: `data` is not NUL-terminated; called on a coordinator thread. */
typedef void (*mcpg_coord_msg_fn)(const char *data, size_t len, void *arg);

/*
 * Connect as cluster.kind of `rt` says (NULL: single_node) and probe it.
 * `on_msg` receives every message of the bus.  Returns 0, or -1 with one
 * line in `err` when the coordinator is unreachable and allow_degraded_boot
 * is false (then nothing is left running), -2 with one line when the
 * configuration cannot be used at all (a bad URL, a CA file that does not
 * load, a kind this build lacks).  With allow_degraded_boot the
 * coordinator starts down and comes up on its own.
 */
int mcpg_coord_start(const struct mcpg_rt *rt, mcpg_coord_msg_fn on_msg, void *arg,
		     char *err, size_t errlen);
void mcpg_coord_stop(void);

/* "single_node", "redis" or "nats". */
const char *mcpg_coord_kind(void);
/* Whether state lives outside this process (redis, nats). */
int mcpg_coord_shared(void);
/* Whether the coordinator answers now. */
int mcpg_coord_up(void);
/* Why it is down ("redis 127.0.0.1:6379: Connection refused"), or "". */
void mcpg_coord_error(char *buf, size_t len);

/* KV.  ttl_ms 0: no expiry.  -1 means the coordinator failed (see above). */
int mcpg_coord_get(const char *key, struct strbuf *val);        /* 1 found, 0 missing */
int mcpg_coord_put(const char *key, const void *val, size_t len, uint64_t ttl_ms); /* 0 */
int mcpg_coord_create(const char *key, const void *val, size_t len,
		      uint64_t ttl_ms);                             /* 1 created, 0 exists */
int mcpg_coord_cas(const char *key, const void *old, size_t oldlen, const void *val,
		   size_t len, uint64_t ttl_ms);                    /* 1 swapped, 0 differs */
int mcpg_coord_replace(const char *key, const void *val, size_t len,
		       uint64_t ttl_ms);                            /* 1 replaced, 0 missing */
int mcpg_coord_del(const char *key);                            /* 1 deleted, 0 missing */
/* Call fn for every key starting with `prefix`; returns keys seen or -1. */
long mcpg_coord_scan(const char *prefix, void (*fn)(const char *key, void *arg), void *arg);

/* Publish on the bus (every replica's on_msg, this one's too).  0 or -1. */
int mcpg_coord_publish(const void *data, size_t len);

/*
 * Take or renew lease `name` for ttl_ms.  Returns 1 with the fencing token
 * in *token (it grows each time the lease changes hands; the same holder
 * renewing keeps it), 0 when another replica holds it, -1 on failure.
 */
int mcpg_coord_lease(const char *name, uint64_t ttl_ms, uint64_t *token);
/* Give lease `name` up if `token` still holds it. */
void mcpg_coord_lease_release(const char *name, uint64_t token);
/*
 * Delete `key` only while `token` holds lease `name` (the fencing check):
 * 1 deleted, 0 missing or the lease moved on, -1 failed.  Atomic on Redis
 * (one script); on NATS the lease is read just before the delete.
 */
int mcpg_coord_del_fenced(const char *key, const char *name, uint64_t token);

/* Wall-clock milliseconds (records compared between replicas carry these). */
int64_t mcpg_wall_ms(void);

/* Counters for /metrics. */
struct mcpg_coord_stats {
	uint64_t ops, errors, reconnects, published, received;
};
void mcpg_coord_stats(struct mcpg_coord_stats *st);

/* ------------------------------------------------------------------------
 * For the implementations (coord_*.c) only.
 */
struct mcpg_coord_ops {
	const char *kind;
	int shared;
	int (*get)(const char *key, struct strbuf *val);
	int (*put)(const char *key, const void *val, size_t len, uint64_t ttl_ms);
	int (*create)(const char *key, const void *val, size_t len, uint64_t ttl_ms);
	int (*cas)(const char *key, const void *old, size_t oldlen, const void *val,
		   size_t len, uint64_t ttl_ms);
	int (*replace)(const char *key, const void *val, size_t len, uint64_t ttl_ms);
	int (*del)(const char *key);
	long (*scan)(const char *prefix, void (*fn)(const char *key, void *arg), void *arg);
	int (*publish)(const void *data, size_t len);
	int (*lease)(const char *name, uint64_t ttl_ms, uint64_t *token);
	void (*lease_release)(const char *name, uint64_t token);
	int (*del_fenced)(const char *key, const char *name, uint64_t token);
	/* A cheap round trip (PING, flush); 0 or -1 with the cause set. */
	int (*ping)(void);
	void (*stop)(void);
};

/* Report a failure / a recovery (any thread); fmt names the cause. */
void mcpg_coord_down(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mcpg_coord_deliver(const char *data, size_t len);

const struct mcpg_coord_ops *mcpg_coord_single_start(char *err, size_t errlen);
const struct mcpg_coord_ops *mcpg_coord_redis_start(const struct mcpg_rt *rt, char *err,
						    size_t errlen);
const struct mcpg_coord_ops *mcpg_coord_nats_start(const struct mcpg_rt *rt, char *err,
						   size_t errlen);

#endif /* MCPG_COORD_H */
