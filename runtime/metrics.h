/*
 * metrics.h - the runtime's counters and their Prometheus text page.
 *
 * Counters are relaxed atomics in fixed tables (no labels built at run
 * time, no allocation per request).  /metrics renders them on demand:
 *
 *   mcpg_http_requests_total{method,status}    HTTP requests by method and status
 *   mcpg_http_request_duration_seconds         latency histogram (all routes)
 *   mcpg_mcp_requests_total{method}            JSON-RPC requests by MCP method
 *   mcpg_sessions                              open sessions (gauge)
 *   mcpg_sessions_evicted_total                sessions ended by idle eviction
 *   mcpg_sse_streams                           open GET streams (gauge)
 *   mcpg_inflight_requests                     HTTP requests in progress (gauge)
 *   mcpg_backend_errors_total{kind}            backend failures by kind
 *   mcpg_request_timeouts_total                requests that hit request_timeout_ms
 *   mcpg_config_reloads_total                  successful reloads
 *   mcpg_config_reload_failures_total          reloads refused (old config kept)
 *   mcpg_info{version,digest,instance}         1, naming the image being served
 */
#ifndef MCPG_METRICS_H
#define MCPG_METRICS_H

#include <stdint.h>

#include "strbuf.h"

/* The Makefile passes -DMCPG_VERSION; builds that do not (fuzzers) still compile. */
#ifndef MCPG_VERSION
#define MCPG_VERSION "unknown"
#endif

/* HTTP methods we count separately. */
enum mcpg_hm {
	MCPG_HM_GET,
	MCPG_HM_POST,
	MCPG_HM_DELETE,
	MCPG_HM_HEAD,
	MCPG_HM_OTHER,
	MCPG_HM__COUNT
};

/* Count one finished HTTP request. */
void mcpg_metrics_http(enum mcpg_hm method, int status, int64_t duration_us);
/* Count one JSON-RPC request by method name (unknown names count as "other"). */
void mcpg_metrics_mcp(const char *method);
/* A backend error of `kind` ("timeout", "status", ...; NULL counts as "other"). */
void mcpg_metrics_backend_error(const char *kind);
void mcpg_metrics_timeout(void);
void mcpg_metrics_reload(int ok);
/* Gauges: add +1 / -1. */
void mcpg_metrics_sessions(int delta);
void mcpg_metrics_evicted(void);
void mcpg_metrics_streams(int delta);
void mcpg_metrics_inflight(int delta);
int64_t mcpg_metrics_inflight_now(void);

/* Append the Prometheus text page; `digest` is the image being served. */
void mcpg_metrics_render(struct strbuf *out, const char *digest);

#endif /* MCPG_METRICS_H */
