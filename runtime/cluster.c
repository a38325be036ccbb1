/*
 * cluster.c - shared sessions and the lease duty (see cluster.h).
 *
 * Bus messages are one line of text: "<origin> <type> <session> <payload>",
 * origin being the sender's instance id (log.h), so a replica skips what it
 * sent itself (it acted locally already).  Types:
 *
 *   c  cancel request <payload: the request id as JSON text>
 *   e  server-to-client event <payload: one JSON-RPC message>
 *   x  session ended (DELETE or reaped)
 *   u  record changed <payload: the record>
 */
#include "cluster.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "coord.h"
#include "hex.h"
#include "jsonw.h"
#include "log.h"
#include "mcp.h"
#include "rt.h"

#define ORIGIN_LEN 16
#define TOUCH_MAX_MS 5000
#define LEASE_NAME "reaper"

static int shared;
static uint64_t seq_base; /* shared: this replica's first SSE event id - 1 */
#define SEQ_SPAN (1ULL << 40)
static uint64_t lease_ttl_ms, peer_ttl_ms;
static int64_t next_heartbeat;
static atomic_uint_fast64_t peers;
static pthread_t duty_thread;
static int duty_started;
static pthread_mutex_t duty_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t duty_cond = PTHREAD_COND_INITIALIZER;
static int duty_stop;
static atomic_int holder;
static atomic_uint_fast64_t lease_token, lease_acquired, reaped;
static atomic_uint_fast64_t look_local, look_remote, look_missing, look_error;

/* session_idle_timeout_ms of the live snapshot (reloadable). */
static uint64_t
idle_ms(void)
{
	struct mcpg_rt *rt = mcpg_rt_acquire();
	uint64_t v = rt ? rt->cfg->gateway.server.session_idle_timeout_ms : 0;

	mcpg_rt_release(rt);
	return v;
}

/* How often a session's record is rewritten while it is used. */
static int64_t
touch_interval(uint64_t idle)
{
	uint64_t t = idle / 4;

	if (!idle || t > TOUCH_MAX_MS)
		t = TOUCH_MAX_MS;
	return t < 50 ? 50 : (int64_t)t;
}

/* The record's TTL in the coordinator: the reaper normally wins; this is the backstop. */
static uint64_t
record_ttl(uint64_t idle)
{
	return idle ? idle + 2 * lease_ttl_ms + 1000 : 0;
}

static void
skey(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, "sess.%s", id);
}

static void
encode(struct strbuf *o, struct mcpg_session *s, int64_t used)
{
	int init;

	pthread_mutex_lock(&s->lock);
	init = s->initialized;
	pthread_mutex_unlock(&s->lock);
	strbuf_addstr(o, "{\"v\":");
	mcpg_jsonw_cstr(o, s->version);
	strbuf_addstr(o, ",\"t\":");
	mcpg_jsonw_cstr(o, s->tenant);
	strbuf_addf(o, ",\"i\":%d,\"l\":%d,\"u\":%lld", init,
		    __atomic_load_n(&s->log_level, __ATOMIC_RELAXED), (long long)used);
	if (s->owned) {
		/* The verified caller it answers to, on every replica. */
		char hex[2 * sizeof(s->owner) + 1];

		mcpg_hex(hex, s->owner, sizeof(s->owner));
		strbuf_addf(o, ",\"o\":\"%s\"", hex);
	}
	strbuf_addch(o, '}');
}

/* A record's owner ("o": 64 hex digits) into out: 1, 0 when it has none,
 * -1 when it is malformed (the record is then not trusted at all). */
static int
record_owner(json_t *rec, unsigned char out[32])
{
	json_t *o = json_object_get(rec, "o");
	const char *h = json_string_value(o);

	if (!o)
		return 0;
	return h && mcpg_unhex(h, out, 32) == 0 ? 1 : -1;
}

/* Apply initialized and log level of a record to the local copy. */
static void
apply(struct mcpg_session *s, json_t *rec)
{
	json_t *l = json_object_get(rec, "l");

	if (json_is_true(json_object_get(rec, "i")) ||
	    json_integer_value(json_object_get(rec, "i")) == 1) {
		pthread_mutex_lock(&s->lock);
		s->initialized = 1;
		pthread_mutex_unlock(&s->lock);
	}
	if (json_is_integer(l) && json_integer_value(l) >= 0 && json_integer_value(l) < 8)
		__atomic_store_n(&s->log_level, (uint8_t)json_integer_value(l), __ATOMIC_RELAXED);
}

void
mcpg_cluster_seq_init(struct mcpg_session *s)
{
	if (!shared)
		return;
	pthread_mutex_lock(&s->lock);
	if (!s->ring && s->next_seq == 1)
		s->next_seq = seq_base + 1;
	pthread_mutex_unlock(&s->lock);
}

int
mcpg_cluster_foreign_id(uint64_t id)
{
	return shared && (id < seq_base || id >= seq_base + SEQ_SPAN);
}

/* Publish one bus message. */
static void
publish(char type, const char *sid, const char *payload, size_t plen)
{
	struct strbuf m = STRBUF_INIT;

	strbuf_addf(&m, "%s %c %s ", mcpg_log_instance(), type, sid);
	strbuf_add(&m, payload, plen);
	if (mcpg_coord_publish(m.buf, m.len) < 0)
		mcpg_log(MCPG_LOG_WARN, NULL, "cluster: publish failed", "session", MCPG_LF_STR,
			 sid, NULL);
	strbuf_release(&m);
}

/* A bus message (a coordinator thread). */
static void
on_msg(const char *data, size_t len, void *arg)
{
	char sid[MCPG_SESSION_ID_LEN + 1], type;
	const char *payload;
	size_t plen;
	struct mcpg_session *s;

	(void)arg;
	/* origin(16) ' ' type ' ' sid(32) ' ' payload */
	if (len < ORIGIN_LEN + 3 + MCPG_SESSION_ID_LEN + 1 || data[ORIGIN_LEN] != ' ')
		return;
	if (!memcmp(data, mcpg_log_instance(), ORIGIN_LEN))
		return;
	type = data[ORIGIN_LEN + 1];
	memcpy(sid, data + ORIGIN_LEN + 3, MCPG_SESSION_ID_LEN);
	sid[MCPG_SESSION_ID_LEN] = '\0';
	payload = data + ORIGIN_LEN + 3 + MCPG_SESSION_ID_LEN + 1;
	plen = len - (size_t)(payload - data);
	s = mcpg_session_get(sid); /* the local copy only */
	if (!s)
		return;
	switch (type) {
	case 'c': {
		char *idj = strndup(payload, plen);

		if (idj)
			mcpg_mcp_cancel_request(s, idj);
		free(idj);
		break;
	}
	case 'e':
		mcpg_mcp_push_event(s, payload, plen);
		break;
	case 'x':
		mcpg_session_end(s);
		break;
	case 'u': {
		json_t *rec = json_loadb(payload, plen, 0, NULL);

		if (rec)
			apply(s, rec);
		json_decref(rec);
		break;
	}
	default:
		break;
	}
	mcpg_session_put(s);
}

/* ------------------------------------------------------------------------
 * Sessions
 */

int
mcpg_cluster_session_created(struct mcpg_session *s)
{
	struct strbuf rec = STRBUF_INIT;
	char key[64];
	uint64_t idle = idle_ms();
	int rc;

	if (!shared)
		return 0;
	skey(key, sizeof(key), s->id);
	encode(&rec, s, mcpg_wall_ms());
	rc = mcpg_coord_create(key, rec.buf, rec.len, record_ttl(idle));
	strbuf_release(&rec);
	atomic_store(&s->shared_ms, mcpg_mono_ms());
	mcpg_cluster_seq_init(s);
	/* 0 would be a 128-bit random id taken already: refuse it too. */
	return rc == 1 ? 0 : -1;
}

struct mcpg_session *
mcpg_cluster_session_get(const char *id, int *down)
{
	struct mcpg_session *s = mcpg_session_get(id);
	struct strbuf val = STRBUF_INIT;
	unsigned char owner[32];
	char key[64];
	json_t *rec;
	uint64_t idle;
	int rc, owned;

	*down = 0;
	if (s) {
		atomic_fetch_add_explicit(&look_local, 1, memory_order_relaxed);
		return s;
	}
	if (!shared || !id || strlen(id) != MCPG_SESSION_ID_LEN ||
	    strspn(id, "0123456789abcdef") != MCPG_SESSION_ID_LEN)
		return NULL;
	skey(key, sizeof(key), id);
	rc = mcpg_coord_get(key, &val);
	if (rc <= 0) {
		*down = rc < 0;
		atomic_fetch_add(rc < 0 ? &look_error : &look_missing, 1);
		strbuf_release(&val);
		return NULL;
	}
	rec = json_loadb(val.buf, val.len, 0, NULL);
	strbuf_release(&val);
	idle = idle_ms();
	owned = rec ? record_owner(rec, owner) : -1;
	if (!rec || !json_is_string(json_object_get(rec, "v")) || owned < 0 ||
	    (idle && mcpg_wall_ms() - json_integer_value(json_object_get(rec, "u")) > (int64_t)idle)) {
		/* Unreadable, or idle past the timeout and not reaped yet: gone. */
		json_decref(rec);
		atomic_fetch_add(&look_missing, 1);
		return NULL;
	}
	s = mcpg_session_adopt(id, json_string_value(json_object_get(rec, "t")),
			       json_string_value(json_object_get(rec, "v")), owned ? owner : NULL);
	if (s) {
		apply(s, rec);
		mcpg_cluster_seq_init(s);
		atomic_store(&s->shared_ms, mcpg_mono_ms());
		atomic_fetch_add(&look_remote, 1);
	}
	json_decref(rec);
	return s;
}

void
mcpg_cluster_session_refresh(struct mcpg_session *s)
{
	struct strbuf val = STRBUF_INIT;
	char key[64];
	json_t *rec;

	if (!shared)
		return;
	skey(key, sizeof(key), s->id);
	if (mcpg_coord_get(key, &val) == 1 && (rec = json_loadb(val.buf, val.len, 0, NULL))) {
		apply(s, rec);
		json_decref(rec);
	}
	strbuf_release(&val);
}

/* Write the record now; 1 written, 0 it is gone, -1 failed. */
static int
write_record(struct mcpg_session *s)
{
	struct strbuf rec = STRBUF_INIT;
	char key[64];
	int rc;

	skey(key, sizeof(key), s->id);
	encode(&rec, s, mcpg_wall_ms());
	rc = mcpg_coord_replace(key, rec.buf, rec.len, record_ttl(idle_ms()));
	strbuf_release(&rec);
	return rc;
}

void
mcpg_cluster_session_touch(struct mcpg_session *s)
{
	int64_t now, last;
	int rc;

	if (!shared || !mcpg_coord_up())
		return;
	now = mcpg_mono_ms();
	last = atomic_load(&s->shared_ms);
	if (now - last < touch_interval(idle_ms()) ||
	    !atomic_compare_exchange_strong(&s->shared_ms, &last, now))
		return;
	rc = write_record(s);
	if (rc == 0) {
		/* Deleted or reaped elsewhere: this copy is stale. */
		mcpg_session_end(s);
	} else if (rc < 0) {
		atomic_store(&s->shared_ms, 0);
	}
}

void
mcpg_cluster_session_changed(struct mcpg_session *s)
{
	struct strbuf rec = STRBUF_INIT;

	if (!shared)
		return;
	atomic_store(&s->shared_ms, mcpg_mono_ms());
	if (write_record(s) == 1) {
		encode(&rec, s, mcpg_wall_ms());
		publish('u', s->id, rec.buf, rec.len);
	}
	strbuf_release(&rec);
}

int
mcpg_cluster_session_deleted(const char *id)
{
	char key[64];

	if (!shared)
		return 0;
	skey(key, sizeof(key), id);
	if (mcpg_coord_del(key) < 0)
		return -1;
	publish('x', id, "", 0);
	return 0;
}

void
mcpg_cluster_cancel(struct mcpg_session *s, const char *idj)
{
	if (shared)
		publish('c', s->id, idj, strlen(idj));
}

void
mcpg_cluster_event(struct mcpg_session *s, const char *json, size_t len)
{
	mcpg_mcp_push_event(s, json, len);
	if (shared)
		publish('e', s->id, json, len);
}

/* ------------------------------------------------------------------------
 * The duty thread: keep records of busy sessions fresh, hold the lease,
 * reap on the holder.
 */

static void
touch_busy(struct mcpg_session *s, void *arg)
{
	int busy;

	(void)arg;
	pthread_mutex_lock(&s->lock);
	busy = s->nstreams || s->jobs;
	pthread_mutex_unlock(&s->lock);
	if (busy || atomic_load(&s->busy))
		mcpg_cluster_session_touch(s);
}

struct sweep {
	int64_t now;
	uint64_t idle;
	uint64_t n;
	uint64_t token;
};

static void
reap_one(const char *key, void *arg)
{
	struct sweep *sw = arg;
	struct strbuf val = STRBUF_INIT;
	json_t *rec = NULL;
	const char *id = key + 5;

	if (strlen(id) != MCPG_SESSION_ID_LEN)
		return;
	if (mcpg_coord_get(key, &val) == 1 && (rec = json_loadb(val.buf, val.len, 0, NULL)) &&
	    sw->now - json_integer_value(json_object_get(rec, "u")) > (int64_t)sw->idle &&
	    mcpg_coord_del_fenced(key, LEASE_NAME, sw->token) == 1) {
		struct mcpg_session *s = mcpg_session_get(id);

		publish('x', id, "", 0);
		if (s) {
			mcpg_session_end(s);
			mcpg_session_put(s);
		}
		sw->n++;
	}
	json_decref(rec);
	strbuf_release(&val);
}

static void
count_peer(const char *key, void *arg)
{
	(void)key;
	(*(uint64_t *)arg)++;
}

/* Write this replica's presence record when due. */
static void
heartbeat(void)
{
	char key[64], val[96];
	int64_t now = mcpg_mono_ms();

	if (now < next_heartbeat || !mcpg_coord_up())
		return;
	snprintf(key, sizeof(key), "peer.%s", mcpg_log_instance());
	snprintf(val, sizeof(val), "{\"pid\":%ld,\"at\":%lld}", (long)getpid(),
		 (long long)mcpg_wall_ms());
	if (mcpg_coord_put(key, val, strlen(val), peer_ttl_ms) == 0)
		next_heartbeat = now + (int64_t)peer_ttl_ms / 3;
}

static void
duty_tick(void)
{
	uint64_t token = 0;
	int rc;

	mcpg_sessions_foreach(touch_busy, NULL);
	heartbeat();
	if (!mcpg_coord_up())
		rc = -1;
	else
		rc = mcpg_coord_lease(LEASE_NAME, lease_ttl_ms, &token);
	if (rc == 1) {
		if (!atomic_exchange(&holder, 1) || atomic_load(&lease_token) != token) {
			atomic_fetch_add(&lease_acquired, 1);
			mcpg_log(MCPG_LOG_INFO, NULL, "cluster lease acquired", "lease", MCPG_LF_STR,
				 LEASE_NAME, "token", MCPG_LF_U64, token, NULL);
		}
		atomic_store(&lease_token, token);
	} else if (atomic_exchange(&holder, 0)) {
		mcpg_log(MCPG_LOG_INFO, NULL, "cluster lease lost", "lease", MCPG_LF_STR,
			 LEASE_NAME, NULL);
	}
	if (rc == 1) {
		struct sweep sw = { mcpg_wall_ms(), idle_ms(), 0, token };

		uint64_t np = 0;

		if (mcpg_coord_scan("peer.", count_peer, &np) >= 0)
			atomic_store(&peers, np);
		if (sw.idle && mcpg_coord_scan("sess.", reap_one, &sw) >= 0 && sw.n) {
			atomic_fetch_add(&reaped, sw.n);
			mcpg_log(MCPG_LOG_INFO, NULL, "cluster: idle sessions reaped", "sessions",
				 MCPG_LF_U64, sw.n, "token", MCPG_LF_U64, token, NULL);
		}
	}
}

static void *
duty(void *arg)
{
	/* Renew at a third of the TTL: two renewals may fail before it lapses. */
	int64_t period = (int64_t)lease_ttl_ms / 3;

	(void)arg;
	if (period > 1000)
		period = 1000;
	if (period < 50)
		period = 50;
	pthread_mutex_lock(&duty_lock);
	while (!duty_stop) {
		struct timespec ts;

		pthread_mutex_unlock(&duty_lock);
		duty_tick();
		pthread_mutex_lock(&duty_lock);
		if (duty_stop)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (period % 1000) * 1000000;
		ts.tv_sec += period / 1000 + ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&duty_cond, &duty_lock, &ts);
	}
	pthread_mutex_unlock(&duty_lock);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Start, stop, status
 */

int
mcpg_cluster_start(const struct mcpg_rt *rt, char *err, size_t errlen)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_union_slot *c = &rt->cfg->cluster;
	char cause[300];
	int rc;

	switch (mcpg_cluster_tag(img, c)) {
	case MCPG_CLUSTER_REDIS:
		lease_ttl_ms = mcpg_cluster_redis(img, c)->lease_ttl_ms;
		peer_ttl_ms = mcpg_cluster_redis(img, c)->peer_ttl_ms;
		break;
	case MCPG_CLUSTER_NATS:
		lease_ttl_ms = mcpg_cluster_nats(img, c)->lease.default_ttl_sec * 1000;
		peer_ttl_ms = mcpg_cluster_nats(img, c)->node.peer_expiry_sec * 1000;
		break;
	default:
		lease_ttl_ms = 30000;
		break;
	}
	rc = mcpg_coord_start(rt, on_msg, NULL, cause, sizeof(cause));
	if (rc == -2) {
		snprintf(err, errlen, "%s", cause);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "'cluster': cannot reach the %s coordinator: %s (set "
			 "cluster.allow_degraded_boot: true to boot anyway)",
			 mcpg_cluster_tag(img, c) == MCPG_CLUSTER_NATS ? "nats" : "redis", cause);
		return -1;
	}
	shared = mcpg_coord_shared();
	if (!shared)
		return 0;
	{
		char hex[8];

		/* 1..4096 spans of 2^40: ids stay below 2^53 (exact in JavaScript). */
		mcpg_random_hex(hex, 2);
		seq_base = ((strtoull(hex, NULL, 16) & 0xfff) + 1) * SEQ_SPAN;
	}
	mcpg_log(MCPG_LOG_INFO, NULL, "cluster coordinator started", "kind", MCPG_LF_STR,
		 mcpg_coord_kind(), "up", MCPG_LF_BOOL, mcpg_coord_up(), "lease_ttl_ms",
		 MCPG_LF_U64, lease_ttl_ms, NULL);
	duty_stop = 0;
	if (pthread_create(&duty_thread, NULL, duty, NULL) == 0)
		duty_started = 1;
	return 0;
}

void
mcpg_cluster_stop(void)
{
	if (duty_started) {
		pthread_mutex_lock(&duty_lock);
		duty_stop = 1;
		pthread_cond_signal(&duty_cond);
		pthread_mutex_unlock(&duty_lock);
		pthread_join(duty_thread, NULL);
		duty_started = 0;
	}
	/* Hand the duty over now rather than after the TTL; leave the count. */
	if (atomic_exchange(&holder, 0))
		mcpg_coord_lease_release(LEASE_NAME, atomic_load(&lease_token));
	if (shared) {
		char key[64];

		snprintf(key, sizeof(key), "peer.%s", mcpg_log_instance());
		mcpg_coord_del(key);
	}
	mcpg_coord_stop();
	shared = 0;
}

int
mcpg_cluster_ready(void)
{
	return mcpg_coord_up();
}

void
mcpg_cluster_status(char *buf, size_t len)
{
	char cause[256];

	if (mcpg_coord_up()) {
		snprintf(buf, len, "%s up", mcpg_coord_kind());
		return;
	}
	mcpg_coord_error(cause, sizeof(cause));
	snprintf(buf, len, "%s down: %s", mcpg_coord_kind(), cause);
}

void
mcpg_cluster_down_message(char *buf, size_t len)
{
	char cause[256];

	mcpg_coord_error(cause, sizeof(cause));
	snprintf(buf, len, "cluster coordinator unavailable (%s: %s); retry later",
		 mcpg_coord_kind(), cause);
}

void
mcpg_cluster_metrics(struct strbuf *o)
{
	struct mcpg_coord_stats st;

	mcpg_coord_stats(&st);
	strbuf_addf(o, "# HELP mcpg_cluster_up Whether the coordinator answers.\n"
		       "# TYPE mcpg_cluster_up gauge\nmcpg_cluster_up{kind=\"%s\"} %d\n",
		    mcpg_coord_kind(), mcpg_coord_up());
	if (!shared)
		return;
	strbuf_addf(o, "# HELP mcpg_cluster_lease_holder Whether this replica holds the "
		       "reaper lease.\n# TYPE mcpg_cluster_lease_holder gauge\n"
		       "mcpg_cluster_lease_holder %d\n"
		       "# HELP mcpg_cluster_lease_token Fencing token of the lease last held.\n"
		       "# TYPE mcpg_cluster_lease_token gauge\nmcpg_cluster_lease_token %llu\n"
		       "# HELP mcpg_cluster_lease_acquired_total Times this replica took the lease.\n"
		       "# TYPE mcpg_cluster_lease_acquired_total counter\n"
		       "mcpg_cluster_lease_acquired_total %llu\n"
		       "# HELP mcpg_cluster_peers Replicas with a live presence record (as last "
		       "counted by the lease holder; 0 elsewhere).\n"
		       "# TYPE mcpg_cluster_peers gauge\nmcpg_cluster_peers %llu\n"
		       "# HELP mcpg_cluster_sessions_reaped_total Idle session records deleted "
		       "by this replica as lease holder.\n"
		       "# TYPE mcpg_cluster_sessions_reaped_total counter\n"
		       "mcpg_cluster_sessions_reaped_total %llu\n",
		    atomic_load(&holder), (unsigned long long)atomic_load(&lease_token),
		    (unsigned long long)atomic_load(&lease_acquired),
		    atomic_load(&holder) ? (unsigned long long)atomic_load(&peers) : 0ULL,
		    (unsigned long long)atomic_load(&reaped));
	strbuf_addf(o, "# HELP mcpg_cluster_session_lookups_total Session lookups by where "
		       "they were answered.\n# TYPE mcpg_cluster_session_lookups_total counter\n"
		       "mcpg_cluster_session_lookups_total{result=\"local\"} %llu\n"
		       "mcpg_cluster_session_lookups_total{result=\"coordinator\"} %llu\n"
		       "mcpg_cluster_session_lookups_total{result=\"missing\"} %llu\n"
		       "mcpg_cluster_session_lookups_total{result=\"error\"} %llu\n",
		    (unsigned long long)atomic_load(&look_local),
		    (unsigned long long)atomic_load(&look_remote),
		    (unsigned long long)atomic_load(&look_missing),
		    (unsigned long long)atomic_load(&look_error));
	strbuf_addf(o, "# HELP mcpg_cluster_ops_total Coordinator operations.\n"
		       "# TYPE mcpg_cluster_ops_total counter\nmcpg_cluster_ops_total %llu\n"
		       "# HELP mcpg_cluster_errors_total Coordinator failures.\n"
		       "# TYPE mcpg_cluster_errors_total counter\nmcpg_cluster_errors_total %llu\n"
		       "# HELP mcpg_cluster_reconnects_total Times the coordinator came back up.\n"
		       "# TYPE mcpg_cluster_reconnects_total counter\n"
		       "mcpg_cluster_reconnects_total %llu\n"
		       "# HELP mcpg_cluster_bus_messages_total Bus messages by direction.\n"
		       "# TYPE mcpg_cluster_bus_messages_total counter\n"
		       "mcpg_cluster_bus_messages_total{dir=\"out\"} %llu\n"
		       "mcpg_cluster_bus_messages_total{dir=\"in\"} %llu\n",
		    (unsigned long long)st.ops, (unsigned long long)st.errors,
		    (unsigned long long)st.reconnects, (unsigned long long)st.published,
		    (unsigned long long)st.received);
}
