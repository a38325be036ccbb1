/*
 * cluster.h - sessions shared between replicas, over the coordinator
 * (coord.h), and the one duty that runs on the lease holder.
 *
 * With cluster.kind single_node every function here is a no-op that
 * succeeds: the local session table (session.h) is the whole truth.  With
 * redis or nats, the coordinator holds one record per session
 * ("sess.<id>": protocol version, tenant, initialized, log level, last use)
 * and the local table becomes a cache in front of it:
 *
 *   - initialize writes the record (create); failing that fails initialize;
 *   - a request naming a session this replica does not know reads the
 *     record and adopts the session locally; if the coordinator is down,
 *     the request fails fast with a JSON-RPC error naming the cause;
 *   - use is written back at most every min(idle/4, 5 s) per session
 *     (sessions with a stream or a call in flight are touched by a
 *     background pass), so the record's last-use time stays within that
 *     of the truth;
 *   - DELETE deletes the record and tells every replica to end its copy.
 *
 * The bus carries, per session: cancellation of a request (the replica
 * running it cancels), server-to-client events (the replica holding the
 * GET stream appends them to its ring), end, and record updates.
 *
 * Presence: every replica keeps "peer.<instance id>" alive with the peer
 * TTL; the lease holder counts them (mcpg_cluster_peers in /metrics).
 *
 * /metrics (mcpg_cluster_metrics):
 *
 *   mcpg_cluster_up{kind}                   the coordinator answers (1/0)
 *   mcpg_cluster_lease_holder               this replica holds the lease
 *   mcpg_cluster_lease_token                fencing token of the lease last held
 *   mcpg_cluster_lease_acquired_total       times this replica took it
 *   mcpg_cluster_peers                      live replicas (on the holder)
 *   mcpg_cluster_sessions_reaped_total      records this replica reaped
 *   mcpg_cluster_session_lookups_total{result}  local, coordinator, missing, error
 *   mcpg_cluster_ops_total, _errors_total, _reconnects_total
 *   mcpg_cluster_bus_messages_total{dir}    published (out) and received (in)
 *
 * The lease "reaper" is held by one replica at a time; its holder deletes
 * session records unused for longer than session_idle_timeout_ms and
 * tells every replica to end them.  When the holder dies its lease
 * expires and another replica takes the duty within the lease TTL.
 */
#ifndef MCPG_CLUSTER_H
#define MCPG_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "strbuf.h"

struct mcpg_rt;

/* JSON-RPC error code of a request refused because shared state is unreachable. */
#define MCPG_RPC_CLUSTER_DOWN (-32011)

/* Start the coordinator; -1 with one line in `err` (boot must stop). */
int mcpg_cluster_start(const struct mcpg_rt *rt, char *err, size_t errlen);
void mcpg_cluster_stop(void);

/* /ready: whether shared state is reachable (always 1 for single_node). */
int mcpg_cluster_ready(void);
/* "redis up", "redis down: <cause>" ... for /ready's body. */
void mcpg_cluster_status(char *buf, size_t len);
/* The message of a MCPG_RPC_CLUSTER_DOWN error into buf. */
void mcpg_cluster_down_message(char *buf, size_t len);

/* initialize made `s`: write its record.  0, or -1 (coordinator down). */
int mcpg_cluster_session_created(struct mcpg_session *s);
/*
 * The session `id`: the local copy, else the coordinator's record adopted
 * locally.  NULL when unknown, with *down set when the coordinator could
 * not be asked.
 */
struct mcpg_session *mcpg_cluster_session_get(const char *id, int *down);
/* Re-read initialized / log level from the record (a refusal is near). */
void mcpg_cluster_session_refresh(struct mcpg_session *s);
/* Write use back when due (cheap when not). */
void mcpg_cluster_session_touch(struct mcpg_session *s);
/* initialized or log level changed on `s`: write and tell the others. */
void mcpg_cluster_session_changed(struct mcpg_session *s);
/* DELETE of session `id`: delete the record, end it everywhere.  0 or -1. */
int mcpg_cluster_session_deleted(const char *id);
/* notifications/cancelled for request `idj` of `s`: cancel it wherever it runs. */
void mcpg_cluster_cancel(struct mcpg_session *s, const char *idj);
/* A server-to-client message for s's GET stream, wherever that is open. */
void mcpg_cluster_event(struct mcpg_session *s, const char *json, size_t len);

/*
 * SSE event ids.  In a cluster each replica numbers a session's events from
 * its own base (a random multiple of 2^40 below 2^53), so an id that another
 * replica sent is recognisably foreign here: a GET that resumes with one
 * starts a fresh stream (no replay: the events are on the other replica)
 * instead of failing.  seq_init gives a new local copy that numbering.
 */
void mcpg_cluster_seq_init(struct mcpg_session *s);
/* Whether Last-Event-ID `id` was numbered by another replica (0 single_node). */
int mcpg_cluster_foreign_id(uint64_t id);

/* Append the cluster's Prometheus lines. */
void mcpg_cluster_metrics(struct strbuf *o);

#endif /* MCPG_CLUSTER_H */
