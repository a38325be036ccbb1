/*
 * ratelimit.c - per-IP token buckets in fixed tables (see ratelimit.h).
 */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"

#define SETS MCPG_RATELIMIT_SETS
#define WAYS MCPG_RATELIMIT_WAYS
#define NLOCKS 64

struct entry {
	unsigned char addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	double tokens;
	int64_t last_ms;        /* 0: the slot is free */
};

struct table {
	const char *name;
	pthread_mutex_t locks[NLOCKS]; /* lock of set i: locks[i % NLOCKS] */
	struct entry (*sets)[WAYS];    /* SETS sets, allocated once */
	atomic_long used;
	atomic_ulong evictions, limited;
};

static struct table anon = { .name = "anonymous" }, authfail = { .name = "failed_auth" };
static atomic_ulong authfail_notes;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init_table(struct table *t)
{
	for (int i = 0; i < NLOCKS; i++)
		pthread_mutex_init(&t->locks[i], NULL);
	/* calloc: pages are only touched as sets fill, but never more than this. */
	t->sets = calloc(SETS, sizeof(*t->sets));
}

static void
init_tables(void)
{
	init_table(&anon);
	init_table(&authfail);
}

static void
v4_mapped(unsigned char out[16], const void *v4)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

static int
sockaddr_bytes(const struct sockaddr *sa, unsigned char out[16])
{
	if (sa->sa_family == AF_INET) {
		v4_mapped(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/* Parse one X-Forwarded-For entry (trimmed) into a sockaddr. */
static int
parse_ip(const char *s, size_t n, struct sockaddr_storage *ss)
{
	char buf[64];

	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= sizeof(buf) || !n)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, buf, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -1;
}

int
mcpg_client_ip(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
	       unsigned char out[16])
{
	if (!peer)
		return -1;
	if (xff && mcpg_authz_trusted_proxy(rt, peer)) {
		size_t end = strlen(xff);

		while (end) {
			size_t start = end;
			struct sockaddr_storage ss;

			while (start && xff[start - 1] != ',')
				start--;
			if (parse_ip(xff + start, end - start, &ss) < 0)
				break; /* malformed: fall back to the proxy itself */
			if (!mcpg_authz_trusted_proxy(rt, (const struct sockaddr *)&ss))
				return sockaddr_bytes((const struct sockaddr *)&ss, out);
			end = start ? start - 1 : 0;
		}
	}
	return sockaddr_bytes(peer, out);
}

static uint32_t
hash_addr(const unsigned char a[16])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h;
}

/*
 * The entry of address `a` in `t`, its tokens refilled to `now`, with the
 * set's lock held (*lk); NULL when absent and not `create` (lock released).
 * A new entry replaces a free slot, else the one with the most tokens.
 */
static struct entry *
lookup(struct table *t, const unsigned char a[16], int64_t now, double rate, double cap,
       int create, pthread_mutex_t **lk)
{
	uint32_t h = hash_addr(a);
	struct entry *set, *e = NULL, *victim = NULL;
	double best = -1;

	pthread_once(&once, init_tables);
	if (!t->sets)
		return NULL;
	set = t->sets[h % SETS];
	*lk = &t->locks[(h % SETS) % NLOCKS];
	pthread_mutex_lock(*lk);
	for (int i = 0; i < WAYS; i++) {
		struct entry *x = &set[i];
		double tok;

		if (!x->last_ms) {
			if (best < cap + 1) {
				best = cap + 1; /* a free slot beats any entry */
				victim = x;
			}
			continue;
		}
		/* `now` was read before the lock: another thread may have been later. */
		tok = x->tokens + (now > x->last_ms ? (double)(now - x->last_ms) * rate : 0);
		if (tok > cap)
			tok = cap; /* also clamps after a reload lowered the burst */
		x->tokens = tok;
		x->last_ms = now > x->last_ms ? now : x->last_ms;
		if (!memcmp(x->addr, a, 16))
			e = x;
		else if (tok > best)
			best = tok, victim = x;
	}
	if (e || !create || !victim) {
		if (!e)
			pthread_mutex_unlock(*lk);
		return e;
	}
	if (victim->last_ms)
		atomic_fetch_add(&t->evictions, 1);
	else
		atomic_fetch_add(&t->used, 1);
	memcpy(victim->addr, a, 16);
	victim->tokens = cap;
	victim->last_ms = now > 0 ? now : 1;
	return victim;
}

/* Seconds until one token is back (Retry-After), rounded up, at least 1. */
static int
wait_secs(double tokens, double rate)
{
	double s = (1 - tokens) / rate / 1000.0;
	int w;

	if (s > 86400)
		return 86400;
	w = (int)s;
	if (w < s)
		w++; /* rounded up */
	return w < 1 ? 1 : w;
}

int
mcpg_ratelimit_take(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
		    int64_t now)
{
	const struct mcpg_server *srv = &rt->cfg->gateway.server;
	double rate = (double)srv->anonymous_rate_limit_per_min / 60000.0; /* per ms */
	double cap = srv->anonymous_rate_limit_burst ? (double)srv->anonymous_rate_limit_burst : 1;
	unsigned char a[16];
	pthread_mutex_t *lk;
	struct entry *e;
	int wait = 0;

	if (!srv->anonymous_rate_limit_per_min || mcpg_client_ip(rt, peer, xff, a) < 0)
		return 0;
	e = lookup(&anon, a, now, rate, cap, 1, &lk);
	if (!e)
		return 0;
	if (e->tokens >= 1)
		e->tokens -= 1;
	else
		wait = wait_secs(e->tokens, rate);
	pthread_mutex_unlock(lk);
	if (wait)
		atomic_fetch_add(&anon.limited, 1);
	return wait;
}

/*
 * The failed-authentication entry of the client of `peer`/`xff`, locked
 * (*lk to unlock), or NULL when the limiter is off, the address unknown,
 * or (without `create`) the client never failed.
 */
static struct entry *
authfail_entry(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
	       int64_t now, int create, double *rate, pthread_mutex_t **lk)
{
	const struct mcpg_server *srv = &rt->cfg->gateway.server;
	double cap = srv->failed_auth_rate_limit_burst ? (double)srv->failed_auth_rate_limit_burst
						       : 1;
	unsigned char a[16];

	*rate = (double)srv->failed_auth_rate_limit_per_min / 60000.0;
	if (!srv->failed_auth_rate_limit_per_min || mcpg_client_ip(rt, peer, xff, a) < 0)
		return NULL;
	return lookup(&authfail, a, now, *rate, cap, create, lk);
}

int
mcpg_authfail_blocked(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
		      int64_t now)
{
	pthread_mutex_t *lk;
	double rate;
	struct entry *e = authfail_entry(rt, peer, xff, now, 0, &rate, &lk);
	int wait = 0;

	if (!e)
		return 0; /* off, never failed, or forgotten: a full bucket */
	if (e->tokens < 1)
		wait = wait_secs(e->tokens, rate);
	pthread_mutex_unlock(lk);
	if (wait)
		atomic_fetch_add(&authfail.limited, 1);
	return wait;
}

void
mcpg_authfail_note(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
		   int64_t now)
{
	pthread_mutex_t *lk;
	double rate;
	struct entry *e;

	atomic_fetch_add(&authfail_notes, 1);
	e = authfail_entry(rt, peer, xff, now, 1, &rate, &lk);
	if (!e)
		return;
	e->tokens = e->tokens >= 1 ? e->tokens - 1 : 0;
	pthread_mutex_unlock(lk);
}

void
mcpg_ratelimit_metrics(struct strbuf *o)
{
	const struct table *t[2] = { &anon, &authfail };

	strbuf_addstr(o, "# HELP mcpg_ratelimit_entries Client addresses held by a limiter table.\n"
			 "# TYPE mcpg_ratelimit_entries gauge\n");
	for (int i = 0; i < 2; i++)
		strbuf_addf(o, "mcpg_ratelimit_entries{table=\"%s\"} %ld\n", t[i]->name,
			    atomic_load(&t[i]->used));
	strbuf_addstr(o, "# HELP mcpg_ratelimit_capacity Fixed size of a limiter table.\n"
			 "# TYPE mcpg_ratelimit_capacity gauge\n");
	for (int i = 0; i < 2; i++)
		strbuf_addf(o, "mcpg_ratelimit_capacity{table=\"%s\"} %d\n", t[i]->name,
			    SETS * WAYS);
	strbuf_addstr(o, "# HELP mcpg_ratelimit_evictions_total Entries replaced in a full set.\n"
			 "# TYPE mcpg_ratelimit_evictions_total counter\n");
	for (int i = 0; i < 2; i++)
		strbuf_addf(o, "mcpg_ratelimit_evictions_total{table=\"%s\"} %lu\n", t[i]->name,
			    atomic_load(&t[i]->evictions));
	strbuf_addstr(o, "# HELP mcpg_ratelimit_limited_total Requests answered 429 by a limiter.\n"
			 "# TYPE mcpg_ratelimit_limited_total counter\n");
	for (int i = 0; i < 2; i++)
		strbuf_addf(o, "mcpg_ratelimit_limited_total{table=\"%s\"} %lu\n", t[i]->name,
			    atomic_load(&t[i]->limited));
	strbuf_addf(o, "# HELP mcpg_auth_failures_total Rejected tokens.\n"
		       "# TYPE mcpg_auth_failures_total counter\nmcpg_auth_failures_total %lu\n",
		    atomic_load(&authfail_notes));
}
