/*
 * mcp.h - the MCP protocol layer: one JSON-RPC message in, one answer out.
 *
 * http.c does the HTTP checks that need only headers (route, method, Origin,
 * Host, Accept, Content-Type, body size) and hands the rest here: parse,
 * protocol version header, batch refusal, session rules, dispatch.  Nothing
 * here knows libmicrohttpd, so a fuzzer can drive it in process.
 *
 * Answers that are ready at once are written into the caller's buffer.
 * Calls that may block (tools/call and resources/read on a backend that
 * waits) become a `struct mcpg_job` that runs on the worker pool; http.c
 * suspends the connection and mcp.c calls hooks.wake_job whenever the job
 * has something new for the client (a notification, the final message, a
 * timeout, a cancellation).
 */
#ifndef MCPG_MCP_H
#define MCPG_MCP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "authz.h"
#include "backend.h"
#include "pool.h"
#include "rt.h"
#include "session.h"
#include "strbuf.h"

/* The Makefile passes -DMCPG_VERSION; builds that do not (fuzzers) still compile. */
#ifndef MCPG_VERSION
#define MCPG_VERSION "unknown"
#endif

#define MCPG_PV_LATEST "2025-11-25"
#define MCPG_PV_SUPPORTED "2025-11-25, 2025-06-18, 2025-03-26"

/* JSON-RPC error codes used by the protocol layer. */
#define MCPG_RPC_PARSE_ERROR (-32700)
#define MCPG_RPC_INVALID_REQUEST (-32600)
#define MCPG_RPC_METHOD_NOT_FOUND (-32601)
#define MCPG_RPC_BAD_PARAMS (-32602)
#define MCPG_RPC_SESSION_NOT_FOUND (-32001)
#define MCPG_RPC_REQUEST_TIMEOUT (-32001)
#define MCPG_RPC_RESOURCE_NOT_FOUND (-32002)
#define MCPG_RPC_LIMITED (-32099)
#define MCPG_RPC_CANCELLED_CODE (-32800)

/* The request as http.c extracted it.  Everything is borrowed. */
struct mcpg_mcp_req {
	const char *rid;              /* request id (logs) */
	const char *session_id;       /* Mcp-Session-Id, or NULL */
	const char *protocol_version; /* MCP-Protocol-Version, or NULL */
	const char *subject;          /* x-mcpg-subject-id, or NULL */
	const char *last_event_id;    /* Last-Event-ID (GET), or NULL */
	const struct sockaddr *peer;  /* may be NULL */
	const struct mcpg_identity *ident; /* authenticated by http.c, or NULL: derive from subject/peer */
	int sse;                      /* the client lists text/event-stream in Accept */
	const char *body;
	size_t body_len;
};

enum mcpg_job_state {
	MCPG_JOB_RUNNING,
	MCPG_JOB_DONE,      /* `out` holds the rest of the answer */
	MCPG_JOB_TIMEOUT,   /* request_timeout_ms passed; `out` ends with the error */
	MCPG_JOB_CANCELLED, /* no JSON-RPC response will be sent */
};

struct mcpg_job {
	struct mcpg_pool_item item;
	pthread_mutex_t lock;
	atomic_int refs;
	/* lock: */
	int state;          /* enum mcpg_job_state */
	int final;          /* the outcome is decided (result, error, timeout, cancel) */
	struct strbuf out;  /* bytes for the client; those before `taken` were sent */
	size_t taken;
	int nnotes;         /* notifications appended to `out` so far */
	int streaming;      /* http.c started a streamed response */
	void *conn;         /* http.c's connection, NULL once it went away */
	int suspended;      /* http.c suspended `conn` and waits for a wake */
	int close_stream;   /* end the POST's SSE stream now; the call goes on and the
			       client resumes it with GET and Last-Event-ID */
	/* fixed at creation: */
	int sse;            /* answer as SSE events */
	/* Not 0: the answer is a resumable SSE stream (protocol 2025-11-25 and
	 * later) whose events are also kept in the session's replay ring under
	 * this stream number, the seq of its priming event.  Losing the POST's
	 * connection then does not cancel the call. */
	uint64_t stream_id;
	int timeout_408;    /* on_request_timeout: http_408 */
	int64_t deadline_ms;
	int64_t t0_ms;
	char rid[24];
	char *id_json;      /* the request's id as JSON text */
	struct mcpg_call call;
	json_t *request;    /* owns arguments and the progress token */
	json_t *vars;       /* URI template variables (resources/read) */
	struct mcpg_rt *rt;
	struct mcpg_session *sess;
	struct mcpg_identity ident;
	int audited;        /* a tools/call the audit ledger records (audit.h) */
	int timed_out;      /* the backend saw the deadline (worker) */
	int rc;             /* the backend's result (worker) */
	struct strbuf fin;  /* the final message while its record is being written */
	struct mcpg_job *s_next, *s_prev; /* session's calls in flight (session lock) */
	struct mcpg_job *t_next, *t_prev; /* deadline list (housekeeper lock) */
};

/* The answer. */
struct mcpg_mcp_resp {
	int status;            /* HTTP status */
	int sse;               /* body is text/event-stream, else application/json */
	struct strbuf *body;   /* the caller's buffer, appended to */
	char session_id[MCPG_SESSION_ID_LEN + 1]; /* non-empty: send Mcp-Session-Id */
	int version_header;    /* send MCP-Protocol-Version: latest (on a version error) */
	int auth_required;     /* a 401 for a caller without credentials: WWW-Authenticate: Bearer */
	const char *method;    /* the JSON-RPC method (static text), for metrics/logs */
	struct mcpg_job *job;  /* not NULL: the answer comes later (see above) */
	uint64_t stream;       /* mcpg_mcp_get: the SSE stream to resume (0: the GET stream) */
};

struct mcpg_mcp_hooks {
	/* The job changed; called with job->lock held. */
	void (*wake_job)(struct mcpg_job *job);
	/* New events in s's ring; called with s->lock held. */
	void (*wake_streams)(struct mcpg_session *s);
	/* A housekeeping tick, about once a second (keep-alives). */
	void (*tick)(int64_t now_ms);
	/*
	 * Whether the client closed the connection of a suspended job (called by
	 * the housekeeper every MCPG_PROBE_MS with job->lock held, job->suspended
	 * and job->conn set).  libmicrohttpd sees nothing of a suspended
	 * connection, so without this a call would run on for a client long gone.
	 */
	int (*conn_gone)(struct mcpg_job *job);
};
#define MCPG_PROBE_MS 200
/* The retry interval a resumable SSE stream's priming event asks for. */
#define MCPG_SSE_RETRY_MS 500

/* Set the hooks and start the housekeeper thread (deadlines, idle sessions). */
int mcpg_mcp_init(const struct mcpg_mcp_hooks *hooks);
/* Stop the housekeeper. */
void mcpg_mcp_shutdown(void);

/* Handle a POST body.  Fills `out`; never fails (errors are answers). */
void mcpg_mcp_post(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out);

/* Handle DELETE: end the session. */
void mcpg_mcp_delete(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out);

/*
 * Check a GET (SSE stream) request: session and Last-Event-ID.  Returns the
 * session (a reference for the caller) and the cursor to stream after, or
 * NULL with `out` holding the error answer (400, 404, 409).  A Last-Event-ID
 * of a POST's stream resumes that stream: out->stream names it.
 */
struct mcpg_session *mcpg_mcp_get(struct mcpg_rt *rt, const struct mcpg_mcp_req *in,
				  struct mcpg_mcp_resp *out, uint64_t *cursor);

/* An error answer with a JSON-RPC error body (id null) and HTTP `status`. */
void mcpg_mcp_error(struct mcpg_mcp_resp *out, int status, int code, const char *msg);

/* Drop a reference to a job. */
void mcpg_job_put(struct mcpg_job *job);

/* http.c's connection went away: forget it, cancel the call if still running. */
void mcpg_job_detach(struct mcpg_job *job);

/* Cancel every call in flight (shutdown). */
void mcpg_mcp_cancel_all(void);

/*
 * After a reload: when the name set of tools, resources (with templates) or
 * prompts differs between `old` and `new`, queue the matching
 * notifications/.../list_changed to every session that has a GET stream.
 */
void mcpg_mcp_reloaded(const struct mcpg_rt *old, const struct mcpg_rt *new);

/*
 * Queue notifications/{tools,resources,prompts}/list_changed (those asked
 * for) to every session with a GET stream (fed.c, when an upstream's items
 * change).
 */
void mcpg_mcp_list_changed(int tools, int resources, int prompts);

/*
 * Whether the sorted names of the bindings of `kinds` (a bit set of
 * enum mcpg_binding_kind) differ between two arrays; each array's elements
 * are `stride` bytes apart and start with a struct mcpg_binding.
 */
int mcpg_mcp_names_differ(const struct mcpg_binding *a, size_t na, size_t stride_a,
			  const struct mcpg_binding *b, size_t nb, size_t stride_b, unsigned kinds);

/*
 * Queue one server-to-client message (compact JSON) on s's GET stream(s) of
 * this replica, when it has one (cluster.c delivers other replicas' here).
 */
void mcpg_mcp_push_event(struct mcpg_session *s, const char *json, size_t len);

/* Cancel s's call with request id `idj` (JSON text) if it runs here. */
void mcpg_mcp_cancel_request(struct mcpg_session *s, const char *idj);


#endif /* MCPG_MCP_H */
