/*
 * fuzz_mcp.c - libFuzzer target for the HTTP request -> JSON-RPC dispatch
 * path of the runtime, in process and without sockets: the bytes after a
 * small header become a POST body (or a GET/DELETE), run through
 * mcpg_mcp_post() / mcpg_mcp_get() / mcpg_mcp_delete() (runtime/mcp.c) on a
 * snapshot loaded by mcpg_rt_load() (runtime/rt.c) from an image the
 * compiler builds at start-up: mock tools, a resource, a resource template
 * and prompts, so every method reaches its real handler and backend.
 *
 * Input layout: byte 0 selects the request shape, byte 1 the header values,
 * the rest is the body.
 *   byte 0 bits 0-1  0 POST, 1 POST, 2 GET (stream check), 3 DELETE
 *           bit 2    Accept lists text/event-stream (SSE framing)
 *           bits 3-4 Mcp-Session-Id: none, the live session, malformed, unknown
 *           bit 5    an MCP-Protocol-Version header (byte 1 picks which)
 *           bit 6    x-mcpg-subject-id (not trusted: no trusted proxy)
 *           bit 7    Last-Event-ID from the body's first bytes (GET)
 *
 * Besides the sanitizers it aborts when an answer breaks the contract: a
 * status outside the set the endpoint uses, a 200 with an empty body, or a
 * GET accepted for a stream without the SSE content type.
 *
 *   make fuzz && tests/fuzz/run fuzz_mcp 60
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "diag.h"
#include "mcp.h"
#include "pool.h"
#include "rt.h"
#include "session.h"
#include "strbuf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config_yaml[] =
	"gateway:\n"
	"  server:\n"
	"    bind_address: \"127.0.0.1:8787\"\n"
	"cluster:\n"
	"  kind: single_node\n"
	"governance:\n"
	"  audit:\n"
	"    enabled: false\n"
	"mcp:\n"
	"  capabilities:\n"
	"    tools:\n"
	"      - name: echo\n"
	"        description: Echo.\n"
	"        governance: {minimum_trust: unauthenticated}\n"
	"        backend: {kind: mock, response: {ok: true}}\n"
	"      - name: fail\n"
	"        description: Fails.\n"
	"        governance: {minimum_trust: unauthenticated}\n"
	"        backend: {kind: mock, error: true, error_message: nope}\n"
	"      - name: raw\n"
	"        description: Passthrough.\n"
	"        governance: {minimum_trust: unauthenticated}\n"
	"        backend: {kind: mock, passthrough: true, response: {content: []}}\n"
	"      - name: hidden\n"
	"        description: Never visible.\n"
	"        governance: {minimum_trust: unauthenticated, allow_if: '\"x\" in identity.groups'}\n"
	"        backend: {kind: mock}\n"
	"    resources:\n"
	"      - name: res\n"
	"        description: Text.\n"
	"        uri: test://static-text\n"
	"        governance: {minimum_trust: unauthenticated}\n"
	"        backend: {kind: mock, response: hello}\n"
	"    resource_templates:\n"
	"      - name: tpl\n"
	"        description: Template.\n"
	"        uri_template: \"test://template/{id}/data/{x}\"\n"
	"        governance: {minimum_trust: unauthenticated}\n"
	"        backend: {kind: mock, response: {t: 1}}\n"
	"    prompts:\n"
	"      - name: greet\n"
	"        description: Greets.\n"
	"        prompt_arguments: [{name: who, required: true}, {name: how}]\n"
	"        messages:\n"
	"          - {text: \"Hello ${arguments.who}\"}\n"
	"          - {role: assistant, text: \"${arguments.how} ${arguments.who}\"}\n"
	"        governance: {minimum_trust: unauthenticated}\n";

static struct mcpg_rt *rt;
static char live_sid[MCPG_SESSION_ID_LEN + 1];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_mcp.XXXXXX", yaml[64], img[64], err[512];
	const char *files[1];
	struct mcc_config cfg;
	struct mcc_diag d;
	struct mcpg_mcp_req in;
	struct strbuf body = STRBUF_INIT;
	struct mcpg_mcp_resp out;
	FILE *f;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(yaml, sizeof(yaml), "%s/c.yaml", dir);
	snprintf(img, sizeof(img), "%s/c.img", dir);
	f = fopen(yaml, "w");
	if (!f || fputs(config_yaml, f) < 0 || fclose(f))
		abort();
	files[0] = yaml;
	memset(&cfg, 0, sizeof(cfg));
	mcc_diag_init(&d, stderr, MCC_DIAG_TEXT);
	if (mcc_compile(&cfg, &mcpg_schema, files, 1, 0, &d))
		abort();
	f = fopen(img, "wb");
	if (!f || fwrite(cfg.bytes, 1, cfg.len, f) != cfg.len || fclose(f))
		abort();
	mcc_config_release(&cfg);
	rt = mcpg_rt_load(img, err, sizeof(err));
	if (!rt) {
		fprintf(stderr, "fuzz_mcp: %s\n", err);
		abort();
	}
	unlink(yaml);
	unlink(img);
	rmdir(dir);
	mcpg_rt_publish(rt);
	if (mcpg_pool_start(1, 4) || mcpg_mcp_init(NULL))
		abort();

	/* One live session for the inputs that name it. */
	memset(&in, 0, sizeof(in));
	in.rid = "init";
	in.body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}";
	in.body_len = strlen(in.body);
	memset(&out, 0, sizeof(out));
	out.body = &body;
	mcpg_mcp_post(rt, &in, &out);
	if (out.status != 200 || !out.session_id[0])
		abort();
	memcpy(live_sid, out.session_id, sizeof(live_sid));
	strbuf_release(&body);
	in.session_id = live_sid;
	in.body = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
	in.body_len = strlen(in.body);
	memset(&out, 0, sizeof(out));
	out.body = &body;
	mcpg_mcp_post(rt, &in, &out);
	strbuf_release(&body);
	if (out.status != 202)
		abort();
	return 0;
}

static const char *const versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", "1999-01-01",
					"", "2025-11-25 " };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcpg_mcp_req in;
	struct mcpg_mcp_resp out;
	struct strbuf body = STRBUF_INIT;
	struct mcpg_session *s;
	char leid[24];
	uint8_t shape, hv;
	int kind;

	if (size < 2)
		return 0;
	shape = data[0];
	hv = data[1];
	data += 2;
	size -= 2;
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	out.body = &body;
	in.rid = "fuzz";
	in.sse = (shape >> 2) & 1;
	switch ((shape >> 3) & 3) {
	case 1:
		in.session_id = live_sid;
		/* Inputs repeat ids: forget them, or most would stop at the reuse rule. */
		if ((s = mcpg_session_get(live_sid))) {
			pthread_mutex_lock(&s->lock);
			s->seen_n = s->seen_head = 0;
			pthread_mutex_unlock(&s->lock);
			mcpg_session_put(s);
		}
		break;
	case 2:
		in.session_id = "not-a-session";
		break;
	case 3:
		in.session_id = "0123456789abcdef0123456789abcdef";
		break;
	}
	if (shape & 0x20)
		in.protocol_version = versions[hv % (sizeof(versions) / sizeof(versions[0]))];
	if (shape & 0x40)
		in.subject = "mallory";
	if (shape & 0x80) {
		size_t n = size < sizeof(leid) - 1 ? size : sizeof(leid) - 1;

		memcpy(leid, data, n);
		leid[n] = '\0';
		in.last_event_id = leid;
	}
	in.body = (const char *)data;
	in.body_len = size;

	kind = shape & 3;
	if (kind == 2) {
		uint64_t cursor;
		struct mcpg_session *s = mcpg_mcp_get(rt, &in, &out, &cursor);

		if (s) {
			/* A stream would start here: 200 with the body still to come. */
			mcpg_session_put(s);
			if (out.status != 200 || !out.sse)
				abort();
			body.len = 0;
			strbuf_addstr(&body, ":");
		}
	} else if (kind == 3) {
		/* Never end the live session: later inputs use it. */
		if (in.session_id != live_sid)
			mcpg_mcp_delete(rt, &in, &out);
		else
			out.status = 204;
	} else {
		mcpg_mcp_post(rt, &in, &out);
	}
	if (out.job) {
		/* No backend here waits, but a job must still be let go. */
		mcpg_job_detach(out.job);
		out.job = NULL;
	}
	if (out.session_id[0]) {
		struct mcpg_session *s = mcpg_session_get(out.session_id);

		if (s) {
			mcpg_session_end(s);
			mcpg_session_put(s);
		}
	}
	switch (out.status) {
	case 200:
		if (!body.len)
			abort();
		break;
	case 202: case 204: case 400: case 404: case 409: case 429:
		break;
	default:
		fprintf(stderr, "fuzz_mcp: unexpected status %d\n", out.status);
		abort();
	}
	strbuf_release(&body);
	return 0;
}
