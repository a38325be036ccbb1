/*
 * backend_mock.c - backend.kind: mock, a canned answer (schema struct
 * mock_backend; reference/mcpg.md section 3.6).
 *
 * The response is stored in the image as compact JSON text.  A call waits
 * delay_ms (cancellable), then answers:
 *
 * While it waits, a caller that sent a progressToken and can receive
 * notifications gets notifications/progress: progress 0 at the start, then
 * every max(50 ms, delay_ms / 10), then delay_ms, with total delay_ms (in
 * milliseconds).  delay_ms: 100 gives 0, 50 and 100, as the MCP conformance
 * suite's progress fixture does.
 *
 *   error: true        a tool error whose text is error_message ("mock
 *                      error" when absent); a read gets JSON-RPC -32603
 *   passthrough: true  the response itself is the whole CallToolResult or
 *                      ReadResourceResult (mcpgc checked its shape)
 *   tools/call         { content: [{type: "text", text: RESPONSE pretty-
 *                        printed with two-space indent}],
 *                        structuredContent: { toolName, bindingKind: "mock",
 *                        arguments, response, delayMs, simulated: true },
 *                        isError: false }
 *   resources/read     { contents: [{uri, mimeType, text}] }: a JSON string
 *                      response is the text itself (text/plain), any other
 *                      value its compact JSON (application/json); the
 *                      binding's mimeType wins when set
 */
#include "backend_int.h"

#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "rt.h"

static void
progress(struct mcpg_call *call, uint64_t done, uint64_t total)
{
	json_t *note = json_pack("{s:s, s:s, s:{s:O, s:I, s:I}}", "jsonrpc", "2.0",
				 "method", "notifications/progress", "params",
				 "progressToken", call->progress_token,
				 "progress", (json_int_t)done, "total", (json_int_t)total);

	if (note)
		call->notify(call, note);
}

/* Wait `delay` ms, with progress when the caller asked for it. */
static int
mock_wait(struct mcpg_call *call, uint64_t delay)
{
	int report = call->notify && call->progress_token;
	uint64_t step = delay / 10 > 50 ? delay / 10 : 50, done = 0;
	int64_t start = mcpg_mono_ms();
	int why;

	if (report)
		progress(call, 0, delay);
	while (done < delay) {
		uint64_t next = report && delay - done > step ? done + step : delay;

		/* Sleep to an absolute mark, so the ticks do not add drift. */
		if ((why = mcpg_call_sleep(call, start + (int64_t)next - mcpg_mono_ms())))
			return why;
		done = next;
		if (report)
			progress(call, done, delay);
	}
	return MCPG_STOP_NO;
}

/*
 * A tools/call answer that depends on nothing but the binding (and, for a
 * plain mock, the call's arguments) is rendered once per snapshot: the
 * result's JSON text with a hole where the arguments go.  It is rendered
 * the slow way, with a placeholder for the arguments, and cut there, so the
 * bytes are the slow path's.
 */
struct mock_cache {
	int usable;      /* 0: take the slow path (bad JSON, placeholder clash) */
	int has_mid;     /* the arguments go between pre and post */
	size_t pre_len, post_len;
	const char *post;
	char text[];
};

#define ARGS_HOLE "\001mcpg:arguments\001"
#define ARGS_HOLE_JSON "\"\\u0001mcpg:arguments\\u0001\""

/* The result of a tools/call on mock `m`, or NULL when the response is not JSON. */
static json_t *
tool_result(struct mcpg_call *call, const struct mcpg_mock_backend *m, const char *text,
	    size_t len, json_t *args /* stolen */)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *resp, *structured, *result;

	if (!(resp = mcpg_json_parse(text, len))) {
		json_decref(args);
		return NULL;
	}
	if (m->passthrough) {
		json_decref(args);
		return resp;
	}
	mcpg_json_pretty(&sb, resp);
	structured = json_pack("{s:s, s:s, s:o, s:o, s:I, s:b}",
			       "toolName", call->binding->name,
			       "bindingKind", "mock",
			       "arguments", args,
			       "response", resp,
			       "delayMs", (json_int_t)m->delay_ms,
			       "simulated", 1);
	mcpg_call_ok(call, sb.buf, sb.len, structured, NULL);
	strbuf_release(&sb);
	result = call->result;
	call->result = NULL;
	return result;
}

static struct mock_cache *
cache_build(struct mcpg_call *call, const struct mcpg_mock_backend *m, const char *text,
	    size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *result = tool_result(call, m, text, len, json_string(ARGS_HOLE));
	struct mock_cache *c;
	const char *hole = NULL;

	int usable = 0;

	if (result) {
		mcpg_jsonw_value(&sb, result);
		json_decref(result);
		if (m->passthrough) {
			usable = 1;
		} else {
			/* Exactly one hole, or (a clash) the slow path. */
			hole = strstr(sb.buf, ARGS_HOLE_JSON);
			usable = hole && !strstr(hole + 1, ARGS_HOLE_JSON);
		}
	}
	c = calloc(1, sizeof(*c) + sb.len + 1);
	if (!c) {
		strbuf_release(&sb);
		return NULL;
	}
	if (usable) {
		c->usable = 1;
		memcpy(c->text, sb.buf, sb.len);
		if (!m->passthrough) {
			c->has_mid = 1;
			c->pre_len = (size_t)(hole - sb.buf);
			c->post = c->text + c->pre_len + strlen(ARGS_HOLE_JSON);
			c->post_len = sb.len - c->pre_len - strlen(ARGS_HOLE_JSON);
		} else {
			c->pre_len = sb.len;
			c->post = c->text + sb.len;
		}
	}
	strbuf_release(&sb);
	return c;
}

static const struct mock_cache *
cache_get(struct mcpg_call *call, const struct mcpg_mock_backend *m, const char *text,
	  size_t len)
{
	void **slot = &((struct mcpg_binding *)call->binding)->mock_cache;
	struct mock_cache *c = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *mine;
	void *expect = NULL;

	if (c)
		return c;
	if (!(mine = cache_build(call, m, text, len)))
		return NULL;
	if (__atomic_compare_exchange_n(slot, &expect, mine, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return mine;
	free(mine);
	return expect;
}

void
mcpg_backend_mock_cache_free(void *cache)
{
	free(cache);
}

int
mcpg_backend_mock_run(struct mcpg_call *call, const struct mcpg_mock_backend *m)
{
	const struct mcpg_image *img = &call->rt->img;
	const char *text = mcpg_str(img, m->response);
	size_t len = text ? mcpg_str_len(img, m->response) : 0;
	const struct mock_cache *c;
	json_t *resp;
	int why, rc;

	if (m->delay_ms && (why = mock_wait(call, m->delay_ms)))
		return mcpg_call_stop(call, why);
	if (m->error) {
		const char *msg = mcpg_str(img, m->error_message);

		return mcpg_call_fail(call, "mock", NULL, 0, "%s", msg ? msg : "mock error");
	}
	if (!text) {
		text = "null";
		len = 4;
	}
	if (call->op == MCPG_CALL_TOOL) {
		if (call->raw_ok && (c = cache_get(call, m, text, len)) && c->usable) {
			json_decref(call->result);
			call->result = NULL;
			call->raw_pre = c->text;
			call->raw_pre_len = c->pre_len;
			call->raw_mid = c->has_mid ? call->arguments : NULL;
			call->raw_post = c->post;
			call->raw_post_len = c->post_len;
			return 0;
		}
		resp = tool_result(call, m, text, len, json_deep_copy(call->arguments));
		if (!resp)
			return mcpg_call_error(call, MCPG_RPC_INTERNAL, "config",
					       "mock response of '%s' is not valid JSON",
					       call->binding->name);
		json_decref(call->result);
		call->result = resp;
		return 0;
	}
	if (!(resp = mcpg_json_parse(text, len)))
		return mcpg_call_error(call, MCPG_RPC_INTERNAL, "config",
				       "mock response of '%s' is not valid JSON",
				       call->binding->name);
	if (m->passthrough) {
		json_decref(call->result);
		call->result = resp;
		return 0;
	}
	if (json_is_string(resp))
		rc = mcpg_call_ok(call, json_string_value(resp), json_string_length(resp),
				  NULL, "text/plain");
	else
		rc = mcpg_call_ok(call, text, len, NULL, "application/json");
	json_decref(resp);
	return rc;
}
