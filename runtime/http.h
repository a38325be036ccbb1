/*
 * http.h - the HTTP front door: libmicrohttpd, routes, probes, the HTTP
 * checks of the MCP endpoint, SSE streams, drain.
 *
 * One daemon on gateway.server.bind_address with the epoll thread pool (one
 * thread per core) and suspend/resume; a second, single-threaded daemon when
 * the Prometheus sink has its own `bind`.  Routes are fixed at start from
 * the boot image (mcp_path, health_path, /ready, the metrics path): they are
 * restart keys, so a reload that changes them is reported, not applied.
 */
#ifndef MCPG_HTTP_H
#define MCPG_HTTP_H

#include <stddef.h>

#include "rt.h"

/*
 * Bind the listeners of `rt` and start serving (not ready yet: /ready
 * answers 503 until mcpg_http_set_ready(1)).  Returns 0, or -1 with a
 * one-line message in `err`.
 */
int mcpg_http_start(const struct mcpg_rt *rt, char *err, size_t errlen);

/* /ready answers 200 when `ready` and not draining. */
void mcpg_http_set_ready(int ready);

/*
 * Begin draining: /ready turns 503, the listening socket is closed (new
 * connections are refused), SSE streams are ended cleanly.  Requests in
 * progress go on.
 */
void mcpg_http_drain(void);

/* HTTP requests in progress, SSE streams included. */
long mcpg_http_inflight(void);

/* Cancel what is left, resume every suspended connection, stop the daemons. */
void mcpg_http_stop(void);

#endif /* MCPG_HTTP_H */
