/*
 * coord_nats.c - cluster.kind: nats (coord.h), with libnats (cnats 3.4).
 *
 * State lives in the JetStream KV bucket jetstream.state_bucket, leases in
 * jetstream.leases_bucket (both created when missing, with
 * jetstream.replicas and jetstream.storage), the bus is the core NATS
 * subject "mcpg.<state_bucket>.bus".
 *
 * JetStream 2.9 KV has no per-key TTL (only a bucket-wide max age), so a
 * value is stored framed as "<expiry>\n<bytes>", expiry being wall-clock
 * milliseconds (0: none); a reader treats an expired value as absent and
 * the lease holder's sweep deletes what expired.  Compare-and-set and
 * create-if-absent are KV revision checks (kvStore_Update / _Create).
 *
 * A lease is "<token> <owner> <expiry>" under the lease's name; its
 * fencing token is the KV revision of the write that took it (0 in the
 * value until renewed), so tokens grow with every change of hands.
 * Expiry is compared with the local wall clock: replicas' clocks must
 * agree to well within the lease TTL (NTP does).
 *
 * libnats reconnects by itself (forever, every 250 ms); its callbacks and a
 * flush in ping() tell coord.c about the state.  Without a connection at
 * boot (allow_degraded_boot), it keeps trying in the background and the
 * buckets are bound on the first successful ping.
 */
#include "coord.h"

#ifndef MCPG_WITHOUT_NATS

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "log.h"
#include "rt.h"

static struct {
	natsConnection *nc;
	natsSubscription *sub;
	jsCtx *js;
	kvStore *state, *leases;
	pthread_mutex_t lock; /* binding the buckets */
	char subject[128], state_name[72], leases_name[72], first_url[256];
	char connect_err[200]; /* why the first connect failed, for messages */
	int64_t op_ms;
	int replicas;
	jsStorageType storage;
} N = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The last error's text. */
static const char *
why(natsStatus s)
{
	natsStatus ls;
	const char *t = nats_GetLastError(&ls);

	return t && *t ? t : natsStatus_GetText(s);
}

/*
 * A failed operation: when the connection is fine it was a refusal (wrong
 * revision, key exists): 0; otherwise the coordinator is down: -1.
 */
static int
failed(natsStatus s, const char *what)
{
	if (s != NATS_TIMEOUT && N.nc && natsConnection_Status(N.nc) == NATS_CONN_STATUS_CONNECTED)
		return 0;
	mcpg_coord_down("nats %s: %s: %s", N.first_url, what, why(s));
	return -1;
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
	mcpg_coord_down("nats %s: disconnected", N.first_url);
}

/* Given so that a failed first connect retries in the background, not in Connect. */
static void
on_connected(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
	N.connect_err[0] = '\0';
	mcpg_log(MCPG_LOG_INFO, NULL, "nats connected", "server", MCPG_LF_STR, N.first_url, NULL);
}

static void
on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
	(void)nc;
	(void)sub;
	(void)closure;
	mcpg_coord_deliver(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
	natsMsg_Destroy(m);
}

/* Bind (or create) a bucket. */
static natsStatus
bucket(kvStore **kv, const char *name)
{
	natsStatus s = js_KeyValue(kv, N.js, name);

	if (s == NATS_NOT_FOUND) {
		kvConfig kc;

		kvConfig_Init(&kc);
		kc.Bucket = name;
		kc.History = 1;
		kc.Replicas = N.replicas;
		kc.StorageType = N.storage;
		s = js_CreateKeyValue(kv, N.js, &kc);
	}
	return s;
}

/* The buckets, bound once connected; -1 with the coordinator down. */
static int
ensure(void)
{
	natsStatus s = NATS_OK;
	jsOptions jo;

	if (N.state && N.leases)
		return 0;
	pthread_mutex_lock(&N.lock);
	if (!N.js) {
		jsOptions_Init(&jo);
		jo.Wait = N.op_ms;
		s = natsConnection_JetStream(&N.js, N.nc, &jo);
	}
	if (s == NATS_OK && !N.state)
		s = bucket(&N.state, N.state_name);
	if (s == NATS_OK && !N.leases)
		s = bucket(&N.leases, N.leases_name);
	pthread_mutex_unlock(&N.lock);
	if (s != NATS_OK) {
		mcpg_coord_down("nats %s: JetStream buckets %s, %s: %s", N.first_url, N.state_name,
				N.leases_name, why(s));
		return -1;
	}
	return 0;
}

/* Frame `val` with its expiry. */
static void
frame(struct strbuf *o, const void *val, size_t len, uint64_t ttl_ms)
{
	strbuf_addf(o, "%lld\n", ttl_ms ? (long long)(mcpg_wall_ms() + (int64_t)ttl_ms) : 0LL);
	strbuf_add(o, val, len);
}

/*
 * The live entry of `key`: 1 with *e (caller destroys) and the unframed
 * bytes, 0 absent or expired, -1 failed.
 */
static int
entry(kvStore *kv, const char *key, kvEntry **e, const char **data, size_t *len)
{
	natsStatus s;
	const char *v, *nl;
	int vl;

	*e = NULL;
	if (ensure() < 0)
		return -1;
	s = kvStore_Get(e, kv, key);
	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK)
		return failed(s, "get") == 0 ? 0 : -1;
	v = kvEntry_Value(*e);
	vl = kvEntry_ValueLen(*e);
	nl = v ? memchr(v, '\n', (size_t)vl) : NULL;
	if (!nl || (atoll(v) && atoll(v) <= mcpg_wall_ms())) {
		kvEntry_Destroy(*e);
		*e = NULL;
		return 0;
	}
	*data = nl + 1;
	*len = (size_t)(v + vl - nl - 1);
	return 1;
}

static int
n_get(const char *key, struct strbuf *val)
{
	kvEntry *e;
	const char *d;
	size_t l;
	int rc = entry(N.state, key, &e, &d, &l);

	if (rc == 1) {
		strbuf_add(val, d, l);
		kvEntry_Destroy(e);
	}
	return rc;
}

static int
n_put(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	struct strbuf f = STRBUF_INIT;
	natsStatus s;

	if (ensure() < 0)
		return -1;
	frame(&f, val, len, ttl_ms);
	s = kvStore_Put(NULL, N.state, key, f.buf, (int)f.len);
	strbuf_release(&f);
	if (s != NATS_OK) {
		mcpg_coord_down("nats %s: put: %s", N.first_url, why(s));
		return -1;
	}
	return 0;
}

/*
 * Write `val` to `key` when its current state is right: want_old NULL and
 * absent (create), or present (replace, want_any), or present holding
 * want_old (cas).  1 written, 0 not, -1 failed.
 */
static int
write_if(const char *key, const void *want_old, size_t oldlen, int want_any, const void *val,
	 size_t len, uint64_t ttl_ms)
{
	struct strbuf f = STRBUF_INIT;
	int rc = -1;

	for (int attempt = 0; attempt < 3; attempt++) {
		kvEntry *e = NULL;
		const char *d;
		size_t l;
		natsStatus s;
		int have = entry(N.state, key, &e, &d, &l);

		if (have < 0)
			break;
		if (have == 0 && (want_old || want_any)) {
			rc = 0;
			break;
		}
		if (have == 1 && !want_any && (!want_old || l != oldlen || memcmp(d, want_old, l))) {
			kvEntry_Destroy(e);
			rc = 0;
			break;
		}
		strbuf_reset(&f);
		frame(&f, val, len, ttl_ms);
		if (e) {
			s = kvStore_Update(NULL, N.state, key, f.buf, (int)f.len, kvEntry_Revision(e));
			kvEntry_Destroy(e);
		} else {
			/* Absent or expired: create, or update over the expired revision. */
			kvEntry *old = NULL;

			if (kvStore_Get(&old, N.state, key) == NATS_OK) {
				s = kvStore_Update(NULL, N.state, key, f.buf, (int)f.len,
						   kvEntry_Revision(old));
				kvEntry_Destroy(old);
			} else {
				s = kvStore_Create(NULL, N.state, key, f.buf, (int)f.len);
			}
		}
		if (s == NATS_OK) {
			rc = 1;
			break;
		}
		if ((rc = failed(s, "update")) < 0)
			break;
		/* Lost a race with another writer: look again. */
	}
	strbuf_release(&f);
	return rc;
}

static int
n_create(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	return write_if(key, NULL, 0, 0, val, len, ttl_ms);
}

static int
n_cas(const char *key, const void *old, size_t oldlen, const void *val, size_t len,
      uint64_t ttl_ms)
{
	return write_if(key, old, oldlen, 0, val, len, ttl_ms);
}

static int
n_replace(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	return write_if(key, NULL, 0, 1, val, len, ttl_ms);
}

static int
n_del(const char *key)
{
	kvEntry *e;
	const char *d;
	size_t l;
	int rc = entry(N.state, key, &e, &d, &l);
	natsStatus s;

	if (rc <= 0)
		return rc;
	kvEntry_Destroy(e);
	s = kvStore_Delete(N.state, key);
	if (s != NATS_OK) {
		mcpg_coord_down("nats %s: delete: %s", N.first_url, why(s));
		return -1;
	}
	return 1;
}

static long
n_scan(const char *prefix, void (*fn)(const char *key, void *arg), void *arg)
{
	kvKeysList kl = { NULL, 0 };
	kvWatchOptions wo;
	natsStatus s;
	size_t pl = strlen(prefix);
	long n = 0;

	if (ensure() < 0)
		return -1;
	kvWatchOptions_Init(&wo);
	wo.Timeout = N.op_ms;
	s = kvStore_Keys(&kl, N.state, &wo);
	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK) {
		mcpg_coord_down("nats %s: keys: %s", N.first_url, why(s));
		return -1;
	}
	for (int i = 0; i < kl.Count; i++) {
		kvEntry *e;
		const char *d;
		size_t l;
		int live;

		if (strncmp(kl.Keys[i], prefix, pl))
			continue;
		/* Keys knows nothing of our expiry: look, and sweep what expired. */
		live = entry(N.state, kl.Keys[i], &e, &d, &l);
		if (live < 0)
			break;
		if (!live) {
			kvStore_Delete(N.state, kl.Keys[i]);
			continue;
		}
		kvEntry_Destroy(e);
		fn(kl.Keys[i], arg);
		n++;
	}
	kvKeysList_Destroy(&kl);
	return n;
}

static int
n_publish(const void *data, size_t len)
{
	natsStatus s = natsConnection_Publish(N.nc, N.subject, data, (int)len);

	if (s != NATS_OK) {
		mcpg_coord_down("nats %s: publish: %s", N.first_url, why(s));
		return -1;
	}
	return 0;
}

static int
n_lease(const char *name, uint64_t ttl_ms, uint64_t *token)
{
	kvEntry *e = NULL;
	natsStatus s;
	char val[128];
	const char *me = mcpg_log_instance();
	uint64_t rev;

	if (ensure() < 0)
		return -1;
	s = kvStore_Get(&e, N.leases, name);
	if (s != NATS_OK && s != NATS_NOT_FOUND)
		return failed(s, "lease") == 0 ? 0 : -1;
	if (e) {
		unsigned long long tok = 0;
		long long exp = 0;
		char owner[64] = "";
		char *v = strndup(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));

		if (v)
			sscanf(v, "%llu %63s %lld", &tok, owner, &exp);
		free(v);
		if (!strcmp(owner, me)) {
			/* Renew, keeping the token. */
			if (!tok)
				tok = kvEntry_Revision(e);
			snprintf(val, sizeof(val), "%llu %s %lld", tok, me,
				 (long long)(mcpg_wall_ms() + (int64_t)ttl_ms));
			s = kvStore_Update(NULL, N.leases, name, val, (int)strlen(val),
					   kvEntry_Revision(e));
			kvEntry_Destroy(e);
			if (s != NATS_OK)
				return failed(s, "lease renew") == 0 ? 0 : -1;
			*token = tok;
			return 1;
		}
		if (exp > mcpg_wall_ms()) {
			kvEntry_Destroy(e);
			return 0;
		}
	}
	/* Free or expired: take it; the revision of this write is the token. */
	snprintf(val, sizeof(val), "0 %s %lld", me, (long long)(mcpg_wall_ms() + (int64_t)ttl_ms));
	if (e) {
		s = kvStore_Update(&rev, N.leases, name, val, (int)strlen(val), kvEntry_Revision(e));
		kvEntry_Destroy(e);
	} else {
		s = kvStore_Create(&rev, N.leases, name, val, (int)strlen(val));
	}
	if (s != NATS_OK)
		return failed(s, "lease take") == 0 ? 0 : -1;
	*token = rev;
	return 1;
}

static void
n_lease_release(const char *name, uint64_t token)
{
	kvEntry *e = NULL;

	if (ensure() < 0 || kvStore_Get(&e, N.leases, name) != NATS_OK)
		return;
	{
		unsigned long long tok = 0;
		char owner[64] = "";
		char *v = strndup(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));

		if (v)
			sscanf(v, "%llu %63s", &tok, owner);
		free(v);
		if (!tok)
			tok = kvEntry_Revision(e);
		if (tok == token && !strcmp(owner, mcpg_log_instance())) {
			static const char gone[] = "0 - 0";

			kvStore_Update(NULL, N.leases, name, gone, (int)sizeof(gone) - 1,
				       kvEntry_Revision(e));
		}
	}
	kvEntry_Destroy(e);
}

static int
n_del_fenced(const char *key, const char *name, uint64_t token)
{
	kvEntry *e = NULL;
	unsigned long long tok = 0;
	natsStatus s;

	if (ensure() < 0)
		return -1;
	s = kvStore_Get(&e, N.leases, name);
	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK)
		return failed(s, "lease") == 0 ? 0 : -1;
	{
		char *v = strndup(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));

		if (v)
			sscanf(v, "%llu", &tok);
		free(v);
	}
	if (!tok)
		tok = kvEntry_Revision(e);
	kvEntry_Destroy(e);
	return tok == token ? n_del(key) : 0;
}

static int
n_ping(void)
{
	natsStatus s;

	if (!N.nc || natsConnection_Status(N.nc) != NATS_CONN_STATUS_CONNECTED) {
		mcpg_coord_down("nats %s: not connected%s%s%s", N.first_url,
				N.connect_err[0] ? " (" : "", N.connect_err,
				N.connect_err[0] ? ")" : "");
		return -1;
	}
	s = natsConnection_FlushTimeout(N.nc, N.op_ms < 1000 ? N.op_ms : 1000);
	if (s != NATS_OK) {
		mcpg_coord_down("nats %s: %s", N.first_url, why(s));
		return -1;
	}
	if (!N.sub) {
		s = natsConnection_Subscribe(&N.sub, N.nc, N.subject, on_msg, NULL);
		if (s != NATS_OK) {
			mcpg_coord_down("nats %s: subscribe: %s", N.first_url, why(s));
			return -1;
		}
	}
	return ensure();
}

static void
n_stop(void)
{
	if (N.sub)
		natsSubscription_Destroy(N.sub);
	if (N.state)
		kvStore_Destroy(N.state);
	if (N.leases)
		kvStore_Destroy(N.leases);
	if (N.js)
		jsCtx_Destroy(N.js);
	if (N.nc) {
		natsConnection_Close(N.nc);
		natsConnection_Destroy(N.nc);
	}
	N.sub = NULL;
	N.state = N.leases = NULL;
	N.js = NULL;
	N.nc = NULL;
	/* No nats_Close(): with OpenSSL 3 it breaks OPENSSL_cleanup at exit. */
}

static const struct mcpg_coord_ops nats_ops = {
	"nats", 1, n_get, n_put, n_create, n_cas, n_replace, n_del, n_scan, n_publish,
	n_lease, n_lease_release, n_del_fenced, n_ping, n_stop,
};

const struct mcpg_coord_ops *
mcpg_coord_nats_start(const struct mcpg_rt *rt, char *err, size_t errlen)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_nats_cluster *nc = mcpg_cluster_nats(img, &rt->cfg->cluster);
	const struct mcpg_union_slot *auth = &nc->auth;
	natsOptions *o = NULL;
	natsStatus s;
	uint32_t n;
	const uint32_t *srv = mcpg_nats_cluster_servers(img, nc, &n);
	const char **urls = calloc(n ? n : 1, sizeof(*urls));
	int tls = nc->tls.require_tls;

	if (!urls || natsOptions_Create(&o) != NATS_OK) {
		snprintf(err, errlen, "out of memory");
		free(urls);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		urls[i] = mcpg_str(img, srv[i]);
		if (!strncmp(urls[i], "tls://", 6))
			tls = 1;
	}
	/* For messages: the first URL without credentials. */
	{
		const char *u = n ? urls[0] : "?", *at = strchr(u, '@'), *sch = strstr(u, "://");

		if (at && sch)
			snprintf(N.first_url, sizeof(N.first_url), "%.*s%s", (int)(sch + 3 - u), u,
				 at + 1);
		else
			snprintf(N.first_url, sizeof(N.first_url), "%s", u);
	}
	snprintf(N.state_name, sizeof(N.state_name), "%s",
		 mcpg_str(img, nc->jetstream.state_bucket));
	snprintf(N.leases_name, sizeof(N.leases_name), "%s",
		 mcpg_str(img, nc->jetstream.leases_bucket));
	snprintf(N.subject, sizeof(N.subject), "mcpg.%s.bus", N.state_name);
	N.op_ms = (int64_t)nc->connection.operation_timeout_ms;
	N.replicas = (int)nc->jetstream.replicas;
	N.storage = nc->jetstream.storage == MCPG_JETSTREAM_STORAGE_MEMORY ? js_MemoryStorage
									  : js_FileStorage;
	s = natsOptions_SetServers(o, urls, (int)n);
	free(urls);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, (int64_t)nc->connection.connect_timeout_ms);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, mcpg_str(img, nc->node.id));
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, NULL);
	if (s == NATS_OK && tls)
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && tls && mcpg_nats_tls_ca_cert(img, &nc->tls))
		s = natsOptions_LoadCATrustedCertificates(o, mcpg_nats_tls_ca_cert(img, &nc->tls));
	if (s == NATS_OK) {
		const struct mcpg_nats_token_auth *tok = mcpg_nats_auth_token(img, auth);
		const struct mcpg_nats_user_password_auth *up = mcpg_nats_auth_user_password(img, auth);
		const struct mcpg_nats_credentials_file_auth *cf =
			mcpg_nats_auth_credentials_file(img, auth);

		if (tok)
			s = natsOptions_SetToken(o, mcpg_str(img, tok->token));
		else if (up)
			s = natsOptions_SetUserInfo(o, mcpg_str(img, up->user),
						    mcpg_str(img, up->password));
		else if (cf)
			s = natsOptions_SetUserCredentialsFromFiles(o, mcpg_str(img, cf->path), NULL);
	}
	if (s != NATS_OK) {
		snprintf(err, errlen, "'cluster': NATS options: %s", why(s));
		natsOptions_Destroy(o);
		return NULL;
	}
	/*
	 * Connect once plainly, so a refusal names its cause (a background
	 * retry only reports "not yet connected"); then, with
	 * allow_degraded_boot, keep retrying in the background.
	 */
	s = natsConnection_Connect(&N.nc, o);
	if (s != NATS_OK) {
		snprintf(N.connect_err, sizeof(N.connect_err), "%s", why(s));
		N.nc = NULL;
		if (nc->allow_degraded_boot &&
		    natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL) == NATS_OK)
			s = natsConnection_Connect(&N.nc, o);
		if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED)
			N.nc = NULL;
		mcpg_coord_down("nats %s: %s", N.first_url, N.connect_err);
	}
	natsOptions_Destroy(o);
	return &nats_ops;
}

#else /* MCPG_WITHOUT_NATS */

#include <stdio.h>

const struct mcpg_coord_ops *
mcpg_coord_nats_start(const struct mcpg_rt *rt, char *err, size_t errlen)
{
	(void)rt;
	snprintf(err, errlen, "'cluster.kind': nats is not available in this build of mcpg "
		 "(built with MCPG_WITHOUT_NATS, no libnats); use redis or single_node");
	return NULL;
}

#endif /* MCPG_WITHOUT_NATS */
