/*
 * fed_stdio.c - an upstream MCP server run as a child process, speaking
 * newline-delimited JSON-RPC on its stdin and stdout (one child per
 * upstream; stderr lines go to the debug log).
 *
 * All calls share the one pipe: requests carry ids unique in the process
 * and a reader thread hands each response to its waiter.  The stdio
 * transport carries no relation between a server message and the request
 * it belongs to, so: progress goes to the call whose progress token it
 * names (fed.c makes them unique), and other notifications and
 * server-initiated requests go to the call in flight when there is exactly
 * one; with several, a request is refused and a notification dropped
 * rather than risk sending one client's traffic to another.
 *
 * When the child dies every waiter fails at once and the supervisor
 * (fed.c) starts another with backoff.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend_int.h"
#include "fed_int.h"
#include "jsonparse.h"
#include "log.h"
#include "mcp.h"
#include "strbuf.h"

struct fed_stdio {
	pthread_mutex_t lock;  /* waiters, dead */
	pthread_cond_t cond;   /* a waiter's answer came, or one stopped being busy */
	pthread_mutex_t wlock; /* writes to `in`, and closing it */
	pid_t pid;
	int in, out, err;
	int dead;
	pthread_t reader;
	int reader_started;
	struct fed_rq *waiting;
};

static struct fed_stdio *
st(struct fed_up *u)
{
	if (!u->tp) {
		struct fed_stdio *s = calloc(1, sizeof(*s));

		if (!s)
			return NULL;
		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->cond, NULL);
		pthread_mutex_init(&s->wlock, NULL);
		s->pid = -1;
		s->in = s->out = s->err = -1;
		s->dead = 1;
		u->tp = s;
	}
	return u->tp;
}

static int
write_line(struct fed_stdio *s, const char *json)
{
	size_t len = strlen(json), off = 0;
	int rc = 0;

	pthread_mutex_lock(&s->wlock);
	while (s->in >= 0 && off <= len) {
		const char *p = off < len ? json + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = write(s->in, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -1;
			break;
		}
		off += (size_t)w;
		if (off == len + 1)
			break;
	}
	if (s->in < 0)
		rc = -1;
	pthread_mutex_unlock(&s->wlock);
	return rc;
}

/* The waiter a message belongs to, marked busy (s->lock held), or NULL. */
static struct fed_rq *
owner(struct fed_stdio *s, json_t *msg)
{
	const char *m = json_string_value(json_object_get(msg, "method"));
	struct fed_rq *one = NULL;
	int n = 0;

	if (m && !strcmp(m, "notifications/progress")) {
		const char *tok = json_string_value(
			json_object_get(json_object_get(msg, "params"), "progressToken"));
		long long id;

		if (tok && sscanf(tok, "mcpg-p%lld", &id) == 1)
			for (struct fed_rq *r = s->waiting; r; r = r->next)
				if (r->id == id && r->on_msg)
					return r;
		return NULL;
	}
	if (m && (!strncmp(m, "notifications/", 14) && strcmp(m, "notifications/message")))
		return NULL; /* list_changed, resources/updated: the upstream's, not a call's */
	for (struct fed_rq *r = s->waiting; r; r = r->next)
		if (r->on_msg) {
			one = r;
			n++;
		}
	return n == 1 ? one : NULL;
}

static void
line(struct fed_up *u, struct fed_stdio *s, const char *text, size_t len)
{
	json_t *msg = mcpg_json_load(text, len, 0, NULL);
	struct fed_rq *r = NULL;

	if (!json_is_object(msg)) {
		json_decref(msg);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (!json_object_get(msg, "method")) {
		for (r = s->waiting; r; r = r->next)
			if (!r->done && fed_rq_answer(r, msg)) {
				r->done = 1;
				pthread_cond_broadcast(&s->cond);
				break;
			}
		pthread_mutex_unlock(&s->lock);
		json_decref(msg);
		return;
	}
	r = owner(s, msg);
	if (r)
		r->busy++;
	pthread_mutex_unlock(&s->lock);
	if (r) {
		r->on_msg(r, msg);
		pthread_mutex_lock(&s->lock);
		r->busy--;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	} else {
		const char *m = json_string_value(json_object_get(msg, "method"));

		if (json_object_get(msg, "id") || strcmp(m, "notifications/message"))
			fed_unrelated(u, "", msg);
		else
			mcpg_log(MCPG_LOG_DEBUG, NULL, "upstream log message dropped: no single call "
				 "to route it to", "upstream", MCPG_LF_STR, u->cfg.name, NULL);
	}
	json_decref(msg);
}

static void *
reader(void *arg)
{
	struct fed_up *u = arg;
	struct fed_stdio *s = u->tp;
	struct strbuf ob = STRBUF_INIT, eb = STRBUF_INIT;
	int out = s->out, err = s->err;

	while (out >= 0 || err >= 0) {
		struct pollfd p[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
		char buf[65536];

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			struct strbuf *sb = i ? &eb : &ob;
			ssize_t n;
			char *nl;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (i)
					err = -1;
				else
					out = -1;
				continue;
			}
			strbuf_add(sb, buf, (size_t)n);
			while ((nl = memchr(sb->buf, '\n', sb->len))) {
				size_t ll = (size_t)(nl - sb->buf);

				if (i == 0)
					line(u, s, sb->buf, ll);
				else if (ll)
					mcpg_log(MCPG_LOG_DEBUG, NULL, "upstream stderr", "upstream",
						 MCPG_LF_STR, u->cfg.name, "line", MCPG_LF_STR,
						 (sb->buf[ll] = '\0', sb->buf), NULL);
				memmove(sb->buf, nl + 1, sb->len - ll - 1);
				strbuf_setlen(sb, sb->len - ll - 1);
			}
		}
		if (out < 0)
			break; /* stdout closed: the child is gone or going */
	}
	strbuf_release(&ob);
	strbuf_release(&eb);
	pthread_mutex_lock(&s->lock);
	s->dead = 1;
	for (struct fed_rq *r = s->waiting; r; r = r->next)
		if (!r->done) {
			fed_rq_error(r, -32603, 1, "upstream '%s' exited", u->cfg.name);
			r->done = 1;
		}
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	fed_lost(u);
	return NULL;
}

static void
stdio_disconnect(struct fed_up *u)
{
	struct fed_stdio *s = st(u);
	pid_t pid;

	if (!s)
		return;
	pthread_mutex_lock(&s->wlock);
	if (s->in >= 0)
		close(s->in);
	s->in = -1;
	pid = s->pid;
	pthread_mutex_unlock(&s->wlock);
	if (pid > 0) {
		/* Closing stdin asks politely; then TERM, then KILL. */
		int status;

		for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++) {
			if (i == 10)
				kill(-pid, SIGTERM);
			usleep(20 * 1000);
		}
		if (waitpid(pid, &status, WNOHANG) == 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		s->pid = -1;
	}
	if (s->reader_started) {
		pthread_join(s->reader, NULL);
		s->reader_started = 0;
	}
	if (s->out >= 0)
		close(s->out);
	if (s->err >= 0)
		close(s->err);
	s->out = s->err = -1;
}

static int stdio_request(struct fed_up *u, struct fed_rq *rq);

static int
stdio_connect(struct fed_up *u, json_t **init, char *err, size_t errlen)
{
	struct fed_stdio *s = st(u);
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, rc;
	const char *path = getenv("PATH");
	char *prog, **envp;
	size_t ne = 0;
	struct fed_rq rq;
	json_t *params;
	struct strbuf pb = STRBUF_INIT;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	stdio_disconnect(u);
	prog = mcpg_find_program(u->cfg.argv[0], path ? path : "/usr/bin:/bin");
	if (!prog) {
		snprintf(err, errlen, "command '%s' not found", u->cfg.argv[0]);
		return -1;
	}
	while (u->cfg.envp && u->cfg.envp[ne])
		ne++;
	envp = calloc(ne + 2, sizeof(*envp));
	strbuf_addf(&pb, "PATH=%s", path ? path : "/usr/bin:/bin");
	if (!envp || mcpg_make_pipe(pin) || mcpg_make_pipe(pout) || mcpg_make_pipe(perr)) {
		snprintf(err, errlen, "cannot make pipes: %s", strerror(errno));
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < ne; i++)
		envp[i] = u->cfg.envp[i];
	envp[ne] = pb.buf;
	if ((rc = mcpg_spawn(&s->pid, prog, u->cfg.argv, envp, pin[0], pout[1], perr[1]))) {
		snprintf(err, errlen, "cannot start '%s': %s", prog, strerror(rc));
		s->pid = -1;
		rc = -1;
		goto out;
	}
	pthread_mutex_lock(&s->wlock);
	s->in = pin[1];
	pthread_mutex_unlock(&s->wlock);
	s->out = pout[0];
	s->err = perr[0];
	pin[1] = pout[0] = perr[0] = -1;
	pthread_mutex_lock(&s->lock);
	s->dead = 0;
	pthread_mutex_unlock(&s->lock);
	if (pthread_create(&s->reader, NULL, reader, u)) {
		snprintf(err, errlen, "cannot start a thread");
		rc = -1;
		goto out;
	}
	s->reader_started = 1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	free(envp);
	free(prog);
	strbuf_release(&pb);
	if (rc < 0)
		return -1;

	fed_initialize_rq(u, &rq);
	params = rq.params;
	rc = stdio_request(u, &rq);
	json_decref(params);
	if (rc < 0) {
		snprintf(err, errlen, "initialize: %s", rq.message);
		json_decref(rq.data);
		return -1;
	}
	if (write_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}") < 0) {
		json_decref(rq.result);
		snprintf(err, errlen, "notifications/initialized: write failed");
		return -1;
	}
	*init = rq.result;
	return 0;
}

static int
stdio_request(struct fed_up *u, struct fed_rq *rq)
{
	struct fed_stdio *s = st(u);
	char *text = fed_request_json(rq);
	int sent;

	if (!s || !text) {
		free(text);
		fed_rq_error(rq, -32603, 0, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	if (s->dead) {
		pthread_mutex_unlock(&s->lock);
		free(text);
		fed_rq_error(rq, -32603, 1, "upstream '%s' is not running", u->cfg.name);
		return -1;
	}
	rq->done = 0;
	rq->busy = 0;
	rq->next = s->waiting;
	s->waiting = rq;
	pthread_mutex_unlock(&s->lock);
	sent = write_line(s, text);
	free(text);
	pthread_mutex_lock(&s->lock);
	if (sent < 0 && !rq->done) {
		fed_rq_error(rq, -32603, 1, "upstream '%s': write failed", u->cfg.name);
		rq->done = 1;
	}
	while (!rq->done) {
		if (rq->cancelled && atomic_load(rq->cancelled)) {
			rq->stopped = 1;
			break;
		}
		if (rq->deadline_ms && mcpg_mono_ms() >= rq->deadline_ms) {
			rq->stopped = 2;
			break;
		}
		fed_cond_wait_ms(&s->cond, &s->lock, 10);
	}
	for (struct fed_rq **pp = &s->waiting; *pp; pp = &(*pp)->next)
		if (*pp == rq) {
			*pp = rq->next;
			break;
		}
	/* The reader may be inside rq->on_msg: wait until it left. */
	while (rq->busy)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (rq->stopped && !rq->result) {
		fed_rq_error(rq, rq->stopped == 1 ? -32800 : -32001, 0, "%s",
			     rq->stopped == 1 ? "cancelled" : "request timed out");
		return -1;
	}
	if (rq->stopped) {
		rq->stopped = 0;
	}
	return rq->result ? 0 : -1;
}

static int
stdio_send(struct fed_up *u, const char *usid, const char *json)
{
	struct fed_stdio *s = st(u);

	(void)usid;
	return s ? write_line(s, json) : -1;
}

static int
stdio_watch(struct fed_up *u)
{
	struct fed_stdio *s = st(u);

	for (;;) {
		int dead;

		if (fed_should_wake(u))
			return 0;
		pthread_mutex_lock(&s->lock);
		dead = s->dead;
		pthread_mutex_unlock(&s->lock);
		if (dead)
			return -1;
		pthread_mutex_lock(&u->lock);
		if (!u->stop && !u->refresh)
			fed_cond_wait_ms(&u->cond, &u->lock, 100);
		pthread_mutex_unlock(&u->lock);
	}
}

static void
stdio_free(struct fed_up *u)
{
	struct fed_stdio *s = u->tp;

	if (!s)
		return;
	stdio_disconnect(u);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->wlock);
	free(s);
	u->tp = NULL;
}

const struct fed_ops mcpg_fed_stdio_ops = {
	stdio_connect, stdio_request, stdio_send, stdio_watch, stdio_disconnect, stdio_free,
};
