/*
 * coord_redis.c - cluster.kind: redis (coord.h).
 *
 * hiredis 0.14 has no TLS, so this file does not use its connection at all:
 * it keeps its own socket (and OpenSSL session for rediss://), formats
 * commands with redisFormatCommandArgv and parses replies with hiredis'
 * RESP reader (redisReaderFeed / redisReaderGetReply).  One code path then
 * serves redis:// and rediss:// alike, with deadlines on every read and
 * write (poll), which hiredis' blocking API would not give over TLS.
 *
 * Connections: a pool of pool_size command connections, opened on demand,
 * and one subscriber connection owned by its thread (SUBSCRIBE on
 * "<key_prefix>bus").  A failed command closes its connection and reports
 * the coordinator down; the health thread (coord.c) pings, which reopens.
 *
 * Atomic multi-step operations (compare-and-set, leases) are Lua scripts,
 * so each is one round trip and atomic on the server.
 */
#include "coord.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "mcp.h"
#include "rt.h"

struct rconn {
	int fd;
	SSL *ssl;
	redisReader *rd;
	int busy;
};

static struct {
	char host[256], port[8];
	int tls, db;
	char *user, *pass;
	char prefix[256];
	size_t plen;
	int64_t connect_ms, op_ms;
	SSL_CTX *ctx;
	struct rconn *pool;
	int npool;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* subscriber */
	pthread_t sub_thread;
	int sub_started;
	atomic_int sub_ok, sub_tried, stop;
} R = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void
rc_close(struct rconn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->rd)
		redisReaderFree(c->rd);
	c->rd = NULL;
}

/* Wait for `events` on c->fd until `deadline`; 0 ready, -1 timeout/error. */
static int
wait_fd(struct rconn *c, short events, int64_t deadline, const char **why)
{
	struct pollfd p = { .fd = c->fd, .events = events };

	for (;;) {
		int64_t left = deadline - mcpg_mono_ms();
		int n;

		if (left <= 0) {
			*why = "timed out";
			return -1;
		}
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			*why = strerror(errno);
			return -1;
		}
	}
}

/* Drive an OpenSSL call that may want I/O: 1 retry, 0 done, -1 failed. */
static int
ssl_want(struct rconn *c, int rc, int64_t deadline, const char **why)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c, POLLIN, deadline, why) == 0 ? 1 : -1;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c, POLLOUT, deadline, why) == 0 ? 1 : -1;
	case SSL_ERROR_ZERO_RETURN:
		*why = "connection closed";
		return -1;
	default: {
		static _Thread_local char buf[160];
		unsigned long e = ERR_get_error();

		if (e) {
			ERR_error_string_n(e, buf, sizeof(buf));
			*why = buf;
		} else {
			*why = errno ? strerror(errno) : "TLS error";
		}
		ERR_clear_error();
		return -1;
	}
	}
}

/*
 * Move up to `len` bytes once, over TLS or not: written from `src`, or when
 * it is NULL read into `dst`, waiting on the socket (until `deadline`)
 * while it is not ready.  The count moved (> 0), or -1 with *why.
 */
static ssize_t
io_once(struct rconn *c, const char *src, char *dst, size_t len, int64_t deadline,
	const char **why)
{
	int out = src != NULL;

	for (;;) {
		ssize_t n;

		if (c->ssl) {
			int r = out ? SSL_write(c->ssl, src, (int)len) : SSL_read(c->ssl, dst, (int)len);

			if (r > 0)
				return r;
			if (ssl_want(c, r, deadline, why) < 0)
				return -1;
			continue;
		}
		n = out ? send(c->fd, src, len, MSG_NOSIGNAL) : recv(c->fd, dst, len, 0);
		if (n > 0)
			return n;
		if (n == 0) {
			if (out)
				continue;
			*why = "connection closed by server";
			return -1;
		}
		if (errno != EAGAIN && errno != EINTR) {
			*why = strerror(errno);
			return -1;
		}
		if (wait_fd(c, out ? POLLOUT : POLLIN, deadline, why) < 0)
			return -1;
	}
}

static int
io_write(struct rconn *c, const char *buf, size_t len, int64_t deadline, const char **why)
{
	while (len) {
		ssize_t n = io_once(c, buf, NULL, len, deadline, why);

		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one reply (caller frees it).  0, or -1 with *why. */
static int
io_reply(struct rconn *c, redisReply **out, int64_t deadline, const char **why)
{
	char buf[16384];

	for (;;) {
		void *rep = NULL;
		ssize_t n;

		if (redisReaderGetReply(c->rd, &rep) != REDIS_OK) {
			*why = "protocol error";
			return -1;
		}
		if (rep) {
			*out = rep;
			return 0;
		}
		n = io_once(c, NULL, buf, sizeof(buf), deadline, why);
		if (n < 0)
			return -1;
		redisReaderFeed(c->rd, buf, (size_t)n);
	}
}

/* Send one command and read its reply. */
static int
io_cmd(struct rconn *c, int argc, const char **argv, const size_t *lens, redisReply **out,
       int64_t deadline, const char **why)
{
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	int rc;

	if (len < 0) {
		*why = "out of memory";
		return -1;
	}
	rc = io_write(c, cmd, (size_t)len, deadline, why);
	redisFreeCommand(cmd);
	if (rc < 0)
		return -1;
	return io_reply(c, out, deadline, why);
}

/* Open c: TCP, TLS, AUTH, SELECT.  0, or -1 with *why. */
static int
rc_open(struct rconn *c, const char **why)
{
	static _Thread_local char msg[300];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	int64_t deadline = mcpg_mono_ms() + R.connect_ms;
	int g;

	c->fd = -1;
	g = getaddrinfo(R.host, R.port, &hints, &res);
	if (g) {
		snprintf(msg, sizeof(msg), "cannot resolve: %s", gai_strerror(g));
		*why = msg;
		return -1;
	}
	*why = "no address";
	for (ai = res; ai; ai = ai->ai_next) {
		int err = 0;
		socklen_t el = sizeof(err);

		c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			continue;
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(c, POLLOUT, deadline, why) == 0 &&
		     getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err))
			break;
		if (err)
			*why = strerror(err);
		else if (errno != EINPROGRESS)
			*why = strerror(errno);
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return -1;
	{
		int one = 1;

		setsockopt(c->fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	}
	c->rd = redisReaderCreate();
	if (!c->rd) {
		*why = "out of memory";
		goto fail;
	}
	if (R.tls) {
		X509_VERIFY_PARAM *vp;

		c->ssl = SSL_new(R.ctx);
		if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
			*why = "TLS setup failed";
			goto fail;
		}
		SSL_set_tlsext_host_name(c->ssl, R.host);
		vp = SSL_get0_param(c->ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, R.host) != 1)
			X509_VERIFY_PARAM_set1_host(vp, R.host, 0);
		for (;;) {
			int r = SSL_connect(c->ssl);

			if (r == 1)
				break;
			if (ssl_want(c, r, deadline, why) < 0) {
				long v = SSL_get_verify_result(c->ssl);

				if (v != X509_V_OK) {
					snprintf(msg, sizeof(msg), "TLS: %s",
						 X509_verify_cert_error_string(v));
					*why = msg;
				}
				goto fail;
			}
		}
	}
	if (R.pass) {
		const char *argv[3] = { "AUTH", R.user ? R.user : R.pass, R.pass };
		size_t lens[3] = { 4, strlen(argv[1]), strlen(R.pass) };
		redisReply *rep = NULL;

		if (io_cmd(c, R.user ? 3 : 2, argv, lens, &rep, deadline, why) < 0)
			goto fail;
		if (rep->type == REDIS_REPLY_ERROR) {
			snprintf(msg, sizeof(msg), "AUTH: %.200s", rep->str);
			*why = msg;
			freeReplyObject(rep);
			goto fail;
		}
		freeReplyObject(rep);
	}
	if (R.db) {
		char db[16];
		const char *argv[2] = { "SELECT", db };
		size_t lens[2] = { 6, 0 };
		redisReply *rep = NULL;

		lens[1] = (size_t)snprintf(db, sizeof(db), "%d", R.db);
		if (io_cmd(c, 2, argv, lens, &rep, deadline, why) < 0)
			goto fail;
		freeReplyObject(rep);
	}
	return 0;
fail:
	rc_close(c);
	return -1;
}

/*
 * A pool connection, opened if needed (*fresh then); NULL with the
 * coordinator marked down.
 */
static struct rconn *
take(int64_t deadline, int *fresh)
{
	struct rconn *c = NULL;
	const char *why;

	pthread_mutex_lock(&R.lock);
	for (;;) {
		int i;

		/* Prefer an open idle connection, then a closed idle one. */
		for (i = 0; i < R.npool; i++)
			if (!R.pool[i].busy && R.pool[i].fd >= 0)
				break;
		if (i == R.npool)
			for (i = 0; i < R.npool; i++)
				if (!R.pool[i].busy)
					break;
		if (i < R.npool) {
			c = &R.pool[i];
			c->busy = 1;
			break;
		}
		{
			struct timespec ts;
			int64_t left = deadline - mcpg_mono_ms();

			if (left <= 0)
				break;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += left / 1000;
			ts.tv_nsec += (left % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&R.cond, &R.lock, &ts);
		}
	}
	pthread_mutex_unlock(&R.lock);
	if (!c) {
		mcpg_coord_down("redis %s:%s: no free connection within operation_timeout_ms",
				R.host, R.port);
		return NULL;
	}
	*fresh = c->fd < 0;
	if (c->fd < 0 && rc_open(c, &why) < 0) {
		mcpg_coord_down("redis %s:%s: %s", R.host, R.port, why);
		pthread_mutex_lock(&R.lock);
		c->busy = 0;
		pthread_cond_signal(&R.cond);
		pthread_mutex_unlock(&R.lock);
		return NULL;
	}
	return c;
}

/*
 * Close the idle connections: one failed, so the server probably went
 * away and the others are stale too (reopened on their next use).
 */
static void
drop_idle(void)
{
	pthread_mutex_lock(&R.lock);
	for (int i = 0; i < R.npool; i++)
		if (!R.pool[i].busy && R.pool[i].fd >= 0)
			rc_close(&R.pool[i]);
	pthread_mutex_unlock(&R.lock);
}

static void
give(struct rconn *c)
{
	pthread_mutex_lock(&R.lock);
	c->busy = 0;
	pthread_cond_signal(&R.cond);
	pthread_mutex_unlock(&R.lock);
}

/*
 * Run one command on a pool connection.  Returns the reply (caller frees)
 * or NULL with the coordinator marked down.  An error reply is a reply.
 * A connection that had served before and fails is retried once on a new
 * one: after a server restart every pooled connection is stale, and the
 * first command on each should not fail for it.
 */
static redisReply *
command(int argc, const char **argv, const size_t *lens, int64_t timeout_ms)
{
	int64_t deadline = mcpg_mono_ms() + timeout_ms;
	redisReply *rep = NULL;
	const char *why = "no connection";

	for (int attempt = 0; attempt < 2; attempt++) {
		int fresh;
		struct rconn *c = take(deadline, &fresh);

		if (!c)
			return NULL;
		if (io_cmd(c, argc, argv, lens, &rep, deadline, &why) == 0) {
			give(c);
			return rep;
		}
		rc_close(c);
		give(c);
		drop_idle();
		if (fresh || !strcmp(why, "timed out"))
			break;
	}
	mcpg_coord_down("redis %s:%s: %s", R.host, R.port, why);
	return NULL;
}

/* Prefixed key into buf. */
static const char *
pkey(char *buf, size_t len, const char *key)
{
	snprintf(buf, len, "%s%s", R.prefix, key);
	return buf;
}

static int
reply_error(redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ERROR)
		return 0;
	mcpg_log(MCPG_LOG_WARN, NULL, "redis error reply", "error", MCPG_LF_STR, rep->str, NULL);
	freeReplyObject(rep);
	return 1;
}

static int
r_get(const char *key, struct strbuf *val)
{
	char k[512];
	const char *argv[2] = { "GET", pkey(k, sizeof(k), key) };
	size_t lens[2] = { 3, strlen(k) };
	redisReply *rep = command(2, argv, lens, R.op_ms);
	int rc;

	if (!rep || reply_error(rep))
		return -1;
	rc = rep->type == REDIS_REPLY_STRING;
	if (rc)
		strbuf_add(val, rep->str, rep->len);
	freeReplyObject(rep);
	return rc;
}

/* SET key val [PX ttl] [NX|XX]: 1 set, 0 not set (NX, XX), -1 failed. */
static int
set_cmd(const char *key, const void *val, size_t len, uint64_t ttl_ms, const char *cond)
{
	char k[512], ttl[24];
	const char *argv[6] = { "SET", pkey(k, sizeof(k), key), val, "PX", ttl, "NX" };
	size_t lens[6] = { 3, strlen(k), len, 2, 0, 2 };
	int argc = 3;
	redisReply *rep;
	int rc;

	if (ttl_ms) {
		lens[4] = (size_t)snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
		argc = 5;
	}
	if (cond) {
		argv[argc] = cond;
		lens[argc++] = 2;
	}
	rep = command(argc, argv, lens, R.op_ms);
	if (!rep || reply_error(rep))
		return -1;
	rc = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return rc;
}

static int
r_put(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	return set_cmd(key, val, len, ttl_ms, NULL) < 0 ? -1 : 0;
}

static int
r_create(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	return set_cmd(key, val, len, ttl_ms, "NX");
}

static int
r_replace(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	return set_cmd(key, val, len, ttl_ms, "XX");
}

/* EVAL script with keys and args; the integer reply, or -1. */
static long long
eval(const char *script, int nkeys, const char **keys, int nargs, const char **args,
     const size_t *arglens)
{
	const char *argv[12];
	size_t lens[12];
	char nk[8], kb[4][512];
	int argc = 0;
	redisReply *rep;
	long long v;

	argv[argc] = "EVAL";
	lens[argc++] = 4;
	argv[argc] = script;
	lens[argc++] = strlen(script);
	lens[argc] = (size_t)snprintf(nk, sizeof(nk), "%d", nkeys);
	argv[argc++] = nk;
	for (int i = 0; i < nkeys; i++) {
		argv[argc] = pkey(kb[i], sizeof(kb[i]), keys[i]);
		lens[argc++] = strlen(kb[i]);
	}
	for (int i = 0; i < nargs; i++) {
		argv[argc] = args[i];
		lens[argc++] = arglens ? arglens[i] : strlen(args[i]);
	}
	rep = command(argc, argv, lens, R.op_ms);
	if (!rep || reply_error(rep))
		return -1;
	v = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
	freeReplyObject(rep);
	return v;
}

static const char cas_lua[] =
	"if redis.call('GET',KEYS[1])==ARGV[1] then "
	"if ARGV[3]=='0' then redis.call('SET',KEYS[1],ARGV[2]) "
	"else redis.call('SET',KEYS[1],ARGV[2],'PX',ARGV[3]) end return 1 end return 0";

static int
r_cas(const char *key, const void *old, size_t oldlen, const void *val, size_t len,
      uint64_t ttl_ms)
{
	char ttl[24];
	const char *args[3] = { old, val, ttl };
	size_t lens[3] = { oldlen, len, 0 };

	lens[2] = (size_t)snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
	return (int)eval(cas_lua, 1, &key, 3, args, lens);
}

static int
r_del(const char *key)
{
	char k[512];
	const char *argv[2] = { "DEL", pkey(k, sizeof(k), key) };
	size_t lens[2] = { 3, strlen(k) };
	redisReply *rep = command(2, argv, lens, R.op_ms);
	int rc;

	if (!rep || reply_error(rep))
		return -1;
	rc = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0;
	freeReplyObject(rep);
	return rc;
}

static long
r_scan(const char *prefix, void (*fn)(const char *key, void *arg), void *arg)
{
	char cursor[32] = "0", pat[600];
	size_t n = 0;
	long seen = 0;

	/* The pattern is the prefixes with glob characters escaped, then '*'. */
	for (const char *s = R.prefix; *s && n < sizeof(pat) - 4; s++) {
		if (strchr("*?[]\\", *s))
			pat[n++] = '\\';
		pat[n++] = *s;
	}
	for (const char *s = prefix; *s && n < sizeof(pat) - 4; s++) {
		if (strchr("*?[]\\", *s))
			pat[n++] = '\\';
		pat[n++] = *s;
	}
	pat[n++] = '*';
	pat[n] = '\0';
	do {
		const char *argv[6] = { "SCAN", cursor, "MATCH", pat, "COUNT", "500" };
		size_t lens[6] = { 4, strlen(cursor), 5, n, 5, 3 };
		redisReply *rep = command(6, argv, lens, R.op_ms);

		if (!rep || reply_error(rep))
			return -1;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			freeReplyObject(rep);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%.*s", (int)rep->element[0]->len,
			 rep->element[0]->str);
		for (size_t i = 0; i < rep->element[1]->elements; i++) {
			const redisReply *k = rep->element[1]->element[i];

			if (k->type == REDIS_REPLY_STRING && k->len > R.plen) {
				fn(k->str + R.plen, arg);
				seen++;
			}
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	return seen;
}

static int
r_publish(const void *data, size_t len)
{
	char ch[300];
	const char *argv[3] = { "PUBLISH", pkey(ch, sizeof(ch), "bus"), data };
	size_t lens[3] = { 7, strlen(ch), len };
	redisReply *rep = command(3, argv, lens, R.op_ms);

	if (!rep || reply_error(rep))
		return -1;
	freeReplyObject(rep);
	return 0;
}

/*
 * lease.NAME holds "TOKEN OWNER" with the lease TTL; fence.NAME counts
 * tokens.  The holder renewing keeps its token; a new holder gets INCR.
 */
static const char lease_lua[] =
	"local v=redis.call('GET',KEYS[1]) "
	"if v then local sp=string.find(v,' ',1,true) "
	"if string.sub(v,sp+1)==ARGV[1] then redis.call('PEXPIRE',KEYS[1],ARGV[2]) "
	"return tonumber(string.sub(v,1,sp-1)) end return 0 end "
	"local t=redis.call('INCR',KEYS[2]) "
	"redis.call('SET',KEYS[1],t..' '..ARGV[1],'PX',ARGV[2]) return t";

static const char release_lua[] =
	"if redis.call('GET',KEYS[1])==ARGV[1] then return redis.call('DEL',KEYS[1]) end "
	"return 0";

static int
r_lease(const char *name, uint64_t ttl_ms, uint64_t *token)
{
	char lk[300], fk[300], ttl[24];
	const char *keys[2] = { lk, fk };
	const char *args[2] = { mcpg_log_instance(), ttl };
	long long v;

	snprintf(lk, sizeof(lk), "lease.%s", name);
	snprintf(fk, sizeof(fk), "fence.%s", name);
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
	v = eval(lease_lua, 2, keys, 2, args, NULL);
	if (v < 0)
		return -1;
	if (v == 0)
		return 0;
	*token = (uint64_t)v;
	return 1;
}

static void
r_lease_release(const char *name, uint64_t token)
{
	char lk[300], val[64];
	const char *keys[1] = { lk };
	const char *args[1] = { val };

	snprintf(lk, sizeof(lk), "lease.%s", name);
	snprintf(val, sizeof(val), "%llu %s", (unsigned long long)token, mcpg_log_instance());
	eval(release_lua, 1, keys, 1, args, NULL);
}

static const char del_fenced_lua[] =
	"local v=redis.call('GET',KEYS[2]) "
	"if v and string.sub(v,1,string.find(v,' ',1,true)-1)==ARGV[1] then "
	"return redis.call('DEL',KEYS[1]) end return 2";

static int
r_del_fenced(const char *key, const char *name, uint64_t token)
{
	char lk[300], tok[24];
	const char *keys[2] = { key, lk };
	const char *args[1] = { tok };
	long long v;

	snprintf(lk, sizeof(lk), "lease.%s", name);
	snprintf(tok, sizeof(tok), "%llu", (unsigned long long)token);
	v = eval(del_fenced_lua, 2, keys, 1, args, NULL);
	return v < 0 ? -1 : v == 1;
}

static int
r_ping(void)
{
	const char *argv[1] = { "PING" };
	size_t lens[1] = { 4 };
	redisReply *rep;

	rep = command(1, argv, lens, R.op_ms < 1000 ? R.op_ms : 1000);
	if (!rep)
		return -1;
	freeReplyObject(rep);
	if (!atomic_load(&R.sub_ok)) {
		mcpg_coord_down("redis %s:%s: subscriber not connected", R.host, R.port);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The subscriber
 */

static void *
subscriber(void *arg)
{
	struct rconn c = { .fd = -1 };
	int64_t backoff = 100;
	char ch[300];

	(void)arg;
	pkey(ch, sizeof(ch), "bus");
	while (!atomic_load(&R.stop)) {
		const char *why = NULL;
		redisReply *rep = NULL;

		if (c.fd < 0) {
			const char *argv[2] = { "SUBSCRIBE", ch };
			size_t lens[2] = { 9, strlen(ch) };

			if (rc_open(&c, &why) < 0 ||
			    io_cmd(&c, 2, argv, lens, &rep, mcpg_mono_ms() + R.connect_ms, &why) < 0) {
				rc_close(&c);
				atomic_store(&R.sub_ok, 0);
				mcpg_coord_down("redis %s:%s: %s", R.host, R.port, why);
				atomic_store(&R.sub_tried, 1);
				/* Back off (100 ms to 1 s), in slices so a stop is seen. */
				for (int64_t t = 0; t < backoff && !atomic_load(&R.stop); t += 50)
					usleep(50 * 1000);
				backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
				continue;
			}
			freeReplyObject(rep);
			backoff = 100;
			atomic_store(&R.sub_ok, 1);
			atomic_store(&R.sub_tried, 1);
			continue;
		}
		/* Read with a short deadline so stop is seen; a timeout is no error. */
		if (io_reply(&c, &rep, mcpg_mono_ms() + 300, &why) < 0) {
			if (!strcmp(why, "timed out"))
				continue;
			rc_close(&c);
			atomic_store(&R.sub_ok, 0);
			mcpg_coord_down("redis %s:%s: subscriber: %s", R.host, R.port, why);
			continue;
		}
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
		    rep->element[0]->type == REDIS_REPLY_STRING &&
		    !strcmp(rep->element[0]->str, "message") &&
		    rep->element[2]->type == REDIS_REPLY_STRING)
			mcpg_coord_deliver(rep->element[2]->str, rep->element[2]->len);
		freeReplyObject(rep);
	}
	rc_close(&c);
	return NULL;
}

static void
r_stop(void)
{
	atomic_store(&R.stop, 1);
	if (R.sub_started) {
		pthread_join(R.sub_thread, NULL);
		R.sub_started = 0;
	}
	for (int i = 0; i < R.npool; i++)
		rc_close(&R.pool[i]);
	free(R.pool);
	R.pool = NULL;
	R.npool = 0;
	if (R.ctx)
		SSL_CTX_free(R.ctx);
	R.ctx = NULL;
	free(R.user);
	free(R.pass);
	R.user = R.pass = NULL;
}

static const struct mcpg_coord_ops redis_ops = {
	"redis", 1, r_get, r_put, r_create, r_cas, r_replace, r_del, r_scan, r_publish,
	r_lease, r_lease_release, r_del_fenced, r_ping, r_stop,
};

/* Percent-decode src[0..n) into a new string. */
static char *
pct_dup(const char *s, size_t n)
{
	char *o = malloc(n + 1), *p = o;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 0 && s[i + 1] && s[i + 2]) {
			char h[3] = { s[i + 1], s[i + 2], 0 };

			*p++ = (char)strtol(h, NULL, 16);
			i += 2;
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return o;
}

/* redis[s]://[user[:pass]@]host[:port][/db]; -1 with a message. */
static int
parse_url(const char *url, char *err, size_t errlen)
{
	const char *p, *at, *hend, *slash;

	if (!strncmp(url, "rediss://", 9)) {
		R.tls = 1;
		p = url + 9;
	} else if (!strncmp(url, "redis://", 8)) {
		p = url + 8;
	} else {
		snprintf(err, errlen, "'cluster.url': not a redis:// or rediss:// url");
		return -1;
	}
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	at = memchr(p, '@', (size_t)(slash - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (colon) {
			if (colon > p)
				R.user = pct_dup(p, (size_t)(colon - p));
			R.pass = pct_dup(colon + 1, (size_t)(at - colon - 1));
		} else if (at > p) {
			R.pass = pct_dup(p, (size_t)(at - p));
		}
		p = at + 1;
	}
	if (*p == '[') {
		hend = memchr(p, ']', (size_t)(slash - p));
		if (!hend)
			goto bad;
		snprintf(R.host, sizeof(R.host), "%.*s", (int)(hend - p - 1), p + 1);
		hend++;
	} else {
		hend = memchr(p, ':', (size_t)(slash - p));
		if (!hend)
			hend = slash;
		snprintf(R.host, sizeof(R.host), "%.*s", (int)(hend - p), p);
	}
	if (!R.host[0])
		goto bad;
	if (*hend == ':')
		snprintf(R.port, sizeof(R.port), "%.*s", (int)(slash - hend - 1), hend + 1);
	else
		snprintf(R.port, sizeof(R.port), "6379");
	if (*slash == '/' && slash[1])
		R.db = atoi(slash + 1);
	return 0;
bad:
	snprintf(err, errlen, "'cluster.url': cannot parse the host of '%s'", url);
	return -1;
}

const struct mcpg_coord_ops *
mcpg_coord_redis_start(const struct mcpg_rt *rt, char *err, size_t errlen)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_redis_cluster *rc = mcpg_cluster_redis(img, &rt->cfg->cluster);
	const struct mcpg_redis_tls *tls = mcpg_redis_cluster_tls(img, rc);
	const char *v;

	memset(R.host, 0, sizeof(R.host));
	R.tls = 0;
	R.db = 0;
	atomic_store(&R.stop, 0);
	atomic_store(&R.sub_ok, 0);
	if (parse_url(mcpg_redis_cluster_url(img, rc), err, errlen) < 0)
		return NULL;
	if ((v = mcpg_redis_cluster_username(img, rc)) && *v) {
		free(R.user);
		R.user = strdup(v);
	}
	if ((v = mcpg_redis_cluster_password(img, rc)) && *v) {
		free(R.pass);
		R.pass = strdup(v);
	}
	snprintf(R.prefix, sizeof(R.prefix), "%s", mcpg_redis_cluster_key_prefix(img, rc));
	R.plen = strlen(R.prefix);
	R.connect_ms = (int64_t)rc->connect_timeout_ms;
	R.op_ms = (int64_t)rc->operation_timeout_ms;
	if (R.tls) {
		R.ctx = SSL_CTX_new(TLS_client_method());
		if (!R.ctx) {
			snprintf(err, errlen, "'cluster.url': cannot set up TLS");
			return NULL;
		}
		SSL_CTX_set_min_proto_version(R.ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(R.ctx, SSL_VERIFY_PEER, NULL);
		if (tls) {
			const char *ca = mcpg_redis_tls_ca_cert_path(img, tls);

			if (SSL_CTX_load_verify_locations(R.ctx, ca, NULL) != 1) {
				snprintf(err, errlen, "'cluster.tls.ca_cert_path': cannot load '%s'",
					 ca);
				r_stop();
				return NULL;
			}
		} else {
			SSL_CTX_set_default_verify_paths(R.ctx);
		}
	}
	R.npool = (int)rc->pool_size;
	R.pool = calloc((size_t)R.npool, sizeof(*R.pool));
	if (!R.pool) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < R.npool; i++)
		R.pool[i].fd = -1;
	atomic_store(&R.sub_tried, 0);
	if (pthread_create(&R.sub_thread, NULL, subscriber, NULL) == 0)
		R.sub_started = 1;
	/* Give the subscriber its first connection before the boot probe. */
	for (int64_t until = mcpg_mono_ms() + R.connect_ms;
	     !atomic_load(&R.sub_tried) && mcpg_mono_ms() < until;)
		usleep(5000);
	return &redis_ops;
}
