/*
 * backend_command.c - backend.kind: command, a subprocess per call (schema
 * struct command_backend; reference/mcpg.md section 3.6).
 *
 * argv is `command` followed by the rendered `args` templates; no shell is
 * involved.  `command` without a '/' is looked up in the child's PATH.  The
 * environment is PATH (the gateway's, unless the env map sets it) plus the
 * env map, nothing else of the gateway's.  The child runs in a process group
 * of its own with default signal dispositions and an empty signal mask, and
 * inherits no descriptor but its three pipes (pipes are O_CLOEXEC and the
 * spawn closes every descriptor from 3 up).
 *
 * The tool arguments go to stdin as one compact JSON document and a newline,
 * then stdin is closed; stdout and stderr are read concurrently, each up to
 * max_output_bytes.  The call ends when the child has exited and both pipes
 * are at end of file.  The whole process group is killed with SIGKILL when
 * the call is cancelled or passes its deadline, when timeout_ms passes, when
 * an output exceeds the cap, and when descendants still hold the pipes open
 * MCPG_COMMAND_GRACE_MS after the child exited.  The child is always reaped.
 *
 * Result: stdout is the text (and structuredContent when it is a JSON
 * object; shapes in backend_int.h).  Tool errors: "timed out after 5000
 * ms", "stdout larger than 65536 bytes", "command exited with status 3" or
 * "command killed by signal 11" (with stderr as the second block), "stdout
 * is not JSON" (require_json_stdout), "cannot run 'x': No such file or
 * directory".
 */
#include "backend_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "template.h"

/* How long descendants may keep the pipes open after the child exited. */
#define MCPG_COMMAND_GRACE_MS 50
/* Timeouts longer than this (a year) count as this. */
#define MAX_TIMEOUT_MS ((uint64_t)366 * 24 * 3600 * 1000)
/* PATH for the child when the gateway has none. */
#define MCPG_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* A NULL-terminated vector of malloc'd strings. */
struct strvec {
	char **v;
	size_t nr, alloc;
};

static void
strvec_push(struct strvec *sv, char *s)
{
	if (sv->nr + 2 > sv->alloc) {
		size_t alloc = sv->alloc ? 2 * sv->alloc : 8;
		char **v = realloc(sv->v, alloc * sizeof(*v));

		if (!v)
			abort();
		sv->v = v;
		sv->alloc = alloc;
	}
	sv->v[sv->nr++] = s;
	sv->v[sv->nr] = NULL;
}

static void
strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->nr; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->nr = sv->alloc = 0;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		abort();
	return p;
}

/* `cmd` itself when it has a '/', else the first executable in `path`. */
char *
mcpg_find_program(const char *cmd, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;

	if (strchr(cmd, '/'))
		return xstrdup(cmd);
	while (path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);

		strbuf_reset(&sb);
		/* An empty PATH entry means the current directory. */
		if (n)
			strbuf_add(&sb, path, n);
		else
			strbuf_addch(&sb, '.');
		strbuf_addch(&sb, '/');
		strbuf_addstr(&sb, cmd);
		if (!stat(sb.buf, &st) && S_ISREG(st.st_mode) && !access(sb.buf, X_OK))
			return strbuf_detach(&sb, NULL);
		path = colon ? colon + 1 : NULL;
	}
	strbuf_release(&sb);
	return NULL;
}

/* Move a descriptor to 3 or above, so that dup2 onto 0..2 never hits itself. */
static int
lift_fd(int fd)
{
	int nfd;

	if (fd >= 3)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

int
mcpg_make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC))
		return -1;
	p[0] = lift_fd(p[0]);
	p[1] = lift_fd(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		if (p[0] >= 0)
			close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
		return -1;
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

int
mcpg_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], int in,
      int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t mask, dflt;
	int rc;

	if ((rc = posix_spawn_file_actions_init(&fa)))
		return rc;
	if ((rc = posix_spawnattr_init(&attr))) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	sigemptyset(&mask);
	sigfillset(&dflt);
	sigdelset(&dflt, SIGKILL);
	sigdelset(&dflt, SIGSTOP);
	if (!(rc = posix_spawn_file_actions_adddup2(&fa, in, 0)) &&
	    !(rc = posix_spawn_file_actions_adddup2(&fa, out, 1)) &&
	    !(rc = posix_spawn_file_actions_adddup2(&fa, err, 2)) &&
	    !(rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) &&
	    !(rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
							   POSIX_SPAWN_SETSIGMASK |
							   POSIX_SPAWN_SETSIGDEF)) &&
	    !(rc = posix_spawnattr_setpgroup(&attr, 0)) &&
	    !(rc = posix_spawnattr_setsigmask(&attr, &mask)) &&
	    !(rc = posix_spawnattr_setsigdefault(&attr, &dflt)))
		rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* The state of one run. */
struct run {
	pid_t pid;
	int in, out, err;         /* our ends; -1 once closed */
	const char *doc;          /* stdin document */
	size_t doc_len, doc_off;
	struct strbuf so, se;     /* captured stdout, stderr */
	uint64_t max;             /* max_output_bytes */
	int exited;               /* waitid saw the exit (not reaped yet) */
	int64_t exited_at;
	const char *over;         /* "stdout" or "stderr" when a cap was passed */
};

/* Read what `fd` has; close it at end of file.  Sets r->over past the cap. */
static void
drain(struct run *r, int *fd, struct strbuf *sb, const char *name)
{
	char buf[65536];

	for (;;) {
		/* Up to one byte past the cap, enough to know it was passed
		 * (sb->len <= r->max here: pump() stops once it is not). */
		size_t want = r->max - sb->len < sizeof(buf) ? (size_t)(r->max - sb->len) + 1
							       : sizeof(buf);
		ssize_t n = read(*fd, buf, want);

		if (n > 0) {
			strbuf_add(sb, buf, (size_t)n);
			if (sb->len > r->max) {
				r->over = name;
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close_fd(fd); /* end of file, or an error: nothing more will come */
		return;
	}
}

static void
feed(struct run *r)
{
	while (r->doc_off < r->doc_len) {
		ssize_t n = write(r->in, r->doc + r->doc_off, r->doc_len - r->doc_off);

		if (n > 0) {
			r->doc_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break; /* EPIPE: the child does not read its stdin; fine */
	}
	close_fd(&r->in);
}

enum run_end { END_DONE, END_TIMEOUT, END_OVER, END_STOPPED, END_LEFTOVER };

/* Feed and drain the child until it is done or must be killed. */
static enum run_end
pump(struct mcpg_call *call, struct run *r, int64_t limit, int *why)
{
	for (;;) {
		struct pollfd p[3];
		nfds_t n = 0;
		int64_t now = mcpg_mono_ms(), wait;
		siginfo_t si;

		if (!r->exited) {
			int w;

			memset(&si, 0, sizeof(si));
			/* WNOWAIT: the child stays a zombie, so its pid (and
			 * process group id) cannot be reused before we kill the
			 * group and reap it.  ECHILD: someone else reaped it
			 * (SIGCHLD set to SIG_IGN, or a waitpid(-1) elsewhere);
			 * it has exited, but its status is lost and the call
			 * counts as a success. */
			w = waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT);
			if ((w == 0 && si.si_pid == r->pid) || (w < 0 && errno == ECHILD)) {
				r->exited = 1;
				r->exited_at = now;
			}
		}
		if (r->exited && r->out < 0 && r->err < 0)
			return END_DONE;
		if ((*why = mcpg_call_stopped(call)))
			return END_STOPPED;
		if (now >= limit)
			return END_TIMEOUT;
		if (r->exited && now - r->exited_at >= MCPG_COMMAND_GRACE_MS)
			return END_LEFTOVER;

		if (r->in >= 0)
			p[n++] = (struct pollfd){ .fd = r->in, .events = POLLOUT };
		if (r->out >= 0)
			p[n++] = (struct pollfd){ .fd = r->out, .events = POLLIN };
		if (r->err >= 0)
			p[n++] = (struct pollfd){ .fd = r->err, .events = POLLIN };
		wait = limit - now < MCPG_BACKEND_POLL_MS ? limit - now : MCPG_BACKEND_POLL_MS;
		if (poll(p, n, (int)wait) <= 0)
			continue;
		for (nfds_t i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == r->in)
				feed(r);
			else if (p[i].fd == r->out)
				drain(r, &r->out, &r->so, "stdout");
			else if (p[i].fd == r->err)
				drain(r, &r->err, &r->se, "stderr");
		}
		if (r->over)
			return END_OVER;
	}
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Build argv and envp; -1 with the call's error set. */
static int
build(struct mcpg_call *call, const struct mcpg_command_backend *cb, struct strvec *argv,
      struct strvec *envp, const char **path)
{
	const struct mcpg_image *img = &call->rt->img;
	const struct mcpg_string_entry *env;
	const uint32_t *args;
	struct strbuf sb = STRBUF_INIT;
	const char *own_path = NULL;
	uint32_t n;

	strvec_push(argv, xstrdup(mcpg_command_backend_command(img, cb)));
	args = mcpg_command_backend_args(img, cb, &n);
	for (uint32_t i = 0; i < n; i++) {
		if (mcpg_call_render(call, args[i], 0, &sb, "backend.args")) {
			strbuf_release(&sb);
			return -1;
		}
		strvec_push(argv, strbuf_detach(&sb, NULL));
	}

	env = mcpg_command_backend_env(img, cb, &n);
	for (uint32_t i = 0; i < n; i++) {
		const char *k = mcpg_str(img, env[i].key);
		const char *v = mcpg_rt_str(call->rt, env[i].value);

		if (!k || !*k || strchr(k, '=')) {
			mcpg_call_error(call, MCPG_RPC_INTERNAL, "config",
					"backend.env: '%s' is not a variable name", k ? k : "");
			strbuf_release(&sb);
			return -1;
		}
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s=%s", k, v ? v : "");
		if (!strcmp(k, "PATH"))
			own_path = v ? v : "";
		strvec_push(envp, strbuf_detach(&sb, NULL));
	}
	if (!own_path) {
		own_path = getenv("PATH");
		if (!own_path)
			own_path = MCPG_DEFAULT_PATH;
		strbuf_addf(&sb, "PATH=%s", own_path);
		strvec_push(envp, strbuf_detach(&sb, NULL));
	}
	*path = own_path;
	strbuf_release(&sb);
	return 0;
}

/* The answer once the child is reaped. */
static int
finish(struct mcpg_call *call, const struct mcpg_command_backend *cb, struct run *r,
       enum run_end end, int why, int status)
{
	uint64_t timeout = cb->timeout_ms;
	json_t *parsed = NULL;

	switch (end) {
	case END_STOPPED:
		return mcpg_call_stop(call, why);
	case END_TIMEOUT:
		return mcpg_call_fail(call, "timeout", r->se.buf, r->se.len,
				      "timed out after %llu ms", (unsigned long long)timeout);
	case END_OVER:
		return mcpg_call_fail(call, "size", NULL, 0, "%s larger than %llu bytes",
				      r->over, (unsigned long long)r->max);
	case END_DONE:
	case END_LEFTOVER:
		break;
	}
	if (WIFSIGNALED(status))
		return mcpg_call_fail(call, "exit", r->se.buf, r->se.len,
				      "command killed by signal %d", WTERMSIG(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return mcpg_call_fail(call, "exit", r->se.buf, r->se.len,
				      "command exited with status %d", WEXITSTATUS(status));
	if (cb->require_json_stdout || (r->so.len && r->so.buf[0] == '{'))
		parsed = mcpg_json_parse(r->so.buf, r->so.len);
	if (cb->require_json_stdout && !parsed)
		return mcpg_call_fail(call, "json", r->so.buf, r->so.len, "stdout is not JSON");
	return mcpg_call_ok(call, r->so.buf, r->so.len, parsed, NULL);
}

int
mcpg_backend_command_run(struct mcpg_call *call, const struct mcpg_command_backend *cb)
{
	struct strvec argv = { 0 }, envp = { 0 };
	struct strbuf doc = STRBUF_INIT;
	struct run r = { .pid = -1, .in = -1, .out = -1, .err = -1 };
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	sigset_t sigpipe, oldmask, pending;
	const char *path = NULL;
	char *prog = NULL;
	enum run_end end;
	int rc, why = 0, status = 0, err;

	strbuf_init(&r.so, 0);
	strbuf_init(&r.se, 0);
	r.max = cb->max_output_bytes;
	if (build(call, cb, &argv, &envp, &path)) {
		rc = -1;
		goto out;
	}
	if (!(prog = mcpg_find_program(argv.v[0], path))) {
		rc = mcpg_call_fail(call, "spawn", NULL, 0, "cannot run '%s': %s", argv.v[0],
				    strerror(ENOENT));
		goto out;
	}
	mcpg_json_compact(&doc, call->arguments);
	strbuf_addch(&doc, '\n');
	r.doc = doc.buf;
	r.doc_len = doc.len;

	if (mcpg_make_pipe(pin) || mcpg_make_pipe(pout) || mcpg_make_pipe(perr)) {
		err = errno;
		rc = mcpg_call_fail(call, "spawn", NULL, 0, "cannot run '%s': %s", argv.v[0],
				    strerror(err));
		goto out;
	}
	/*
	 * A write to the stdin of a child that exited raises SIGPIPE, which
	 * would kill the gateway: block it on this thread for the call and
	 * swallow the one a write left pending.
	 */
	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigpipe, &oldmask);

	if ((err = mcpg_spawn(&r.pid, prog, argv.v, envp.v, pin[0], pout[1], perr[1]))) {
		rc = mcpg_call_fail(call, "spawn", NULL, 0, "cannot run '%s': %s", argv.v[0],
				    strerror(err));
		goto unmask;
	}
	close_fd(&pin[0]);
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	r.in = pin[1];
	r.out = pout[0];
	r.err = perr[0];
	pin[1] = pout[0] = perr[0] = -1;
	set_nonblock(r.in);
	set_nonblock(r.out);
	set_nonblock(r.err);
	if (!r.doc_len)
		close_fd(&r.in);

	/* timeout_ms has no upper bound in the schema: keep the sum in range. */
	end = pump(call, &r,
		   mcpg_mono_ms() + (int64_t)(cb->timeout_ms < MAX_TIMEOUT_MS ? cb->timeout_ms
									: MAX_TIMEOUT_MS),
		   &why);
	if (end != END_DONE)
		kill(-r.pid, SIGKILL);
	while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR)
		;
	rc = finish(call, cb, &r, end, why, status);

unmask:
	close_fd(&r.in);
	close_fd(&r.out);
	close_fd(&r.err);
	if (!sigismember(&oldmask, SIGPIPE) && !sigpending(&pending) &&
	    sigismember(&pending, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&sigpipe, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&pin[i]);
		close_fd(&pout[i]);
		close_fd(&perr[i]);
	}
	free(prog);
	strvec_clear(&argv);
	strvec_clear(&envp);
	strbuf_release(&doc);
	strbuf_release(&r.so);
	strbuf_release(&r.se);
	return rc;
}
