/*
 * u-session.c - the session table (runtime/session.c) and the snapshot
 * sharing of runtime/rt.c (acquire / release / publish under concurrent
 * readers; run it under SANITIZE=address,undefined to catch a snapshot
 * freed while a reader still holds it).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "session.h"

#include "test.h"

static int ended_hook_calls;

static void
on_ended(struct mcpg_session *s)
{
	(void)s;
	ended_hook_calls++;
}

static void
create_get_end(void)
{
	int limited;
	struct mcpg_session *s = mcpg_session_create("", "2025-11-25", 0, &limited), *g;
	size_t before = mcpg_sessions_count();

	CHECK(s != NULL);
	CHECK(!limited);
	CHECK(strlen(s->id) == MCPG_SESSION_ID_LEN);
	CHECK(strspn(s->id, "0123456789abcdef") == MCPG_SESSION_ID_LEN);
	CHECK_STR(s->version, "2025-11-25");
	g = mcpg_session_get(s->id);
	CHECK(g == s);
	mcpg_session_put(g);
	CHECK(mcpg_session_get("0123456789abcdef0123456789abcdef") == NULL);
	CHECK(mcpg_session_get("not hex") == NULL);
	CHECK(mcpg_session_get(NULL) == NULL);
	ended_hook_calls = 0;
	CHECK(mcpg_session_end(s) == 0);
	CHECK(ended_hook_calls == 1);
	CHECK(s->ended);
	CHECK(mcpg_session_end(s) == -1);
	CHECK(mcpg_session_get(s->id) == NULL);
	CHECK(mcpg_sessions_count() == before - 1);
	mcpg_session_put(s);
}

static void
ids_differ(void)
{
	int limited;
	struct mcpg_session *a = mcpg_session_create("", "2025-11-25", 0, &limited);
	struct mcpg_session *b = mcpg_session_create("", "2025-11-25", 0, &limited);

	CHECK(a && b && strcmp(a->id, b->id));
	mcpg_session_end(a);
	mcpg_session_end(b);
	mcpg_session_put(a);
	mcpg_session_put(b);
}

static void
tenant_limit(void)
{
	int limited;
	struct mcpg_session *a = mcpg_session_create("acme", "2025-11-25", 2, &limited);
	struct mcpg_session *b = mcpg_session_create("acme", "2025-11-25", 2, &limited);
	struct mcpg_session *c = mcpg_session_create("acme", "2025-11-25", 2, &limited);
	struct mcpg_session *d;

	CHECK(a && b);
	CHECK(!c && limited);
	d = mcpg_session_create("other", "2025-11-25", 2, &limited);
	CHECK(d && !limited);
	mcpg_session_end(a);
	c = mcpg_session_create("acme", "2025-11-25", 2, &limited);
	CHECK(c && !limited); /* a's slot is free again */
	mcpg_session_end(b);
	mcpg_session_end(c);
	mcpg_session_end(d);
	mcpg_session_put(a);
	mcpg_session_put(b);
	mcpg_session_put(c);
	mcpg_session_put(d);
}

static void
reap_idle(void)
{
	int limited;
	struct mcpg_session *idle = mcpg_session_create("", "v", 0, &limited);
	struct mcpg_session *busy = mcpg_session_create("", "v", 0, &limited);
	struct mcpg_session *streaming = mcpg_session_create("", "v", 0, &limited);
	int64_t later = atomic_load(&idle->last_used_ms) + 10000;

	atomic_fetch_add(&busy->busy, 1);
	streaming->nstreams = 1;
	CHECK(mcpg_sessions_reap(later, 5000) == 1);
	CHECK(idle->ended);
	CHECK(!busy->ended && !streaming->ended);
	CHECK(mcpg_sessions_reap(later, 20000) == 0); /* not idle long enough */
	atomic_fetch_sub(&busy->busy, 1);
	streaming->nstreams = 0;
	CHECK(mcpg_sessions_reap(later, 5000) == 2);
	mcpg_session_put(idle);
	mcpg_session_put(busy);
	mcpg_session_put(streaming);
}

static void
replay_ring(void)
{
	int limited, gap;
	struct mcpg_session *s = mcpg_session_create("", "v", 0, &limited);
	const struct mcpg_event *e;

	CHECK(mcpg_session_next_event(s, 0, &gap) == NULL && !gap);
	CHECK(mcpg_session_add_event(s, "{\"a\":1}", 7, 2) == 1);
	CHECK(mcpg_session_add_event(s, "{\"a\":2}", 7, 2) == 2);
	e = mcpg_session_next_event(s, 0, &gap);
	CHECK(e && e->seq == 1 && !gap);
	CHECK(e && e->len == strlen("id: 1\nevent: message\ndata: {\"a\":1}\n\n") &&
	      !memcmp(e->data, "id: 1\nevent: message\ndata: {\"a\":1}\n\n", e->len));
	CHECK(mcpg_session_add_event(s, "{\"a\":3}", 7, 2) == 3); /* drops 1 */
	e = mcpg_session_next_event(s, 0, &gap);
	CHECK(e && e->seq == 2 && gap);
	e = mcpg_session_next_event(s, 1, &gap);
	CHECK(e && e->seq == 2 && !gap);
	e = mcpg_session_next_event(s, 3, &gap);
	CHECK(!e && !gap);
	/* A smaller window after a reload keeps the newest events. */
	CHECK(mcpg_session_add_event(s, "{\"a\":4}", 7, 1) == 4);
	CHECK(s->ring_n == 1 && s->ring_cap == 1);
	e = mcpg_session_next_event(s, 3, &gap);
	CHECK(e && e->seq == 4 && !gap);
	mcpg_session_end(s);
	mcpg_session_put(s);
}

/* ---- snapshots ------------------------------------------------------------ */

static atomic_int stop_readers;
static atomic_long reads;

static void *
reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_readers)) {
		struct mcpg_rt *rt = mcpg_rt_acquire();

		/* Touch it: a freed snapshot is a use after free under ASan. */
		if (rt && rt->generation == 0)
			abort();
		mcpg_rt_release(rt);
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void
publish_under_readers(void)
{
	pthread_t t[4];
	struct mcpg_rt *first = calloc(1, sizeof(*first)), *old;
	uint64_t last_gen = 0;

	atomic_init(&first->refs, 1);
	old = mcpg_rt_publish(first);
	CHECK(old == NULL);
	CHECK(first->generation == 1);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	while (atomic_load(&reads) < 100)
		sched_yield();
	for (int i = 0; i < 2000; i++) {
		struct mcpg_rt *next = calloc(1, sizeof(*next));

		atomic_init(&next->refs, 1);
		old = mcpg_rt_publish(next);
		CHECK(old && next->generation == old->generation + 1);
		last_gen = next->generation;
		mcpg_rt_release(old);
	}
	atomic_store(&stop_readers, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(last_gen == 2001);
	CHECK(atomic_load(&reads) > 0);
	old = mcpg_rt_publish(NULL);
	CHECK(old && atomic_load(&old->refs) == 1);
	mcpg_rt_release(old);
	CHECK(mcpg_rt_acquire() == NULL);
}

int
main(void)
{
	struct mcpg_session_hooks hooks = { on_ended };

	mcpg_sessions_init(&hooks);
	TEST(create_get_end);
	TEST(ids_differ);
	TEST(tenant_limit);
	TEST(reap_idle);
	TEST(replay_ring);
	TEST(publish_under_readers);
	return test_done();
}
