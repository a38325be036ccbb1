/*
 * metrics.c - counters and the Prometheus exposition (see metrics.h).
 */
#include "metrics.h"

#include <stdatomic.h>
#include <string.h>

#include "audit.h"
#include "cluster.h"
#include "fed.h"
#include "log.h"
#include "ratelimit.h"

static const char *const hm_names[MCPG_HM__COUNT] = { "GET", "POST", "DELETE", "HEAD",
						      "OTHER" };

/* Statuses the gateway answers with; anything else counts in the last row. */
static const int statuses[] = { 200, 202, 204, 400, 403, 404, 405, 406, 408, 409,
				413, 415, 429, 500, 503, 0 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

/* Histogram bounds in microseconds. */
static const int64_t bounds_us[] = { 100, 250, 500, 1000, 2000, 5000, 10000, 25000,
				     50000, 100000, 250000, 500000, 1000000, 2500000,
				     5000000, 10000000 };
#define NBOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))

static const char *const mcp_methods[] = {
	"initialize", "ping", "tools/list", "tools/call", "resources/list",
	"resources/templates/list", "resources/read", "resources/subscribe",
	"resources/unsubscribe", "prompts/list", "prompts/get", "logging/setLevel",
	"completion/complete", "notifications/initialized", "notifications/cancelled",
	"other",
};
#define NMCP (sizeof(mcp_methods) / sizeof(mcp_methods[0]))

/* The kinds the backends report (call->error_kind, runtime/backend*.c). */
static const char *const error_kinds[] = { "timeout", "deadline", "status", "transport",
					   "private", "size", "exit", "spawn", "json", "config",
					   "arguments", "identity", "internal", "mock", "other" };
#define NKINDS (sizeof(error_kinds) / sizeof(error_kinds[0]))

static atomic_uint_fast64_t http_count[MCPG_HM__COUNT][NSTATUS];
static atomic_uint_fast64_t hist[NBOUNDS + 1];
static atomic_uint_fast64_t hist_sum_us;
static atomic_uint_fast64_t mcp_count[NMCP];
static atomic_uint_fast64_t backend_errors[NKINDS];
static atomic_uint_fast64_t timeouts, reloads, reload_failures, evicted;
static atomic_int_fast64_t sessions, streams, inflight;

#define INC(x) atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)

void
mcpg_metrics_http(enum mcpg_hm method, int status, int64_t us)
{
	size_t s, b;

	for (s = 0; s < NSTATUS - 1 && statuses[s] != status; s++)
		;
	INC(http_count[method < MCPG_HM__COUNT ? method : MCPG_HM_OTHER][s]);
	if (us < 0)
		us = 0;
	for (b = 0; b < NBOUNDS && us > bounds_us[b]; b++)
		;
	INC(hist[b]);
	atomic_fetch_add_explicit(&hist_sum_us, (uint64_t)us, memory_order_relaxed);
}

void
mcpg_metrics_mcp(const char *method)
{
	size_t i;

	for (i = 0; i < NMCP - 1 && strcmp(mcp_methods[i], method ? method : ""); i++)
		;
	INC(mcp_count[i]);
}

void
mcpg_metrics_backend_error(const char *kind)
{
	size_t i;

	for (i = 0; i < NKINDS - 1 && strcmp(error_kinds[i], kind ? kind : ""); i++)
		;
	INC(backend_errors[i]);
}

void
mcpg_metrics_timeout(void)
{
	INC(timeouts);
}

void
mcpg_metrics_reload(int ok)
{
	if (ok)
		INC(reloads);
	else
		INC(reload_failures);
}

void
mcpg_metrics_sessions(int delta)
{
	atomic_fetch_add_explicit(&sessions, delta, memory_order_relaxed);
}

void
mcpg_metrics_evicted(void)
{
	INC(evicted);
}

void
mcpg_metrics_streams(int delta)
{
	atomic_fetch_add_explicit(&streams, delta, memory_order_relaxed);
}

void
mcpg_metrics_inflight(int delta)
{
	atomic_fetch_add_explicit(&inflight, delta, memory_order_relaxed);
}

int64_t
mcpg_metrics_inflight_now(void)
{
	return (int64_t)atomic_load(&inflight);
}

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

static void
help(struct strbuf *o, const char *name, const char *type, const char *text)
{
	strbuf_addf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void
mcpg_metrics_render(struct strbuf *o, const char *digest)
{
	unsigned long long cum = 0;

	help(o, "mcpg_http_requests_total", "counter", "HTTP requests by method and status.");
	for (int m = 0; m < MCPG_HM__COUNT; m++)
		for (size_t s = 0; s < NSTATUS; s++) {
			unsigned long long v = LOAD(http_count[m][s]);

			if (!v)
				continue;
			if (statuses[s])
				strbuf_addf(o, "mcpg_http_requests_total{method=\"%s\",status=\"%d\"} %llu\n",
					    hm_names[m], statuses[s], v);
			else
				strbuf_addf(o, "mcpg_http_requests_total{method=\"%s\",status=\"other\"} %llu\n",
					    hm_names[m], v);
		}
	help(o, "mcpg_http_request_duration_seconds", "histogram",
	     "Time from the request line to the response being queued.");
	for (size_t b = 0; b <= NBOUNDS; b++) {
		cum += LOAD(hist[b]);
		if (b < NBOUNDS)
			strbuf_addf(o, "mcpg_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				    (double)bounds_us[b] / 1e6, cum);
		else
			strbuf_addf(o, "mcpg_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				    cum);
	}
	strbuf_addf(o, "mcpg_http_request_duration_seconds_sum %.6f\n",
		    (double)LOAD(hist_sum_us) / 1e6);
	strbuf_addf(o, "mcpg_http_request_duration_seconds_count %llu\n", cum);

	help(o, "mcpg_mcp_requests_total", "counter", "JSON-RPC messages by MCP method.");
	for (size_t i = 0; i < NMCP; i++)
		strbuf_addf(o, "mcpg_mcp_requests_total{method=\"%s\"} %llu\n", mcp_methods[i],
			    LOAD(mcp_count[i]));
	help(o, "mcpg_backend_errors_total", "counter", "Backend failures by kind.");
	for (size_t i = 0; i < NKINDS; i++)
		strbuf_addf(o, "mcpg_backend_errors_total{kind=\"%s\"} %llu\n", error_kinds[i],
			    LOAD(backend_errors[i]));
	help(o, "mcpg_request_timeouts_total", "counter", "Requests that hit request_timeout_ms.");
	strbuf_addf(o, "mcpg_request_timeouts_total %llu\n", LOAD(timeouts));
	help(o, "mcpg_sessions", "gauge", "Open MCP sessions.");
	strbuf_addf(o, "mcpg_sessions %lld\n", (long long)atomic_load(&sessions));
	help(o, "mcpg_sessions_evicted_total", "counter", "Sessions ended by idle eviction.");
	strbuf_addf(o, "mcpg_sessions_evicted_total %llu\n", LOAD(evicted));
	help(o, "mcpg_sse_streams", "gauge", "Open server-to-client SSE streams (GET).");
	strbuf_addf(o, "mcpg_sse_streams %lld\n", (long long)atomic_load(&streams));
	help(o, "mcpg_inflight_requests", "gauge", "HTTP requests in progress.");
	strbuf_addf(o, "mcpg_inflight_requests %lld\n", (long long)atomic_load(&inflight));
	help(o, "mcpg_config_reloads_total", "counter", "Images loaded and published by a reload.");
	strbuf_addf(o, "mcpg_config_reloads_total %llu\n", LOAD(reloads));
	help(o, "mcpg_config_reload_failures_total", "counter",
	     "Reloads refused; the previous image kept serving.");
	strbuf_addf(o, "mcpg_config_reload_failures_total %llu\n", LOAD(reload_failures));
	mcpg_audit_metrics(o);
	mcpg_ratelimit_metrics(o);
	help(o, "mcpg_info", "gauge", "The image being served.");
	strbuf_addf(o, "mcpg_info{version=\"%s\",digest=\"%s\",instance=\"%s\"} 1\n",
		    MCPG_VERSION, digest, mcpg_log_instance());
	mcpg_fed_metrics(o);
	mcpg_cluster_metrics(o);
}
