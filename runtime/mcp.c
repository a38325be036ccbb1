/*
 * mcp.c - MCP over JSON-RPC: session rules and method dispatch (see mcp.h).
 *
 * Answers are written as JSON text straight into the response buffer:
 * lists are the snapshot's pre-serialised entries joined with commas, and
 * backend results are dumped by jansson through a callback, so a request
 * costs one jansson parse of its body and few allocations beyond it.
 *
 * A backend call runs inline on the HTTP thread only when it cannot block
 * (a mock without delay_ms); anything else becomes a job on the worker pool
 * with a deadline of request_timeout_ms, watched by the housekeeper thread,
 * which also evicts idle sessions.  With the audit ledger on, a tools/call
 * is always a job, since its answer waits for its records (audit.h); a
 * backend that cannot block still runs without a hop to the pool.
 */
#include "mcp.h"
#include "identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "cluster.h"
#include "coord.h"
#include "fed.h"
#include "jsonparse.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "template.h"

#define PAGE_SIZE 100

static struct mcpg_mcp_hooks hooks;

static void audit_session(const char *action, const char *sid,
			  const struct mcpg_identity_view *who, const char *rid);

/* ------------------------------------------------------------------------
 * Writing JSON-RPC messages
 */

/* The start of an answer message: SSE framing when asked. */
static void
msg_begin(struct strbuf *o, int sse)
{
	if (sse)
		strbuf_add(o, "event: message\ndata: ", 21);
}

static void
msg_end(struct strbuf *o, int sse)
{
	if (sse)
		strbuf_add(o, "\n\n", 2);
}

static void
result_begin(struct strbuf *o, const char *idj)
{
	strbuf_add(o, "{\"jsonrpc\":\"2.0\",\"id\":", 22);
	strbuf_addstr(o, idj);
	strbuf_add(o, ",\"result\":", 10);
}

static void
error_msg(struct strbuf *o, const char *idj, int code, const char *msg, const char *data)
{
	strbuf_add(o, "{\"jsonrpc\":\"2.0\",\"id\":", 22);
	strbuf_addstr(o, idj ? idj : "null");
	strbuf_addf(o, ",\"error\":{\"code\":%d,\"message\":", code);
	mcpg_jsonw_cstr(o, msg);
	if (data) {
		strbuf_add(o, ",\"data\":", 8);
		strbuf_addstr(o, data);
	}
	strbuf_add(o, "}}", 2);
}

void
mcpg_mcp_error(struct mcpg_mcp_resp *out, int status, int code, const char *msg)
{
	out->status = status;
	out->sse = 0;
	error_msg(out->body, NULL, code, msg, NULL);
}

/* A JSON-RPC error answer to request `idj` (HTTP 200). */
static void
rpc_error(struct mcpg_mcp_resp *out, const char *idj, int code, const char *msg)
{
	out->status = 200;
	msg_begin(out->body, out->sse);
	error_msg(out->body, idj, code, msg, NULL);
	msg_end(out->body, out->sse);
}

static void
rpc_errorf(struct mcpg_mcp_resp *out, const char *idj, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
rpc_errorf(struct mcpg_mcp_resp *out, const char *idj, int code, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rpc_error(out, idj, code, buf);
}

/* A result that is fixed JSON text. */
static void
rpc_result_text(struct mcpg_mcp_resp *out, const char *idj, const char *json)
{
	out->status = 200;
	msg_begin(out->body, out->sse);
	result_begin(out->body, idj);
	strbuf_addstr(out->body, json);
	strbuf_addch(out->body, '}');
	msg_end(out->body, out->sse);
}

/* ------------------------------------------------------------------------
 * The request envelope
 */

static const char *const versions[] = { "2025-11-25", "2025-06-18", "2025-03-26" };

static const char *
known_version(const char *v)
{
	for (size_t i = 0; v && i < sizeof(versions) / sizeof(versions[0]); i++)
		if (!strcmp(v, versions[i]))
			return versions[i];
	return NULL;
}

/* Methods as static strings, for metrics and logs. */
static const char *const methods[] = {
	"initialize", "ping", "tools/list", "tools/call", "resources/list",
	"resources/templates/list", "resources/read", "resources/subscribe",
	"resources/unsubscribe", "prompts/list", "prompts/get", "logging/setLevel",
	"completion/complete", "notifications/initialized", "notifications/cancelled",
};

static const char *
static_method(const char *m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(m, methods[i]))
			return methods[i];
	return "other";
}

/* The id as JSON text into `buf`; 0, or -1 when it is not a string or number. */
static int
id_text(const json_t *id, struct strbuf *buf)
{
	if (json_is_integer(id)) {
		/* By hand: this runs once per request, and vsnprintf is slow. */
		json_int_t v = json_integer_value(id);
		unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
		char d[24], *p = d + sizeof(d);

		do
			*--p = (char)('0' + u % 10);
		while ((u /= 10));
		if (v < 0)
			*--p = '-';
		strbuf_add(buf, p, (size_t)(d + sizeof(d) - p));
		return 0;
	}
	if (json_is_string(id)) {
		mcpg_jsonw_str(buf, json_string_value(id), json_string_length(id));
		return 0;
	}
	if (json_is_real(id)) {
		mcpg_jsonw_value(buf, id);
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------------
 * initialize
 */

static void
do_initialize(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	      const char *idj, json_t *params, const struct mcpg_identity *ident)
{
	const struct mcpg_capabilities *caps = &rt->cfg->mcp.capabilities;
	const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
	const char *v = known_version(asked);
	struct mcpg_session *s;
	struct strbuf *o = out->body;
	int limited, fed = mcpg_fed_configured(rt);

	if (!v)
		v = MCPG_PV_LATEST;
	s = mcpg_session_create(mcpg_authz_tenant_key(&ident->view), v,
				rt->cfg->gateway.server.max_sessions_per_tenant, &limited);
	if (!s) {
		out->status = limited ? 429 : 500;
		out->sse = 0;
		error_msg(o, idj, limited ? MCPG_RPC_LIMITED : -32603,
			  limited ? "too many sessions for this tenant" : "out of memory", NULL);
		return;
	}
	s->owned = mcpg_identity_owner(ident, s->owner);
	if (mcpg_cluster_session_created(s) < 0) {
		char msg[400];

		mcpg_cluster_down_message(msg, sizeof(msg));
		mcpg_session_end(s);
		mcpg_session_put(s);
		out->status = 503;
		out->sse = 0;
		error_msg(o, idj, MCPG_RPC_CLUSTER_DOWN, msg, NULL);
		return;
	}
	memcpy(out->session_id, s->id, sizeof(out->session_id));
	audit_session("mcpg.session.opened", s->id, &ident->view, in->rid);
	out->status = 200;
	msg_begin(o, out->sse);
	result_begin(o, idj);
	strbuf_addf(o, "{\"protocolVersion\":\"%s\",\"capabilities\":{\"logging\":{}", v);
	if (caps->prompts.n || caps->resource_templates.n || fed)
		strbuf_addstr(o, ",\"completions\":{}");
	if (caps->tools.n || fed)
		strbuf_addstr(o, ",\"tools\":{\"listChanged\":true}");
	if (caps->resources.n || caps->resource_templates.n || fed)
		strbuf_addstr(o, ",\"resources\":{\"subscribe\":true,\"listChanged\":true}");
	if (caps->prompts.n || fed)
		strbuf_addstr(o, ",\"prompts\":{\"listChanged\":true}");
	strbuf_addstr(o, "},\"serverInfo\":{\"name\":\"mcpg\",\"title\":\"Model Context Protocol "
			 "Gateway\",\"version\":\"" MCPG_VERSION "\"}}}");
	msg_end(o, out->sse);
	mcpg_log(MCPG_LOG_DEBUG, in->rid, "session started", "session", MCPG_LF_STR, s->id,
		 "protocol_version", MCPG_LF_STR, v, NULL);
	mcpg_session_put(s);
}

/* ------------------------------------------------------------------------
 * Lists
 */

static void
do_list(struct mcpg_rt *rt, struct mcpg_mcp_resp *out, const char *idj, json_t *params,
	const struct mcpg_identity *ident, enum mcpg_binding_kind kind, const char *key)
{
	const char *cursor = json_string_value(json_object_get(params, "cursor"));
	/* Local bindings first, then the upstreams' items (fed.h): one index
	 * space, i < nbindings local, the rest catalogue item i - nbindings. */
	struct mcpg_fed_cat *cat = mcpg_fed_configured(rt) ? mcpg_fed_acquire() : NULL;
	size_t start = 0, i, n = 0, total = rt->nbindings + (cat ? cat->n : 0);
	struct strbuf *o = out->body;

	if (cursor) {
		char *end;
		unsigned long long v;

		if (cursor[0] != 'c' || !cursor[1] ||
		    (v = strtoull(cursor + 1, &end, 10), *end) || v > total) {
			mcpg_fed_release(cat);
			rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "invalid cursor");
			return;
		}
		start = (size_t)v;
	}
	mcpg_rt_lists(rt);
	out->status = 200;
	msg_begin(o, out->sse);
	result_begin(o, idj);
	strbuf_addf(o, "{\"%s\":[", key);
	for (i = start; i < total; i++) {
		const struct mcpg_binding *b = i < rt->nbindings ? &rt->bindings[i]
								  : &cat->items[i - rt->nbindings].b;

		if (b->kind != kind ||
		    !mcpg_authz_allowed(i < rt->nbindings ? rt : cat->rt, b, &ident->view))
			continue;
		if (n == PAGE_SIZE)
			break;
		if (n++)
			strbuf_addch(o, ',');
		strbuf_add(o, b->list_json, b->list_json_len);
	}
	strbuf_addch(o, ']');
	if (i < total) {
		/* Is there another visible item?  Say so only then. */
		size_t j;

		for (j = i; j < total; j++) {
			const struct mcpg_binding *b = j < rt->nbindings ? &rt->bindings[j]
									  : &cat->items[j - rt->nbindings].b;

			if (b->kind == kind &&
			    mcpg_authz_allowed(j < rt->nbindings ? rt : cat->rt, b, &ident->view))
				break;
		}
		if (j < total)
			strbuf_addf(o, ",\"nextCursor\":\"c%zu\"", j);
	}
	strbuf_add(o, "}}", 2);
	msg_end(o, out->sse);
	mcpg_fed_release(cat);
}

/* ------------------------------------------------------------------------
 * Calls: tools/call and resources/read
 */

static pthread_mutex_t hk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hk_cond = PTHREAD_COND_INITIALIZER;
static struct mcpg_job *deadlines; /* hk_lock */
static int hk_stop;
static pthread_t hk_thread;
static int hk_started;

static void
job_free(struct mcpg_job *job)
{
	mcpg_call_release(&job->call);
	json_decref(job->request);
	json_decref(job->vars);
	free(job->id_json);
	strbuf_release(&job->out);
	strbuf_release(&job->fin);
	if (job->sess) {
		atomic_fetch_sub(&job->sess->busy, 1);
		mcpg_session_touch(job->sess);
		mcpg_session_put(job->sess);
	}
	mcpg_identity_release(&job->ident);
	mcpg_rt_release(job->rt);
	pthread_mutex_destroy(&job->lock);
	free(job);
}

void
mcpg_job_put(struct mcpg_job *job)
{
	if (job && atomic_fetch_sub_explicit(&job->refs, 1, memory_order_acq_rel) == 1)
		job_free(job);
}

/* Append one message (compact JSON) to the job's output, framed (lock held). */
static void
job_append(struct mcpg_job *job, const char *json, size_t len)
{
	msg_begin(&job->out, job->sse);
	strbuf_add(&job->out, json, len);
	msg_end(&job->out, job->sse);
}

static void
job_wake(struct mcpg_job *job)
{
	if (hooks.wake_job)
		hooks.wake_job(job);
}

/* MCP's log levels, lowest first (logging/setLevel, notifications/message). */
static const char *const log_levels[] = { "debug", "info", "notice", "warning", "error",
					  "critical", "alert", "emergency" };
#define NLEVELS (sizeof(log_levels) / sizeof(log_levels[0]))

static size_t
level_index(const char *lv)
{
	size_t i;

	for (i = 0; lv && i < NLEVELS; i++)
		if (!strcmp(lv, log_levels[i]))
			return i;
	return NLEVELS;
}

/*
 * A backend's message for the client as compact JSON into `sb`; -1 when it
 * is not to be sent (a log message below the session's level).  `note` is
 * stolen.
 */
static int
note_json(struct mcpg_job *job, json_t *note, struct strbuf *sb)
{
	const char *m = json_string_value(json_object_get(note, "method"));

	if (m && !strcmp(m, "notifications/message")) {
		/* Below the level the client set with logging/setLevel: not sent. */
		size_t lv = level_index(json_string_value(
			json_object_get(json_object_get(note, "params"), "level")));

		if (lv < NLEVELS && lv < __atomic_load_n(&job->sess->log_level, __ATOMIC_RELAXED)) {
			json_decref(note);
			return -1;
		}
	}
	if (!json_object_get(note, "jsonrpc"))
		json_object_set_new(note, "jsonrpc", json_string("2.0"));
	mcpg_jsonw_value(sb, note);
	json_decref(note);
	return 0;
}

/*
 * A call answered as plain JSON cannot carry messages before its result:
 * an upstream's notifications and requests for it go to the session's GET
 * stream instead.
 */
static void
job_notify_session(struct mcpg_call *call, json_t *note)
{
	struct mcpg_job *job = call->notify_ctx;
	struct strbuf sb = STRBUF_INIT;

	if (note_json(job, note, &sb) == 0)
		mcpg_cluster_event(job->sess, sb.buf, sb.len);
	strbuf_release(&sb);
}

/*
 * Keep message `json` of a resumable job in its session's replay ring, on
 * the job's stream, and append its SSE bytes (with their id) to `ev`; wake
 * the GET requests that resume the stream.  Takes the session lock, so the
 * caller must not hold job->lock (the session lock comes first).
 */
static void
job_ring(struct mcpg_job *job, const char *json, size_t len, int last, struct strbuf *ev)
{
	struct mcpg_session *s = job->sess;
	const struct mcpg_event *e;
	uint64_t seq;

	pthread_mutex_lock(&s->lock);
	seq = mcpg_session_add_event_on(s, job->stream_id, last, json, len,
					(uint32_t)job->rt->cfg->gateway.server.replay_window_limit,
					MCPG_SSE_RETRY_MS);
	e = mcpg_session_find_event(s, seq);
	if (e) {
		strbuf_add(ev, e->data, e->len);
	} else {
		/* Out of memory for the ring: the message still goes out, without an id. */
		msg_begin(ev, 1);
		strbuf_add(ev, json, len);
		msg_end(ev, 1);
	}
	if (hooks.wake_streams)
		hooks.wake_streams(s);
	pthread_mutex_unlock(&s->lock);
}

/* Backends send notifications through this (any thread). */
static void
job_notify(struct mcpg_call *call, json_t *note)
{
	struct mcpg_job *job = call->notify_ctx;
	struct strbuf sb = STRBUF_INIT, ev = STRBUF_INIT;

	if (note_json(job, note, &sb) < 0)
		return;
	if (job->stream_id)
		job_ring(job, sb.buf, sb.len, 0, &ev);
	pthread_mutex_lock(&job->lock);
	if (job->state == MCPG_JOB_RUNNING && !job->final) {
		if (job->stream_id)
			strbuf_add(&job->out, ev.buf, ev.len);
		else
			job_append(job, sb.buf, sb.len);
		job->nnotes++;
		job_wake(job);
	}
	pthread_mutex_unlock(&job->lock);
	strbuf_release(&sb);
	strbuf_release(&ev);
}

/* call->close_stream of a resumable job: end the POST's stream, keep the call. */
static void
job_close_stream(struct mcpg_call *call)
{
	struct mcpg_job *job = call->notify_ctx;

	pthread_mutex_lock(&job->lock);
	if (job->state == MCPG_JOB_RUNNING && !job->final) {
		job->close_stream = 1;
		job_wake(job);
	}
	pthread_mutex_unlock(&job->lock);
}

/* The final message of a call into `o` (framing is the caller's). */
static void
call_message(struct strbuf *o, const char *idj, struct mcpg_call *call, int rc)
{
	if (rc == 0 && call->raw_pre) {
		result_begin(o, idj);
		strbuf_add(o, call->raw_pre, call->raw_pre_len);
		if (call->raw_mid)
			mcpg_jsonw_value(o, call->raw_mid);
		strbuf_add(o, call->raw_post, call->raw_post_len);
		strbuf_addch(o, '}');
	} else if (rc == 0 && call->result) {
		result_begin(o, idj);
		mcpg_jsonw_value(o, call->result);
		strbuf_addch(o, '}');
	} else {
		struct strbuf data = STRBUF_INIT;

		if (call->error_data)
			mcpg_jsonw_value(&data, call->error_data);
		error_msg(o, idj, call->error_code ? call->error_code : -32603,
			  call->error_message[0] ? call->error_message : "backend failed",
			  call->error_data ? data.buf : NULL);
		strbuf_release(&data);
	}
}

static void
count_backend_error(const struct mcpg_call *call, int rc)
{
	if (call->error_kind && !(rc < 0 && call->error_code == MCPG_RPC_CANCELLED_CODE))
		mcpg_metrics_backend_error(call->error_kind);
}

static void
hk_unlink(struct mcpg_job *job)
{
	pthread_mutex_lock(&hk_lock);
	if (job->t_prev)
		job->t_prev->t_next = job->t_next;
	else if (deadlines == job)
		deadlines = job->t_next;
	if (job->t_next)
		job->t_next->t_prev = job->t_prev;
	job->t_next = job->t_prev = NULL;
	pthread_mutex_unlock(&hk_lock);
}

static void
sess_unlink(struct mcpg_job *job)
{
	struct mcpg_session *s = job->sess;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	if (job->s_prev)
		job->s_prev->s_next = job->s_next;
	else if (s->jobs == job)
		s->jobs = job->s_next;
	if (job->s_next)
		job->s_next->s_prev = job->s_prev;
	job->s_next = job->s_prev = NULL;
	pthread_mutex_unlock(&s->lock);
}

/* Mark a running job timed out and queue the error (job->lock held). */
static void
job_timeout_locked(struct mcpg_job *job)
{
	struct strbuf msg = STRBUF_INIT;

	atomic_store(&job->call.cancelled, 1);
	error_msg(&msg, job->id_json, MCPG_RPC_REQUEST_TIMEOUT, "request timed out", NULL);
	job->state = MCPG_JOB_TIMEOUT;
	job->final = 1;
	job_append(job, msg.buf, msg.len);
	strbuf_release(&msg);
	mcpg_metrics_timeout();
	mcpg_log(MCPG_LOG_WARN, job->rid, "request timed out", "binding", MCPG_LF_STR,
		 job->call.binding->name, NULL);
	job_wake(job);
}

/* Hand the call's final message `msg` to http.c and drop the worker's reference. */
static void
job_finish(struct mcpg_job *job, const struct strbuf *msg, int timed_out)
{
	int deferred = 0, ring_timeout;

	hk_unlink(job);
	sess_unlink(job);
	pthread_mutex_lock(&job->lock);
	if (job->state == MCPG_JOB_RUNNING && !job->final) {
		if (timed_out) {
			job_timeout_locked(job);
		} else if (msg->len && job->stream_id) {
			/* Claimed; the message goes to the ring first (session lock). */
			job->final = 1;
			deferred = 1;
		} else {
			if (msg->len) {
				job_append(job, msg->buf, msg->len);
				job->state = MCPG_JOB_DONE;
			} else {
				job->state = MCPG_JOB_CANCELLED;
			}
			job->final = 1;
			job_wake(job);
		}
	}
	ring_timeout = job->stream_id && job->state == MCPG_JOB_TIMEOUT;
	pthread_mutex_unlock(&job->lock);
	if (deferred || ring_timeout) {
		struct strbuf ev = STRBUF_INIT, tmo = STRBUF_INIT;

		if (ring_timeout) {
			/* The error the POST's stream got: a resumed stream gets it too. */
			error_msg(&tmo, job->id_json, MCPG_RPC_REQUEST_TIMEOUT, "request timed out",
				  NULL);
			msg = &tmo;
		}
		job_ring(job, msg->buf, msg->len, 1, &ev);
		if (deferred) {
			pthread_mutex_lock(&job->lock);
			strbuf_add(&job->out, ev.buf, ev.len);
			job->state = MCPG_JOB_DONE;
			job_wake(job);
			pthread_mutex_unlock(&job->lock);
		}
		strbuf_release(&ev);
		strbuf_release(&tmo);
	}
	mcpg_job_put(job);
}

/* ------------------------------------------------------------------------
 * Audit records of calls and sessions (audit.h)
 */

static void
audit_details(struct strbuf *d, const char *binding, const char *idj, const char *session)
{
	strbuf_addstr(d, "{\"binding\":");
	mcpg_jsonw_cstr(d, binding);
	if (idj) {
		strbuf_addstr(d, ",\"rpc_id\":");
		strbuf_addstr(d, idj);
	}
	if (session) {
		strbuf_addstr(d, ",\"session\":");
		mcpg_jsonw_cstr(d, session);
	}
}

/*
 * Record `what` ("allowed", "completed") for job's call: mcpg.tool.call.WHAT
 * on tool://NAME for a tools/call, mcpg.resource.read.WHAT on
 * resource://NAME (the URI read in the details) for a resources/read.
 * done(job, status) follows (also when audit went off).
 */
static void
audit_call(struct mcpg_job *job, const char *what, const char *outcome, const char *extra,
	   mcpg_audit_done_fn *done)
{
	int read = job->call.op == MCPG_CALL_RESOURCE_READ;
	struct strbuf d = STRBUF_INIT, res = STRBUF_INIT, action = STRBUF_INIT;
	struct mcpg_audit_event ev = { NULL, &job->ident.view, NULL, outcome, job->rid, NULL,
				       job->rt->cfg->governance.audit.on_failure ==
					       MCPG_AUDIT_FAILURE_MODE_FAIL_CLOSED };

	audit_details(&d, job->call.binding->name, job->id_json, job->sess ? job->sess->id : NULL);
	if (read && job->call.uri) {
		strbuf_addstr(&d, ",\"uri\":");
		mcpg_jsonw_cstr(&d, job->call.uri);
	}
	if (extra)
		strbuf_addstr(&d, extra);
	strbuf_addch(&d, '}');
	strbuf_addf(&action, "%s.%s", read ? "mcpg.resource.read" : "mcpg.tool.call", what);
	strbuf_addf(&res, "%s://%s", read ? "resource" : "tool", job->call.binding->name);
	ev.action = action.buf;
	ev.resource = res.buf;
	ev.details = d.buf;
	if (mcpg_audit_emit(&ev, done, job) < 0)
		done(job, 0);
	strbuf_release(&d);
	strbuf_release(&res);
	strbuf_release(&action);
}

/* The record could not be made durable under fail_closed: the answer is an error. */
static void
audit_refuse(struct mcpg_job *job)
{
	strbuf_reset(&job->fin);
	error_msg(&job->fin, job->id_json, -32603,
		  "audit record could not be made durable; the call is refused", NULL);
	job->timed_out = 0;
}

static void
audit_completed_done(void *ctx, int status)
{
	struct mcpg_job *job = ctx;

	if (status < 0 && job->fin.len)
		audit_refuse(job);
	job_finish(job, &job->fin, job->timed_out);
}

static void
audit_completed(struct mcpg_job *job)
{
	struct strbuf extra = STRBUF_INIT;
	int ok = job->rc == 0 && !job->timed_out && job->fin.len, timeout;

	/* The housekeeper may have answered "timed out" and cancelled the call. */
	pthread_mutex_lock(&job->lock);
	timeout = job->timed_out || job->state == MCPG_JOB_TIMEOUT;
	pthread_mutex_unlock(&job->lock);
	strbuf_addf(&extra, ",\"latency_ms\":%lld", (long long)(mcpg_mono_ms() - job->t0_ms));
	if (!ok) {
		strbuf_addf(&extra, ",\"error\":\"%s\",\"error_code\":%d",
			    timeout ? "timeout" : !job->fin.len ? "cancelled" : "backend",
			    timeout ? MCPG_RPC_REQUEST_TIMEOUT
			    : job->call.error_code ? job->call.error_code : -32603);
		if (!timeout && job->fin.len && job->call.error_message[0]) {
			strbuf_addstr(&extra, ",\"error_message\":");
			mcpg_jsonw_cstr(&extra, job->call.error_message);
		}
	}
	audit_call(job, "completed", ok ? "success" : "failure", extra.buf, audit_completed_done);
	strbuf_release(&extra);
}

static int is_instant(const struct mcpg_rt *rt, const struct mcpg_binding *b);

static void
audit_allowed_done(void *ctx, int status)
{
	struct mcpg_job *job = ctx;

	if (status < 0) {
		/* Not run: no completed record follows. */
		audit_refuse(job);
		job_finish(job, &job->fin, 0);
		return;
	}
	/*
	 * A backend that cannot block runs right here on the audit writer: a
	 * hop to the worker pool and back would cost more than the call.
	 */
	if (is_instant(job->rt, job->call.binding))
		job->item.fn(&job->item);
	else
		mcpg_pool_submit(&job->item);
}

/* A session opened or closed (queued; nobody waits for it). */
static void
audit_session(const char *action, const char *sid, const struct mcpg_identity_view *who,
	      const char *rid)
{
	char res[64];
	struct mcpg_audit_event ev = { action, who, res, "success", rid, NULL, 0 };

	if (!mcpg_audit_active())
		return;
	snprintf(res, sizeof(res), "session://%s", sid);
	mcpg_audit_emit(&ev, NULL, NULL);
}

/*
 * A tools/call (uri NULL) or a resources/read of `uri` the caller may not
 * make (queued; the refusal does not wait).
 */
static void
audit_denied(const struct mcpg_mcp_req *in, const char *name, const char *uri, const char *idj,
	     const struct mcpg_session *s, const struct mcpg_identity *ident)
{
	struct strbuf d = STRBUF_INIT, res = STRBUF_INIT;
	struct mcpg_audit_event ev = { uri ? "mcpg.resource.read.denied" : "mcpg.tool.call.denied",
				       &ident->view, NULL, "denied", in->rid, NULL, 0 };

	if (!mcpg_audit_active())
		return;
	audit_details(&d, name, idj, s ? s->id : NULL);
	if (uri) {
		strbuf_addstr(&d, ",\"uri\":");
		mcpg_jsonw_cstr(&d, uri);
	}
	strbuf_addch(&d, '}');
	strbuf_addf(&res, "%s://%s", uri ? "resource" : "tool", name);
	ev.resource = res.buf;
	ev.details = d.buf;
	mcpg_audit_emit(&ev, NULL, NULL);
	strbuf_release(&d);
	strbuf_release(&res);
}

static void
job_run(struct mcpg_pool_item *it)
{
	struct mcpg_job *job = (struct mcpg_job *)it;
	struct strbuf msg = STRBUF_INIT;
	int rc, timed_out;

	if (atomic_load(&job->call.cancelled)) {
		rc = -1;
		job->call.error_code = MCPG_RPC_CANCELLED_CODE;
	} else {
		rc = mcpg_backend_run(&job->call);
	}
	/* The backend saw the deadline before the housekeeper did: same answer. */
	timed_out = rc < 0 && job->call.error_code == MCPG_RPC_REQUEST_TIMEOUT &&
		    mcpg_mono_ms() >= job->deadline_ms;
	if (!timed_out)
		count_backend_error(&job->call, rc);
	if (!timed_out && !(rc < 0 && job->call.error_code == MCPG_RPC_CANCELLED_CODE))
		call_message(&msg, job->id_json, &job->call, rc);
	if (job->audited && (job->call.op != MCPG_CALL_TOOL ||
			     job->rt->cfg->governance.audit.emit_tool_call_completed)) {
		/* The answer goes out once its record is durable (audit_completed_done). */
		job->fin = msg;
		job->rc = rc;
		job->timed_out = timed_out;
		audit_completed(job);
		return;
	}
	job_finish(job, &msg, timed_out);
	strbuf_release(&msg);
}

/* Time a job out (hk_lock held).  The call keeps running until it notices. */
static void
job_expire(struct mcpg_job *job)
{
	pthread_mutex_lock(&job->lock);
	if (job->state == MCPG_JOB_RUNNING && !job->final)
		job_timeout_locked(job);
	pthread_mutex_unlock(&job->lock);
}

void
mcpg_job_detach(struct mcpg_job *job)
{
	pthread_mutex_lock(&job->lock);
	job->conn = NULL;
	job->suspended = 0;
	/* A resumable stream's call goes on: the client may come back for it. */
	if (job->state == MCPG_JOB_RUNNING && !job->final && !job->stream_id) {
		job->state = MCPG_JOB_CANCELLED;
		job->final = 1;
		atomic_store(&job->call.cancelled, 1);
	}
	pthread_mutex_unlock(&job->lock);
	mcpg_job_put(job);
}

/* Cancel a job: its call stops soon, and no response is sent for it. */
static void
job_cancel(struct mcpg_job *j)
{
	atomic_store(&j->call.cancelled, 1);
	pthread_mutex_lock(&j->lock);
	if (j->state == MCPG_JOB_RUNNING && !j->final) {
		j->state = MCPG_JOB_CANCELLED;
		j->final = 1;
		job_wake(j);
	}
	pthread_mutex_unlock(&j->lock);
}

static void
cancel_session_jobs(struct mcpg_session *s, const char *idj)
{
	pthread_mutex_lock(&s->lock);
	for (struct mcpg_job *j = s->jobs; j; j = j->s_next) {
		if (idj && strcmp(j->id_json, idj))
			continue;
		job_cancel(j);
	}
	pthread_mutex_unlock(&s->lock);
}

void
mcpg_mcp_cancel_all(void)
{
	pthread_mutex_lock(&hk_lock);
	for (struct mcpg_job *j = deadlines; j; j = j->t_next)
		job_cancel(j);
	pthread_mutex_unlock(&hk_lock);
}

/* Whether binding `b` answers without waiting: run it on the HTTP thread. */
static int
is_instant(const struct mcpg_rt *rt, const struct mcpg_binding *b)
{
	const struct mcpg_mock_backend *m = b->backend ? mcpg_backend_mock(&rt->img, b->backend)
						       : NULL;

	return m && m->delay_ms == 0;
}

/*
 * Run binding `b` for request `req` (whose id is `idj`): inline when it
 * cannot block, else as a job.  `args` is borrowed from `req`; `vars` is
 * stolen.
 */
#define start_call(rt, in, out, s, req, idj, b, op, args, vars, uri, ident) \
	start_call_fwd(rt, in, out, s, req, idj, b, op, args, vars, uri, ident, NULL)

/* `fwd` (stolen, may be NULL) forwards the request to an upstream (fed.h). */
static void
start_call_fwd(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	       struct mcpg_session *s, json_t *req, const char *idj, const struct mcpg_binding *b,
	       enum mcpg_call_op op, json_t *args, json_t *vars, const char *uri,
	       const struct mcpg_identity *ident, struct mcpg_fed_fwd *fwd)
{
	const struct mcpg_server *srv = &rt->cfg->gateway.server;
	json_t *meta = json_object_get(json_object_get(req, "params"), "_meta");
	json_t *ptok = json_object_get(meta, "progressToken");
	struct mcpg_job *job;
	int64_t now = mcpg_mono_ms();

	/* Tool calls and resource reads are audited; prompts render text only. */
	int audited = (op == MCPG_CALL_TOOL || op == MCPG_CALL_RESOURCE_READ) && mcpg_audit_active();

	if (!fwd && is_instant(rt, b) && !audited) {
		struct mcpg_call call;
		int rc;

		memset(&call, 0, sizeof(call));
		call.op = op;
		call.rt = rt;
		call.binding = b;
		call.arguments = op == MCPG_CALL_TOOL ? args : vars;
		call.uri = uri;
		call.identity = ident->view.trust_level ? &ident->view : NULL;
		call.deadline_ms = now + (int64_t)srv->request_timeout_ms;
		call.progress_token = ptok;
		call.raw_ok = 1;
		rc = mcpg_backend_run(&call);
		count_backend_error(&call, rc);
		out->status = 200;
		msg_begin(out->body, out->sse);
		call_message(out->body, idj, &call, rc);
		msg_end(out->body, out->sse);
		mcpg_call_release(&call);
		json_decref(vars);
		return;
	}

	job = calloc(1, sizeof(*job));
	if (!job || !(job->id_json = strdup(idj))) {
		free(job);
		json_decref(vars);
		mcpg_fed_fwd_free(fwd);
		rpc_error(out, idj, -32603, "out of memory");
		return;
	}
	pthread_mutex_init(&job->lock, NULL);
	atomic_init(&job->refs, 2); /* http.c's and the worker's */
	strbuf_init(&job->out, 0);
	strbuf_init(&job->fin, 0);
	job->audited = audited;
	job->state = MCPG_JOB_RUNNING;
	job->sse = out->sse;
	job->conn = NULL;
	job->timeout_408 = srv->on_request_timeout == MCPG_REQUEST_TIMEOUT_ACTION_HTTP_408;
	job->t0_ms = now;
	job->deadline_ms = now + (int64_t)srv->request_timeout_ms;
	snprintf(job->rid, sizeof(job->rid), "%s", in->rid ? in->rid : "");
	job->request = json_incref(req);
	job->vars = vars;
	atomic_fetch_add(&rt->refs, 1);
	job->rt = rt;
	mcpg_identity_copy(&job->ident, ident);
	job->sess = s;
	atomic_fetch_add(&s->refs, 1);
	atomic_fetch_add(&s->busy, 1);
	job->call.op = op;
	job->call.rt = rt;
	job->call.binding = b;
	job->call.arguments = op == MCPG_CALL_TOOL ? args : vars;
	job->call.uri = uri; /* points into job->request */
	job->call.identity = ident->view.trust_level ? &job->ident.view : NULL;
	job->call.deadline_ms = job->deadline_ms;
	job->call.progress_token = ptok;
	job->call.raw_ok = 1;
	job->call.notify = out->sse ? job_notify
			  : fwd || mcpg_coord_shared() ? job_notify_session : NULL;
	job->call.notify_ctx = job;
	job->call.fed = fwd;
	job->item.fn = job_run;

	pthread_mutex_lock(&s->lock);
	job->s_next = s->jobs;
	if (s->jobs)
		s->jobs->s_prev = job;
	s->jobs = job;
	if (out->sse && strcmp(s->version, "2025-11-25") >= 0) {
		/*
		 * A resumable stream (SEP-1699): a priming event first, whose id
		 * names the stream, so a client that loses the connection can
		 * resume it; the stream starts at once to carry it.
		 */
		uint64_t seq = s->next_seq;
		const struct mcpg_event *e;

		mcpg_session_add_event_on(s, seq, 0, NULL, 0,
					  (uint32_t)srv->replay_window_limit, MCPG_SSE_RETRY_MS);
		if ((e = mcpg_session_find_event(s, seq))) {
			job->stream_id = seq;
			strbuf_add(&job->out, e->data, e->len);
			job->nnotes = 1;
			job->call.close_stream = job_close_stream;
		}
	}
	pthread_mutex_unlock(&s->lock);

	pthread_mutex_lock(&hk_lock);
	job->t_next = deadlines;
	if (deadlines)
		deadlines->t_prev = job;
	deadlines = job;
	pthread_cond_signal(&hk_cond);
	pthread_mutex_unlock(&hk_lock);

	out->status = 200;
	out->job = job;
	if (audited && op == MCPG_CALL_TOOL && rt->cfg->governance.audit.emit_tool_call_allowed)
		audit_call(job, "allowed", "success", NULL, audit_allowed_done);
	else if (is_instant(rt, b))
		job->item.fn(&job->item); /* audited: only the answer waits, for its record */
	else
		mcpg_pool_submit(&job->item);
}

/*
 * Forward `method` for catalogue item `it` as a job (the catalogue
 * reference `cat` is the caller's to release).
 */
static void
start_fed(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	  struct mcpg_session *s, json_t *req, const char *idj, struct mcpg_fed_cat *cat,
	  const struct mcpg_fed_item *it, const char *method, json_t *params,
	  const struct mcpg_identity *ident)
{
	struct mcpg_fed_fwd *fwd = mcpg_fed_fwd_new(cat, it, method, params, s->id);
	json_t *args = json_object_get(params, "arguments");

	if (!fwd) {
		rpc_error(out, idj, -32603, "out of memory");
		return;
	}
	start_call_fwd(rt, in, out, s, req, idj, &it->b,
		       it->b.kind == MCPG_B_TOOL ? MCPG_CALL_TOOL : MCPG_CALL_RESOURCE_READ,
		       json_is_object(args) ? args : NULL, NULL,
		       json_string_value(json_object_get(params, "uri")), ident, fwd);
}

/* The visible catalogue item `name` of `kind`; *catp holds a reference when found. */
static const struct mcpg_fed_item *
fed_lookup(struct mcpg_rt *rt, const char *name, enum mcpg_binding_kind kind,
	   const struct mcpg_identity *ident, struct mcpg_fed_cat **catp)
{
	struct mcpg_fed_cat *cat = mcpg_fed_configured(rt) ? mcpg_fed_acquire() : NULL;
	const struct mcpg_fed_item *it = cat ? mcpg_fed_find(cat, name, kind) : NULL;

	if (!it || !mcpg_fed_allowed(cat, it, &ident->view)) {
		mcpg_fed_release(cat);
		return NULL;
	}
	*catp = cat;
	return it;
}

/*
 * A caller below verified named a binding it may not use, or none at all,
 * and the gateway has identity sources: HTTP 401 with WWW-Authenticate, so
 * the client knows that authenticating may help (MCP authorization).  The
 * answer is the same whether the name exists, so it reveals no names.  A
 * verified caller, or a gateway without identity sources, gets "unknown".
 * Returns 1 when it answered.
 */
static int
auth_required(const struct mcpg_rt *rt, const struct mcpg_identity *ident,
	      struct mcpg_mcp_resp *out, const char *idj)
{
	const struct mcpg_access *a = &rt->cfg->governance.access;

	if (ident->view.trust_level >= MCPG_TRUST_VERIFIED ||
	    (!a->jwks && !a->oidc_oauth && !a->api_tokens))
		return 0;
	out->status = 401;
	out->sse = 0;
	out->auth_required = 1;
	error_msg(out->body, idj, -32000,
		  "Authentication required: present a bearer token for this request", NULL);
	return 1;
}

static void
do_tools_call(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	      struct mcpg_session *s, json_t *req, const char *idj, json_t *params,
	      const struct mcpg_identity *ident)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "arguments");
	const struct mcpg_binding *b;

	if (!name) {
		rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "params.name must be a string");
		return;
	}
	b = mcpg_rt_find(rt, name);
	if (!b || b->kind != MCPG_B_TOOL || !mcpg_authz_allowed(rt, b, &ident->view)) {
		struct mcpg_fed_cat *cat;
		const struct mcpg_fed_item *it = fed_lookup(rt, name, MCPG_B_TOOL, ident, &cat);

		if (it && args && !json_is_object(args)) {
			rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "params.arguments must be an object");
		} else if (it) {
			start_fed(rt, in, out, s, req, idj, cat, it, "tools/call", params, ident);
		} else {
			if (b && b->kind == MCPG_B_TOOL)
				audit_denied(in, name, NULL, idj, s, ident);
			if (!auth_required(rt, ident, out, idj))
				rpc_errorf(out, idj, MCPG_RPC_BAD_PARAMS, "Unknown tool: %s", name);
			return;
		}
		mcpg_fed_release(cat);
		return;
	}
	if (args && !json_is_object(args)) {
		rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "params.arguments must be an object");
		return;
	}
	if (!args) {
		/* The contract says never NULL: keep an empty object in the request. */
		args = json_object();
		json_object_set_new(params, "arguments", args);
	}
	start_call(rt, in, out, s, req, idj, b, MCPG_CALL_TOOL, args, NULL, NULL, ident);
}

/*
 * Match `uri` against level-1 URI template `tpl` ({var} expansions):
 * literal text must match exactly and each variable takes one or more
 * characters up to the next literal character.  Returns an object of the
 * variables, or NULL when it does not match.
 */
static json_t *
template_match(const char *tpl, const char *uri)
{
	json_t *vars = json_object();

	while (*tpl) {
		if (*tpl == '{') {
			const char *close = strchr(tpl, '}');
			char name[128];
			size_t nlen, vlen;
			char stop;

			if (!close || (nlen = (size_t)(close - tpl - 1)) == 0 || nlen >= sizeof(name))
				goto no;
			memcpy(name, tpl + 1, nlen);
			name[nlen] = '\0';
			tpl = close + 1;
			stop = *tpl;
			vlen = stop ? strcspn(uri, (char[]){ stop, '\0' }) : strlen(uri);
			if (vlen == 0 || memchr(uri, '/', vlen) != NULL)
				goto no;
			json_object_set_new(vars, name, json_stringn(uri, vlen));
			uri += vlen;
		} else {
			if (*uri != *tpl)
				goto no;
			uri++;
			tpl++;
		}
	}
	if (*uri)
		goto no;
	return vars;
no:
	json_decref(vars);
	return NULL;
}

/*
 * Forward `method` on `uri` to the upstream that lists it as a resource or
 * whose resource template matches it.  Returns 1 when forwarded.
 */
static int
fed_read(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	 struct mcpg_session *s, json_t *req, const char *idj, json_t *params,
	 const struct mcpg_identity *ident, const char *method, const char *uri)
{
	struct mcpg_fed_cat *cat = mcpg_fed_configured(rt) ? mcpg_fed_acquire() : NULL;
	const struct mcpg_fed_item *hit = NULL;

	for (size_t i = 0; cat && !hit && i < cat->n; i++)
		if (cat->items[i].b.kind == MCPG_B_RESOURCE && !strcmp(cat->items[i].uri, uri) &&
		    mcpg_fed_allowed(cat, &cat->items[i], &ident->view))
			hit = &cat->items[i];
	for (size_t i = 0; cat && !hit && i < cat->n; i++) {
		json_t *vars;

		if (cat->items[i].b.kind != MCPG_B_RESOURCE_TEMPLATE ||
		    !mcpg_fed_allowed(cat, &cat->items[i], &ident->view))
			continue;
		if ((vars = template_match(cat->items[i].uri, uri))) {
			json_decref(vars);
			hit = &cat->items[i];
		}
	}
	if (hit)
		start_fed(rt, in, out, s, req, idj, cat, hit, method, params, ident);
	mcpg_fed_release(cat);
	return hit != NULL;
}

/*
 * The variables binding `b` reads `uri` with: an empty object for a
 * resource with that URI, the template's variables for a template that
 * matches it; NULL when `b` does not serve `uri`.
 */
static json_t *
resource_vars(const struct mcpg_image *img, const struct mcpg_binding *b, const char *uri)
{
	if (b->kind == MCPG_B_RESOURCE)
		return strcmp(mcpg_resource_uri(img, b->resource), uri) ? NULL : json_object();
	if (b->kind == MCPG_B_RESOURCE_TEMPLATE)
		return template_match(mcpg_resource_template_uri_template(img, b->resource_template),
				      uri);
	return NULL;
}

static void
do_resources_read(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
		  struct mcpg_session *s, json_t *req, const char *idj, json_t *params,
		  const struct mcpg_identity *ident)
{
	const char *uri = json_string_value(json_object_get(params, "uri"));
	const struct mcpg_image *img = &rt->img;

	if (!uri) {
		rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "params.uri must be a string");
		return;
	}
	/* Resources before templates: a URI of its own wins over a pattern. */
	for (int pass = 0; pass < 2; pass++) {
		enum mcpg_binding_kind kind = pass ? MCPG_B_RESOURCE_TEMPLATE : MCPG_B_RESOURCE;

		for (size_t i = 0; i < rt->nbindings; i++) {
			const struct mcpg_binding *b = &rt->bindings[i];
			json_t *vars;

			if (b->kind != kind || !mcpg_authz_allowed(rt, b, &ident->view) ||
			    !(vars = resource_vars(img, b, uri)))
				continue;
			start_call(rt, in, out, s, req, idj, b, MCPG_CALL_RESOURCE_READ, NULL, vars,
				   uri, ident);
			return;
		}
	}
	if (fed_read(rt, in, out, s, req, idj, params, ident, "resources/read", uri))
		return;
	/* A resource the caller may not read is audited as denied, then "not found". */
	for (size_t i = 0; i < rt->nbindings; i++) {
		json_t *vars = resource_vars(img, &rt->bindings[i], uri);

		if (vars) {
			json_decref(vars);
			audit_denied(in, rt->bindings[i].name, uri, idj, s, ident);
			break;
		}
	}
	if (!auth_required(rt, ident, out, idj))
		rpc_errorf(out, idj, MCPG_RPC_RESOURCE_NOT_FOUND, "Resource not found: %s", uri);
}

/* ------------------------------------------------------------------------
 * prompts/get
 */

static const char *
pool_str(void *ctx, uint32_t ref)
{
	const struct mcpg_image *img = ctx;

	if (!ref || (ref & MCPG_STRREF_IPOL) || ref >= img->strs_len)
		return NULL;
	return mcpg_str(img, ref);
}

static const char *
env_value(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static void
do_prompts_get(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	       struct mcpg_session *s, json_t *req, const char *idj, json_t *params,
	       const struct mcpg_identity *ident)
{
	const struct mcpg_image *img = &rt->img;
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "arguments");
	const struct mcpg_binding *b;
	const struct mcpg_prompt_argument *pa;
	const struct mcpg_prompt_message *msgs;
	uint32_t na, nm;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT, *o = out->body;
	struct mcpg_tmpl_in tin;
	const char *k;
	json_t *v;
	size_t mark;

	if (!name) {
		rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "params.name must be a string");
		return;
	}
	b = mcpg_rt_find(rt, name);
	if (!b || b->kind != MCPG_B_PROMPT || !mcpg_authz_allowed(rt, b, &ident->view)) {
		struct mcpg_fed_cat *cat;
		const struct mcpg_fed_item *it = fed_lookup(rt, name, MCPG_B_PROMPT, ident, &cat);

		if (it) {
			start_fed(rt, in, out, s, req, idj, cat, it, "prompts/get", params, ident);
			mcpg_fed_release(cat);
			return;
		}
		if (!auth_required(rt, ident, out, idj))
			rpc_errorf(out, idj, MCPG_RPC_BAD_PARAMS, "Unknown prompt: %s", name);
		return;
	}
	if (args && !json_is_object(args)) {
		rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "params.arguments must be an object");
		return;
	}
	json_object_foreach(args, k, v) {
		if (!json_is_string(v)) {
			rpc_errorf(out, idj, MCPG_RPC_BAD_PARAMS,
				   "argument '%s' must be a string", k);
			return;
		}
	}
	pa = mcpg_prompt_prompt_arguments(img, b->prompt, &na);
	for (uint32_t i = 0; i < na; i++)
		if (pa[i].required && !json_object_get(args, mcpg_prompt_argument_name(img, &pa[i]))) {
			rpc_errorf(out, idj, MCPG_RPC_BAD_PARAMS, "missing required argument '%s'",
				   mcpg_prompt_argument_name(img, &pa[i]));
			return;
		}
	memset(&tin, 0, sizeof(tin));
	tin.str = pool_str;
	tin.env = env_value;
	tin.ctx = (void *)img;
	tin.arguments = args;
	tin.id = ident->view.trust_level ? &ident->view : NULL;

	mark = o->len;
	out->status = 200;
	msg_begin(o, out->sse);
	result_begin(o, idj);
	strbuf_addstr(o, "{\"description\":");
	mcpg_jsonw_cstr(o, mcpg_prompt_description(img, b->prompt));
	strbuf_addstr(o, ",\"messages\":[");
	msgs = mcpg_prompt_messages(img, b->prompt, &nm);
	for (uint32_t i = 0; i < nm; i++) {
		uint32_t t = mcpg_prompt_message_text(img, &msgs[i]);
		const struct mcpg_img_tmpl *tm;
		int rc;

		strbuf_reset(&text);
		if (t) {
			tm = &img->tmpl[t - 1];
			rc = mcpg_template_render(img->segs + tm->seg_off, tm->seg_n, &tin, 0, &text,
						  &err);
			if (rc != MCPG_TMPL_OK) {
				strbuf_setlen(o, mark);
				rpc_errorf(out, idj, rc == MCPG_TMPL_E_ARGUMENT ? MCPG_RPC_BAD_PARAMS
									: -32603,
					   "%s", err.buf);
				goto done;
			}
		}
		if (i)
			strbuf_addch(o, ',');
		strbuf_addf(o, "{\"role\":\"%s\",\"content\":{\"type\":\"text\",\"text\":",
			    mcpg_prompt_message_role(img, &msgs[i]) == MCPG_PROMPT_ROLE_ASSISTANT
				    ? "assistant" : "user");
		mcpg_jsonw_str(o, text.buf, text.len);
		strbuf_add(o, "}}", 2);
	}
	strbuf_add(o, "]}}", 3);
	msg_end(o, out->sse);
done:
	strbuf_release(&text);
	strbuf_release(&err);
}

/* ------------------------------------------------------------------------
 * Dispatch
 */

/*
 * Session rules of mcpg.md 5.3 for a request on `s`: before
 * notifications/initialized only ping is served; a request id in flight or
 * among the session's last MCPG_SESSION_SEEN_IDS ids is refused.  Returns
 * the error message, or NULL when the request may go on (its id is noted).
 */
static const char *
session_rules(struct mcpg_session *s, const char *method, const char *idj)
{
	const char *err = NULL;

	pthread_mutex_lock(&s->lock);
	if (!s->initialized && strcmp(method, "ping")) {
		err = "session not initialized: send notifications/initialized first";
	} else {
		for (struct mcpg_job *j = s->jobs; j && !err; j = j->s_next)
			if (!strcmp(j->id_json, idj))
				err = "duplicate JSON-RPC request id on this session";
		if (!err && mcpg_session_note_id(s, idj) < 0)
			err = "duplicate JSON-RPC request id on this session";
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/*
 * The session named by Mcp-Session-Id, from this replica or the cluster; on
 * failure `out` holds the answer: 404, or 503 when the coordinator is down.
 */
static struct mcpg_session *
session_lookup(const char *id, struct mcpg_mcp_resp *out)
{
	int down;
	struct mcpg_session *s = mcpg_cluster_session_get(id, &down);

	if (!s && down) {
		char msg[400];

		mcpg_cluster_down_message(msg, sizeof(msg));
		mcpg_mcp_error(out, 503, MCPG_RPC_CLUSTER_DOWN, msg);
	} else if (!s) {
		mcpg_mcp_error(out, 404, MCPG_RPC_SESSION_NOT_FOUND, "session not found");
	}
	return s;
}

static void
do_notification(struct mcpg_session *s, const char *method, json_t *params)
{
	if (!strcmp(method, "notifications/initialized")) {
		pthread_mutex_lock(&s->lock);
		s->initialized = 1;
		pthread_mutex_unlock(&s->lock);
		mcpg_cluster_session_changed(s);
	} else if (!strcmp(method, "notifications/cancelled")) {
		json_t *rid = json_object_get(params, "requestId");
		struct strbuf idj = STRBUF_INIT;

		if (rid && id_text(rid, &idj) == 0) {
			cancel_session_jobs(s, idj.buf);
			mcpg_cluster_cancel(s, idj.buf);
		}
		strbuf_release(&idj);
	}
}

/* completion/complete on an upstream's prompt or resource template: forward. */
static int
fed_complete(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	     struct mcpg_session *s, json_t *req, const char *idj, json_t *params,
	     const struct mcpg_identity *ident)
{
	json_t *ref = json_object_get(params, "ref");
	const char *type = json_string_value(json_object_get(ref, "type"));
	const char *name = json_string_value(json_object_get(ref, "name"));
	const char *uri = json_string_value(json_object_get(ref, "uri"));
	struct mcpg_fed_cat *cat = NULL;
	const struct mcpg_fed_item *it;

	if (type && !strcmp(type, "ref/prompt") && name && !mcpg_rt_find(rt, name) &&
	    (it = fed_lookup(rt, name, MCPG_B_PROMPT, ident, &cat))) {
		start_fed(rt, in, out, s, req, idj, cat, it, "completion/complete", params, ident);
		mcpg_fed_release(cat);
		return 1;
	}
	if (type && !strcmp(type, "ref/resource") && uri) {
		cat = mcpg_fed_configured(rt) ? mcpg_fed_acquire() : NULL;
		for (size_t i = 0; cat && i < cat->n; i++)
			if (cat->items[i].b.kind == MCPG_B_RESOURCE_TEMPLATE &&
			    !strcmp(cat->items[i].uri, uri) &&
			    mcpg_fed_allowed(cat, &cat->items[i], &ident->view)) {
				start_fed(rt, in, out, s, req, idj, cat, &cat->items[i],
					  "completion/complete", params, ident);
				mcpg_fed_release(cat);
				return 1;
			}
		mcpg_fed_release(cat);
	}
	return 0;
}

static void
dispatch(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	 struct mcpg_session *s, json_t *req, const char *method, const char *idj,
	 json_t *params, const struct mcpg_identity *ident)
{
	if (!strcmp(method, "tools/call")) {
		do_tools_call(rt, in, out, s, req, idj, params, ident);
	} else if (!strcmp(method, "tools/list")) {
		do_list(rt, out, idj, params, ident, MCPG_B_TOOL, "tools");
	} else if (!strcmp(method, "ping")) {
		rpc_result_text(out, idj, "{}");
	} else if (!strcmp(method, "resources/list")) {
		do_list(rt, out, idj, params, ident, MCPG_B_RESOURCE, "resources");
	} else if (!strcmp(method, "resources/templates/list")) {
		do_list(rt, out, idj, params, ident, MCPG_B_RESOURCE_TEMPLATE, "resourceTemplates");
	} else if (!strcmp(method, "resources/read")) {
		do_resources_read(rt, in, out, s, req, idj, params, ident);
	} else if (!strcmp(method, "prompts/list")) {
		do_list(rt, out, idj, params, ident, MCPG_B_PROMPT, "prompts");
	} else if (!strcmp(method, "prompts/get")) {
		do_prompts_get(rt, in, out, s, req, idj, params, ident);
	} else if (!strcmp(method, "logging/setLevel")) {
		size_t i = level_index(json_string_value(json_object_get(params, "level")));

		if (i == NLEVELS) {
			rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "params.level is not a log level");
			return;
		}
		__atomic_store_n(&s->log_level, (uint8_t)i, __ATOMIC_RELAXED);
		mcpg_cluster_session_changed(s);
		rpc_result_text(out, idj, "{}");
	} else if (!strcmp(method, "completion/complete")) {
		if (!fed_complete(rt, in, out, s, req, idj, params, ident))
			rpc_result_text(out, idj,
					"{\"completion\":{\"values\":[],\"total\":0,\"hasMore\":false}}");
	} else if (!strcmp(method, "resources/subscribe") ||
		   !strcmp(method, "resources/unsubscribe")) {
		const char *uri = json_string_value(json_object_get(params, "uri"));

		if (!uri)
			rpc_error(out, idj, MCPG_RPC_BAD_PARAMS, "params.uri must be a string");
		else if (!fed_read(rt, in, out, s, req, idj, params, ident, method, uri))
			rpc_result_text(out, idj, "{}");
	} else {
		rpc_errorf(out, idj, MCPG_RPC_METHOD_NOT_FOUND, "Method not found: %s", method);
	}
}

/*
 * The session the request names, when its caller may use it: a session a
 * verified caller started answers only to that caller (anyone else gets
 * 404, as for an unknown id).  A reference for the caller, or NULL.
 */
static struct mcpg_session *
session_for(const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out)
{
	struct mcpg_session *s = session_lookup(in->session_id, out);

	if (s && !mcpg_identity_owns(s->owner, s->owned, in->ident)) {
		/* Another caller's session: as if it did not exist. */
		mcpg_session_put(s);
		mcpg_mcp_error(out, 404, MCPG_RPC_SESSION_NOT_FOUND, "session not found");
		return NULL;
	}
	return s;
}

void
mcpg_mcp_post(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out)
{
	json_error_t jerr;
	json_t *req, *idv, *params;
	const char *method;
	struct mcpg_session *s = NULL;
	struct mcpg_identity ident;
	struct strbuf idj = STRBUF_INIT;
	int is_note;

	out->status = 200;
	out->sse = in->sse;
	req = mcpg_json_load(in->body, in->body_len, 0, &jerr);
	if (!req) {
		char msg[300];

		snprintf(msg, sizeof(msg), "Parse error: %s", jerr.text);
		mcpg_mcp_error(out, 400, MCPG_RPC_PARSE_ERROR, msg);
		return;
	}
	if (in->protocol_version && !known_version(in->protocol_version)) {
		struct strbuf data = STRBUF_INIT;
		char msg[200];

		strbuf_addstr(&data, "{\"requested\":");
		mcpg_jsonw_cstr(&data, in->protocol_version);
		strbuf_addstr(&data, ",\"supported\":[\"2025-11-25\",\"2025-06-18\",\"2025-03-26\"]}");
		snprintf(msg, sizeof(msg), "Unsupported protocol version (supported versions: %s)",
			 MCPG_PV_SUPPORTED);
		out->status = 400;
		out->sse = 0;
		out->version_header = 1;
		error_msg(out->body, NULL, MCPG_RPC_INVALID_REQUEST, msg, data.buf);
		strbuf_release(&data);
		json_decref(req);
		return;
	}
	if (json_is_array(req)) {
		mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST,
			       "batch requests are not supported");
		json_decref(req);
		return;
	}
	method = json_string_value(json_object_get(req, "method"));
	idv = json_object_get(req, "id");
	params = json_object_get(req, "params");
	if (!json_is_object(req) ||
	    strcmp(json_string_value(json_object_get(req, "jsonrpc")) ?
			   json_string_value(json_object_get(req, "jsonrpc")) : "", "2.0") ||
	    (idv && id_text(idv, &idj) < 0) || (params && !json_is_object(params)) ||
	    (!method && !(idv && (json_object_get(req, "result") || json_object_get(req, "error"))))) {
		mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST, "invalid JSON-RPC message");
		goto out;
	}
	if (!params) {
		params = json_object();
		json_object_set_new(req, "params", params);
	}
	out->method = method ? static_method(method) : "response";
	mcpg_metrics_mcp(out->method);
	is_note = !idv;
	if (in->ident)
		ident = *in->ident; /* http.c holds the principal reference for the request */
	else
		mcpg_authz_identify(rt, in->peer, in->subject, &ident);
	ident.view.subject_id = ident.subject;

	if (method && !strcmp(method, "initialize") && !is_note) {
		do_initialize(rt, in, out, idj.buf, params, &ident);
		goto out;
	}
	if (!in->session_id) {
		mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST, "missing Mcp-Session-Id header");
		goto out;
	}
	s = session_for(in, out);
	if (!s)
		goto out;
	atomic_fetch_add(&s->busy, 1);
	mcpg_session_touch(s);
	mcpg_cluster_session_touch(s);
	if (is_note || !method) {
		/* A notification, or the client's answer to a server request. */
		if (method)
			do_notification(s, method, params);
		else
			mcpg_fed_client_answer(s, req);
		out->status = 202;
		out->sse = 0;
	} else {
		const char *err;

		if (!s->initialized && strcmp(method, "ping"))
			mcpg_cluster_session_refresh(s); /* initialized on another replica? */
		err = session_rules(s, method, idj.buf);

		if (err)
			mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST, err);
		else
			dispatch(rt, in, out, s, req, method, idj.buf, params, &ident);
	}
	atomic_fetch_sub(&s->busy, 1);
	mcpg_session_put(s);
out:
	strbuf_release(&idj);
	json_decref(req);
}

void
mcpg_mcp_delete(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out)
{
	struct mcpg_session *s;

	(void)rt;
	out->method = "DELETE";
	if (!in->session_id) {
		mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST, "missing Mcp-Session-Id header");
		return;
	}
	s = session_for(in, out);
	if (!s)
		return;
	if (mcpg_cluster_session_deleted(in->session_id) < 0) {
		/* The record would outlive the DELETE: refuse, keep the session. */
		char msg[400];

		mcpg_session_put(s);
		mcpg_cluster_down_message(msg, sizeof(msg));
		mcpg_mcp_error(out, 503, MCPG_RPC_CLUSTER_DOWN, msg);
		return;
	}
	mcpg_session_end(s);
	mcpg_session_put(s);
	mcpg_log(MCPG_LOG_DEBUG, in->rid, "session ended", "session", MCPG_LF_STR,
		 in->session_id, NULL);
	out->status = 204;
}

struct mcpg_session *
mcpg_mcp_get(struct mcpg_rt *rt, const struct mcpg_mcp_req *in, struct mcpg_mcp_resp *out,
	     uint64_t *cursor)
{
	struct mcpg_session *s;
	uint64_t after = 0;

	(void)rt;
	out->method = "GET";
	if (in->protocol_version && !known_version(in->protocol_version)) {
		out->version_header = 1;
		mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST,
			       "Unsupported protocol version (supported versions: "
			       MCPG_PV_SUPPORTED ")");
		return NULL;
	}
	if (!in->session_id) {
		mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST, "missing Mcp-Session-Id header");
		return NULL;
	}
	if (in->last_event_id) {
		char *end;

		after = strtoull(in->last_event_id, &end, 10);
		if (end == in->last_event_id || *end) {
			mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST, "malformed Last-Event-ID");
			return NULL;
		}
	}
	s = session_for(in, out);
	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	/* An id another replica numbered: a fresh stream here (cluster.h). */
	if (in->last_event_id && !mcpg_cluster_foreign_id(after)) {
		const struct mcpg_event *e = mcpg_session_find_event(s, after);
		int gap;

		if (e && e->stream) {
			/* The id of a POST's stream: resume that stream after it. */
			pthread_mutex_unlock(&s->lock);
			out->stream = e->stream;
			*cursor = after;
			out->status = 200;
			out->sse = 1;
			return s;
		}
		if (after >= s->next_seq) {
			pthread_mutex_unlock(&s->lock);
			mcpg_session_put(s);
			mcpg_mcp_error(out, 400, MCPG_RPC_INVALID_REQUEST, "unknown Last-Event-ID");
			return NULL;
		}
		mcpg_session_next_event(s, after, &gap);
		if (gap) {
			pthread_mutex_unlock(&s->lock);
			mcpg_session_put(s);
			mcpg_mcp_error(out, 409, MCPG_RPC_INVALID_REQUEST,
				       "Last-Event-ID is older than the replay window");
			return NULL;
		}
	} else {
		after = s->next_seq - 1;
	}
	pthread_mutex_unlock(&s->lock);
	*cursor = after;
	out->status = 200;
	out->sse = 1;
	return s;
}

/* ------------------------------------------------------------------------
 * Reload: list_changed
 */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
mcpg_mcp_names_differ(const struct mcpg_binding *a, size_t na, size_t stride_a,
		      const struct mcpg_binding *b, size_t nb, size_t stride_b, unsigned kinds)
{
	const char **va = calloc(na + 1, sizeof(*va));
	const char **vb = calloc(nb + 1, sizeof(*vb));
	size_t ca = 0, cb = 0;
	int differ = 1;

	if (!va || !vb)
		goto out;
	for (size_t i = 0; i < na; i++) {
		const struct mcpg_binding *x = (const void *)((const char *)a + i * stride_a);

		if (kinds & (1u << x->kind))
			va[ca++] = x->name;
	}
	for (size_t i = 0; i < nb; i++) {
		const struct mcpg_binding *x = (const void *)((const char *)b + i * stride_b);

		if (kinds & (1u << x->kind))
			vb[cb++] = x->name;
	}
	if (ca != cb)
		goto out;
	qsort(va, ca, sizeof(*va), cmp_names);
	qsort(vb, cb, sizeof(*vb), cmp_names);
	differ = 0;
	for (size_t i = 0; i < ca && !differ; i++)
		differ = strcmp(va[i], vb[i]) != 0;
out:
	free(va);
	free(vb);
	return differ;
}

/* Whether the sorted names of bindings of `kinds` (a bit set) differ. */
static int
names_differ(const struct mcpg_rt *a, const struct mcpg_rt *b, unsigned kinds)
{
	return mcpg_mcp_names_differ(a->bindings, a->nbindings, sizeof(*a->bindings), b->bindings,
				     b->nbindings, sizeof(*b->bindings), kinds);
}

struct broadcast {
	const char *notes[3];
	int n;
	uint32_t window;
};

void
mcpg_mcp_push_event(struct mcpg_session *s, const char *json, size_t len)
{
	struct mcpg_rt *rt = mcpg_rt_acquire();
	uint32_t window = rt ? (uint32_t)rt->cfg->gateway.server.replay_window_limit : 1;

	mcpg_rt_release(rt);
	pthread_mutex_lock(&s->lock);
	if (s->nstreams || s->ring) {
		mcpg_session_add_event(s, json, len, window);
		if (hooks.wake_streams)
			hooks.wake_streams(s);
	}
	pthread_mutex_unlock(&s->lock);
}

void
mcpg_mcp_cancel_request(struct mcpg_session *s, const char *idj)
{
	cancel_session_jobs(s, idj);
}

static void
broadcast_one(struct mcpg_session *s, void *arg)
{
	struct broadcast *bc = arg;

	pthread_mutex_lock(&s->lock);
	if (s->nstreams || s->ring) {
		for (int i = 0; i < bc->n; i++)
			mcpg_session_add_event(s, bc->notes[i], strlen(bc->notes[i]), bc->window);
		if (hooks.wake_streams)
			hooks.wake_streams(s);
	}
	pthread_mutex_unlock(&s->lock);
}

void
mcpg_mcp_reloaded(const struct mcpg_rt *old, const struct mcpg_rt *new)
{
	struct broadcast bc = { { NULL }, 0, 0 };

	mcpg_fed_reload();
	if (!old || !new)
		return;
	bc.window = (uint32_t)new->cfg->gateway.server.replay_window_limit;
	if (names_differ(old, new, 1u << MCPG_B_TOOL))
		bc.notes[bc.n++] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}";
	if (names_differ(old, new, (1u << MCPG_B_RESOURCE) | (1u << MCPG_B_RESOURCE_TEMPLATE)))
		bc.notes[bc.n++] =
			"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/list_changed\"}";
	if (names_differ(old, new, 1u << MCPG_B_PROMPT))
		bc.notes[bc.n++] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/prompts/list_changed\"}";
	if (bc.n)
		mcpg_sessions_foreach(broadcast_one, &bc);
}

void
mcpg_mcp_list_changed(int tools, int resources, int prompts)
{
	struct broadcast bc = { { NULL }, 0, 0 };
	struct mcpg_rt *rt = mcpg_rt_acquire();

	if (!rt)
		return;
	bc.window = (uint32_t)rt->cfg->gateway.server.replay_window_limit;
	mcpg_rt_release(rt);
	if (tools)
		bc.notes[bc.n++] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}";
	if (resources)
		bc.notes[bc.n++] =
			"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/list_changed\"}";
	if (prompts)
		bc.notes[bc.n++] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/prompts/list_changed\"}";
	if (bc.n)
		mcpg_sessions_foreach(broadcast_one, &bc);
}

/* ------------------------------------------------------------------------
 * The housekeeper: deadlines, idle sessions, keep-alive ticks
 */

/* Cancel a suspended job whose client has gone (hk_lock held). */
static void
job_probe(struct mcpg_job *job)
{
	pthread_mutex_lock(&job->lock);
	if (job->state == MCPG_JOB_RUNNING && !job->final && !job->stream_id && job->suspended &&
	    job->conn && hooks.conn_gone(job)) {
		job->state = MCPG_JOB_CANCELLED;
		job->final = 1;
		atomic_store(&job->call.cancelled, 1);
		mcpg_log(MCPG_LOG_INFO, job->rid, "client gone, call cancelled", "binding",
			 MCPG_LF_STR, job->call.binding->name, "after_ms", MCPG_LF_I64,
			 mcpg_mono_ms() - job->t0_ms, NULL);
		job_wake(job);
	}
	pthread_mutex_unlock(&job->lock);
}

static void *
housekeeper(void *arg)
{
	int64_t next_reap = 0, next_tick = 0, next_probe = 0;

	(void)arg;
	pthread_mutex_lock(&hk_lock);
	while (!hk_stop) {
		int64_t now = mcpg_mono_ms(), wake = now + 1000;
		struct timespec ts;

		for (struct mcpg_job *j = deadlines; j; j = j->t_next) {
			if (j->deadline_ms <= now)
				job_expire(j);
			else if (j->deadline_ms < wake)
				wake = j->deadline_ms;
		}
		if (hooks.conn_gone && deadlines) {
			if (now >= next_probe) {
				for (struct mcpg_job *j = deadlines; j; j = j->t_next)
					job_probe(j);
				next_probe = now + MCPG_PROBE_MS;
			}
			if (next_probe < wake)
				wake = next_probe;
		}
		if (now >= next_reap || now >= next_tick) {
			struct mcpg_rt *rt = mcpg_rt_acquire();
			uint64_t idle = rt ? rt->cfg->gateway.server.session_idle_timeout_ms : 0;

			pthread_mutex_unlock(&hk_lock);
			if (now >= next_reap && idle) {
				size_t n = mcpg_sessions_reap(now, idle);

				if (n)
					mcpg_log(MCPG_LOG_INFO, NULL, "idle sessions evicted", "sessions",
						 MCPG_LF_U64, (uint64_t)n, NULL);
				/* Look a few times per timeout, at most once every 50 ms. */
				next_reap = now + (int64_t)(idle / 4 < 50 ? 50 : idle / 4 > 1000 ? 1000
										 : idle / 4);
			}
			if (now >= next_tick) {
				if (hooks.tick)
					hooks.tick(now);
				next_tick = now + 1000;
			}
			mcpg_rt_release(rt);
			pthread_mutex_lock(&hk_lock);
		}
		if (next_reap < wake)
			wake = next_reap;
		if (next_tick < wake)
			wake = next_tick;
		if (hk_stop)
			break;
		/* hk_cond is signalled when a job with a nearer deadline starts. */
		clock_gettime(CLOCK_REALTIME, &ts);
		wake -= mcpg_mono_ms();
		if (wake < 1)
			wake = 1;
		ts.tv_sec += wake / 1000;
		ts.tv_nsec += (wake % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&hk_cond, &hk_lock, &ts);
	}
	pthread_mutex_unlock(&hk_lock);
	return NULL;
}

static void
session_ended(struct mcpg_session *s)
{
	audit_session("mcpg.session.closed", s->id, NULL, NULL);
	cancel_session_jobs(s, NULL);
	mcpg_fed_session_ended(s);
	pthread_mutex_lock(&s->lock);
	if (hooks.wake_streams)
		hooks.wake_streams(s);
	pthread_mutex_unlock(&s->lock);
}

int
mcpg_mcp_init(const struct mcpg_mcp_hooks *h)
{
	struct mcpg_session_hooks sh = { session_ended };

	if (h)
		hooks = *h;
	mcpg_sessions_init(&sh);
	hk_stop = 0;
	if (pthread_create(&hk_thread, NULL, housekeeper, NULL))
		return -1;
	hk_started = 1;
	return 0;
}

void
mcpg_mcp_shutdown(void)
{
	if (!hk_started)
		return;
	pthread_mutex_lock(&hk_lock);
	hk_stop = 1;
	pthread_cond_signal(&hk_cond);
	pthread_mutex_unlock(&hk_lock);
	pthread_join(hk_thread, NULL);
	hk_started = 0;
}
