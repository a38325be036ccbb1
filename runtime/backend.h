/*
 * backend.h - how a binding is served: the call contract between the
 * protocol layer (mcp.c) and the built-in backends (backend_mock.c,
 * backend_http.c, backend_command.c; upstream MCP servers come later).
 *
 * The protocol layer fills a `struct mcpg_call` and runs mcpg_backend_run()
 * on a worker thread (never on an HTTP thread: backends may block).  A call
 * is cancelled by setting `cancelled` from any thread (notifications/
 * cancelled, the request deadline, the client going away, shutdown); a
 * backend checks it at least every 50 ms and stops its work: the mock's
 * sleep ends, the HTTP transfer is aborted, the child process is killed.
 * Backends never write HTTP; they return a JSON-RPC result or error, and may
 * send notifications (progress, log messages) through `notify`.
 */
#ifndef MCPG_BACKEND_H
#define MCPG_BACKEND_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "clock.h"
#include "expr.h"
#include "rt.h"

struct mcpg_fed_fwd;

/* What the protocol layer asks for. */
enum mcpg_call_op {
	MCPG_CALL_TOOL,          /* tools/call: result is a CallToolResult */
	MCPG_CALL_RESOURCE_READ, /* resources/read: result is a ReadResourceResult */
};

struct mcpg_call {
	/* In: set by the caller, read-only for the backend. */
	enum mcpg_call_op op;
	const struct mcpg_rt *rt;           /* snapshot the call runs on */
	const struct mcpg_binding *binding; /* tool, resource or resource template */
	const json_t *arguments;            /* tools/call arguments (an object; never NULL),
	                                       or the URI template variables for a read */
	const char *uri;                    /* resources/read: the URI asked for */
	const struct mcpg_identity_view *identity; /* the caller; NULL for anonymous */
	int64_t deadline_ms;                /* CLOCK_MONOTONIC ms; 0 for none */
	json_t *progress_token;             /* params._meta.progressToken, or NULL */
	int raw_ok;                         /* the caller reads raw_* (below) too */
	atomic_int cancelled;               /* set by anyone; the backend stops soon after */
	/* A request forwarded to an upstream MCP server (fed.h), owned by the
	 * call; NULL for local bindings. */
	struct mcpg_fed_fwd *fed;
	/*
	 * Send a notification to the client (e.g. notifications/progress,
	 * notifications/message), in order, before the result.  May be called
	 * from the backend's thread; it does not block on the network.  NULL
	 * when the client cannot receive them (JSON response mode).
	 */
	void (*notify)(struct mcpg_call *call, json_t *notification /* stolen */);
	void *notify_ctx;
	/*
	 * End the client's SSE stream of this call while it goes on (the client
	 * resumes it with GET and Last-Event-ID): an upstream that closed its
	 * own stream early asks for the same (SEP-1699).  NULL when the client's
	 * stream is not resumable.
	 */
	void (*close_stream)(struct mcpg_call *call);

	/* Out: exactly one of result / error is set when run() returns. */
	json_t *result;       /* owned by the call */
	/*
	 * Or, when raw_ok is set, instead of `result`: its JSON text as raw_pre, then raw_mid
	 * written as compact JSON (when not NULL), then raw_post: borrowed
	 * parts that live as long as the snapshot `rt` (a mock's cached
	 * answer).  raw_pre is NULL when unused.
	 */
	const char *raw_pre, *raw_post;
	size_t raw_pre_len, raw_post_len;
	const json_t *raw_mid;
	int error_code;       /* JSON-RPC error code, when there is no result */
	char error_message[256];
	json_t *error_data;   /* the error's data member, or NULL (owned by the call) */
	/* For metrics and logs: "timeout", "status", "transport", "cancelled", ... */
	const char *error_kind;
};

/*
 * Run `call` to completion on the calling thread.  Tool failures (the
 * backend ran but failed: HTTP status not expected, non-zero exit, timeout)
 * are results with isError: true, as MCP wants; JSON-RPC errors are for the
 * request itself (bad arguments: -32602; cancelled: the caller sends no
 * response at all).  Returns 0 when `result` is set, -1 when `error_*` is.
 */
int mcpg_backend_run(struct mcpg_call *call);

/* Free a binding's cached mock answer (struct mcpg_binding.mock_cache). */
void mcpg_backend_mock_cache_free(void *cache);

/* Free what run() left in `call` (the result); the struct itself is the caller's. */
void mcpg_call_release(struct mcpg_call *call);

#endif /* MCPG_BACKEND_H */
