/*
 * backend.c - run a binding's backend for one call (backend.h).
 *
 * The protocol layer calls mcpg_backend_run() on a worker thread.  This file
 * picks the backend by the binding's backend kind, retries http attempts
 * as the binding's retry block says, and holds what the three backends
 * share: the cancellable wait, template rendering against the call's
 * snapshot, the result and error builders (shapes in backend_int.h) and a
 * few JSON helpers.
 */
#include "backend_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fed.h"
#include "template.h"
#include "jsonparse.h"
#include "jsonw.h"

/* ------------------------------------------------------------------------
 * Stopping: cancellation and the deadline
 */

int
mcpg_call_stopped(const struct mcpg_call *call)
{
	/* atomic_load wants a non-const object; it does not write. */
	if (atomic_load(&((struct mcpg_call *)call)->cancelled))
		return MCPG_STOP_CANCELLED;
	if (call->deadline_ms && mcpg_mono_ms() >= call->deadline_ms)
		return MCPG_STOP_DEADLINE;
	return MCPG_STOP_NO;
}

int
mcpg_call_sleep(const struct mcpg_call *call, int64_t ms)
{
	int64_t end = mcpg_mono_ms() + (ms > 0 ? ms : 0);
	int why;

	for (;;) {
		int64_t left = end - mcpg_mono_ms();
		struct timespec ts;

		if ((why = mcpg_call_stopped(call)))
			return why;
		if (left <= 0)
			return MCPG_STOP_NO;
		if (left > MCPG_BACKEND_POLL_MS)
			left = MCPG_BACKEND_POLL_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		/* EINTR: go round; the loop re-reads the clock. */
		nanosleep(&ts, NULL);
	}
}

/* ------------------------------------------------------------------------
 * Results and errors
 */

int
mcpg_call_error(struct mcpg_call *call, int code, const char *kind, const char *fmt, ...)
{
	va_list ap;

	json_decref(call->result);
	call->result = NULL;
	call->raw_pre = NULL;
	call->error_code = code;
	call->error_kind = kind;
	va_start(ap, fmt);
	vsnprintf(call->error_message, sizeof(call->error_message), fmt, ap);
	va_end(ap);
	return -1;
}

int
mcpg_call_stop(struct mcpg_call *call, int why)
{
	if (why == MCPG_STOP_DEADLINE)
		return mcpg_call_error(call, MCPG_RPC_TIMEOUT, "deadline",
				       "request timed out");
	return mcpg_call_error(call, MCPG_RPC_CANCELLED, "cancelled", "request cancelled");
}

static json_t *
text_block(json_t *text)
{
	return json_pack("{s:s, s:o}", "type", "text", "text", text);
}

int
mcpg_call_fail(struct mcpg_call *call, const char *kind, const char *detail, size_t len,
	       const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	json_t *content;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (call->op != MCPG_CALL_TOOL) {
		mcpg_call_error(call, MCPG_RPC_INTERNAL, kind, "%s", msg.buf);
		strbuf_release(&msg);
		return -1;
	}
	content = json_array();
	json_array_append_new(content, text_block(mcpg_json_text(msg.buf, msg.len)));
	strbuf_release(&msg);
	if (detail && len)
		json_array_append_new(content, text_block(mcpg_json_text(detail, len)));
	json_decref(call->result);
	call->result = json_pack("{s:o, s:b}", "content", content, "isError", 1);
	call->error_kind = kind;
	return 0;
}

/* Standard base64 with padding (RFC 4648 section 4), for blobs. */
static json_t *
base64(const unsigned char *p, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct strbuf sb = STRBUF_INIT;
	json_t *s;

	strbuf_grow(&sb, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		strbuf_addch(&sb, tab[v >> 18 & 63]);
		strbuf_addch(&sb, tab[v >> 12 & 63]);
		strbuf_addch(&sb, n > 1 ? tab[v >> 6 & 63] : '=');
		strbuf_addch(&sb, n > 2 ? tab[v & 63] : '=');
	}
	s = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return s;
}

const char *
mcpg_call_mime(const struct mcpg_call *call)
{
	const struct mcpg_binding *b = call->binding;
	const struct mcpg_image *img = &call->rt->img;

	switch (b->kind) {
	case MCPG_B_RESOURCE:
		return mcpg_resource_mime_type(img, b->resource);
	case MCPG_B_RESOURCE_TEMPLATE:
		return mcpg_resource_template_mime_type(img, b->resource_template);
	default:
		return NULL;
	}
}

/* The URI a read answers for: the one asked for, else the resource's own. */
static const char *
read_uri(const struct mcpg_call *call)
{
	if (call->uri)
		return call->uri;
	if (call->binding->kind == MCPG_B_RESOURCE)
		return mcpg_resource_uri(&call->rt->img, call->binding->resource);
	return "";
}

int
mcpg_call_ok(struct mcpg_call *call, const char *out, size_t len, json_t *structured,
	     const char *mime)
{
	const char *bmime;
	json_t *entry;

	json_decref(call->result);
	if (call->op == MCPG_CALL_TOOL) {
		call->result = json_pack("{s:[o], s:b}", "content",
					 text_block(mcpg_json_text(out, len)), "isError", 0);
		if (json_is_object(structured))
			json_object_set_new(call->result, "structuredContent", structured);
		else
			json_decref(structured);
		return 0;
	}
	json_decref(structured);
	bmime = mcpg_call_mime(call);
	entry = json_pack("{s:s}", "uri", read_uri(call));
	if (bmime || mime)
		json_object_set_new(entry, "mimeType", json_string(bmime ? bmime : mime));
	if (mcpg_utf8_valid(out, len))
		json_object_set_new(entry, "text", json_stringn(out, len));
	else
		json_object_set_new(entry, "blob", base64((const unsigned char *)out, len));
	call->result = json_pack("{s:[o]}", "contents", entry);
	return 0;
}

/* ------------------------------------------------------------------------
 * Templates
 */

static const char *
img_str(void *ctx, uint32_t ref)
{
	const struct mcpg_rt *rt = ctx;

	return mcpg_str(&rt->img, ref);
}

/*
 * ${env.NAME} in a request-time template.  rt.h has no table of resolved
 * template variables yet, so this reads the process environment: the
 * runtime checks at boot that every referenced variable is set and never
 * changes its environment afterwards, so getenv() is stable and safe from
 * worker threads.
 */
static const char *
tmpl_env(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

int
mcpg_call_render(struct mcpg_call *call, uint32_t tmpl, unsigned flags, struct strbuf *out,
		 const char *what)
{
	const struct mcpg_image *img = &call->rt->img;
	const struct mcpg_img_tmpl *t;
	struct mcpg_tmpl_in in = {
		.str = img_str,
		.env = tmpl_env,
		.ctx = (void *)call->rt,
		.arguments = call->arguments,
		.id = call->identity,
	};
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (tmpl == 0 || tmpl > img->tmpl_nr)
		return mcpg_call_error(call, MCPG_RPC_INTERNAL, "config",
				       "%s: no template", what);
	t = &img->tmpl[tmpl - 1];
	rc = mcpg_template_render(img->segs + t->seg_off, t->seg_n, &in, flags, out, &err);
	switch (rc) {
	case MCPG_TMPL_OK:
		break;
	case MCPG_TMPL_E_ARGUMENT:
		/* The template engine's words: "missing argument 'id'". */
		mcpg_call_error(call, MCPG_RPC_INVALID_PARAMS, "arguments", "%s", err.buf);
		break;
	case MCPG_TMPL_E_IDENTITY:
		mcpg_call_error(call, MCPG_RPC_DENIED, "identity", "%s: %s", what, err.buf);
		break;
	default:
		mcpg_call_error(call, MCPG_RPC_INTERNAL, "config", "%s: %s", what, err.buf);
		break;
	}
	strbuf_release(&err);
	return rc ? -1 : 0;
}

/* ------------------------------------------------------------------------
 * JSON helpers
 */

static void
indent(struct strbuf *sb, int depth)
{
	strbuf_addch(sb, '\n');
	for (int i = 0; i < depth; i++)
		strbuf_add(sb, "  ", 2);
}

static void
pretty(struct strbuf *sb, const json_t *v, int depth)
{
	const char *k;
	json_t *item;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (!json_object_size(v)) {
			strbuf_add(sb, "{}", 2);
			break;
		}
		strbuf_addch(sb, '{');
		i = 0;
		/* json_object_foreach wants a non-const object; it does not write. */
		json_object_foreach((json_t *)v, k, item) {
			if (i++)
				strbuf_addch(sb, ',');
			indent(sb, depth + 1);
			mcpg_jsonw_str(sb, k, strlen(k));
			strbuf_add(sb, ": ", 2);
			pretty(sb, item, depth + 1);
		}
		indent(sb, depth);
		strbuf_addch(sb, '}');
		break;
	case JSON_ARRAY:
		if (!json_array_size(v)) {
			strbuf_add(sb, "[]", 2);
			break;
		}
		strbuf_addch(sb, '[');
		json_array_foreach(v, i, item) {
			if (i)
				strbuf_addch(sb, ',');
			indent(sb, depth + 1);
			pretty(sb, item, depth + 1);
		}
		indent(sb, depth);
		strbuf_addch(sb, ']');
		break;
	case JSON_STRING:
		mcpg_jsonw_str(sb, json_string_value(v), json_string_length(v));
		break;
	default:
		/* Numbers and literals: the same text as the compact form. */
		mcpg_json_compact(sb, v);
		break;
	}
}

void
mcpg_json_pretty(struct strbuf *sb, const json_t *v)
{
	if (!v)
		strbuf_addstr(sb, "null");
	else
		pretty(sb, v, 0);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (len < n)
		return 0;
	/* The second byte's range excludes overlongs and surrogates. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

int
mcpg_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n)
		if (!(n = utf8_seq(p + i, len - i)))
			return 0;
	return 1;
}

json_t *
mcpg_json_text(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf sb = STRBUF_INIT;
	json_t *j;

	/* jansson checks UTF-8 itself: the usual case costs one pass. */
	if ((j = json_stringn(s, len)))
		return j;
	strbuf_grow(&sb, len + 16);
	for (size_t i = 0, n; i < len; i += n) {
		n = p[i] ? utf8_seq(p + i, len - i) : 1;
		if (n) {
			strbuf_add(&sb, p + i, n);
		} else {
			strbuf_add(&sb, "\xef\xbf\xbd", 3);
			n = 1;
		}
	}
	j = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return j;
}

json_t *
mcpg_json_parse(const char *s, size_t len)
{
	return mcpg_json_load(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

/* ------------------------------------------------------------------------
 * Dispatch and retries
 */

/* Whether the last attempt's failure is one the retry block retries. */
static int
retryable(const struct mcpg_call *call, const struct mcpg_retry *r,
	  const struct mcpg_http_outcome *o)
{
	const uint64_t *codes;
	uint32_t n;

	if (o->transport)
		return r->retry_on_transport_error;
	if (!o->status)
		return 0;
	n = r->retry_on_status_codes.n;
	codes = n ? mcpg_rec(&call->rt->img, r->retry_on_status_codes.ref) : NULL;
	for (uint32_t i = 0; i < n; i++)
		if (codes[i] == (uint64_t)o->status)
			return 1;
	return 0;
}

/* Longest wait between two attempts: one day. */
#define MAX_BACKOFF_MS ((uint64_t)86400000)

/*
 * Attempts 1..max_attempts, waiting initial_backoff_ms before the second
 * and twice as long before each further one.  A wait is cancellable; one
 * that would end past the call's deadline is not started, and the last
 * attempt's failure is the answer.
 */
static int
run_http(struct mcpg_call *call, const struct mcpg_http_backend *h)
{
	const struct mcpg_retry *r = call->binding->retry;
	uint64_t max = r && r->max_attempts ? r->max_attempts : 1;
	uint64_t backoff = r ? r->initial_backoff_ms : 0;

	if (backoff > MAX_BACKOFF_MS)
		backoff = MAX_BACKOFF_MS;
	struct mcpg_http_outcome o = { .rc = -1 };
	struct mcpg_http_req *req;
	int why;

	if (!(req = mcpg_http_prepare(call, h)))
		return -1;
	for (uint64_t attempt = 1;; attempt++) {
		mcpg_http_attempt(call, req, &o);
		if (attempt >= max || !retryable(call, r, &o) || mcpg_call_stopped(call))
			break;
		if (call->deadline_ms &&
		    mcpg_mono_ms() + (int64_t)backoff >= call->deadline_ms)
			break;
		mcpg_call_release(call);
		if ((why = mcpg_call_sleep(call, (int64_t)backoff))) {
			o.rc = mcpg_call_stop(call, why);
			break;
		}
		/* The schema bounds it (60 s doubled 8 times); cap it anyway so
		 * the arithmetic above cannot overflow. */
		backoff = backoff > MAX_BACKOFF_MS / 2 ? MAX_BACKOFF_MS : backoff * 2;
	}
	mcpg_http_req_free(req);
	return o.rc;
}

int
mcpg_backend_run(struct mcpg_call *call)
{
	const struct mcpg_binding *b = call->binding;
	const struct mcpg_image *img;
	const json_t *args = call->arguments;
	json_t *empty = NULL;
	int why, rc;

	call->result = NULL;
	call->raw_pre = NULL;
	call->raw_mid = NULL;
	call->error_code = 0;
	call->error_message[0] = '\0';
	call->error_kind = NULL;
	if (call->fed)
		return mcpg_fed_run(call);
	if (!call->rt || !b || !b->backend)
		return mcpg_call_error(call, MCPG_RPC_INTERNAL, "config",
				       "binding has no backend");
	if ((call->op == MCPG_CALL_TOOL) != (b->kind == MCPG_B_TOOL) ||
	    b->kind == MCPG_B_PROMPT)
		return mcpg_call_error(call, MCPG_RPC_INTERNAL, "config",
				       "binding '%s' cannot serve this request",
				       b->name ? b->name : "");
	if ((why = mcpg_call_stopped(call)))
		return mcpg_call_stop(call, why);
	/* backend.h promises an object; do not crash when handed none. */
	if (!json_is_object(args))
		call->arguments = empty = json_object();

	img = &call->rt->img;
	switch (mcpg_backend_tag(img, b->backend)) {
	case MCPG_BACKEND_MOCK:
		rc = mcpg_backend_mock_run(call, mcpg_backend_mock(img, b->backend));
		break;
	case MCPG_BACKEND_HTTP:
		rc = run_http(call, mcpg_backend_http(img, b->backend));
		break;
	case MCPG_BACKEND_COMMAND:
		rc = mcpg_backend_command_run(call, mcpg_backend_command(img, b->backend));
		break;
	default:
		rc = mcpg_call_error(call, MCPG_RPC_INTERNAL, "config",
				     "binding '%s' has no backend this runtime knows",
				     b->name ? b->name : "");
		break;
	}
	if (empty) {
		call->arguments = args;
		json_decref(empty);
	}
	/* Exactly one of result / error, whatever a backend did. */
	if (rc == 0 && !call->result && !call->raw_pre)
		rc = mcpg_call_error(call, MCPG_RPC_INTERNAL, "internal",
				     "backend produced no result (out of memory?)");
	if (rc != 0 && call->result) {
		json_decref(call->result);
		call->result = NULL;
	}
	if (rc != 0)
		call->raw_pre = NULL;
	return rc;
}

void
mcpg_call_release(struct mcpg_call *call)
{
	json_decref(call->result);
	call->result = NULL;
	call->raw_pre = NULL;
	call->raw_mid = NULL;
	mcpg_fed_fwd_free(call->fed);
	call->fed = NULL;
	json_decref(call->error_data);
	call->error_data = NULL;
}
