/*
 * fed.h - federation: upstream MCP servers (mcp.upstreams) served under a
 * prefix next to the local bindings.
 *
 * Each upstream has a supervisor thread (fed.c) that connects (Streamable
 * HTTP in fed_http.c, a child process on stdin/stdout in fed_stdio.c),
 * initializes once and keeps that upstream session for every call (the
 * pool: calls share it, each with its own request id), lists the upstream's
 * tools, resources, resource templates and prompts, watches for its
 * list_changed notifications, and when the upstream goes away withholds its
 * items and reconnects with backoff.
 *
 * What the upstreams offer is published as a catalogue: immutable and
 * reference counted like the config snapshot (rt.h), swapped atomically
 * whenever an upstream's lists or state change.  The protocol layer (mcp.c)
 * consults the snapshot first, then the catalogue.  A catalogue item is a
 * struct mcpg_binding with no backend whose governance is its upstream's,
 * so lists and calls apply the same checks (mcpg_authz_allowed) to both.
 *
 * A forwarded request (tools/call, resources/read, prompts/get,
 * completion/complete, resources/subscribe and unsubscribe) runs as a job
 * on the worker pool like a local call; mcpg_backend_run() hands it to
 * mcpg_fed_run().  Progress and log notifications the upstream sends during
 * the call go to the client through call->notify (on the POST's SSE
 * stream, or on the session's GET stream when the client takes plain JSON);
 * server-initiated requests (sampling, elicitation, roots) too, under a
 * gateway request id ("mcpg-N", remembered in fedmap.h with the upstream,
 * its session and its own id), and the client's answer comes back through
 * mcpg_fed_client_answer().  Log messages are filtered by the client
 * session's logging/setLevel in the gateway; the upstream session, shared
 * by all clients, is never given a level.
 */
#ifndef MCPG_FED_H
#define MCPG_FED_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "authz.h"
#include "backend.h"
#include "rt.h"
#include "session.h"
#include "strbuf.h"

struct mcpg_fed_item {
	struct mcpg_binding b; /* kind, name (prefixed), governance; backend NULL */
	int up;                /* index of its upstream in mcp.upstreams */
	const char *upstream;  /* its upstream's name */
	const char *orig;      /* the upstream's own name for it */
	const char *uri;       /* resources: uri; templates: uriTemplate; else NULL */
};

struct mcpg_fed_cat {
	atomic_long refs;
	struct mcpg_rt *rt;          /* governance pointers point into this snapshot */
	struct mcpg_fed_item *items; /* upstreams in config order, each in list order */
	size_t n;
	uint32_t *by_name;           /* open addressing over by_name_size, 0 = empty */
	size_t by_name_size;
	char *text;                  /* names, uris and list entries of the items */
};

/* The current catalogue with a reference, or NULL when no upstream is configured. */
struct mcpg_fed_cat *mcpg_fed_acquire(void);
void mcpg_fed_release(struct mcpg_fed_cat *cat);

/* The item called `name` of `kind`, or NULL. */
const struct mcpg_fed_item *mcpg_fed_find(const struct mcpg_fed_cat *cat, const char *name,
					  enum mcpg_binding_kind kind);

/* 1 when caller `id` may see and use `it`. */
int mcpg_fed_allowed(const struct mcpg_fed_cat *cat, const struct mcpg_fed_item *it,
		     const struct mcpg_identity_view *id);

/* What a forwarded request carries (struct mcpg_call.fed), owned by the call. */
struct mcpg_fed_fwd {
	struct mcpg_fed_cat *cat;         /* a reference */
	const struct mcpg_fed_item *item; /* in cat */
	char method[32];                  /* tools/call, resources/read, ... */
	json_t *params;                   /* the upstream's params (a reference) */
	char session[MCPG_SESSION_ID_LEN + 1]; /* the client session */
};

/* Make a forward of `params` (a reference is taken) for `method`; NULL on no memory. */
struct mcpg_fed_fwd *mcpg_fed_fwd_new(struct mcpg_fed_cat *cat, const struct mcpg_fed_item *it,
				      const char *method, json_t *params, const char *session);

/* Run a forwarded call (worker thread); the contract of mcpg_backend_run(),
 * which calls it with the call's outputs cleared. */
int mcpg_fed_run(struct mcpg_call *call);

/* Free call->fed (from mcpg_call_release). */
void mcpg_fed_fwd_free(struct mcpg_fed_fwd *fwd);

/*
 * A JSON-RPC response the client POSTed on session `s` (no method): when its
 * id is one the gateway gave to a server-initiated request of an upstream,
 * send it to that upstream under the upstream's id.
 */
void mcpg_fed_client_answer(struct mcpg_session *s, json_t *msg);

/* Session `s` ended: forget its subscriptions and pending requests. */
void mcpg_fed_session_ended(struct mcpg_session *s);

/* 1 when the snapshot configures upstreams (initialize advertises every capability). */
int mcpg_fed_configured(const struct mcpg_rt *rt);

/*
 * Start the upstreams of the current snapshot and wait (up to 5 s) for each
 * one's first discovery; after a reload, restart those whose entry changed.
 */
void mcpg_fed_start(void);
void mcpg_fed_reload(void);
void mcpg_fed_stop(void);

/* ,"upstreams":{NAME:{"state":"up"|"down"|"connecting",...},...} for /ready. */
void mcpg_fed_ready_json(struct strbuf *out);

/* Prometheus lines: mcpg_upstream_up{upstream=...} and counters. */
void mcpg_fed_metrics(struct strbuf *out);

#endif /* MCPG_FED_H */
