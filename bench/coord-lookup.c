/*
 * bench/coord-lookup.c - the per-call cost of finding a shared session, for
 * bench/cluster.sh.  Boots the coordinator of IMAGE (cluster.kind redis or
 * nats), opens one session, then times N lookups of it the way a request
 * does (mcpg_cluster_session_get):
 *
 *   cached    the replica's local copy answers (the normal case)
 *   uncached  the local copy is dropped before each lookup, so the
 *             coordinator's record is read, parsed and adopted each time
 *             (what every call would cost without the local cache)
 *
 * Prints "cached_us N" and "uncached_us N": microseconds per lookup.
 *
 *   coord-lookup IMAGE [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cluster.h"
#include "rt.h"
#include "session.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	char err[1024];
	struct mcpg_rt *rt;
	struct mcpg_session *s, *g;
	char id[MCPG_SESSION_ID_LEN + 1];
	int limited, down, n = argc > 2 ? atoi(argv[2]) : 20000;
	double t0, cached, uncached;

	if (argc < 2) {
		fprintf(stderr, "usage: coord-lookup IMAGE [N]\n");
		return 2;
	}
	rt = mcpg_rt_load(argv[1], err, sizeof(err));
	if (!rt) {
		fprintf(stderr, "coord-lookup: %s\n", err);
		return 1;
	}
	mcpg_rt_publish(rt);
	mcpg_sessions_init(NULL);
	if (mcpg_cluster_start(rt, err, sizeof(err)) < 0) {
		fprintf(stderr, "coord-lookup: %s\n", err);
		return 1;
	}
	s = mcpg_session_create("", "2025-11-25", 0, &limited);
	if (!s || mcpg_cluster_session_created(s) < 0) {
		fprintf(stderr, "coord-lookup: cannot create the session\n");
		return 1;
	}
	snprintf(id, sizeof(id), "%s", s->id);
	mcpg_session_put(s);

	t0 = now_us();
	for (int i = 0; i < n; i++) {
		g = mcpg_cluster_session_get(id, &down);
		if (!g)
			return 1;
		mcpg_session_put(g);
	}
	cached = (now_us() - t0) / n;

	t0 = now_us();
	for (int i = 0; i < n; i++) {
		/* Drop the local copy (not the record): the next lookup must ask. */
		g = mcpg_session_get(id);
		if (g) {
			mcpg_session_end(g);
			mcpg_session_put(g);
		}
		g = mcpg_cluster_session_get(id, &down);
		if (!g) {
			fprintf(stderr, "coord-lookup: lookup %d failed (down %d)\n", i, down);
			return 1;
		}
		mcpg_session_put(g);
	}
	uncached = (now_us() - t0) / n;
	printf("cached_us %.3f\nuncached_us %.3f\n", cached, uncached);
	mcpg_cluster_session_deleted(id);
	mcpg_cluster_stop();
	return 0;
}
