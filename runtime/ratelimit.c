/*
 * ratelimit.c - per-IP token buckets (see ratelimit.h).
 */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"

#define NSHARDS 64
#define BUCKETS 256
#define MAX_TRACKED 100000
#define IDLE_MS (600 * 1000)

struct bucket {
	struct bucket *next;
	unsigned char addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	double tokens;
	int64_t last_ms;
};

static struct shard {
	pthread_mutex_t lock;
	struct bucket *b[BUCKETS];
} shards[NSHARDS];
static atomic_long tracked;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init_shards(void)
{
	for (int i = 0; i < NSHARDS; i++)
		pthread_mutex_init(&shards[i].lock, NULL);
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

/* The client address: see ratelimit.h.  -1 when there is none. */
static int
client_ip(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
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

int
mcpg_ratelimit_take(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff,
		    int64_t now)
{
	const struct mcpg_server *srv = &rt->cfg->gateway.server;
	double rate = (double)srv->anonymous_rate_limit_per_min / 60000.0; /* per ms */
	double cap = srv->anonymous_rate_limit_burst ? (double)srv->anonymous_rate_limit_burst : 1;
	unsigned char a[16];
	struct shard *sh;
	struct bucket *b;
	uint32_t h;
	int wait = 0;

	if (!srv->anonymous_rate_limit_per_min || client_ip(rt, peer, xff, a) < 0)
		return 0;
	pthread_once(&once, init_shards);
	h = hash_addr(a);
	sh = &shards[h % NSHARDS];
	pthread_mutex_lock(&sh->lock);
	for (b = sh->b[(h / NSHARDS) % BUCKETS]; b && memcmp(b->addr, a, 16); b = b->next)
		;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b) {
			pthread_mutex_unlock(&sh->lock);
			return 0;
		}
		memcpy(b->addr, a, 16);
		b->tokens = cap;
		b->last_ms = now;
		b->next = sh->b[(h / NSHARDS) % BUCKETS];
		sh->b[(h / NSHARDS) % BUCKETS] = b;
		atomic_fetch_add(&tracked, 1);
	}
	b->tokens += (double)(now - b->last_ms) * rate;
	if (b->tokens > cap)
		b->tokens = cap; /* also clamps after a reload lowered the burst */
	b->last_ms = now;
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (int)((1 - b->tokens) / rate / 1000.0) + 1; /* seconds, rounded up */
	pthread_mutex_unlock(&sh->lock);
	return wait;
}

void
mcpg_ratelimit_sweep(int64_t now)
{
	if (atomic_load(&tracked) <= MAX_TRACKED)
		return;
	pthread_once(&once, init_shards);
	for (int i = 0; i < NSHARDS; i++) {
		struct shard *sh = &shards[i];

		pthread_mutex_lock(&sh->lock);
		for (int k = 0; k < BUCKETS; k++) {
			struct bucket **pp = &sh->b[k], *b;

			while ((b = *pp)) {
				if (now - b->last_ms >= IDLE_MS) {
					*pp = b->next;
					free(b);
					atomic_fetch_sub(&tracked, 1);
				} else {
					pp = &b->next;
				}
			}
		}
		pthread_mutex_unlock(&sh->lock);
	}
}
