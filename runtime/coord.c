/*
 * coord.c - the coordinator front (see coord.h): picks the implementation,
 * keeps the up/down state and the cause, and runs the health thread that
 * pings while up and reconnects with backoff while down.
 */
#include "coord.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "rt.h"

/* How often the health thread pings while up, and the backoff bounds when down. */
#define PING_MS 250
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000

static const struct mcpg_coord_ops *ops;
static atomic_int up;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char cause[256];
static mcpg_coord_msg_fn msg_fn;
static void *msg_arg;
static atomic_uint_fast64_t n_ops, n_errors, n_reconnects, n_published, n_received;

static pthread_t health_thread;
static pthread_mutex_t hlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hcond = PTHREAD_COND_INITIALIZER;
static int hstop, hstarted;

int64_t
mcpg_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mcpg_coord_down(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int was;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&err_lock);
	snprintf(cause, sizeof(cause), "%s", buf);
	pthread_mutex_unlock(&err_lock);
	was = atomic_exchange(&up, 0);
	atomic_fetch_add(&n_errors, 1);
	if (was) {
		mcpg_log(MCPG_LOG_WARN, NULL, "cluster coordinator down", "kind", MCPG_LF_STR,
			 ops ? ops->kind : "?", "cause", MCPG_LF_STR, buf, NULL);
		/* Wake the health thread: reconnect now, not after a ping period. */
		pthread_mutex_lock(&hlock);
		pthread_cond_signal(&hcond);
		pthread_mutex_unlock(&hlock);
	}
}

void
mcpg_coord_deliver(const char *data, size_t len)
{
	atomic_fetch_add(&n_received, 1);
	if (msg_fn)
		msg_fn(data, len, msg_arg);
}

static void
wait_ms(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&hlock);
	if (!hstop)
		pthread_cond_timedwait(&hcond, &hlock, &ts);
	pthread_mutex_unlock(&hlock);
}

static void *
health(void *arg)
{
	int64_t backoff = BACKOFF_MIN_MS;

	(void)arg;
	for (;;) {
		int ok;

		pthread_mutex_lock(&hlock);
		if (hstop) {
			pthread_mutex_unlock(&hlock);
			break;
		}
		pthread_mutex_unlock(&hlock);
		ok = ops->ping() == 0;
		if (ok) {
			backoff = BACKOFF_MIN_MS;
			if (!atomic_exchange(&up, 1)) {
				atomic_fetch_add(&n_reconnects, 1);
				mcpg_log(MCPG_LOG_INFO, NULL, "cluster coordinator up", "kind",
					 MCPG_LF_STR, ops->kind, NULL);
			}
			wait_ms(PING_MS);
		} else {
			atomic_store(&up, 0);
			wait_ms(backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		}
	}
	return NULL;
}

int
mcpg_coord_start(const struct mcpg_rt *rt, mcpg_coord_msg_fn on_msg, void *arg, char *err,
		 size_t errlen)
{
	const struct mcpg_image *img = rt ? &rt->img : NULL;
	const struct mcpg_union_slot *c = rt ? &rt->cfg->cluster : NULL;
	int degraded = 0;

	msg_fn = on_msg;
	msg_arg = arg;
	err[0] = '\0';
	switch (rt ? mcpg_cluster_tag(img, c) : MCPG_CLUSTER_NONE) {
	case MCPG_CLUSTER_REDIS:
		degraded = mcpg_cluster_redis(img, c)->allow_degraded_boot;
		ops = mcpg_coord_redis_start(rt, err, errlen);
		break;
	case MCPG_CLUSTER_NATS:
		degraded = mcpg_cluster_nats(img, c)->allow_degraded_boot;
		ops = mcpg_coord_nats_start(rt, err, errlen);
		break;
	default:
		ops = mcpg_coord_single_start(err, errlen);
		break;
	}
	if (!ops)
		return -2; /* a configuration the implementation cannot use at all */
	if (!ops->shared) {
		atomic_store(&up, 1);
		return 0;
	}
	if (err[0] || ops->ping() < 0) {
		if (!err[0])
			mcpg_coord_error(err, errlen);
		if (!degraded) {
			ops->stop();
			ops = NULL;
			return -1;
		}
		mcpg_log(MCPG_LOG_WARN, NULL, "cluster coordinator unreachable at boot; not ready "
			 "until it answers (allow_degraded_boot)", "cause", MCPG_LF_STR, err, NULL);
		err[0] = '\0';
		atomic_store(&up, 0);
	} else {
		atomic_store(&up, 1);
	}
	hstop = 0;
	if (pthread_create(&health_thread, NULL, health, NULL) == 0)
		hstarted = 1;
	return 0;
}

void
mcpg_coord_stop(void)
{
	if (hstarted) {
		pthread_mutex_lock(&hlock);
		hstop = 1;
		pthread_cond_signal(&hcond);
		pthread_mutex_unlock(&hlock);
		pthread_join(health_thread, NULL);
		hstarted = 0;
	}
	if (ops)
		ops->stop();
	ops = NULL;
	atomic_store(&up, 0);
}

const char *
mcpg_coord_kind(void)
{
	return ops ? ops->kind : "single_node";
}

int
mcpg_coord_shared(void)
{
	return ops && ops->shared;
}

int
mcpg_coord_up(void)
{
	return !ops || !ops->shared || atomic_load(&up);
}

void
mcpg_coord_error(char *buf, size_t len)
{
	pthread_mutex_lock(&err_lock);
	snprintf(buf, len, "%s", cause[0] ? cause : "not connected");
	pthread_mutex_unlock(&err_lock);
}

/* The common prologue: no coordinator or down means fail at once. */
#define FRONT(call)                                     \
	do {                                            \
		if (!ops || !mcpg_coord_up())           \
			return -1;                      \
		atomic_fetch_add(&n_ops, 1);            \
		return (call);                          \
	} while (0)

int
mcpg_coord_get(const char *key, struct strbuf *val)
{
	FRONT(ops->get(key, val));
}

int
mcpg_coord_put(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	FRONT(ops->put(key, val, len, ttl_ms));
}

int
mcpg_coord_create(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	FRONT(ops->create(key, val, len, ttl_ms));
}

int
mcpg_coord_cas(const char *key, const void *old, size_t oldlen, const void *val, size_t len,
	       uint64_t ttl_ms)
{
	FRONT(ops->cas(key, old, oldlen, val, len, ttl_ms));
}

int
mcpg_coord_replace(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	FRONT(ops->replace(key, val, len, ttl_ms));
}

int
mcpg_coord_del(const char *key)
{
	FRONT(ops->del(key));
}

long
mcpg_coord_scan(const char *prefix, void (*fn)(const char *key, void *arg), void *arg)
{
	FRONT(ops->scan(prefix, fn, arg));
}

int
mcpg_coord_publish(const void *data, size_t len)
{
	atomic_fetch_add(&n_published, 1);
	FRONT(ops->publish(data, len));
}

int
mcpg_coord_lease(const char *name, uint64_t ttl_ms, uint64_t *token)
{
	FRONT(ops->lease(name, ttl_ms, token));
}

void
mcpg_coord_lease_release(const char *name, uint64_t token)
{
	if (ops && mcpg_coord_up())
		ops->lease_release(name, token);
}

int
mcpg_coord_del_fenced(const char *key, const char *name, uint64_t token)
{
	FRONT(ops->del_fenced(key, name, token));
}

void
mcpg_coord_stats(struct mcpg_coord_stats *st)
{
	st->ops = atomic_load(&n_ops);
	st->errors = atomic_load(&n_errors);
	st->reconnects = atomic_load(&n_reconnects);
	st->published = atomic_load(&n_published);
	st->received = atomic_load(&n_received);
}
