/*
 * backend_http.c - backend.kind: http, one outbound request per attempt
 * with libcurl (schema struct http_backend; reference/mcpg.md section 3.6).
 *
 * backend.c calls mcpg_http_prepare() once per call, then
 * mcpg_http_attempt() once per attempt of the retry block.
 *
 * Request.  The url template is rendered in URL mode (request values
 * percent-encoded) and header values in header mode (CR, LF and other
 * control bytes refused).  get appends the arguments as query parameters,
 * key=value with both percent-encoded, a string as its text and any other
 * value as compact JSON; post sends the arguments as one compact JSON object
 * with Content-Type: application/json unless a configured header sets it.
 * No proxy from the environment is used, only http and https are spoken and
 * redirects are not followed: a 3xx is an unexpected status like any other.
 *
 * Private targets.  Unless allowed (the binding's allow_private_backends,
 * else gateway.server's), every address curl is about to connect to is
 * checked in CURLOPT_OPENSOCKETFUNCTION, after DNS resolution, so a name
 * that resolves (or re-resolves) to 127.0.0.1 cannot get around the check.
 * Connections are kept alive per worker thread in two separate pools, one
 * for bindings that may reach private targets and one for those that may
 * not, so a connection opened under the first is never reused under the
 * second.
 *
 * Cancellation.  The transfer runs on a per-thread multi handle polled every
 * MCPG_BACKEND_POLL_MS; a cancelled call or a passed deadline removes the
 * handle, which aborts the transfer and closes its connection.
 *
 * Result.  The body is the text block; when it is a JSON object it is also
 * structuredContent (shapes in backend_int.h).  Failures are tool errors:
 * "upstream returned HTTP 503" (the body as the second block), "timeout
 * after 2000 ms", "response larger than 4096 bytes", "target 127.0.0.1 is a
 * private address", "upstream response is not JSON", "request failed: ...".
 */
#include "backend_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "template.h"

#ifndef MCPG_VERSION
#define MCPG_VERSION "0"
#endif

/* ------------------------------------------------------------------------
 * Private addresses
 */

static int
v4_private(uint32_t a)
{
	static const struct {
		uint32_t net, mask;
	} nets[] = {
		{ 0x00000000, 0xff000000 }, /* 0.0.0.0/8 "this network" */
		{ 0x0a000000, 0xff000000 }, /* 10.0.0.0/8 */
		{ 0x64400000, 0xffc00000 }, /* 100.64.0.0/10 carrier-grade NAT */
		{ 0x7f000000, 0xff000000 }, /* 127.0.0.0/8 loopback */
		{ 0xa9fe0000, 0xffff0000 }, /* 169.254.0.0/16 link-local (cloud metadata) */
		{ 0xac100000, 0xfff00000 }, /* 172.16.0.0/12 */
		{ 0xc0000000, 0xffffff00 }, /* 192.0.0.0/24 IETF protocol assignments */
		{ 0xc0000200, 0xffffff00 }, /* 192.0.2.0/24 documentation */
		{ 0xc0a80000, 0xffff0000 }, /* 192.168.0.0/16 */
		{ 0xc6120000, 0xfffe0000 }, /* 198.18.0.0/15 benchmarking */
		{ 0xc6336400, 0xffffff00 }, /* 198.51.100.0/24 documentation */
		{ 0xcb007100, 0xffffff00 }, /* 203.0.113.0/24 documentation */
		{ 0xe0000000, 0xf0000000 }, /* 224.0.0.0/4 multicast */
		{ 0xf0000000, 0xf0000000 }, /* 240.0.0.0/4 reserved, broadcast */
	};

	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if ((a & nets[i].mask) == nets[i].net)
			return 1;
	return 0;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
v6_private(const unsigned char *a)
{
	static const unsigned char zero[12], mapped[12] = { [10] = 0xff, [11] = 0xff },
					     nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	/* IPv4 inside IPv6: mapped ::ffff:0:0/96, NAT64 64:ff9b::/96. */
	if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12))
		return v4_private(be32(a + 12));
	/* 6to4 2002::/16 carries the IPv4 address in bits 16..47. */
	if (a[0] == 0x20 && a[1] == 0x02)
		return v4_private(be32(a + 2));
	/* ::/96: unspecified, loopback and the deprecated IPv4-compatible. */
	if (!memcmp(a, zero, 12))
		return 1;
	if ((a[0] & 0xfe) == 0xfc)                  /* fc00::/7 unique local */
		return 1;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)  /* fe80::/10 link-local */
		return 1;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)  /* fec0::/10 site-local */
		return 1;
	if (a[0] == 0xff)                           /* ff00::/8 multicast */
		return 1;
	if (a[0] == 0x01 && a[1] == 0x00 && !a[2] && !a[3] && !a[4] && !a[5] && !a[6] &&
	    !a[7])                                  /* 100::/64 discard */
		return 1;
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return 1;                           /* 2001:db8::/32 documentation */
	return 0;
}

int
mcpg_addr_is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return v4_private(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		return v6_private(in6->sin6_addr.s6_addr);
	}
	return 1;
}

/* ------------------------------------------------------------------------
 * libcurl setup: once per process, handles once per worker thread
 */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static pthread_key_t conn_key;

/* One pool: a multi handle (which owns the connection cache) and the easy
 * handle this thread runs its transfers on. */
struct conn {
	CURLM *multi;
	CURL *easy;
};

/* [0]: private targets refused; [1]: allowed. */
struct conns {
	struct conn c[2];
};

static _Thread_local struct conns *thread_conns;

static void
conns_free(void *p)
{
	struct conns *cs = p;

	for (int i = 0; i < 2; i++) {
		if (cs->c[i].easy)
			curl_easy_cleanup(cs->c[i].easy);
		if (cs->c[i].multi)
			curl_multi_cleanup(cs->c[i].multi);
	}
	free(cs);
}

static void
curl_setup(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (pthread_key_create(&conn_key, conns_free))
		curl_init_rc = CURLE_FAILED_INIT;
}

/* This thread's pool for `allow_private`, or NULL when libcurl failed. */
static struct conn *
thread_conn(int allow_private)
{
	struct conn *c;

	pthread_once(&curl_once, curl_setup);
	if (curl_init_rc != CURLE_OK)
		return NULL;
	if (!thread_conns) {
		if (!(thread_conns = calloc(1, sizeof(*thread_conns))))
			return NULL;
		/* The key's destructor frees the pools when the thread exits. */
		pthread_setspecific(conn_key, thread_conns);
	}
	c = &thread_conns->c[allow_private ? 1 : 0];
	if (!c->multi)
		c->multi = curl_multi_init();
	if (!c->easy)
		c->easy = curl_easy_init();
	return c->multi && c->easy ? c : NULL;
}

/* ------------------------------------------------------------------------
 * The request
 */

struct mcpg_http_req {
	struct strbuf url;
	struct curl_slist *headers;
	struct strbuf body;
	int post;
	int allow_private;
	int require_json;
	const uint64_t *expected;
	uint32_t nexpected;
	uint64_t max_bytes;
	uint64_t timeout_ms;
};

void
mcpg_http_req_free(struct mcpg_http_req *req)
{
	if (!req)
		return;
	strbuf_release(&req->url);
	strbuf_release(&req->body);
	curl_slist_free_all(req->headers);
	free(req);
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

static void
add_encoded(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c)) {
			strbuf_addch(sb, c);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[c >> 4]);
			strbuf_addch(sb, hex[c & 15]);
		}
	}
}

/* get: the arguments as query parameters, in the order the caller sent them. */
static void
add_query(struct strbuf *url, const json_t *args)
{
	struct strbuf val = STRBUF_INIT;
	char *hash = memchr(url->buf, '#', url->len);
	const char *k;
	json_t *v;

	if (!json_object_size(args))
		return;
	/* curl never sends the fragment; parameters go before it, so drop it. */
	if (hash)
		strbuf_setlen(url, (size_t)(hash - url->buf));
	if (!memchr(url->buf, '?', url->len))
		strbuf_addch(url, '?');
	else if (url->buf[url->len - 1] != '?' && url->buf[url->len - 1] != '&')
		strbuf_addch(url, '&');
	json_object_foreach((json_t *)args, k, v) {
		if (url->buf[url->len - 1] != '?' && url->buf[url->len - 1] != '&')
			strbuf_addch(url, '&');
		add_encoded(url, k, strlen(k));
		strbuf_addch(url, '=');
		strbuf_reset(&val);
		if (json_is_string(v))
			strbuf_add(&val, json_string_value(v), json_string_length(v));
		else
			mcpg_json_compact(&val, v);
		add_encoded(url, val.buf, val.len);
	}
	strbuf_release(&val);
}

/* RFC 9110 token characters (a header name). */
static int
is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!unreserved(c) && !strchr("!#$%&'*+^`|", c))
			return 0;
	}
	return 1;
}

struct mcpg_http_req *
mcpg_http_prepare(struct mcpg_call *call, const struct mcpg_http_backend *h)
{
	const struct mcpg_image *img = &call->rt->img;
	const struct mcpg_server *server =
		mcpg_gateway_server(img, mcpg_config_gateway(img, mcpg_cfg(img)));
	const struct mcpg_template_entry *hdr;
	struct strbuf line = STRBUF_INIT;
	struct mcpg_http_req *req;
	int has_ctype = 0;
	uint32_t n;

	if (!(req = calloc(1, sizeof(*req)))) {
		mcpg_call_error(call, MCPG_RPC_INTERNAL, "internal", "out of memory");
		return NULL;
	}
	strbuf_init(&req->url, 0);
	strbuf_init(&req->body, 0);
	req->post = mcpg_http_backend_method(img, h) == MCPG_HTTP_METHOD_POST;
	req->allow_private = mcpg_http_backend_has_allow_private_backends(img, h)
				     ? mcpg_http_backend_allow_private_backends(img, h)
				     : mcpg_server_allow_private_backends(img, server);
	req->require_json = mcpg_http_backend_require_json_response(img, h);
	req->expected = mcpg_http_backend_expected_status_codes(img, h, &req->nexpected);
	req->max_bytes = mcpg_http_backend_max_response_bytes(img, h);
	req->timeout_ms = mcpg_http_backend_timeout_ms(img, h);

	if (mcpg_call_render(call, mcpg_http_backend_url(img, h), MCPG_TMPL_URL, &req->url,
			     "backend.url"))
		goto fail;
	if (!req->post)
		add_query(&req->url, call->arguments);

	hdr = mcpg_http_backend_headers(img, h, &n);
	for (uint32_t i = 0; i < n; i++) {
		const char *name = mcpg_str(img, hdr[i].key);

		if (!name || !is_token(name)) {
			mcpg_call_error(call, MCPG_RPC_INTERNAL, "config",
					"backend.headers: '%s' is not a header name",
					name ? name : "");
			goto fail;
		}
		strbuf_reset(&line);
		strbuf_addstr(&line, name);
		strbuf_add(&line, ": ", 2);
		if (mcpg_call_render(call, hdr[i].value, MCPG_TMPL_HEADER, &line,
				     "backend.headers"))
			goto fail;
		/* curl's spelling of a header with an empty value is "Name;". */
		if (line.len == strlen(name) + 2) {
			strbuf_setlen(&line, strlen(name));
			strbuf_addch(&line, ';');
		}
		if (!strcasecmp(name, "Content-Type"))
			has_ctype = 1;
		req->headers = curl_slist_append(req->headers, line.buf);
	}
	/* No "Expect: 100-continue" round trip before a larger body. */
	req->headers = curl_slist_append(req->headers, "Expect:");
	if (req->post) {
		mcpg_json_compact(&req->body, call->arguments);
		if (!has_ctype)
			req->headers = curl_slist_append(req->headers,
							 "Content-Type: application/json");
	}
	strbuf_release(&line);
	return req;
fail:
	strbuf_release(&line);
	mcpg_http_req_free(req);
	return NULL;
}

/* ------------------------------------------------------------------------
 * One attempt
 */

struct attempt {
	struct strbuf body;
	uint64_t max_bytes;
	int too_big;
	int allow_private;
	char refused[INET6_ADDRSTRLEN]; /* the private address refused, or "" */
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct attempt *at = ud;
	size_t len = size * nmemb;

	if (len > at->max_bytes || at->body.len > at->max_bytes - len) {
		at->too_big = 1;
		return 0; /* not `len`: curl aborts with CURLE_WRITE_ERROR */
	}
	strbuf_add(&at->body, p, len);
	return len;
}

static curl_socket_t
on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct attempt *at = ud;
	struct sockaddr_storage ss;
	size_t len = a->addrlen < sizeof(ss) ? a->addrlen : sizeof(ss);

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &a->addr, len);
	if (!at->allow_private && mcpg_addr_is_private((struct sockaddr *)&ss)) {
		const void *ip = ss.ss_family == AF_INET6
					 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
					 : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;

		if (!inet_ntop(ss.ss_family, ip, at->refused, sizeof(at->refused)))
			strcpy(at->refused, "?");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int
status_expected(const struct mcpg_http_req *req, long status)
{
	for (uint32_t i = 0; i < req->nexpected; i++)
		if (req->expected[i] == (uint64_t)status)
			return 1;
	return 0;
}

/* Connection failures and timeouts: another attempt may succeed. */
static int
transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* The first non-blank byte opens an object: worth parsing. */
static int
looks_like_object(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '{')
			return 1;
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	}
	return 0;
}

void
mcpg_http_attempt(struct mcpg_call *call, struct mcpg_http_req *req,
		  struct mcpg_http_outcome *out)
{
	struct attempt at = { .max_bytes = req->max_bytes, .allow_private = req->allow_private };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct conn *c = thread_conn(req->allow_private);
	CURLcode rc = CURLE_FAILED_INIT;
	char *ctype = NULL, *mime = NULL;
	json_t *parsed = NULL;
	long status = 0;
	int why = 0, done = 0;
	CURLMsg *msg;
	CURL *e;

	memset(out, 0, sizeof(*out));
	strbuf_init(&at.body, 0);
	if (!c) {
		out->rc = mcpg_call_error(call, MCPG_RPC_INTERNAL, "internal",
					  "cannot set up libcurl");
		return;
	}
	e = c->easy;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, req->url.buf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "mcpg/" MCPG_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &at);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &at);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
	if (req->post) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body.buf);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}

	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		out->rc = mcpg_call_error(call, MCPG_RPC_INTERNAL, "internal",
					  "cannot start the transfer");
		strbuf_release(&at.body);
		return;
	}
	for (;;) {
		int running = 0, left;

		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(c->multi, &left)))
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == e) {
				rc = msg->data.result;
				done = 1;
			}
		if (done || !running)
			break;
		if ((why = mcpg_call_stopped(call)))
			break;
		curl_multi_poll(c->multi, NULL, 0, MCPG_BACKEND_POLL_MS, NULL);
	}
	if (done) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ctype);
		if (ctype)
			mime = strdup(ctype);
	}
	/* Removing an unfinished transfer aborts it and closes its connection. */
	curl_multi_remove_handle(c->multi, e);

	if (why) {
		out->rc = mcpg_call_stop(call, why);
	} else if (!done) {
		out->rc = mcpg_call_error(call, MCPG_RPC_INTERNAL, "internal",
					  "the transfer ended without a result");
	} else if (at.refused[0]) {
		out->rc = mcpg_call_fail(call, "private", NULL, 0,
					 "target %s is a private address; set "
					 "allow_private_backends to reach it", at.refused);
	} else if (at.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		out->rc = mcpg_call_fail(call, "size", NULL, 0,
					 "response larger than %llu bytes",
					 (unsigned long long)req->max_bytes);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		out->transport = 1;
		out->rc = mcpg_call_fail(call, "timeout", NULL, 0, "timeout after %llu ms",
					 (unsigned long long)req->timeout_ms);
	} else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
		out->rc = mcpg_call_fail(call, "config", NULL, 0, "bad backend url: %s",
					 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (rc != CURLE_OK) {
		out->transport = transient(rc);
		out->rc = mcpg_call_fail(call, "transport", NULL, 0, "request failed: %s",
					 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (!status_expected(req, status)) {
		out->status = (int)status;
		out->rc = mcpg_call_fail(call, "status", at.body.buf, at.body.len,
					 "upstream returned HTTP %ld", status);
	} else if ((req->require_json || looks_like_object(at.body.buf, at.body.len)) &&
		   !(parsed = mcpg_json_parse(at.body.buf, at.body.len)) && req->require_json) {
		out->rc = mcpg_call_fail(call, "json", at.body.buf, at.body.len,
					 "upstream response is not JSON");
	} else {
		out->rc = mcpg_call_ok(call, at.body.buf, at.body.len, parsed, mime);
		parsed = NULL;
	}
	json_decref(parsed);
	free(mime);
	strbuf_release(&at.body);
}
