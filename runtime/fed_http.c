/*
 * fed_http.c - the Streamable HTTP transport to an upstream MCP server
 * (libcurl).
 *
 * One upstream session (Mcp-Session-Id) per upstream, made by initialize on
 * connect and shared by every call: requests carry ids unique in the
 * process, so the upstream routes each answer to its own POST stream.  A
 * POST is answered with JSON or with an SSE stream whose events are
 * notifications and server-initiated requests of that request, then its
 * response; when the stream ends early the request is resumed with a GET and
 * Last-Event-ID.  A 404 means the upstream forgot the session: initialize
 * again and retry once.  The supervisor holds a GET stream open on the
 * session for list_changed and resources/updated.
 *
 * Each thread keeps one curl handle, so connections to the upstream are kept
 * alive between calls.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fed_int.h"
#include "jsonparse.h"
#include "log.h"
#include "mcp.h"
#include "strbuf.h"

struct fed_http {
	pthread_mutex_t connect_lock; /* one initialize at a time */
	pthread_mutex_t lock;
	char sid[160];      /* lock: "" when not connected */
	char pv[16];        /* lock: negotiated protocol version */
	uint64_t epoch;     /* lock: +1 per connect */
};

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void
handle_free(void *h)
{
	curl_easy_cleanup(h);
}

static void
handle_key_make(void)
{
	pthread_key_create(&handle_key, handle_free);
}

/* This thread's curl handle, reset. */
static CURL *
handle(void)
{
	CURL *h;

	pthread_once(&handle_once, handle_key_make);
	h = pthread_getspecific(handle_key);
	if (h) {
		curl_easy_reset(h);
		return h;
	}
	h = curl_easy_init();
	if (h)
		pthread_setspecific(handle_key, h);
	return h;
}

static struct fed_http *
st(struct fed_up *u)
{
	if (!u->tp) {
		struct fed_http *s = calloc(1, sizeof(*s));

		pthread_mutex_lock(&u->lock);
		if (!u->tp && s) {
			pthread_mutex_init(&s->connect_lock, NULL);
			pthread_mutex_init(&s->lock, NULL);
			u->tp = s;
			s = NULL;
		}
		pthread_mutex_unlock(&u->lock);
		free(s);
	}
	return u->tp;
}

/* One exchange: what the callbacks collect. */
struct xfer {
	struct fed_up *u;
	struct fed_rq *rq;       /* NULL: no answer expected */
	const char *usid;        /* the session the exchange is on */
	struct strbuf body;      /* JSON body, or SSE bytes not yet parsed */
	int sse;
	char ctype[128];
	char sid[160];           /* Mcp-Session-Id of the response */
	char last_id[160];       /* the last SSE event id */
	int watch;               /* the supervisor's GET stream */
	int answered;
};

static size_t
on_header(char *b, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, k;
	char *colon = memchr(b, ':', len);

	if (!colon)
		return len;
	k = (size_t)(colon - b);
	colon++;
	while (colon < b + len && (*colon == ' ' || *colon == '\t'))
		colon++;
	{
		size_t vl = (size_t)(b + len - colon);

		while (vl && (colon[vl - 1] == '\r' || colon[vl - 1] == '\n' || colon[vl - 1] == ' '))
			vl--;
		if (k == 12 && !strncasecmp(b, "content-type", 12)) {
			snprintf(x->ctype, sizeof(x->ctype), "%.*s", (int)vl, colon);
			x->sse = !strncasecmp(x->ctype, "text/event-stream", 17);
		} else if (k == 14 && !strncasecmp(b, "mcp-session-id", 14)) {
			snprintf(x->sid, sizeof(x->sid), "%.*s", (int)vl, colon);
		}
	}
	return len;
}

/* One JSON-RPC message of the upstream. */
static void
dispatch(struct xfer *x, const char *data, size_t len)
{
	json_t *msg = mcpg_json_load(data, len, 0, NULL);

	if (!json_is_object(msg)) {
		json_decref(msg);
		return;
	}
	if (x->rq && fed_rq_answer(x->rq, msg)) {
		x->answered = 1;
	} else if (json_object_get(msg, "method")) {
		if (x->rq && x->rq->on_msg)
			x->rq->on_msg(x->rq, msg);
		else
			fed_unrelated(x->u, x->usid, msg);
	}
	json_decref(msg);
}

/* Parse the complete SSE events in x->body. */
static void
sse_events(struct xfer *x)
{
	size_t start = 0;

	for (;;) {
		char *buf = x->body.buf + start, *end = NULL;
		size_t left = x->body.len - start, evlen, skip;
		struct strbuf data = STRBUF_INIT;
		char *p;

		for (size_t i = 0; i + 1 < left; i++) {
			if (buf[i] == '\n' && buf[i + 1] == '\n') {
				end = buf + i;
				skip = 2;
				break;
			}
			if (i + 3 < left && !memcmp(buf + i, "\r\n\r\n", 4)) {
				end = buf + i;
				skip = 4;
				break;
			}
		}
		if (!end)
			break;
		evlen = (size_t)(end - buf);
		p = buf;
		while (p < buf + evlen) {
			char *nl = memchr(p, '\n', (size_t)(buf + evlen - p));
			size_t ll = nl ? (size_t)(nl - p) : (size_t)(buf + evlen - p);

			if (ll && p[ll - 1] == '\r')
				ll--;
			if (ll >= 5 && !memcmp(p, "data:", 5)) {
				size_t o = ll > 5 && p[5] == ' ' ? 6 : 5;

				if (data.len)
					strbuf_addch(&data, '\n');
				strbuf_add(&data, p + o, ll - o);
			} else if (ll >= 3 && !memcmp(p, "id:", 3)) {
				size_t o = ll > 3 && p[3] == ' ' ? 4 : 3;

				snprintf(x->last_id, sizeof(x->last_id), "%.*s", (int)(ll - o), p + o);
			}
			p = nl ? nl + 1 : buf + evlen;
		}
		if (data.len)
			dispatch(x, data.buf, data.len);
		strbuf_release(&data);
		start += evlen + skip;
	}
	if (start) {
		memmove(x->body.buf, x->body.buf + start, x->body.len - start);
		strbuf_setlen(&x->body, x->body.len - start);
	}
}

static size_t
on_body(char *b, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	strbuf_add(&x->body, b, size * n);
	if (x->sse)
		sse_events(x);
	else if (x->body.len > 64u << 20)
		return 0; /* a JSON answer above 64 MiB: refuse */
	return size * n;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (x->watch)
		return fed_should_wake(x->u);
	if (x->rq) {
		if (x->rq->cancelled && atomic_load(x->rq->cancelled)) {
			x->rq->stopped = 1;
			return 1;
		}
		if (x->rq->deadline_ms && mcpg_mono_ms() >= x->rq->deadline_ms) {
			x->rq->stopped = 2;
			return 1;
		}
	}
	return 0;
}

/*
 * One HTTP exchange: POST `body` (or GET when NULL) on session `usid`
 * ("" for none).  Returns the HTTP status, or -1 for a transport failure
 * (message in err).
 */
static long
exchange(struct fed_up *u, struct xfer *x, const char *body, const char *pv,
	 const char *last_event_id, char *err, size_t errlen)
{
	CURL *h = x->watch ? curl_easy_init() : handle();
	struct curl_slist *hl = NULL;
	struct strbuf hb = STRBUF_INIT;
	long status = 0;
	CURLcode rc;

	if (!h) {
		snprintf(err, errlen, "cannot make a curl handle");
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, u->cfg.url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 u->cfg.timeout_ms > 0 && u->cfg.timeout_ms < 5000 ? (long)u->cfg.timeout_ms
									  : 5000L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		hl = curl_slist_append(hl, "Content-Type: application/json");
		hl = curl_slist_append(hl, "Accept: application/json, text/event-stream");
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		hl = curl_slist_append(hl, "Accept: text/event-stream");
	}
	if (x->usid && x->usid[0]) {
		strbuf_addf(&hb, "Mcp-Session-Id: %s", x->usid);
		hl = curl_slist_append(hl, hb.buf);
	}
	if (pv && pv[0]) {
		strbuf_reset(&hb);
		strbuf_addf(&hb, "MCP-Protocol-Version: %s", pv);
		hl = curl_slist_append(hl, hb.buf);
	}
	if (last_event_id && last_event_id[0]) {
		strbuf_reset(&hb);
		strbuf_addf(&hb, "Last-Event-ID: %s", last_event_id);
		hl = curl_slist_append(hl, hb.buf);
	}
	strbuf_release(&hb);
	for (size_t i = 0; u->cfg.headers && u->cfg.headers[i]; i++)
		hl = curl_slist_append(hl, u->cfg.headers[i]);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hl);
	if (x->watch)
		curl_easy_cleanup(h);
	if (!x->sse && x->body.len && status == 200 && (rc == CURLE_OK))
		dispatch(x, x->body.buf, x->body.len);
	if (rc != CURLE_OK && !(x->answered && x->sse)) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		return -1;
	}
	return status;
}

static void
xfer_init(struct xfer *x, struct fed_up *u, struct fed_rq *rq, const char *usid)
{
	memset(x, 0, sizeof(*x));
	x->u = u;
	x->rq = rq;
	x->usid = usid;
	strbuf_init(&x->body, 0);
}

/* The error an HTTP answer that is not 2xx carried, into rq. */
static void
status_error(struct fed_rq *rq, struct xfer *x, long status)
{
	json_t *j = x->sse ? NULL : mcpg_json_load(x->body.buf ? x->body.buf : "", x->body.len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	const char *m = json_string_value(json_object_get(e, "message"));

	if (m)
		fed_rq_error(rq, json_is_integer(json_object_get(e, "code"))
					 ? (int)json_integer_value(json_object_get(e, "code")) : -32603,
			     0, "upstream returned HTTP %ld: %s", status, m);
	else
		fed_rq_error(rq, -32603, status >= 500, "upstream returned HTTP %ld", status);
	json_decref(j);
}

static void
session_of(struct fed_up *u, char *sid, size_t sl, char *pv, size_t pl, uint64_t *epoch)
{
	struct fed_http *s = st(u);

	pthread_mutex_lock(&s->lock);
	snprintf(sid, sl, "%s", s->sid);
	snprintf(pv, pl, "%s", s->pv);
	if (epoch)
		*epoch = s->epoch;
	pthread_mutex_unlock(&s->lock);
}

static int
do_connect(struct fed_up *u, json_t **init, char *err, size_t errlen)
{
	struct fed_http *s = st(u);
	struct fed_rq rq;
	struct xfer x;
	json_t *params;
	char *body;
	long status;
	const char *pv;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fed_initialize_rq(u, &rq);
	params = rq.params;
	body = fed_request_json(&rq);
	xfer_init(&x, u, &rq, "");
	status = exchange(u, &x, body, NULL, NULL, err, errlen);
	free(body);
	json_decref(params);
	if (status < 0 || status != 200 || !rq.result) {
		if (status >= 0)
			snprintf(err, errlen, "initialize: %s",
				 rq.code ? rq.message : status == 200 ? "no result"
								      : "unexpected HTTP status");
		if (status > 0 && status != 200)
			snprintf(err, errlen, "initialize: upstream returned HTTP %ld", status);
		strbuf_release(&x.body);
		json_decref(rq.result);
		json_decref(rq.data);
		return -1;
	}
	pv = json_string_value(json_object_get(rq.result, "protocolVersion"));
	pthread_mutex_lock(&s->lock);
	snprintf(s->sid, sizeof(s->sid), "%s", x.sid);
	snprintf(s->pv, sizeof(s->pv), "%s", pv ? pv : MCPG_PV_LATEST);
	s->epoch++;
	pthread_mutex_unlock(&s->lock);
	strbuf_release(&x.body);
	/* notifications/initialized */
	{
		char sid[160], v[16];
		struct xfer y;

		session_of(u, sid, sizeof(sid), v, sizeof(v), NULL);
		xfer_init(&y, u, NULL, sid);
		status = exchange(u, &y, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
				  v, NULL, err, errlen);
		strbuf_release(&y.body);
		if (status < 0 || status >= 300) {
			if (status >= 300)
				snprintf(err, errlen, "notifications/initialized: HTTP %ld", status);
			json_decref(rq.result);
			return -1;
		}
	}
	*init = rq.result;
	return 0;
}

static int
http_connect(struct fed_up *u, json_t **init, char *err, size_t errlen)
{
	struct fed_http *s = st(u);
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&s->connect_lock);
	rc = do_connect(u, init, err, errlen);
	pthread_mutex_unlock(&s->connect_lock);
	return rc;
}

/* The session went stale (404): start another unless someone already did. */
static int
reconnect(struct fed_up *u, uint64_t epoch, char *err, size_t errlen)
{
	struct fed_http *s = st(u);
	json_t *init = NULL;
	int rc = 0;

	/* Calls that all met the 404 make one new session between them. */
	pthread_mutex_lock(&s->connect_lock);
	pthread_mutex_lock(&s->lock);
	if (s->epoch != epoch) {
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_unlock(&s->connect_lock);
		return 0;
	}
	s->sid[0] = '\0';
	pthread_mutex_unlock(&s->lock);
	rc = do_connect(u, &init, err, errlen);
	pthread_mutex_unlock(&s->connect_lock);
	json_decref(init);
	return rc;
}

static int
http_request(struct fed_up *u, struct fed_rq *rq)
{
	char *body = fed_request_json(rq);
	char err[256] = "";
	int attempt;

	if (!body) {
		fed_rq_error(rq, -32603, 0, "out of memory");
		return -1;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		char sid[160], pv[16];
		uint64_t epoch;
		struct xfer x;
		long status;

		session_of(u, sid, sizeof(sid), pv, sizeof(pv), &epoch);
		if (!sid[0] && attempt == 0) {
			if (reconnect(u, epoch, err, sizeof(err)) < 0) {
				fed_rq_error(rq, -32603, 1, "upstream '%s' unreachable: %s", u->cfg.name,
					     err);
				break;
			}
			continue;
		}
		snprintf(rq->usid, sizeof(rq->usid), "%s", sid);
		xfer_init(&x, u, rq, rq->usid);
		status = exchange(u, &x, body, pv, NULL, err, sizeof(err));
		/* The POST stream ended before the answer: resume it (SEP-1699). */
		for (int r = 0; status == 200 && x.sse && !x.answered && x.last_id[0] && r < 5 &&
				!rq->stopped; r++) {
			char last[160];

			if (r == 0 && rq->on_closed)
				rq->on_closed(rq);

			snprintf(last, sizeof(last), "%s", x.last_id);
			strbuf_reset(&x.body);
			x.sse = 0;
			status = exchange(u, &x, NULL, pv, last, err, sizeof(err));
		}
		if (rq->stopped) {
			strbuf_release(&x.body);
			fed_rq_error(rq, rq->stopped == 1 ? -32800 : -32001, 0, "%s",
				     rq->stopped == 1 ? "cancelled" : "request timed out");
			break;
		}
		if (status < 0) {
			strbuf_release(&x.body);
			fed_rq_error(rq, -32603, 1, "upstream '%s' unreachable: %s", u->cfg.name, err);
			break;
		}
		if (status == 404 && attempt == 0) {
			strbuf_release(&x.body);
			if (reconnect(u, epoch, err, sizeof(err)) < 0) {
				fed_rq_error(rq, -32603, 1, "upstream '%s' unreachable: %s", u->cfg.name,
					     err);
				break;
			}
			continue;
		}
		if (status != 200 && !x.answered)
			status_error(rq, &x, status);
		else if (!x.answered)
			fed_rq_error(rq, -32603, 0, "upstream '%s' sent no answer", u->cfg.name);
		strbuf_release(&x.body);
		break;
	}
	free(body);
	return rq->result ? 0 : -1;
}

static int
http_send(struct fed_up *u, const char *usid, const char *json)
{
	char sid[160], pv[16], err[256];
	struct xfer x;
	long status;

	session_of(u, sid, sizeof(sid), pv, sizeof(pv), NULL);
	xfer_init(&x, u, NULL, usid && usid[0] ? usid : sid);
	status = exchange(u, &x, json, pv, NULL, err, sizeof(err));
	strbuf_release(&x.body);
	return status >= 200 && status < 300 ? 0 : -1;
}

static int
http_watch(struct fed_up *u)
{
	while (!fed_should_wake(u)) {
		char sid[160], pv[16], err[256];
		struct xfer x;
		long status;

		session_of(u, sid, sizeof(sid), pv, sizeof(pv), NULL);
		if (!sid[0])
			return -1;
		xfer_init(&x, u, NULL, sid);
		x.watch = 1;
		status = exchange(u, &x, NULL, pv, NULL, err, sizeof(err));
		strbuf_release(&x.body);
		if (fed_should_wake(u))
			return 0;
		if (status < 0) {
			/* Aborted by on_progress counts as a wake; anything else is a lost link. */
			return -1;
		}
		if (status == 404) {
			char now[160], v[16];

			/* A call already made a new session: watch that one. */
			session_of(u, now, sizeof(now), v, sizeof(v), NULL);
			if (now[0] && strcmp(now, sid))
				continue;
			return -1;
		}
		if (status != 200) {
			/* No GET stream (405): poll with ping for liveness. */
			struct fed_rq rq;
			int64_t until = mcpg_mono_ms() + 2000;

			while (mcpg_mono_ms() < until)
				if (fed_should_wake(u))
					return 0;
				else
					usleep(50 * 1000);
			memset(&rq, 0, sizeof(rq));
			rq.id = fed_next_id();
			rq.method = "ping";
			rq.deadline_ms = mcpg_mono_ms() + 5000;
			if (http_request(u, &rq) < 0 && rq.transport) {
				json_decref(rq.data);
				return -1;
			}
			json_decref(rq.result);
			json_decref(rq.data);
		} else {
			/* The upstream ended the stream: reopen after a short pause. */
			usleep(100 * 1000);
		}
	}
	return 0;
}

static void
http_disconnect(struct fed_up *u)
{
	struct fed_http *s = st(u);
	char sid[160], pv[16];

	if (!s)
		return;
	session_of(u, sid, sizeof(sid), pv, sizeof(pv), NULL);
	if (sid[0]) {
		/* Tell the upstream the session is over (best effort, short). */
		CURL *h = curl_easy_init();
		struct curl_slist *hl = NULL;
		struct strbuf hb = STRBUF_INIT;

		if (h) {
			strbuf_addf(&hb, "Mcp-Session-Id: %s", sid);
			hl = curl_slist_append(hl, hb.buf);
			for (size_t i = 0; u->cfg.headers && u->cfg.headers[i]; i++)
				hl = curl_slist_append(hl, u->cfg.headers[i]);
			curl_easy_setopt(h, CURLOPT_URL, u->cfg.url);
			curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
			curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
			curl_easy_perform(h);
			curl_slist_free_all(hl);
			curl_easy_cleanup(h);
		}
		strbuf_release(&hb);
	}
	pthread_mutex_lock(&s->lock);
	s->sid[0] = '\0';
	pthread_mutex_unlock(&s->lock);
}

static void
http_free(struct fed_up *u)
{
	struct fed_http *s = u->tp;

	if (!s)
		return;
	pthread_mutex_destroy(&s->connect_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
	u->tp = NULL;
}

const struct fed_ops mcpg_fed_http_ops = {
	http_connect, http_request, http_send, http_watch, http_disconnect, http_free,
};
