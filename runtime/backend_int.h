/*
 * backend_int.h - what the built-in backends share: backend.c (dispatch,
 * retries, result builders) and backend_mock.c, backend_http.c,
 * backend_command.c.  Nothing outside those files includes it; the rest of
 * the runtime sees only backend.h.
 *
 * RESULT SHAPES (the same for every backend, so clients see one style)
 *
 *   tools/call, success    { content: [{type: "text", text: OUTPUT}],
 *                            structuredContent: OBJECT,   (when OUTPUT is a
 *                                                          JSON object)
 *                            isError: false }
 *   tools/call, failure    { content: [{type: "text", text: "upstream
 *                            returned HTTP 503"},          (what went wrong)
 *                                      {type: "text", text: DETAIL}],
 *                                                          (the body or the
 *                                                          stderr, when not
 *                                                          empty)
 *                            isError: true }
 *   resources/read         { contents: [{uri, mimeType, text}] }, or blob
 *                            (base64) when OUTPUT is not UTF-8
 *   resources/read failure a JSON-RPC error -32603 with the same first line
 *                          (ReadResourceResult has no isError)
 *
 * OUTPUT is the HTTP response body or the command's stdout, as received
 * (invalid UTF-8 replaced by U+FFFD in a text block).  structuredContent is
 * only ever an object, as MCP requires, so a JSON array or scalar body is
 * text only.  The mock has its own default shape (backend_mock.c).
 */
#ifndef MCPG_BACKEND_INT_H
#define MCPG_BACKEND_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "backend.h"
#include "mcpg_config.h"
#include "strbuf.h"

/* How often a blocked backend looks at `cancelled` and the deadline. */
#define MCPG_BACKEND_POLL_MS 10

/* Why a call has to stop (mcpg_call_stopped). */
enum mcpg_stop {
	MCPG_STOP_NO = 0,
	MCPG_STOP_CANCELLED = 1, /* `cancelled` was set */
	MCPG_STOP_DEADLINE = 2,  /* deadline_ms has passed */
};

/* JSON-RPC codes the backends answer with. */
#define MCPG_RPC_INVALID_PARAMS (-32602)
#define MCPG_RPC_INTERNAL (-32603)
#define MCPG_RPC_DENIED (-32003)    /* the caller's identity cannot fill a template */
#define MCPG_RPC_TIMEOUT (-32001)   /* the request's deadline passed */
#define MCPG_RPC_CANCELLED (-32800) /* the caller sends no response for it */

/* MCPG_STOP_* for `call` now. */
int mcpg_call_stopped(const struct mcpg_call *call);

/*
 * Sleep `ms` milliseconds, waking every MCPG_BACKEND_POLL_MS to look at the
 * call.  Returns MCPG_STOP_NO after the full wait, else why it ended early.
 */
int mcpg_call_sleep(const struct mcpg_call *call, int64_t ms);

/* Set the call's JSON-RPC error (no result).  Returns -1. */
int mcpg_call_error(struct mcpg_call *call, int code, const char *kind,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The error for a stop (MCPG_STOP_CANCELLED or _DEADLINE).  Returns -1. */
int mcpg_call_stop(struct mcpg_call *call, int why);

/*
 * The backend ran and failed.  A tool call gets an isError result whose
 * first text block is the message and whose second is `detail` (`len`
 * bytes; omitted when NULL or empty); a resource read gets JSON-RPC error
 * -32603 with the message.  `kind` goes to call->error_kind either way.
 * Returns what mcpg_backend_run() should return (0 or -1).
 */
int mcpg_call_fail(struct mcpg_call *call, const char *kind, const char *detail,
		   size_t len, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * The backend succeeded with `out` (`len` bytes).  Tool call: one text
 * block, plus `structured` as structuredContent when it is an object.
 * Resource read: one contents entry with `mime` (the binding's mimeType
 * wins over it), as text or, when `out` is not UTF-8, as a base64 blob.
 * `structured` is stolen (may be NULL).  Returns 0.
 */
int mcpg_call_ok(struct mcpg_call *call, const char *out, size_t len,
		 json_t *structured, const char *mime);

/*
 * Render request-time template `tmpl` (0 = absent, else 1 + TMPL index) of
 * the call's snapshot into `out` with MCPG_TMPL_* `flags`.  On failure the
 * call's JSON-RPC error is set (-32602 for arguments, -32003 for identity,
 * -32603 for configuration; `what` names the field in the last two) and -1
 * is returned.
 */
int mcpg_call_render(struct mcpg_call *call, uint32_t tmpl, unsigned flags,
		     struct strbuf *out, const char *what);

/* The binding's mimeType (resources and templates), or NULL. */
const char *mcpg_call_mime(const struct mcpg_call *call);

/* Append `v` as JSON indented by two spaces (JSON.stringify(v, null, 2)). */
void mcpg_json_pretty(struct strbuf *sb, const json_t *v);

/* 1 when s[0..len) is well-formed UTF-8 with no NUL byte. */
int mcpg_utf8_valid(const char *s, size_t len);

/* A JSON string of s[0..len): ill-formed UTF-8 becomes U+FFFD (a NUL byte
 * is kept; JSON writes it as \u0000). */
json_t *mcpg_json_text(const char *s, size_t len);

/* Parse s[0..len) as one JSON value (any type), or NULL. */
json_t *mcpg_json_parse(const char *s, size_t len);

/*
 * 1 when an http backend must not connect to `sa` unless private targets
 * are allowed: loopback, private (RFC 1918, fc00::/7), link-local,
 * carrier-grade NAT, unspecified, multicast, broadcast and reserved
 * ranges, IPv4 ones also when mapped into IPv6.  Unknown families count as
 * private.
 */
int mcpg_addr_is_private(const struct sockaddr *sa);

/*
 * Child processes (backend_command.c; also fed_stdio.c): `cmd` itself when
 * it has a '/', else the first executable of that name in `path`
 * (malloc'd), or NULL; a close-on-exec pipe with both ends at fd 3 or above;
 * posix_spawn of `path` in its own process group with in/out/err as fds
 * 0..2, default signal dispositions and nothing else open (an errno value,
 * 0 on success).
 */
char *mcpg_find_program(const char *cmd, const char *path);
int mcpg_make_pipe(int p[2]);
int mcpg_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], int in,
	       int out, int err);

/* The backends (backend_mock.c, backend_command.c). */
int mcpg_backend_mock_run(struct mcpg_call *call, const struct mcpg_mock_backend *m);
int mcpg_backend_command_run(struct mcpg_call *call, const struct mcpg_command_backend *c);

/*
 * The http backend (backend_http.c) in two steps, so that backend.c can
 * retry: prepare renders the request once (a failure sets the call's
 * JSON-RPC error and returns NULL), attempt sends it once and leaves a
 * result or error in the call.
 */
struct mcpg_http_req;

/* What one attempt ended with, for the retry decision. */
struct mcpg_http_outcome {
	int rc;        /* what mcpg_backend_run() would return */
	int status;    /* the unexpected HTTP status, or 0 */
	int transport; /* 1: a connection failure or timeout worth retrying */
};

struct mcpg_http_req *mcpg_http_prepare(struct mcpg_call *call,
					const struct mcpg_http_backend *h);
void mcpg_http_attempt(struct mcpg_call *call, struct mcpg_http_req *req,
		       struct mcpg_http_outcome *out);
void mcpg_http_req_free(struct mcpg_http_req *req);

#endif /* MCPG_BACKEND_INT_H */
