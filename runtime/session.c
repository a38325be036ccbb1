/*
 * session.c - the session table (see session.h).
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "hex.h"
#include "metrics.h"

#define NSHARDS 64
#define BUCKETS 256 /* per shard */

struct shard {
	pthread_mutex_t lock;
	struct mcpg_session *b[BUCKETS];
};

/* Initialised statically: the 134 KB are not touched before sessions come. */
static struct shard shards[NSHARDS] = {
	[0 ... NSHARDS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};
static struct mcpg_session_hooks hooks;
static atomic_size_t count;

/* Sessions per tenant: a small chained table under one lock (create/end only). */
struct tenant {
	struct tenant *next;
	uint64_t n;
	char key[];
};
#define TBUCKETS 256
static pthread_mutex_t tenant_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tenant *tenants[TBUCKETS];

void
mcpg_random_hex(char *out, size_t nbytes)
{
	unsigned char r[32];
	size_t got = 0;

	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	while (got < nbytes) {
		ssize_t n = getrandom(r + got, nbytes - got, 0);

		if (n <= 0)
			abort(); /* no randomness: session ids would be guessable */
		got += (size_t)n;
	}
	mcpg_hex(out, r, nbytes);
}

void
mcpg_sessions_init(const struct mcpg_session_hooks *h)
{
	if (h)
		hooks = *h;
}

static uint32_t
hash_id(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

static uint32_t
hash_tenant(const char *s)
{
	return hash_id(s) % TBUCKETS;
}

/* Count a session for `key`; -1 when that would exceed `max` (0: no limit). */
static int
tenant_add(const char *key, uint64_t max)
{
	uint32_t h = hash_tenant(key);
	struct tenant *t;
	int rc = 0;

	pthread_mutex_lock(&tenant_lock);
	for (t = tenants[h]; t && strcmp(t->key, key); t = t->next)
		;
	if (!t) {
		size_t len = strlen(key);

		t = calloc(1, sizeof(*t) + len + 1);
		if (!t) {
			pthread_mutex_unlock(&tenant_lock);
			return -1;
		}
		memcpy(t->key, key, len + 1);
		t->next = tenants[h];
		tenants[h] = t;
	}
	if (max && t->n >= max)
		rc = -1;
	else
		t->n++;
	pthread_mutex_unlock(&tenant_lock);
	return rc;
}

static void
tenant_del(const char *key)
{
	uint32_t h = hash_tenant(key);
	struct tenant **pp, *t;

	pthread_mutex_lock(&tenant_lock);
	for (pp = &tenants[h]; (t = *pp) && strcmp(t->key, key); pp = &t->next)
		;
	if (t && !--t->n) {
		*pp = t->next;
		free(t);
	}
	pthread_mutex_unlock(&tenant_lock);
}

static void
session_free(struct mcpg_session *s)
{
	if (s->ring)
		for (uint32_t i = 0; i < s->ring_n; i++)
			free(s->ring[(s->ring_head + i) % s->ring_cap].data);
	free(s->ring);
	free(s->tenant);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/*
 * A new session for `tenant` with `version`, counted against
 * max_per_tenant (0: no limit), not yet in the table; refs 2 (the table's
 * and the caller's).  NULL when the tenant is full (*limited = 1) or memory
 * ran out.
 */
static struct mcpg_session *
session_new(const char *tenant, const char *version, uint64_t max_per_tenant, int *limited)
{
	struct mcpg_session *s = calloc(1, sizeof(*s));

	*limited = 0;
	if (!s || !(s->tenant = strdup(tenant ? tenant : ""))) {
		free(s);
		return NULL;
	}
	if (tenant_add(s->tenant, max_per_tenant) < 0) {
		*limited = 1;
		free(s->tenant);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->refs, 2);
	atomic_init(&s->last_used_ms, mcpg_mono_ms());
	s->next_seq = 1;
	s->log_level = 0; /* debug: everything, until logging/setLevel says otherwise */
	snprintf(s->version, sizeof(s->version), "%s", version);
	return s;
}

/* Put `s` in its bucket of shard `sh` (lock held; h = hash_id(s->id)). */
static void
session_insert_locked(struct shard *sh, uint32_t h, struct mcpg_session *s)
{
	s->next = sh->b[(h / NSHARDS) % BUCKETS];
	sh->b[(h / NSHARDS) % BUCKETS] = s;
	atomic_fetch_add(&count, 1);
	mcpg_metrics_sessions(1);
}

struct mcpg_session *
mcpg_session_create(const char *tenant, const char *version, uint64_t max_per_tenant,
		    int *limited)
{
	struct mcpg_session *s = session_new(tenant, version, max_per_tenant, limited);
	struct shard *sh;
	uint32_t h;

	if (!s)
		return NULL;
	mcpg_random_hex(s->id, MCPG_SESSION_ID_LEN / 2);
	h = hash_id(s->id);
	sh = &shards[h % NSHARDS];
	pthread_mutex_lock(&sh->lock);
	session_insert_locked(sh, h, s);
	pthread_mutex_unlock(&sh->lock);
	return s;
}

static int valid_id(const char *id);

struct mcpg_session *
mcpg_session_adopt(const char *id, const char *tenant, const char *version,
		   const unsigned char *owner)
{
	struct mcpg_session *s, *o;
	struct shard *sh;
	uint32_t h;
	int limited;

	if (!valid_id(id) || !(s = session_new(tenant, version, 0, &limited)))
		return NULL;
	memcpy(s->id, id, MCPG_SESSION_ID_LEN + 1);
	if (owner) {
		s->owned = 1;
		memcpy(s->owner, owner, sizeof(s->owner));
	}
	h = hash_id(s->id);
	sh = &shards[h % NSHARDS];
	pthread_mutex_lock(&sh->lock);
	for (o = sh->b[(h / NSHARDS) % BUCKETS]; o; o = o->next)
		if (!memcmp(o->id, id, MCPG_SESSION_ID_LEN))
			break;
	if (o) {
		/* Another request adopted it first: use theirs. */
		atomic_fetch_add(&o->refs, 1);
		pthread_mutex_unlock(&sh->lock);
		tenant_del(s->tenant);
		session_free(s);
		return o;
	}
	session_insert_locked(sh, h, s);
	pthread_mutex_unlock(&sh->lock);
	return s;
}

static int
valid_id(const char *id)
{
	size_t i;

	for (i = 0; i < MCPG_SESSION_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return id[i] == '\0';
}

struct mcpg_session *
mcpg_session_get(const char *id)
{
	struct mcpg_session *s;
	struct shard *sh;
	uint32_t h;

	if (!id || !valid_id(id))
		return NULL;
	h = hash_id(id);
	sh = &shards[h % NSHARDS];
	pthread_mutex_lock(&sh->lock);
	for (s = sh->b[(h / NSHARDS) % BUCKETS]; s; s = s->next)
		if (!memcmp(s->id, id, MCPG_SESSION_ID_LEN)) {
			atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
			break;
		}
	pthread_mutex_unlock(&sh->lock);
	return s;
}

void
mcpg_session_put(struct mcpg_session *s)
{
	if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		session_free(s);
}

void
mcpg_session_touch(struct mcpg_session *s)
{
	atomic_store_explicit(&s->last_used_ms, mcpg_mono_ms(), memory_order_relaxed);
}

int
mcpg_session_note_id(struct mcpg_session *s, const char *idj)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)idj; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (unsigned i = 0; i < s->seen_n; i++)
		if (s->seen[i] == h)
			return -1;
	if (s->seen_n < MCPG_SESSION_SEEN_IDS) {
		s->seen[s->seen_n++] = h;
	} else {
		s->seen[s->seen_head] = h;
		s->seen_head = (uint8_t)((s->seen_head + 1) % MCPG_SESSION_SEEN_IDS);
	}
	return 0;
}

/* Take `s` out of its shard (shard lock held).  Returns 1 if it was there. */
static int
unlink_locked(struct shard *sh, uint32_t h, struct mcpg_session *s)
{
	struct mcpg_session **pp;

	for (pp = &sh->b[(h / NSHARDS) % BUCKETS]; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			s->next = NULL;
			return 1;
		}
	return 0;
}

/* After unlinking: mark ended, run the hook, drop the table's reference. */
static void
finish_end(struct mcpg_session *s)
{
	pthread_mutex_lock(&s->lock);
	s->ended = 1;
	pthread_mutex_unlock(&s->lock);
	tenant_del(s->tenant);
	atomic_fetch_sub(&count, 1);
	mcpg_metrics_sessions(-1);
	if (hooks.ended)
		hooks.ended(s);
	mcpg_session_put(s);
}

int
mcpg_session_end(struct mcpg_session *s)
{
	uint32_t h = hash_id(s->id);
	struct shard *sh = &shards[h % NSHARDS];
	int found;

	pthread_mutex_lock(&sh->lock);
	found = unlink_locked(sh, h, s);
	pthread_mutex_unlock(&sh->lock);
	if (!found)
		return -1;
	finish_end(s);
	return 0;
}

size_t
mcpg_sessions_reap(int64_t now, uint64_t idle_ms)
{
	size_t n = 0;

	for (int i = 0; i < NSHARDS; i++) {
		struct shard *sh = &shards[i];
		struct mcpg_session *victims = NULL, *s;

		pthread_mutex_lock(&sh->lock);
		for (int b = 0; b < BUCKETS; b++) {
			struct mcpg_session **pp = &sh->b[b];

			while ((s = *pp)) {
				int idle = atomic_load(&s->busy) == 0 &&
					   now - atomic_load(&s->last_used_ms) > (int64_t)idle_ms;

				if (idle) {
					pthread_mutex_lock(&s->lock);
					idle = !s->nstreams && !s->jobs;
					pthread_mutex_unlock(&s->lock);
				}
				if (!idle) {
					pp = &s->next;
					continue;
				}
				*pp = s->next;
				s->next = victims;
				victims = s;
			}
		}
		pthread_mutex_unlock(&sh->lock);
		while ((s = victims)) {
			victims = s->next;
			s->next = NULL;
			finish_end(s);
			mcpg_metrics_evicted();
			n++;
		}
	}
	return n;
}

void
mcpg_sessions_end_all(void)
{
	for (int i = 0; i < NSHARDS; i++) {
		struct shard *sh = &shards[i];
		struct mcpg_session *victims = NULL, *s;

		pthread_mutex_lock(&sh->lock);
		for (int b = 0; b < BUCKETS; b++) {
			while ((s = sh->b[b])) {
				sh->b[b] = s->next;
				s->next = victims;
				victims = s;
			}
		}
		pthread_mutex_unlock(&sh->lock);
		while ((s = victims)) {
			victims = s->next;
			s->next = NULL;
			finish_end(s);
		}
	}
}

size_t
mcpg_sessions_count(void)
{
	return atomic_load(&count);
}

uint64_t
mcpg_session_add_event(struct mcpg_session *s, const char *json, size_t len, uint32_t window)
{
	return mcpg_session_add_event_on(s, 0, 0, json, len, window, 0);
}

uint64_t
mcpg_session_add_event_on(struct mcpg_session *s, uint64_t stream, int last, const char *json,
			  size_t len, uint32_t window, unsigned retry_ms)
{
	struct mcpg_event *e;
	uint64_t seq = s->next_seq++;
	char head[64];
	int hn;

	if (!window)
		window = 1;
	if (!s->ring || s->ring_cap != window) {
		/* First use, or replay_window_limit changed by a reload: keep the newest. */
		struct mcpg_event *r = calloc(window, sizeof(*r));
		uint32_t keep, drop;

		if (!r)
			return seq;
		keep = s->ring_n < window ? s->ring_n : window;
		drop = s->ring_n - keep;
		for (uint32_t i = 0; i < s->ring_n; i++) {
			struct mcpg_event *old = &s->ring[(s->ring_head + i) % s->ring_cap];

			if (i < drop)
				free(old->data);
			else
				r[i - drop] = *old;
		}
		free(s->ring);
		s->ring = r;
		s->ring_cap = window;
		s->ring_n = keep;
		s->ring_head = 0;
	}
	if (s->ring_n == s->ring_cap) {
		free(s->ring[s->ring_head].data);
		s->ring_head = (s->ring_head + 1) % s->ring_cap;
		s->ring_n--;
	}
	e = &s->ring[(s->ring_head + s->ring_n) % s->ring_cap];
	if (!json)
		hn = snprintf(head, sizeof(head), "id: %llu\nretry: %u\ndata: ",
			      (unsigned long long)seq, retry_ms);
	else
		hn = snprintf(head, sizeof(head), "id: %llu\nevent: message\ndata: ",
			      (unsigned long long)seq);
	e->data = malloc((size_t)hn + len + 2);
	if (!e->data)
		return seq;
	memcpy(e->data, head, (size_t)hn);
	if (len)
		memcpy(e->data + hn, json, len);
	memcpy(e->data + hn + len, "\n\n", 2);
	e->len = (size_t)hn + len + 2;
	e->seq = seq;
	e->stream = stream;
	e->last = last;
	s->ring_n++;
	return seq;
}

const struct mcpg_event *
mcpg_session_next_event(struct mcpg_session *s, uint64_t after, int *gap)
{
	return mcpg_session_next_event_on(s, 0, after, gap);
}

const struct mcpg_event *
mcpg_session_next_event_on(struct mcpg_session *s, uint64_t stream, uint64_t after, int *gap)
{
	*gap = 0;
	if (!s->ring || !s->ring_n) {
		*gap = after + 1 < s->next_seq;
		return NULL;
	}
	/* Events after `after` were dropped when the oldest kept one is newer. */
	*gap = s->ring[s->ring_head].seq > after + 1;
	for (uint32_t i = 0; i < s->ring_n; i++) {
		const struct mcpg_event *e = &s->ring[(s->ring_head + i) % s->ring_cap];

		if (e->seq > after && e->stream == stream)
			return e;
	}
	return NULL;
}

int
mcpg_session_stream_done(struct mcpg_session *s, uint64_t stream)
{
	for (uint32_t i = 0; s->ring && i < s->ring_n; i++) {
		const struct mcpg_event *e = &s->ring[(s->ring_head + i) % s->ring_cap];

		if (e->stream == stream && e->last)
			return 1;
	}
	return 0;
}

const struct mcpg_event *
mcpg_session_find_event(struct mcpg_session *s, uint64_t seq)
{
	for (uint32_t i = 0; s->ring && i < s->ring_n; i++) {
		const struct mcpg_event *e = &s->ring[(s->ring_head + i) % s->ring_cap];

		if (e->seq == seq)
			return e;
	}
	return NULL;
}

void
mcpg_sessions_foreach(void (*fn)(struct mcpg_session *s, void *arg), void *arg)
{
	for (int i = 0; i < NSHARDS; i++) {
		struct shard *sh = &shards[i];
		struct mcpg_session **list = NULL;
		size_t n = 0, cap = 0;

		pthread_mutex_lock(&sh->lock);
		for (int b = 0; b < BUCKETS; b++)
			for (struct mcpg_session *s = sh->b[b]; s; s = s->next) {
				if (n == cap) {
					struct mcpg_session **nl;

					cap = cap ? 2 * cap : 16;
					nl = realloc(list, cap * sizeof(*list));
					if (!nl)
						break;
					list = nl;
				}
				atomic_fetch_add(&s->refs, 1);
				list[n++] = s;
			}
		pthread_mutex_unlock(&sh->lock);
		for (size_t k = 0; k < n; k++) {
			fn(list[k], arg);
			mcpg_session_put(list[k]);
		}
		free(list);
	}
}
