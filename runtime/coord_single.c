/*
 * coord_single.c - cluster.kind: single_node, the in-process coordinator
 * (coord.h).  A chained hash table under one mutex; an entry past its
 * expiry is treated as absent and dropped when met.  The bus delivers on
 * the publisher's thread.  Leases are entries whose value is the token.
 */
#include "coord.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcp.h"

#define NBUCKETS 1024

struct entry {
	struct entry *next;
	int64_t expires_ms; /* 0: never */
	size_t len;
	char *val;
	char key[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table[NBUCKETS];
static uint64_t fence;

static uint32_t
hash(const char *k)
{
	uint32_t h = 2166136261u;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h % NBUCKETS;
}

static void
entry_free(struct entry *e)
{
	free(e->val);
	free(e);
}

/* The live entry for `key` (lock held); expired ones are unlinked on the way. */
static struct entry **
find(const char *key)
{
	struct entry **pp = &table[hash(key)], *e;
	int64_t now = mcpg_mono_ms();

	while ((e = *pp)) {
		if (e->expires_ms && e->expires_ms <= now) {
			*pp = e->next;
			entry_free(e);
			continue;
		}
		if (!strcmp(e->key, key))
			return pp;
		pp = &e->next;
	}
	return NULL;
}

static int
set_locked(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	struct entry **pp = find(key), *e;
	char *copy = malloc(len + 1);

	if (!copy)
		return -1;
	memcpy(copy, val, len);
	copy[len] = '\0';
	if (pp) {
		e = *pp;
		free(e->val);
	} else {
		size_t kl = strlen(key);

		e = calloc(1, sizeof(*e) + kl + 1);
		if (!e) {
			free(copy);
			return -1;
		}
		memcpy(e->key, key, kl + 1);
		e->next = table[hash(key)];
		table[hash(key)] = e;
	}
	e->val = copy;
	e->len = len;
	e->expires_ms = ttl_ms ? mcpg_mono_ms() + (int64_t)ttl_ms : 0;
	return 0;
}

static int
s_get(const char *key, struct strbuf *val)
{
	struct entry **pp;

	pthread_mutex_lock(&lock);
	pp = find(key);
	if (pp)
		strbuf_add(val, (*pp)->val, (*pp)->len);
	pthread_mutex_unlock(&lock);
	return pp != NULL;
}

static int
s_put(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	int rc;

	pthread_mutex_lock(&lock);
	rc = set_locked(key, val, len, ttl_ms);
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
s_create(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (!find(key))
		rc = set_locked(key, val, len, ttl_ms) == 0 ? 1 : -1;
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
s_cas(const char *key, const void *old, size_t oldlen, const void *val, size_t len,
      uint64_t ttl_ms)
{
	struct entry **pp;
	int rc = 0;

	pthread_mutex_lock(&lock);
	pp = find(key);
	if (pp && (*pp)->len == oldlen && !memcmp((*pp)->val, old, oldlen))
		rc = set_locked(key, val, len, ttl_ms) == 0 ? 1 : -1;
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
s_replace(const char *key, const void *val, size_t len, uint64_t ttl_ms)
{
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (find(key))
		rc = set_locked(key, val, len, ttl_ms) == 0 ? 1 : -1;
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
s_del(const char *key)
{
	struct entry **pp, *e;

	pthread_mutex_lock(&lock);
	pp = find(key);
	if (pp) {
		e = *pp;
		*pp = e->next;
		entry_free(e);
	}
	pthread_mutex_unlock(&lock);
	return pp != NULL;
}

static long
s_scan(const char *prefix, void (*fn)(const char *key, void *arg), void *arg)
{
	size_t pl = strlen(prefix), n = 0, cap = 0;
	char **keys = NULL;
	int64_t now = mcpg_mono_ms();

	/* Collect first: fn may call back into the coordinator. */
	pthread_mutex_lock(&lock);
	for (int b = 0; b < NBUCKETS; b++)
		for (struct entry *e = table[b]; e; e = e->next) {
			if ((e->expires_ms && e->expires_ms <= now) || strncmp(e->key, prefix, pl))
				continue;
			if (n == cap) {
				char **nk = realloc(keys, (cap = cap ? 2 * cap : 16) * sizeof(*keys));

				if (!nk)
					break;
				keys = nk;
			}
			if ((keys[n] = strdup(e->key)))
				n++;
		}
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++) {
		fn(keys[i], arg);
		free(keys[i]);
	}
	free(keys);
	return (long)n;
}

static int
s_publish(const void *data, size_t len)
{
	mcpg_coord_deliver(data, len);
	return 0;
}

static int
s_lease(const char *name, uint64_t ttl_ms, uint64_t *token)
{
	struct entry **pp;
	char buf[32];
	int rc = 1;

	pthread_mutex_lock(&lock);
	pp = find(name);
	if (pp) {
		*token = strtoull((*pp)->val, NULL, 10);
		(*pp)->expires_ms = mcpg_mono_ms() + (int64_t)ttl_ms;
	} else {
		*token = ++fence;
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)*token);
		rc = set_locked(name, buf, strlen(buf), ttl_ms) == 0 ? 1 : -1;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static void
s_lease_release(const char *name, uint64_t token)
{
	struct entry **pp, *e;

	pthread_mutex_lock(&lock);
	pp = find(name);
	if (pp && strtoull((*pp)->val, NULL, 10) == token) {
		e = *pp;
		*pp = e->next;
		entry_free(e);
	}
	pthread_mutex_unlock(&lock);
}

/* In one process nobody else can hold the lease: a plain delete. */
static int
s_del_fenced(const char *key, const char *name, uint64_t token)
{
	(void)name;
	(void)token;
	return s_del(key);
}

static int
s_ping(void)
{
	return 0;
}

static void
s_stop(void)
{
	pthread_mutex_lock(&lock);
	for (int b = 0; b < NBUCKETS; b++) {
		struct entry *e;

		while ((e = table[b])) {
			table[b] = e->next;
			entry_free(e);
		}
	}
	pthread_mutex_unlock(&lock);
}

static const struct mcpg_coord_ops single_ops = {
	"single_node", 0, s_get, s_put, s_create, s_cas, s_replace, s_del, s_scan, s_publish,
	s_lease, s_lease_release, s_del_fenced, s_ping, s_stop,
};

const struct mcpg_coord_ops *
mcpg_coord_single_start(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return &single_ops;
}
