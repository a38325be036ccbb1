/*
 * fedmap.c - the in-process implementation of fedmap.h: a chained hash table
 * under one mutex.  The entries are few (pending server-initiated requests
 * and subscriptions), so prefix scans walk the whole table.
 */
#include "fedmap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define NBUCKETS 256

struct ent {
	struct ent *next;
	int64_t expires_ms; /* 0: never */
	char *key, *val;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ent *buckets[NBUCKETS];

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKETS;
}

static void
ent_free(struct ent *e)
{
	free(e->key);
	free(e->val);
	free(e);
}

/* The slot pointing at `key`'s entry, expired ones dropped on the way (lock held). */
static struct ent **
find(const char *key, int64_t now)
{
	struct ent **pp = &buckets[hash(key)];

	while (*pp) {
		struct ent *e = *pp;

		if (e->expires_ms && e->expires_ms <= now) {
			*pp = e->next;
			ent_free(e);
			continue;
		}
		if (!strcmp(e->key, key))
			return pp;
		pp = &e->next;
	}
	return pp;
}

int
mcpg_fedmap_put(const char *key, const char *val, int64_t ttl_ms)
{
	int64_t now = mcpg_mono_ms();
	struct ent **pp, *e;
	char *v = strdup(val);

	if (!v)
		return -1;
	pthread_mutex_lock(&lock);
	pp = find(key, now);
	if ((e = *pp)) {
		free(e->val);
	} else {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = strdup(key))) {
			pthread_mutex_unlock(&lock);
			free(e);
			free(v);
			return -1;
		}
		e->next = buckets[hash(key)];
		buckets[hash(key)] = e;
	}
	e->val = v;
	e->expires_ms = ttl_ms > 0 ? now + ttl_ms : 0;
	pthread_mutex_unlock(&lock);
	return 0;
}

static char *
get(const char *key, int take)
{
	struct ent **pp, *e;
	char *v = NULL;

	pthread_mutex_lock(&lock);
	pp = find(key, mcpg_mono_ms());
	if ((e = *pp)) {
		if (take) {
			*pp = e->next;
			v = e->val;
			e->val = NULL;
			ent_free(e);
		} else {
			v = strdup(e->val);
		}
	}
	pthread_mutex_unlock(&lock);
	return v;
}

char *
mcpg_fedmap_get(const char *key)
{
	return get(key, 0);
}

char *
mcpg_fedmap_take(const char *key)
{
	return get(key, 1);
}

int
mcpg_fedmap_del(const char *key)
{
	char *v = get(key, 1);

	free(v);
	return v != NULL;
}

size_t
mcpg_fedmap_scan(const char *prefix, const char *suffix, int del,
		 void (*fn)(const char *key, const char *val, void *arg), void *arg)
{
	size_t plen = strlen(prefix), slen = suffix ? strlen(suffix) : 0, n = 0;
	int64_t now = mcpg_mono_ms();

	pthread_mutex_lock(&lock);
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct ent **pp = &buckets[b];

		while (*pp) {
			struct ent *e = *pp;
			size_t klen = strlen(e->key);

			if (e->expires_ms && e->expires_ms <= now) {
				*pp = e->next;
				ent_free(e);
				continue;
			}
			if (strncmp(e->key, prefix, plen) ||
			    (suffix && (klen < plen + slen || strcmp(e->key + klen - slen, suffix)))) {
				pp = &e->next;
				continue;
			}
			n++;
			if (fn)
				fn(e->key, e->val, arg);
			if (del) {
				*pp = e->next;
				ent_free(e);
			} else {
				pp = &e->next;
			}
		}
	}
	pthread_mutex_unlock(&lock);
	return n;
}

void
mcpg_fedmap_clear(void)
{
	mcpg_fedmap_scan("", NULL, 1, NULL, NULL);
}
