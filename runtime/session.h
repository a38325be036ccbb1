/*
 * session.h - MCP sessions of this replica (Mcp-Session-Id).
 *
 * A session is created by initialize and named by 128 random bits
 * (getrandom), written as 32 lowercase hex digits.  The table is a fixed
 * array of hash buckets split into shards, each with its own mutex, so
 * lookups from different connections rarely meet.  A session is reference
 * counted: the table holds one reference, each request that found it
 * another, so ending a session (DELETE, idle eviction, shutdown) never frees
 * memory a request still uses.
 *
 * What a session holds besides its id is small (about 200 bytes idle): the
 * negotiated protocol version, the client's log level, the tenant key for
 * max_sessions_per_tenant, the calls in flight (so notifications/cancelled
 * can find them), the open GET streams and, once a stream was opened or an
 * event published to it, a ring of the last replay_window_limit events for
 * Last-Event-ID replay.  The ring is allocated on first use.
 *
 * Locks: shard lock before session lock, never the other way round.  The
 * fields marked "lock" are protected by `lock`.
 */
#ifndef MCPG_SESSION_H
#define MCPG_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MCPG_SESSION_ID_LEN 32
/*
 * A request id may not be reused on a session.  Ids of calls still in flight
 * are compared exactly (no bound); beyond those the session remembers the
 * hashes of its last MCPG_SESSION_SEEN_IDS request ids (256 bytes).
 */
#define MCPG_SESSION_SEEN_IDS 32

struct mcpg_job;
struct mcpg_stream;

/*
 * One server-to-client event kept for replay: SSE bytes, "id: N" included.
 * `stream` names the SSE stream it belongs to: 0 for the session's GET
 * stream, else the seq of the priming event that opened a POST's stream, so
 * a client that lost that POST's connection can resume it with a GET and
 * Last-Event-ID (SEP-1699).  `last` marks a POST stream's final message.
 */
struct mcpg_event {
	uint64_t seq;
	uint64_t stream;
	int last;
	char *data;
	size_t len;
};

struct mcpg_session {
	struct mcpg_session *next; /* hash chain (shard lock) */
	atomic_int refs;
	atomic_int busy;           /* requests in progress */
	atomic_llong last_used_ms; /* CLOCK_MONOTONIC */
	pthread_mutex_t lock;
	int ended;                 /* lock */
	uint8_t log_level;         /* logging/setLevel: index into MCP's levels, debug (0)
	                              to emergency (7); atomic byte access */
	char id[MCPG_SESSION_ID_LEN + 1];
	char version[11];          /* negotiated protocol version */
	char *tenant;              /* tenant key (malloc'd), "" shared bucket */
	int owned;                 /* started by a verified caller: only they may use it */
	unsigned char owner[32];   /* mcpg_identity_owner() of that caller */
	struct mcpg_job *jobs;     /* lock: calls in flight, linked by the job */
	struct mcpg_stream *streams; /* lock: open GET streams, linked by the stream */
	int nstreams;              /* lock */
	/* lock: replay ring, allocated on first use */
	struct mcpg_event *ring;
	uint32_t ring_cap, ring_n, ring_head; /* head: index of the oldest */
	uint64_t next_seq;         /* lock: seq of the next event (first is 1) */
	/* lock: phase and the JSON-RPC ids seen (mcpg.md 5.3 session rules) */
	int initialized;           /* notifications/initialized arrived */
	uint8_t seen_n, seen_head; /* ring of the last MCPG_SESSION_SEEN_IDS ids */
	uint64_t seen[MCPG_SESSION_SEEN_IDS]; /* 64-bit FNV-1a of the id's JSON text */
	atomic_llong shared_ms;    /* cluster.c: when the coordinator's record was last written */
};

/* Called when a session ends, with no lock held: cancel calls, close streams. */
struct mcpg_session_hooks {
	void (*ended)(struct mcpg_session *s);
};

void mcpg_sessions_init(const struct mcpg_session_hooks *hooks);

/*
 * Create a session for `tenant` ("" for the anonymous bucket) speaking
 * `version`.  `max_per_tenant` 0 means no limit.  Returns the session with a
 * reference for the caller (and one for the table), or NULL when the tenant
 * already holds max_per_tenant sessions (*limited = 1) or memory ran out.
 */
struct mcpg_session *mcpg_session_create(const char *tenant, const char *version,
					 uint64_t max_per_tenant, int *limited);

/*
 * The session `id` made elsewhere (cluster.c: another replica created it):
 * the local entry if there is one, else a new one with that id, not counted
 * against max_sessions_per_tenant.  `owner` (NULL: anyone's) is the
 * mcpg_identity_owner() of the verified caller who started it, set before
 * the entry can be found.  A reference for the caller, or NULL.
 */
struct mcpg_session *mcpg_session_adopt(const char *id, const char *tenant,
					const char *version, const unsigned char *owner);

/* The live session named `id` with a reference taken, or NULL. */
struct mcpg_session *mcpg_session_get(const char *id);

/* Drop a reference. */
void mcpg_session_put(struct mcpg_session *s);

/* Mark use now (requests call it when they start and end). */
void mcpg_session_touch(struct mcpg_session *s);

/* End `s`: out of the table, hooks run.  Returns 0, or -1 if already ended. */
int mcpg_session_end(struct mcpg_session *s);

/*
 * End every session idle for longer than `idle_ms` (no request in progress,
 * no open stream).  Returns how many ended.
 */
size_t mcpg_sessions_reap(int64_t now_ms, uint64_t idle_ms);

/* End all sessions (shutdown). */
void mcpg_sessions_end_all(void);

/* Open sessions. */
size_t mcpg_sessions_count(void);

/*
 * Append a server-to-client message (compact JSON, `len` bytes) to the
 * session's replay ring as an SSE event with the next seq, keeping at most
 * `window` events.  Caller holds s->lock.  Returns the seq.
 */
uint64_t mcpg_session_add_event(struct mcpg_session *s, const char *json, size_t len,
				uint32_t window);

/*
 * Like mcpg_session_add_event, on SSE stream `stream` (see struct
 * mcpg_event); `last` marks the stream's final message.  With `json` NULL it
 * adds a priming event: an id, a retry interval of `retry_ms` and empty
 * data, which a client does not dispatch but remembers as its last event id.
 */
uint64_t mcpg_session_add_event_on(struct mcpg_session *s, uint64_t stream, int last,
				   const char *json, size_t len, uint32_t window,
				   unsigned retry_ms);
/*
 * The first kept event of the GET stream with seq > `after`, or NULL.  *gap
 * is set when events after `after` were already dropped from the ring.
 * Caller holds s->lock.
 */
const struct mcpg_event *mcpg_session_next_event(struct mcpg_session *s, uint64_t after,
						 int *gap);
/* The same for SSE stream `stream` (0: the GET stream). */
const struct mcpg_event *mcpg_session_next_event_on(struct mcpg_session *s, uint64_t stream,
						    uint64_t after, int *gap);
/* Whether the final message of POST stream `stream` is kept.  Caller holds s->lock. */
int mcpg_session_stream_done(struct mcpg_session *s, uint64_t stream);
/* The kept event `seq`, or NULL.  Caller holds s->lock. */
const struct mcpg_event *mcpg_session_find_event(struct mcpg_session *s, uint64_t seq);

/*
 * Remember request id `idj` (its JSON text) on `s`.  Returns 0, or -1 when it
 * is among the last MCPG_SESSION_SEEN_IDS ids (then nothing changes).
 * Caller holds s->lock.
 */
int mcpg_session_note_id(struct mcpg_session *s, const char *idj);

/* Call fn(s, arg) for every live session, each with a reference held. */
void mcpg_sessions_foreach(void (*fn)(struct mcpg_session *s, void *arg), void *arg);

/* 128 random bits as 32 hex digits + NUL (also used for request ids: 64 bits). */
void mcpg_random_hex(char *out, size_t nbytes);

#endif /* MCPG_SESSION_H */
