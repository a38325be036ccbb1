/*
 * main.c - the mcpg runtime entry point.
 *
 *   mcpg [--image PATH] [--check]      PATH defaults to $MCPG_IMAGE
 *   MCPG_CONFIG=a.yaml:b.yaml mcpg     build a private image with mcpgc first
 *
 * Boot: map and verify the image, resolve ${env.*} (mcpg_rt_load), publish
 * it, configure logs, bind the listener, turn ready.  A corrupt, truncated
 * or foreign image, an unset variable or a listener that cannot bind is one
 * line on stderr and exit status 1.  --check stops after loading (exit 0).
 *
 * Then the main thread only waits for signals: SIGHUP reloads, SIGTERM and
 * SIGINT drain (/ready 503, no new connections, in-flight requests and SSE
 * streams get up to shutdown_timeout_ms) and exit 0.  Every other thread
 * starts with these signals blocked.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "cluster.h"
#include "fed.h"
#include "http.h"
#include "identity.h"
#include "jwks.h"
#include "log.h"
#include "mcp.h"
#include "pool.h"
#include "ratelimit.h"
#include "reload.h"
#include "rt.h"
#include "schema_desc.h"

static const char usage_text[] = "usage: mcpg [--image PATH] [--check]\n";

static char tmpdir[PATH_MAX];
static char tmpimg[PATH_MAX + 32];

static void
cleanup_tmp(void)
{
	if (!tmpdir[0])
		return;
	unlink(tmpimg);
	{
		char next[PATH_MAX + 64];

		snprintf(next, sizeof(next), "%s.next", tmpimg);
		unlink(next);
	}
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

/* mcpgc next to this program when it is there, else from PATH. */
static const char *
find_mcpgc(const char *argv0, char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *slash;

	if (n > 0) {
		self[n] = '\0';
		argv0 = self;
	}
	slash = strrchr(argv0, '/');
	if (slash && (size_t)(slash - argv0) + 7 < len) {
		snprintf(buf, len, "%.*s/mcpgc", (int)(slash - argv0), argv0);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return "mcpgc";
}

static int
build_private_image(const char *argv0, const char *layers, char *mcpgc, size_t mlen)
{
	const char *t = getenv("TMPDIR");
	char err[512];

	snprintf(tmpdir, sizeof(tmpdir), "%s/mcpg-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "mcpg: error: cannot create a temporary directory: %s\n",
			strerror(errno));
		tmpdir[0] = '\0';
		return -1;
	}
	snprintf(tmpimg, sizeof(tmpimg), "%s/config.img", tmpdir);
	find_mcpgc(argv0, mcpgc, mlen);
	if (mcpg_build_image(mcpgc, layers, tmpimg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpg: error: MCPG_CONFIG: %s\n", err);
		cleanup_tmp();
		return -1;
	}
	return 0;
}

/* Drain until nothing is in flight or the budget is spent; 1 if forced. */
static int
drain(uint64_t budget_ms, sigset_t *set)
{
	int64_t deadline = mcpg_mono_ms() + (int64_t)budget_ms;

	mcpg_http_drain();
	while (mcpg_http_inflight() > 0) {
		struct timespec ts = { 0, 10 * 1000000 };
		siginfo_t si;

		if (mcpg_mono_ms() >= deadline)
			return 1;
		/* A second SIGTERM or SIGINT ends the drain at once. */
		if (sigtimedwait(set, &si, &ts) > 0 && si.si_signo != SIGHUP)
			return 1;
	}
	return 0;
}

/*
 * Refused credentials, seen by identity.c through mcpg_auth_hooks: the
 * failed-authentication limiter answers 429 before a credential from a
 * client over its allowance is even looked at, and every refusal costs the
 * client a token and leaves an audit record.
 */
static int
auth_gate(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff)
{
	if (!rt->cfg->gateway.server.failed_auth_rate_limit_per_min)
		return 0;
	return mcpg_authfail_blocked(rt, peer, xff, mcpg_mono_ms());
}

static void
auth_failed(const struct mcpg_rt *rt, const char *rid, const struct sockaddr *peer,
	    const char *xff, const struct mcpg_auth_result *res)
{
	(void)rid;
	if (rt->cfg->gateway.server.failed_auth_rate_limit_per_min)
		mcpg_authfail_note(rt, peer, xff, mcpg_mono_ms());
	mcpg_audit_auth_failure(peer, res->reason);
}

/*
 * Open the audit ledger and queue the boot record; boot_record_durable()
 * waits for it.  The fsync overlaps the listener's start instead of coming
 * before it: /ready turns 200 only once the record is durable, and a
 * required ledger that cannot take it under fail_closed still refuses the
 * boot (calls that came in meanwhile wait for their own records, which
 * follow it in the ledger).
 */
static pthread_mutex_t boot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t boot_cond = PTHREAD_COND_INITIALIZER;
static int boot_pending, boot_status;

static void
boot_record_done(void *ctx, int status)
{
	(void)ctx;
	pthread_mutex_lock(&boot_lock);
	boot_status = status;
	boot_pending = 0;
	pthread_cond_signal(&boot_cond);
	pthread_mutex_unlock(&boot_lock);
}

static int
start_audit(const struct mcpg_rt *rt)
{
	char err[600], details[160];
	struct mcpg_audit_event ev = { "mcpg.lifecycle.gateway_started", NULL, "config://gateway",
				       "success", NULL, details, 0 };

	if (mcpg_audit_configure(rt, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpg: error: audit ledger: %s\n", err);
		return -1;
	}
	snprintf(details, sizeof(details), "{\"version\":\"%s\",\"digest\":\"%s\",\"pid\":%ld}",
		 MCPG_VERSION, rt->img.digest_hex, (long)getpid());
	ev.fail_closed = rt->cfg->governance.audit.on_failure == MCPG_AUDIT_FAILURE_MODE_FAIL_CLOSED;
	boot_pending = 1;
	if (mcpg_audit_emit(&ev, boot_record_done, NULL) < 0)
		boot_pending = 0; /* audit is off */
	return 0;
}

/* Wait for the boot record: 0, or -1 when the boot must be refused. */
static int
boot_record_durable(const struct mcpg_rt *rt)
{
	char err[600];
	int status;

	pthread_mutex_lock(&boot_lock);
	while (boot_pending)
		pthread_cond_wait(&boot_cond, &boot_lock);
	status = boot_status;
	pthread_mutex_unlock(&boot_lock);
	if (status < 0 && rt->cfg->governance.audit.required) {
		mcpg_audit_last_error(err, sizeof(err));
		fprintf(stderr, "mcpg: error: audit ledger: the boot record could not be made "
				"durable: %s\n", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("MCPG_IMAGE"), *layers = NULL;
	int check = 0, image_arg = 0, forced, sig = SIGTERM;
	char err[1024] = "", mcpgc[PATH_MAX] = "mcpgc";
	struct mcpg_rt *rt;
	sigset_t set;
	int64_t t_boot = mcpg_mono_us();
	uint64_t budget;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--image") && i + 1 < argc) {
			path = argv[++i];
			image_arg = 1;
		} else if (!strncmp(argv[i], "--image=", 8)) {
			path = argv[i] + 8;
			image_arg = 1;
		} else if (!strcmp(argv[i], "--check")) {
			check = 1;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("mcpg %s (schema %s)\n", MCPG_VERSION, mcpg_schema.hash_hex);
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else {
			fprintf(stderr, "mcpg: error: unknown argument '%s'\n%s", argv[i], usage_text);
			return 2;
		}
	}
	mcpg_log_init();
	if (!image_arg && (!path || !*path) && getenv("MCPG_CONFIG") && *getenv("MCPG_CONFIG")) {
		layers = getenv("MCPG_CONFIG");
		if (build_private_image(argv[0], layers, mcpgc, sizeof(mcpgc)) < 0)
			return 1;
		path = tmpimg;
	}
	if (!path || !*path) {
		fprintf(stderr, "mcpg: error: no image: pass --image PATH or set MCPG_IMAGE "
				"(or MCPG_CONFIG)\n");
		return 2;
	}

	/* Signals are taken by this thread only, with sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	rt = mcpg_rt_load(path, err, sizeof(err));
	if (!rt) {
		fprintf(stderr, "mcpg: error: %s: %s\n", layers ? "MCPG_CONFIG" : path, err);
		cleanup_tmp();
		return 1;
	}
	if (check) {
		mcpg_log(MCPG_LOG_INFO, NULL, "image verified", "image", MCPG_LF_STR, path,
			 "digest", MCPG_LF_STR, rt->img.digest_hex, "bytes", MCPG_LF_U64,
			 (uint64_t)rt->img.size, "bindings", MCPG_LF_U64, (uint64_t)rt->nbindings,
			 NULL);
		mcpg_rt_release(rt);
		cleanup_tmp();
		return 0;
	}
	mcpg_rt_publish(rt);
	mcpg_log_configure(rt);
	mcpg_log(MCPG_LOG_INFO, NULL, "mcpg starting", "digest", MCPG_LF_STR, rt->img.digest_hex,
		 "version", MCPG_LF_STR, MCPG_VERSION, "image", MCPG_LF_STR, layers ? layers : path,
		 "pid", MCPG_LF_I64, (int64_t)getpid(), "bindings", MCPG_LF_U64,
		 (uint64_t)rt->nbindings, NULL);
	if (mcpg_cluster_start(rt, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpg: error: %s\n", err);
		cleanup_tmp();
		return 1;
	}
	mcpg_auth_hooks.auth_gate = auth_gate;
	mcpg_auth_hooks.auth_failed = auth_failed;
	if (start_audit(rt) < 0) {
		cleanup_tmp();
		return 1;
	}
	if (mcpg_pool_start(1, 256) < 0 || mcpg_http_start(rt, err, sizeof(err)) < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "cannot start the worker threads");
		fprintf(stderr, "mcpg: error: %s\n", err);
		cleanup_tmp();
		return 1;
	}
	mcpg_fed_start();
	mcpg_reload_start(path, layers, mcpgc, layers == NULL);
	if (boot_record_durable(rt) < 0) {
		mcpg_http_stop();
		mcpg_audit_stop();
		cleanup_tmp();
		return 1;
	}
	mcpg_http_set_ready(1);
	mcpg_log(MCPG_LOG_INFO, NULL, "ready", "bind_address", MCPG_LF_STR,
		 mcpg_server_bind_address(&rt->img, &rt->cfg->gateway.server), "boot_ms",
		 MCPG_LF_DBL, (double)(mcpg_mono_us() - t_boot) / 1000, NULL);

	for (;;) {
		siginfo_t si;

		sig = sigwaitinfo(&set, &si);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sig == SIGHUP) {
			mcpg_reload_now("sighup");
			continue;
		}
		break;
	}

	rt = mcpg_rt_acquire();
	budget = rt->cfg->gateway.server.shutdown_timeout_ms;
	mcpg_rt_release(rt);
	mcpg_log(MCPG_LOG_INFO, NULL, "draining", "signal", MCPG_LF_STR,
		 sig == SIGINT ? "SIGINT" : "SIGTERM", "inflight", MCPG_LF_I64,
		 (int64_t)mcpg_http_inflight(), "budget_ms", MCPG_LF_U64, budget, NULL);
	forced = drain(budget, &set);
	mcpg_reload_stop();
	if (forced)
		mcpg_log(MCPG_LOG_WARN, NULL, "drain budget spent; cancelling what is left",
			 "inflight", MCPG_LF_I64, (int64_t)mcpg_http_inflight(), NULL);
	mcpg_http_stop();
	mcpg_fed_stop();
	{
		struct mcpg_audit_event ev = { "mcpg.lifecycle.gateway_stopped", NULL,
					       "config://gateway", "success", NULL, NULL, 0 };

		mcpg_audit_emit(&ev, NULL, NULL);
		mcpg_audit_stop();
	}
	mcpg_cluster_stop();
	mcpg_log(MCPG_LOG_INFO, NULL, "stopped", NULL);
	rt = mcpg_rt_publish(NULL);
	mcpg_rt_release(rt);
	mcpg_jwks_shutdown(); /* no key fetch running while the process exits */
	mcpg_log_close();
	cleanup_tmp();
	return 0;
}
