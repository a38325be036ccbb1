/*
 * http.c - libmicrohttpd front door (see http.h).
 *
 * The access handler follows libmicrohttpd's call pattern: the first call
 * has the headers only (we take a request context and run the checks that
 * need no body), further calls bring body bytes, and the last call (no
 * bytes) answers.  A normal answer is queued on that last call, never on
 * the first: queueing early makes libmicrohttpd close the connection, which
 * we only want for errors found in the headers (403, 400/406, 415, 413).
 *
 * Request contexts are kept on a per-thread free list (libmicrohttpd calls
 * a connection's callbacks on the thread that owns it), with their body and
 * response buffers, so a request reuses memory instead of allocating it.
 *
 * Calls that wait run as jobs (mcp.h): the handler suspends the connection,
 * the job's wake hook resumes it, and the handler is called again to answer.
 * When a job streams notifications before its result, the answer is a
 * chunked text/event-stream whose reader suspends the connection while the
 * job has nothing new.  GET streams work the same way over the session's
 * event ring, with a keep-alive comment every 15 s.
 */
#include "http.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "fed.h"
#include "format.h"
#include "identity.h"
#include "jsonw.h"
#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "ratelimit.h"
#include "session.h"

#define KEEPALIVE_MS 15000
#define MAX_STREAMS_PER_SESSION 3

enum route { R_NONE, R_MCP, R_HEALTH, R_READY, R_METRICS, R_NOTFOUND };

struct req {
	struct req *next_free;
	struct MHD_Connection *conn;
	struct mcpg_rt *rt;
	enum route route;
	enum mcpg_hm hm;
	int status;          /* what was answered, for logs and metrics */
	int early;           /* an HTTP error found in the headers */
	int early_code;
	const char *early_msg;
	int sse;             /* Accept lists text/event-stream */
	int retry_after;     /* seconds, with a 429 from the rate limiter */
	int answered;
	int64_t t0_us;
	const char *method;  /* MCP method, for the access log */
	char rid[17];
	char path[96];
	struct strbuf body;
	struct strbuf out;
	struct mcpg_job *job;
	struct mcpg_identity ident; /* who is calling (identity.h); MCP route only */
	int have_ident;
	const char *auth_error;     /* with a 401: error_description */
};

struct mcpg_stream {
	struct mcpg_stream *next, *prev;   /* session's streams (session lock) */
	struct mcpg_stream *gnext, *gprev; /* all streams (streams_lock) */
	struct mcpg_session *sess;
	struct MHD_Connection *conn;
	int suspended;                /* session lock */
	int ka_due;                   /* session lock */
	int primed;
	int finished;                 /* a resumed POST stream sent its final message */
	uint64_t stream;              /* 0: the GET stream; else the POST stream it resumes */
	uint64_t cursor;              /* seq of the last event sent */
	size_t epos;                  /* bytes of the next event already sent */
	int64_t last_write_ms;
};

static struct MHD_Daemon *daemon_main, *daemon_metrics;
static int listen_fd = -1, metrics_fd = -1;
static char mcp_path[256], health_path[256], metrics_path[256];
static int metrics_on_main, bind_loopback;
static atomic_int ready, draining, stopping;
static atomic_long inflight;
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mcpg_stream *streams;

/*
 * Client certificates: libmicrohttpd asks for one when given a trust list,
 * but leaves checking it to us.  GnuTLS is libmicrohttpd's own dependency,
 * already loaded; its two functions are looked up at start rather than
 * linked, so mcpg does not link GnuTLS itself.
 */
typedef int (*verify_peers_fn)(gnutls_session_t, unsigned int *);
typedef const gnutls_datum_t *(*get_peers_fn)(gnutls_session_t, unsigned int *);
static verify_peers_fn tls_verify_peers;
static get_peers_fn tls_get_peers;
static int client_cert_mode; /* enum mcpg_client_cert_mode */

static _Thread_local struct req *free_reqs;
static _Thread_local int free_reqs_registered;
static _Thread_local uint64_t rng_state;
static pthread_key_t free_reqs_key;
static pthread_once_t free_reqs_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------------
 * Small helpers
 */

/* A request id: 64 bits of a per-thread xorshift seeded from getrandom. */
static void
new_rid(char out[17])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t x;

	if (!rng_state && (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state) ||
			   !rng_state))
		rng_state = (uint64_t)mcpg_mono_us() | 1;
	x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	x *= 0x2545F4914F6CDD1DULL;
	for (int i = 15; i >= 0; i--, x >>= 4)
		out[i] = hex[x & 15];
	out[16] = '\0';
}

/* At thread exit: free the thread's cached request contexts. */
static void
free_req_list(void *v)
{
	struct req **head = v, *r;

	while ((r = *head)) {
		*head = r->next_free;
		strbuf_release(&r->body);
		strbuf_release(&r->out);
		free(r);
	}
}

static void
make_key(void)
{
	pthread_key_create(&free_reqs_key, free_req_list);
}

static struct req *
req_get(void)
{
	struct req *r = free_reqs;

	if (r) {
		free_reqs = r->next_free;
	} else {
		r = calloc(1, sizeof(*r));
		if (!r)
			return NULL;
		strbuf_init(&r->body, 0);
		strbuf_init(&r->out, 0);
	}
	r->next_free = NULL;
	return r;
}

static void
req_put(struct req *r)
{
	struct strbuf body = r->body, out = r->out;

	/* Keep modest buffers for the next request; give big ones back. */
	if (body.alloc > 65536)
		strbuf_release(&body);
	if (out.alloc > 65536)
		strbuf_release(&out);
	strbuf_reset(&body);
	strbuf_reset(&out);
	memset(r, 0, sizeof(*r));
	r->body = body;
	r->out = out;
	r->next_free = free_reqs;
	free_reqs = r;
	if (!free_reqs_registered) {
		pthread_once(&free_reqs_once, make_key);
		pthread_setspecific(free_reqs_key, &free_reqs);
		free_reqs_registered = 1;
	}
}

static enum mcpg_hm
method_of(const char *m)
{
	if (!strcmp(m, "GET"))
		return MCPG_HM_GET;
	if (!strcmp(m, "POST"))
		return MCPG_HM_POST;
	if (!strcmp(m, "DELETE"))
		return MCPG_HM_DELETE;
	if (!strcmp(m, "HEAD"))
		return MCPG_HM_HEAD;
	return MCPG_HM_OTHER;
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Queue `len` bytes at `body` (which must outlive the response) with `status`. */
static enum MHD_Result
answer(struct req *r, int status, const char *ctype, const char *body, size_t len,
       enum MHD_ResponseMemoryMode mode, const char *session_id, int version_header)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (ctype && !strcmp(ctype, "text/event-stream"))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, "x-mcpg-request-id", r->rid);
	if (session_id && *session_id)
		MHD_add_response_header(resp, "Mcp-Session-Id", session_id);
	if (version_header)
		MHD_add_response_header(resp, "MCP-Protocol-Version", MCPG_PV_LATEST);
	if ((status == 429 || status == 503) && r->retry_after) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%d", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (status == 401 && !r->auth_error) {
		/* No credentials were presented (RFC 6750 3.1): no error code. */
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"mcpg\"");
	} else if (status == 401) {
		char wa[160];

		/* RFC 6750 3: the description is static text without quotes. */
		snprintf(wa, sizeof(wa), "Bearer error=\"invalid_token\", error_description=\"%s\"",
			 r->auth_error);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, wa);
	}
	if (status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					r->route == R_MCP ? "GET, POST, DELETE" : "GET, HEAD");
	rc = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->answered = 1;
	return rc;
}

/* Answer from r->out. */
static enum MHD_Result
answer_out(struct req *r, int status, const char *ctype)
{
	return answer(r, status, ctype, r->out.buf, r->out.len, MHD_RESPMEM_PERSISTENT, NULL, 0);
}

/* An HTTP error with a JSON-RPC error body (id null). */
static enum MHD_Result
answer_error(struct req *r, int status, int code, const char *msg)
{
	strbuf_reset(&r->out);
	if (code) {
		strbuf_addf(&r->out, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,"
				     "\"message\":", code);
		mcpg_jsonw_cstr(&r->out, msg);
		strbuf_addstr(&r->out, "}}");
		return answer_out(r, status, "application/json");
	}
	return answer_out(r, status, NULL);
}

/* ------------------------------------------------------------------------
 * Header checks of the MCP endpoint
 */

/* Lowercase `s` into `buf` and drop trailing dots of the host. */
static int
normalise_origin(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (n >= len)
		return -1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	buf[n] = '\0';
	/* "http://host.:8080" -> "http://host:8080"; "http://host." -> "http://host" */
	{
		char *host = strstr(buf, "://");
		char *colon, *end;

		if (!host)
			return 0;
		host += 3;
		colon = host[0] == '[' ? strchr(host, ']') : strchr(host, ':');
		if (colon && host[0] == '[')
			colon = colon[1] == ':' ? colon + 1 : NULL;
		end = colon ? colon : buf + n;
		while (end > host && end[-1] == '.') {
			memmove(end - 1, end, strlen(end) + 1);
			end--;
		}
	}
	return 0;
}

/* scheme http/https, host localhost / 127.0.0.1 / [::1], optional :digits. */
static int
is_loopback_origin(const char *o)
{
	const char *h;
	static const char *const hosts[] = { "localhost", "127.0.0.1", "[::1]" };

	if (!strncmp(o, "http://", 7))
		h = o + 7;
	else if (!strncmp(o, "https://", 8))
		h = o + 8;
	else
		return 0;
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(hosts[i]);

		if (strncmp(h, hosts[i], n))
			continue;
		h += n;
		if (!*h)
			return 1;
		if (*h != ':' || !h[1])
			return 0;
		for (h++; *h; h++)
			if (*h < '0' || *h > '9')
				return 0;
		return 1;
	}
	return 0;
}

static int
origin_allowed(const struct mcpg_rt *rt, const char *origin)
{
	char norm[512], entry[512];
	uint32_t n;
	const uint32_t *list = mcpg_server_allowed_origins(&rt->img, &rt->cfg->gateway.server, &n);

	if (!origin)
		return 1;
	if (normalise_origin(origin, norm, sizeof(norm)) < 0)
		return 0;
	if (!n)
		return is_loopback_origin(norm);
	for (uint32_t i = 0; i < n; i++)
		if (normalise_origin(mcpg_str(&rt->img, list[i]), entry, sizeof(entry)) == 0 &&
		    !strcmp(norm, entry))
			return 1;
	return 0;
}

/*
 * DNS-rebinding protection: on a loopback listener the Host header must name
 * a loopback host, or the host[:port] of an allowed origin.
 */
static int
host_allowed(const struct mcpg_rt *rt, const char *host)
{
	uint32_t n;
	const uint32_t *list;

	if (!host || !bind_loopback)
		return 1;
	if (mcpg_is_loopback_host(host))
		return 1;
	list = mcpg_server_allowed_origins(&rt->img, &rt->cfg->gateway.server, &n);
	for (uint32_t i = 0; i < n; i++) {
		const char *o = mcpg_str(&rt->img, list[i]), *a = strstr(o, "://");
		size_t hl = strlen(host);

		if (!a)
			continue;
		a += 3;
		while (hl && host[hl - 1] == '.')
			hl--;
		if (strlen(a) == hl && !strncasecmp(a, host, hl))
			return 1;
		/* An origin without a port matches a Host with the default port. */
		if (!strchr(a, ':') && !strncasecmp(a, host, strlen(a)) && host[strlen(a)] == ':')
			return 1;
	}
	return 0;
}

/*
 * Parse Accept: does it admit application/json (also through
 * application/ and wildcard ranges), and does it list text/event-stream?
 * A range with q=0 admits nothing.
 */
static void
parse_accept(const char *s, int *json, int *sse)
{
	*json = *sse = 0;
	while (s && *s) {
		size_t n = strcspn(s, ","), tl;
		const char *semi, *q;
		char type[64];
		int zero = 0;

		semi = memchr(s, ';', n);
		tl = semi ? (size_t)(semi - s) : n;
		while (tl && (s[0] == ' ' || s[0] == '\t'))
			s++, tl--, n--;
		while (tl && (s[tl - 1] == ' ' || s[tl - 1] == '\t'))
			tl--;
		if (semi) {
			for (q = semi; q < s + n; q++)
				if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=' &&
				    (q[-1] == ';' || q[-1] == ' ')) {
					double v = strtod(q + 2, NULL);

					zero = v <= 0;
				}
		}
		if (tl < sizeof(type) && !zero) {
			memcpy(type, s, tl);
			type[tl] = '\0';
			if (!strcasecmp(type, "application/json") || !strcasecmp(type, "application/*") ||
			    !strcmp(type, "*/*"))
				*json = 1;
			if (!strcasecmp(type, "text/event-stream"))
				*sse = 1;
			if (!strcasecmp(type, "text/*") || !strcmp(type, "*/*"))
				*sse |= 2; /* admitted, not asked for */
		}
		s += n;
		if (*s == ',')
			s++;
	}
}

static int
is_json_type(const char *ct)
{
	size_t n;

	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	n = strcspn(ct, "; \t");
	return n == 16 && !strncasecmp(ct, "application/json", 16);
}

static void
set_early(struct req *r, int status, int code, const char *msg)
{
	r->early = status;
	r->early_code = code;
	r->early_msg = msg;
}

static const char *
ident_header(void *ctx, const char *name)
{
	return header(ctx, name);
}

/*
 * A credential was presented and refused (or its issuer's keys are not
 * loaded yet, or the failed-auth limiter said wait): 401 with
 * WWW-Authenticate, 503 or 429.  Never a downgrade to anonymous.  The audit
 * ledger and the limiter see failures through mcpg_auth_hooks (identity.h).
 */
static void
auth_refused(struct req *r, const struct sockaddr *peer, const struct mcpg_auth_result *res)
{
	if (res->outcome != MCPG_AUTH_LIMITED && mcpg_auth_hooks.auth_failed)
		mcpg_auth_hooks.auth_failed(r->rt, r->rid, peer, header(r->conn, "X-Forwarded-For"),
					    res);
	mcpg_log(MCPG_LOG_INFO, r->rid, "authentication failed", "reason", MCPG_LF_STR,
		 res->reason, "credential", MCPG_LF_STR, res->kind, "provider", MCPG_LF_STR,
		 res->provider, NULL);
	r->auth_error = res->reason;
	r->retry_after = res->retry_after;
	set_early(r, res->status, res->status == 429 ? MCPG_RPC_LIMITED : -32000, res->reason);
}

/* Checks that need only the headers, in the order of reference/mcpg.md 5.3. */
static void
check_mcp_headers(struct req *r)
{
	struct MHD_Connection *c = r->conn;
	const char *accept, *cl;
	int json, sse;

	if (r->hm != MCPG_HM_POST && r->hm != MCPG_HM_GET && r->hm != MCPG_HM_DELETE) {
		set_early(r, 405, 0, NULL);
		return;
	}
	{
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		struct mcpg_auth_result res;

		mcpg_identity_authenticate(r->rt, ident_header, c, ci ? ci->client_addr : NULL,
					   &r->ident, &res);
		r->have_ident = 1;
		if (res.outcome != MCPG_AUTH_NONE && res.outcome != MCPG_AUTH_OK) {
			auth_refused(r, ci ? ci->client_addr : NULL, &res);
			return;
		}
	}
	if (r->hm == MCPG_HM_POST && r->rt->cfg->gateway.server.anonymous_rate_limit_per_min &&
	    r->ident.view.trust_level < MCPG_TRUST_VERIFIED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		r->retry_after = mcpg_ratelimit_take(r->rt, ci ? ci->client_addr : NULL,
						     header(c, "X-Forwarded-For"),
						     mcpg_mono_ms());
		if (r->retry_after) {
			set_early(r, 429, MCPG_RPC_LIMITED, "anonymous rate limit exceeded; slow "
							    "down or authenticate");
			return;
		}
	}
	if (!origin_allowed(r->rt, header(c, MHD_HTTP_HEADER_ORIGIN))) {
		set_early(r, 403, -32000, "Origin not allowed");
		return;
	}
	if (!host_allowed(r->rt, header(c, MHD_HTTP_HEADER_HOST))) {
		set_early(r, 403, -32000, "Invalid Host header");
		return;
	}
	accept = header(c, MHD_HTTP_HEADER_ACCEPT);
	parse_accept(accept, &json, &sse);
	r->sse = sse & 1;
	if (r->hm == MCPG_HM_POST) {
		if (!accept) {
			set_early(r, 400, -32000, "Accept must list application/json and "
						  "text/event-stream");
			return;
		}
		if (!json) {
			set_early(r, 406, -32000, "Not Acceptable: the client must accept "
						  "application/json");
			return;
		}
		if (!is_json_type(header(c, MHD_HTTP_HEADER_CONTENT_TYPE))) {
			set_early(r, 415, -32000, "Unsupported Media Type: Content-Type must be "
						  "application/json");
			return;
		}
		cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) >
				  r->rt->cfg->gateway.server.max_request_body_mb * 1024 * 1024) {
			set_early(r, 413, -32000, "Payload Too Large");
			return;
		}
	} else if (r->hm == MCPG_HM_GET) {
		if (!accept) {
			set_early(r, 400, -32000, "Accept must list text/event-stream");
			return;
		}
		if (!sse) {
			set_early(r, 406, -32000, "Not Acceptable: the client must accept "
						  "text/event-stream");
			return;
		}
	}
}

static void
fill_mcp_req(struct req *r, struct mcpg_mcp_req *in)
{
	struct MHD_Connection *c = r->conn;
	const union MHD_ConnectionInfo *ci;

	memset(in, 0, sizeof(*in));
	in->rid = r->rid;
	in->session_id = header(c, "Mcp-Session-Id");
	in->protocol_version = header(c, "MCP-Protocol-Version");
	in->subject = header(c, "x-mcpg-subject-id");
	in->last_event_id = header(c, MHD_HTTP_HEADER_LAST_EVENT_ID);
	if (in->subject) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		in->peer = ci ? ci->client_addr : NULL;
	}
	in->ident = r->have_ident ? &r->ident : NULL;
	in->sse = r->sse;
	in->body = r->body.buf;
	in->body_len = r->body.len;
}

/* ------------------------------------------------------------------------
 * Jobs: suspended POSTs
 */

static void
wake_job(struct mcpg_job *j)
{
	if (j->suspended && j->conn) {
		j->suspended = 0;
		MHD_resume_connection(j->conn);
	}
}

/*
 * The housekeeper's probe of a suspended job's connection (job lock held, so
 * the connection stays suspended and alive): the peer closed or reset it.  A
 * readable socket is EOF only when a peek reads nothing; pipelined bytes of a
 * next request are left for libmicrohttpd.
 */
static int
conn_gone(struct mcpg_job *j)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(j->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pollfd p = { .events = POLLIN | POLLRDHUP };
	char c;

	if (!ci || ci->connect_fd == MHD_INVALID_SOCKET)
		return 0;
	p.fd = ci->connect_fd;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
		return 1;
	return (p.revents & POLLIN) && recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * Answer `r` with 200 and an SSE body that `reader` produces (`block` bytes
 * at a time) until it ends; `done` frees `cls` afterwards.  -1 when the
 * response cannot be made (then `done` was not called).
 */
static int
queue_stream(struct req *r, size_t block, MHD_ContentReaderCallback reader, void *cls,
	     MHD_ContentReaderFreeCallback done)
{
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, block, reader, cls, done);

	if (!resp)
		return -1;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, "x-mcpg-request-id", r->rid);
	r->status = 200;
	r->answered = 1;
	MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return 0;
}

static ssize_t
job_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct mcpg_job *j = cls;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&j->lock);
	if (j->out.len > j->taken) {
		size_t k = j->out.len - j->taken < max ? j->out.len - j->taken : max;

		memcpy(buf, j->out.buf + j->taken, k);
		j->taken += k;
		if (j->taken == j->out.len) {
			strbuf_reset(&j->out);
			j->taken = 0;
		}
		n = (ssize_t)k;
	} else if (j->state != MCPG_JOB_RUNNING || !j->conn || j->close_stream) {
		/* Done, or ended early on purpose: the client resumes with GET. */
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		j->suspended = 1;
		MHD_suspend_connection(j->conn);
		n = 0;
	}
	pthread_mutex_unlock(&j->lock);
	return n;
}

static void
job_reader_free(void *cls)
{
	mcpg_job_put(cls);
}

/* Called on the last handler call and after every resume of a job's request. */
static enum MHD_Result
job_answer(struct req *r)
{
	struct mcpg_job *j = r->job;
	int stream = 0, status = 200, state;
	const char *ctype;

	pthread_mutex_lock(&j->lock);
	j->conn = r->conn;
	if (atomic_load(&stopping) && j->state == MCPG_JOB_RUNNING && !j->final) {
		/* Nothing may stay suspended once the daemon is being stopped. */
		j->state = MCPG_JOB_CANCELLED;
		j->final = 1;
		atomic_store(&j->call.cancelled, 1);
	}
	state = j->state;
	if (state == MCPG_JOB_RUNNING && !(j->sse && j->nnotes)) {
		j->suspended = 1;
		MHD_suspend_connection(r->conn);
		pthread_mutex_unlock(&j->lock);
		return MHD_YES;
	}
	if (state == MCPG_JOB_RUNNING) {
		stream = 1;
		j->streaming = 1;
		atomic_fetch_add(&j->refs, 1);
	} else {
		strbuf_reset(&r->out);
		strbuf_add(&r->out, j->out.buf, j->out.len);
		strbuf_reset(&j->out);
	}
	pthread_mutex_unlock(&j->lock);

	if (stream) {
		if (queue_stream(r, 32768, job_reader, j, job_reader_free) < 0) {
			mcpg_job_put(j);
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (state == MCPG_JOB_CANCELLED) {
		/* No JSON-RPC response for a cancelled request; end the HTTP exchange. */
		strbuf_reset(&r->out);
		return answer_out(r, 202, NULL);
	}
	if (state == MCPG_JOB_TIMEOUT && j->timeout_408) {
		strbuf_reset(&r->out);
		return answer_out(r, 408, NULL);
	}
	ctype = j->sse ? "text/event-stream" : "application/json";
	return answer(r, status, ctype, r->out.buf, r->out.len, MHD_RESPMEM_PERSISTENT, NULL, 0);
}

/* ------------------------------------------------------------------------
 * GET streams
 */

static void
wake_streams(struct mcpg_session *s)
{
	for (struct mcpg_stream *st = s->streams; st; st = st->next)
		if (st->suspended) {
			st->suspended = 0;
			MHD_resume_connection(st->conn);
		}
}

static ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct mcpg_stream *st = cls;
	struct mcpg_session *s = st->sess;
	const struct mcpg_event *e;
	ssize_t n = 0;
	int gap;

	(void)pos;
	pthread_mutex_lock(&s->lock);
	if (!st->primed) {
		static const char prime[] = ": mcpg stream\n\n";

		st->primed = 1;
		memcpy(buf, prime, sizeof(prime) - 1);
		n = (ssize_t)sizeof(prime) - 1;
	} else if (!st->finished &&
		   (e = mcpg_session_next_event_on(s, st->stream, st->cursor, &gap))) {
		size_t k = e->len - st->epos;

		if (k > max)
			k = max;
		memcpy(buf, e->data + st->epos, k);
		st->epos += k;
		if (st->epos == e->len) {
			st->cursor = e->seq;
			st->epos = 0;
			st->finished = e->last;
		}
		n = (ssize_t)k;
	} else if (s->ended || atomic_load(&draining) || st->finished ||
		   (st->stream && mcpg_session_stream_done(s, st->stream))) {
		/* A resumed POST stream ends after its final message. */
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else if (st->ka_due) {
		st->ka_due = 0;
		memcpy(buf, ":\n\n", 3);
		n = 3;
	} else {
		st->suspended = 1;
		MHD_suspend_connection(st->conn);
	}
	if (n > 0)
		st->last_write_ms = mcpg_mono_ms();
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void
stream_free(void *cls)
{
	struct mcpg_stream *st = cls;
	struct mcpg_session *s = st->sess;

	pthread_mutex_lock(&s->lock);
	if (st->prev)
		st->prev->next = st->next;
	else if (s->streams == st)
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	s->nstreams--;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&streams_lock);
	if (st->gprev)
		st->gprev->gnext = st->gnext;
	else if (streams == st)
		streams = st->gnext;
	if (st->gnext)
		st->gnext->gprev = st->gprev;
	pthread_mutex_unlock(&streams_lock);
	mcpg_session_touch(s);
	mcpg_session_put(s);
	mcpg_metrics_streams(-1);
	free(st);
}

static void
tick(int64_t now)
{
	pthread_mutex_lock(&streams_lock);
	for (struct mcpg_stream *st = streams; st; st = st->gnext) {
		pthread_mutex_lock(&st->sess->lock);
		if (now - st->last_write_ms >= KEEPALIVE_MS) {
			st->ka_due = 1;
			if (st->suspended) {
				st->suspended = 0;
				MHD_resume_connection(st->conn);
			}
		}
		/* An open stream keeps its session alive. */
		atomic_store(&st->sess->last_used_ms, now);
		pthread_mutex_unlock(&st->sess->lock);
	}
	pthread_mutex_unlock(&streams_lock);
}

static enum MHD_Result
open_stream(struct req *r)
{
	struct mcpg_mcp_req in;
	struct mcpg_mcp_resp out = { .body = &r->out };
	struct mcpg_session *s;
	struct mcpg_stream *st;
	uint64_t cursor = 0;

	if (atomic_load(&draining))
		return answer_error(r, 503, -32000, "server is shutting down");
	strbuf_reset(&r->out);
	fill_mcp_req(r, &in);
	s = mcpg_mcp_get(r->rt, &in, &out, &cursor);
	r->method = out.method;
	if (!s)
		return answer(r, out.status, "application/json", r->out.buf, r->out.len,
			      MHD_RESPMEM_PERSISTENT, NULL, out.version_header);
	st = calloc(1, sizeof(*st));
	if (!st) {
		mcpg_session_put(s);
		return answer_error(r, 500, -32603, "out of memory");
	}
	pthread_mutex_lock(&s->lock);
	if (s->nstreams >= MAX_STREAMS_PER_SESSION || s->ended) {
		int ended = s->ended;

		pthread_mutex_unlock(&s->lock);
		mcpg_session_put(s);
		free(st);
		return ended ? answer_error(r, 404, MCPG_RPC_SESSION_NOT_FOUND, "session not found")
			     : answer_error(r, 429, -32000, "too many streams for this session");
	}
	st->sess = s;
	st->conn = r->conn;
	st->cursor = cursor;
	st->stream = out.stream;
	st->last_write_ms = mcpg_mono_ms();
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	s->nstreams++;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&streams_lock);
	st->gnext = streams;
	if (streams)
		streams->gprev = st;
	streams = st;
	pthread_mutex_unlock(&streams_lock);
	mcpg_metrics_streams(1);

	if (queue_stream(r, 4096, stream_reader, st, stream_free) < 0) {
		stream_free(st);
		return MHD_NO;
	}
	return MHD_YES;
}

/* ------------------------------------------------------------------------
 * Routes
 */

static enum MHD_Result
serve_mcp(struct req *r)
{
	struct mcpg_mcp_req in;
	struct mcpg_mcp_resp out = { .body = &r->out };

	if (r->hm == MCPG_HM_GET)
		return open_stream(r);
	strbuf_reset(&r->out);
	fill_mcp_req(r, &in);
	if (r->hm == MCPG_HM_DELETE)
		mcpg_mcp_delete(r->rt, &in, &out);
	else
		mcpg_mcp_post(r->rt, &in, &out);
	r->method = out.method;
	if (out.job) {
		r->job = out.job;
		return job_answer(r);
	}
	if (out.status == 202 || out.status == 204)
		return answer(r, out.status, NULL, "", 0, MHD_RESPMEM_PERSISTENT, NULL, 0);
	return answer(r, out.status, out.sse ? "text/event-stream" : "application/json",
		      r->out.buf, r->out.len, MHD_RESPMEM_PERSISTENT, out.session_id,
		      out.version_header);
}

static enum MHD_Result
serve_health(struct req *r)
{
	strbuf_reset(&r->out);
	strbuf_addf(&r->out, "{\"status\":\"ok\",\"service\":\"mcpg\",\"version\":\"%s\","
			     "\"instance\":\"%s\",\"image\":{\"sha256\":\"%s\"}}",
		    MCPG_VERSION, mcpg_log_instance(), r->rt->img.digest_hex);
	return answer_out(r, 200, "application/json");
}

static enum MHD_Result
serve_ready(struct req *r)
{
	/*
	 * Not ready until every OIDC provider / JWKS url has a key set, and
	 * while the cluster coordinator is out of reach.
	 */
	int ok = atomic_load(&ready) && !atomic_load(&draining) && mcpg_identity_ready(r->rt) &&
		 mcpg_cluster_ready();
	char cluster[320];

	mcpg_cluster_status(cluster, sizeof(cluster));
	strbuf_reset(&r->out);
	strbuf_addf(&r->out, "{\"status\":\"%s\",\"image\":{\"sha256\":\"%s\"},"
			     "\"generation\":%llu,\"sessions\":%zu,\"cluster\":",
		    ok ? "ready" : atomic_load(&draining) ? "draining" : "not_ready",
		    r->rt->img.digest_hex, (unsigned long long)r->rt->generation,
		    mcpg_sessions_count());
	mcpg_jsonw_cstr(&r->out, cluster);
	mcpg_fed_ready_json(&r->out);
	strbuf_addch(&r->out, '}');
	return answer_out(r, ok ? 200 : 503, "application/json");
}

static enum MHD_Result
serve_metrics(struct req *r)
{
	const struct mcpg_observability *o = &r->rt->cfg->observability;

	strbuf_reset(&r->out);
	if (!o->enabled || !o->metrics.enabled) {
		/* Turned off by a reload: the route stays, the page goes. */
		strbuf_addstr(&r->out, "{\"error\":\"not found\"}");
		return answer_out(r, 404, "application/json");
	}
	mcpg_metrics_render(&r->out, r->rt->img.digest_hex);
	return answer_out(r, 200, "text/plain; version=0.0.4; charset=utf-8");
}

static void
classify(struct req *r, const char *url)
{
	if (!strcmp(url, mcp_path))
		r->route = R_MCP;
	else if (!strcmp(url, health_path))
		r->route = R_HEALTH;
	else if (!strcmp(url, "/ready"))
		r->route = R_READY;
	else if (metrics_on_main && !strcmp(url, metrics_path))
		r->route = R_METRICS;
	else
		r->route = R_NOTFOUND;
}

/* The connection's client certificate satisfies client_cert_required. */
static int
client_cert_ok(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	unsigned int n = 0, status = 0;

	if (!ci || !ci->tls_session)
		return 0;
	if (!tls_get_peers(ci->tls_session, &n) || !n)
		return client_cert_mode == MCPG_CLIENT_CERT_MODE_OPTIONAL;
	return tls_verify_peers(ci->tls_session, &status) == 0 && status == 0;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
	struct req *r = *req_cls;

	(void)cls;
	(void)version;
	if (!r) {
		r = req_get();
		if (!r)
			return MHD_NO;
		*req_cls = r;
		r->conn = conn;
		r->t0_us = mcpg_mono_us();
		new_rid(r->rid);
		{
			size_t n = strnlen(url, sizeof(r->path) - 1);

			memcpy(r->path, url, n);
			r->path[n] = '\0';
		}
		r->hm = method_of(method);
		r->rt = mcpg_rt_acquire();
		atomic_fetch_add(&inflight, 1);
		mcpg_metrics_inflight(1);
		classify(r, url);
		if (client_cert_mode != MCPG_CLIENT_CERT_MODE_NONE && !client_cert_ok(conn))
			return answer_error(r, 403, -32000, "client certificate required or not trusted");
		if (r->route == R_MCP)
			check_mcp_headers(r);
		if (r->early && r->early != 405)
			return answer_error(r, r->early, r->early_code, r->early_msg);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->answered && r->route == R_MCP && r->hm == MCPG_HM_POST) {
			uint64_t max = r->rt->cfg->gateway.server.max_request_body_mb * 1024 * 1024;

			if (r->body.len + *upload_size > max) {
				*upload_size = 0;
				/* Too late to answer cleanly with a body on its way: close. */
				if (answer_error(r, 413, -32000, "Payload Too Large") != MHD_YES)
					return MHD_NO;
				return MHD_YES;
			}
			strbuf_add(&r->body, upload_data, *upload_size);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->job)
		return job_answer(r);
	if (r->answered)
		return MHD_YES;
	switch (r->route) {
	case R_MCP:
		if (r->early)
			return answer_error(r, r->early, r->early_code, r->early_msg);
		if (atomic_load(&stopping))
			return answer_error(r, 503, -32000, "server is shutting down");
		return serve_mcp(r);
	case R_HEALTH:
	case R_READY:
	case R_METRICS:
		if (r->hm != MCPG_HM_GET && r->hm != MCPG_HM_HEAD)
			return answer_error(r, 405, 0, NULL);
		return r->route == R_HEALTH ? serve_health(r)
		       : r->route == R_READY ? serve_ready(r) : serve_metrics(r);
	default:
		strbuf_reset(&r->out);
		strbuf_addstr(&r->out, "{\"error\":\"not found\"}");
		return answer_out(r, 404, "application/json");
	}
}

static void
completed(void *cls, struct MHD_Connection *conn, void **req_cls,
	  enum MHD_RequestTerminationCode toe)
{
	struct req *r = *req_cls;
	int64_t dur;

	(void)cls;
	(void)conn;
	if (!r)
		return;
	*req_cls = NULL;
	dur = mcpg_mono_us() - r->t0_us;
	if (!r->answered)
		r->status = 499; /* the client went away first */
	mcpg_metrics_http(r->hm, r->status, dur);
	if (r->rt && r->rt->cfg->gateway.server.access_log && mcpg_log_enabled(MCPG_LOG_INFO))
		mcpg_log(MCPG_LOG_INFO, r->rid, "request", "method", MCPG_LF_STR,
			 r->hm == MCPG_HM_GET ? "GET" : r->hm == MCPG_HM_POST ? "POST"
			 : r->hm == MCPG_HM_DELETE ? "DELETE" : r->hm == MCPG_HM_HEAD ? "HEAD"
										: "OTHER",
			 "path", MCPG_LF_STR, r->path, "status", MCPG_LF_I64, (int64_t)r->status,
			 "duration_ms", MCPG_LF_DBL, (double)dur / 1000.0, "rpc", MCPG_LF_STR,
			 r->method, "completed", MCPG_LF_BOOL,
			 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK, NULL);
	if (r->job) {
		mcpg_job_detach(r->job);
		r->job = NULL;
	}
	if (r->have_ident)
		mcpg_identity_release(&r->ident);
	mcpg_rt_release(r->rt);
	r->rt = NULL;
	atomic_fetch_sub(&inflight, 1);
	mcpg_metrics_inflight(-1);
	req_put(r);
}

/* The metrics-only listener. */
static enum MHD_Result
metrics_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		const char *version, const char *upload_data, size_t *upload_size,
		void **req_cls)
{
	static int first;
	struct MHD_Response *resp;
	struct strbuf sb = STRBUF_INIT;
	struct mcpg_rt *rt;
	enum MHD_Result rc;
	int status = 200;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (!*req_cls) {
		*req_cls = &first;
		return MHD_YES;
	}
	*upload_size = 0;
	rt = mcpg_rt_acquire();
	if (strcmp(url, metrics_path))
		status = 404, strbuf_addstr(&sb, "not found\n");
	else if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		status = 405;
	else
		mcpg_metrics_render(&sb, rt->img.digest_hex);
	mcpg_rt_release(rt);
	{
		size_t len;
		char *text = strbuf_detach(&sb, &len);

		resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* ------------------------------------------------------------------------
 * Listening
 */

/* Bind and listen on "host:port" or "[v6]:port"; -1 with a message. */
static int
listen_on(const char *addr, int *is_v6, char *err, size_t errlen)
{
	char host[256];
	const char *port, *colon;
	struct addrinfo hints, *res = NULL;
	int fd, one = 1, rc;

	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':' || (size_t)(end - addr - 1) >= sizeof(host))
			goto bad;
		memcpy(host, addr + 1, (size_t)(end - addr - 1));
		host[end - addr - 1] = '\0';
		port = end + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host))
			goto bad;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		port = colon + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve '%s': %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on '%s': %s", addr, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
		snprintf(err, errlen, "cannot listen on '%s': %s", addr, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	*is_v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return fd;
bad:
	snprintf(err, errlen, "cannot listen on '%s': not host:port", addr);
	return -1;
}

static char *
read_file(const char *key, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	if (!f) {
		snprintf(err, errlen, "'%s': cannot open '%s': %s", key, path, strerror(errno));
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

/* The private key's bytes do not stay behind in freed memory. */
static void
free_secret(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/*
 * Listener TLS (gateway.server.tls, restart keys): read the certificate
 * chain, the key and, for client certificates, the CA bundle, and check
 * them with OpenSSL first, so a wrong file is one line naming the key
 * rather than libmicrohttpd's bare refusal to start.  A libmicrohttpd built
 * without HTTPS (the static build) cannot serve TLS at all: refuse.
 */
static int
tls_load(const struct mcpg_image *img, const struct mcpg_server_tls *tls, char **cert,
	 char **key, char **ca, char *err, size_t errlen)
{
	const char *why = NULL;
	BIO *bio;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;

	*cert = *key = *ca = NULL;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "'gateway.server.tls': this mcpg was built with a "
				      "libmicrohttpd without HTTPS; terminate TLS in front of it");
		return -1;
	}
	*cert = read_file("gateway.server.tls.cert_path", mcpg_server_tls_cert_path(img, tls), err,
			  errlen);
	*key = *cert ? read_file("gateway.server.tls.key_path", mcpg_server_tls_key_path(img, tls),
				 err, errlen) : NULL;
	if (!*key)
		goto fail;
	bio = BIO_new_mem_buf(*cert, -1);
	x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	bio = BIO_new_mem_buf(*key, -1);
	pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!x)
		why = "holds no PEM certificate";
	else if (!pk)
		why = "holds no PEM private key (or it is encrypted)";
	else if (X509_check_private_key(x, pk) != 1)
		why = "is not the private key of the certificate";
	if (why)
		snprintf(err, errlen, "'gateway.server.tls.%s': '%s' %s", x ? "key_path" : "cert_path",
			 x ? mcpg_server_tls_key_path(img, tls) : mcpg_server_tls_cert_path(img, tls),
			 why);
	X509_free(x);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	if (why)
		goto fail;
	client_cert_mode = tls->client_cert_required;
	if (client_cert_mode != MCPG_CLIENT_CERT_MODE_NONE) {
		tls_verify_peers = (verify_peers_fn)dlsym(RTLD_DEFAULT,
							  "gnutls_certificate_verify_peers2");
		tls_get_peers = (get_peers_fn)dlsym(RTLD_DEFAULT, "gnutls_certificate_get_peers");
		*ca = read_file("gateway.server.tls.client_ca_certs_path",
				mcpg_str(img, tls->client_ca_certs_path), err, errlen);
		if (!*ca)
			goto fail;
		if (!tls_verify_peers || !tls_get_peers) {
			snprintf(err, errlen, "client certificates: GnuTLS functions not found");
			goto fail;
		}
	}
	return 0;
fail:
	free(*cert);
	free_secret(*key);
	free(*ca);
	*cert = *key = *ca = NULL;
	return -1;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* libmicrohttpd's own messages become debug lines. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	mcpg_log(MCPG_LOG_DEBUG, NULL, "libmicrohttpd", "detail", MCPG_LF_STR, buf, NULL);
}

int
mcpg_http_start(const struct mcpg_rt *rt, char *err, size_t errlen)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_server *srv = &rt->cfg->gateway.server;
	const struct mcpg_observability *o = &rt->cfg->observability;
	const struct mcpg_server_tls *tls = mcpg_server_tls(img, srv);
	const struct mcpg_prometheus_sink *prom = NULL;
	const char *bind_addr = mcpg_server_bind_address(img, srv);
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct rlimit rl;
	unsigned conn_limit = 10000;
	char *cert = NULL, *key = NULL, *ca = NULL;
	int v6 = 0;
	uint32_t ns;
	const struct mcpg_union_slot *sinks;
	static struct mcpg_mcp_hooks hooks = { wake_job, wake_streams, tick, conn_gone };

	snprintf(mcp_path, sizeof(mcp_path), "%s", mcpg_server_mcp_path(img, srv));
	snprintf(health_path, sizeof(health_path), "%s", mcpg_server_health_path(img, srv));
	sinks = mcpg_metrics_sinks(img, &o->metrics, &ns);
	if (o->enabled && o->metrics.enabled && ns)
		prom = mcpg_metrics_sink_prometheus(img, sinks);
	if (prom) {
		snprintf(metrics_path, sizeof(metrics_path), "%s",
			 mcpg_prometheus_sink_path(img, prom));
		metrics_on_main = !prom->bind;
	}
	bind_loopback = mcpg_is_loopback_host(bind_addr);

	/* Room for many connections (SSE streams stay open). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < conn_limit + 64)
			conn_limit = rl.rlim_cur > 128 ? (unsigned)rl.rlim_cur - 64 : 64;
	}
	if (mcpg_mcp_init(&hooks) < 0) {
		snprintf(err, errlen, "cannot start the housekeeping thread");
		return -1;
	}
	listen_fd = listen_on(bind_addr, &v6, err, errlen);
	if (listen_fd < 0)
		return -1;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (tls) {
		if (tls_load(img, tls, &cert, &key, &ca, err, errlen) < 0) {
			close(listen_fd);
			listen_fd = -1;
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	daemon_main = MHD_start_daemon(
		flags, 0, NULL, NULL, handler, NULL,
		MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(ncpu > 0 ? ncpu : 1),
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
		MHD_OPTION_CONNECTION_LIMIT, conn_limit,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
		tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
		MHD_OPTION_HTTPS_MEM_KEY, key,
		MHD_OPTION_HTTPS_PRIORITIES,
		tls && tls->min_tls_version == MCPG_TLS_VERSION_V1_3
			? "NORMAL:-VERS-ALL:+VERS-TLS1.3"
			: "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
		ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, ca,
		MHD_OPTION_END);
	free(cert);
	free_secret(key);
	free(ca);
	if (!daemon_main) {
		snprintf(err, errlen, "cannot start the HTTP server on '%s'", bind_addr);
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	if (prom && prom->bind) {
		const char *mb = mcpg_prometheus_sink_bind(img, prom);
		int mv6 = 0;

		metrics_fd = listen_on(mb, &mv6, err, errlen);
		if (metrics_fd < 0)
			return -1;
		daemon_metrics = MHD_start_daemon(
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
				(mv6 ? MHD_USE_IPv6 : 0),
			0, NULL, NULL, metrics_handler, NULL, MHD_OPTION_LISTEN_SOCKET, metrics_fd,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
		if (!daemon_metrics) {
			snprintf(err, errlen, "cannot start the metrics server on '%s'", mb);
			return -1;
		}
	}
	return 0;
}

void
mcpg_http_set_ready(int r)
{
	atomic_store(&ready, r);
}

void
mcpg_http_drain(void)
{
	atomic_store(&draining, 1);
	if (daemon_main && listen_fd >= 0) {
		MHD_socket fd = MHD_quiesce_daemon(daemon_main);

		if (fd != MHD_INVALID_SOCKET)
			close(fd);
		listen_fd = -1;
	}
	if (daemon_metrics && metrics_fd >= 0) {
		MHD_socket fd = MHD_quiesce_daemon(daemon_metrics);

		if (fd != MHD_INVALID_SOCKET)
			close(fd);
		metrics_fd = -1;
	}
	/* End the GET streams: their readers see `draining` once resumed. */
	pthread_mutex_lock(&streams_lock);
	for (struct mcpg_stream *st = streams; st; st = st->gnext) {
		pthread_mutex_lock(&st->sess->lock);
		if (st->suspended) {
			st->suspended = 0;
			MHD_resume_connection(st->conn);
		}
		pthread_mutex_unlock(&st->sess->lock);
	}
	pthread_mutex_unlock(&streams_lock);
}

long
mcpg_http_inflight(void)
{
	return atomic_load(&inflight);
}

void
mcpg_http_stop(void)
{
	/* Every suspended connection must be resumed before MHD_stop_daemon. */
	atomic_store(&draining, 1);
	atomic_store(&stopping, 1);
	mcpg_mcp_cancel_all();
	mcpg_sessions_end_all();
	mcpg_http_drain();
	if (daemon_metrics)
		MHD_stop_daemon(daemon_metrics);
	if (daemon_main)
		MHD_stop_daemon(daemon_main);
	daemon_main = daemon_metrics = NULL;
	mcpg_mcp_shutdown();
}
