/*
 * audit.c - the hash-chained, group-committed audit ledger (see audit.h).
 */
#include "audit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "jsonw.h"
#include "log.h"
#include "rt.h"

#define MAX_SINKS 8
/* The last line of an existing ledger is looked for in its last this many bytes. */
#define TAIL_MAX (1 << 20)

struct rec {
	struct rec *next;
	mcpg_audit_done_fn *done;
	void *ctx;
	int fail_closed;
	size_t len;
	char text[]; /* the line without its closing brace */
};

struct sink {
	char path[4096];
	int fd;               /* -1 while it could not be opened */
	int known;            /* the chain value below is known (from the file or written) */
	dev_t dev;
	ino_t ino;
	int has_prev;         /* 0: the next line starts the chain */
	char prev[65];
};

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct rec *qhead, **qtail = &qhead;  /* qlock */
static long qlen;                              /* qlock */
static int stop, started;                      /* qlock */
static char want_paths[MAX_SINKS][4096];       /* qlock: the configured sinks */
static int want_n;                             /* qlock */
static unsigned want_gen;                      /* qlock: bumped when they change */
static char last_err[512];                     /* qlock */
static pthread_t writer_thread;
static atomic_int active;

/* Owned by the writer thread (and by mcpg_audit_configure before it starts). */
static struct sink sinks[MAX_SINKS];
static int nsinks;
static unsigned have_gen;

static atomic_uint_fast64_t n_records, n_fsyncs, n_failures, n_reopens, n_batches;

static _Thread_local uint64_t rng;

/* ------------------------------------------------------------------------
 * Files
 */

static void
set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
set_error(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&qlock);
	va_start(ap, fmt);
	vsnprintf(last_err, sizeof(last_err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&qlock);
}

void
mcpg_audit_last_error(char *buf, size_t len)
{
	pthread_mutex_lock(&qlock);
	snprintf(buf, len, "%s", last_err);
	pthread_mutex_unlock(&qlock);
}

/*
 * Find the chain value of an existing ledger: the hash of its last line.
 * An unterminated tail was never reported durable (a line is only
 * acknowledged after its newline was fsynced), so it is cut off.
 */
static int
load_tail(struct sink *s, off_t size)
{
	/* Records are about 500 bytes: read a little, more only when needed. */
	size_t want = 16384, n = 0, end = 0, start = 0;
	off_t base = 0;
	char *buf = NULL;

	s->has_prev = 0;
	if (!size)
		return 0;
	for (;;) {
		char *nb;

		n = size > (off_t)want ? want : (size_t)size;
		base = size - (off_t)n;
		nb = realloc(buf, n);
		if (!nb || pread(s->fd, nb, n, base) != (ssize_t)n) {
			set_error("'%s': cannot read the last line: %s", s->path,
				  nb ? strerror(errno) : "out of memory");
			free(nb ? nb : buf);
			return -1;
		}
		buf = nb;
		/* end: after the last newline; start: where the line ending there begins. */
		for (end = n; end && buf[end - 1] != '\n'; end--)
			;
		for (start = end ? end - 1 : 0; start && buf[start - 1] != '\n'; start--)
			;
		if (start || !base)
			break; /* the window holds the last whole line, or the file is whole */
		if (want >= TAIL_MAX) {
			free(buf);
			set_error("'%s': last line is longer than %d bytes", s->path, TAIL_MAX);
			return -1;
		}
		want *= 4;
	}
	if (end < n) {
		if (ftruncate(s->fd, base + (off_t)end) < 0) {
			set_error("'%s': cannot cut an unterminated last line: %s", s->path,
				  strerror(errno));
			free(buf);
			return -1;
		}
		mcpg_log(MCPG_LOG_WARN, NULL, "audit ledger ended in an unterminated line; cut off",
			 "path", MCPG_LF_STR, s->path, "bytes", MCPG_LF_U64,
			 (uint64_t)(n - end), NULL);
	}
	if (end) {
		mcpg_audit_line_hash(buf + start, end - 1 - start, s->prev);
		s->has_prev = 1;
	}
	free(buf);
	return 0;
}

/* Open the sink's path for append; `chain`: take the chain from the file. */
static int
sink_open(struct sink *s, int chain)
{
	struct stat st;

	s->fd = open(s->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (s->fd < 0 || fstat(s->fd, &st) < 0) {
		set_error("'%s': cannot open: %s", s->path, strerror(errno));
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return -1;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (chain && load_tail(s, st.st_size) < 0) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	return 0;
}

/*
 * Before a batch: the sink must be open on the file its path names now.
 * After a rename or removal the path is opened again and the chain goes on
 * from memory into the new file.  Returns the file size, or -1.
 */
static off_t
sink_ready(struct sink *s)
{
	struct stat st, cur;

	if (s->fd >= 0 &&
	    (stat(s->path, &cur) < 0 || cur.st_dev != s->dev || cur.st_ino != s->ino)) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->fd < 0) {
		/* Never opened: the chain comes from the file; else from memory. */
		if (sink_open(s, !s->known) < 0)
			return -1;
		if (s->known) {
			atomic_fetch_add(&n_reopens, 1);
			mcpg_log(MCPG_LOG_INFO, NULL, "audit ledger rotated; reopened", "path",
				 MCPG_LF_STR, s->path, NULL);
		}
		s->known = 1;
	}
	if (fstat(s->fd, &st) < 0) {
		set_error("'%s': fstat: %s", s->path, strerror(errno));
		return -1;
	}
	return st.st_size;
}

/*
 * Append the batch to one sink and fsync.  On failure the batch's bytes are
 * cut off again and the chain stays where it was.  `buf` is scratch.
 */
static int
sink_write(struct sink *s, const struct rec *list, struct strbuf *buf)
{
	off_t off = sink_ready(s);
	char prev[65];
	int has = s->has_prev;
	size_t done = 0;

	if (off < 0)
		return -1;
	memcpy(prev, s->prev, sizeof(prev));
	strbuf_reset(buf);
	for (const struct rec *r = list; r; r = r->next) {
		size_t start = buf->len;

		strbuf_add(buf, r->text, r->len);
		if (has) {
			strbuf_add(buf, ",\"prev_event_hash\":\"", 20);
			strbuf_add(buf, prev, 64);
			strbuf_add(buf, "\"}", 2);
		} else {
			strbuf_addch(buf, '}');
		}
		mcpg_audit_line_hash(buf->buf + start, buf->len - start, prev);
		has = 1;
		strbuf_addch(buf, '\n');
	}
	while (done < buf->len) {
		ssize_t w = write(s->fd, buf->buf + done, buf->len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			set_error("'%s': write: %s", s->path, w < 0 ? strerror(errno) : "no progress");
			goto undo;
		}
		done += (size_t)w;
	}
	atomic_fetch_add(&n_fsyncs, 1);
	/* fdatasync: appended data and the file size, not timestamps. */
	if (fdatasync(s->fd) < 0) {
		set_error("'%s': fdatasync: %s", s->path, strerror(errno));
		goto undo;
	}
	memcpy(s->prev, prev, sizeof(prev));
	s->has_prev = has;
	return 0;
undo:
	if (done && ftruncate(s->fd, off) < 0)
		mcpg_log(MCPG_LOG_ERROR, NULL, "audit ledger: cannot cut a failed batch off",
			 "path", MCPG_LF_STR, s->path, "error", MCPG_LF_STR, strerror(errno), NULL);
	return -1;
}

static void
sinks_close(void)
{
	for (int i = 0; i < nsinks; i++)
		if (sinks[i].fd >= 0)
			close(sinks[i].fd);
	nsinks = 0;
}

/* Open the configured sinks (want_* copied under qlock by the caller). */
static int
sinks_open(char paths[][4096], int n)
{
	int rc = 0;

	sinks_close();
	for (int i = 0; i < n; i++) {
		struct sink *s = &sinks[nsinks++];

		memset(s, 0, sizeof(*s));
		snprintf(s->path, sizeof(s->path), "%s", paths[i]);
		if (sink_open(s, 1) < 0)
			rc = -1;
		else
			s->known = 1;
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * The writer
 */

static void
report_failure(long nrec)
{
	static int64_t last_ms = -1000;
	int64_t now;
	char err[512];

	atomic_fetch_add(&n_failures, (uint64_t)nrec);
	now = mcpg_mono_ms();
	if (now - last_ms < 1000)
		return; /* a full disk fails every batch: one line a second is enough */
	last_ms = now;
	mcpg_audit_last_error(err, sizeof(err));
	mcpg_log(MCPG_LOG_ERROR, NULL, "audit records could not be made durable", "records",
		 MCPG_LF_I64, (int64_t)nrec, "error", MCPG_LF_STR, err, NULL);
}

static void *
writer(void *arg)
{
	static char paths[MAX_SINKS][4096];
	struct strbuf buf = STRBUF_INIT;

	(void)arg;
	pthread_mutex_lock(&qlock);
	for (;;) {
		struct rec *list, *next;
		long n;
		int ok = 1, reconf = 0, np = 0;

		while (!qhead && !stop)
			pthread_cond_wait(&qcond, &qlock);
		if (!qhead)
			break;
		list = qhead;
		n = qlen;
		qhead = NULL;
		qtail = &qhead;
		qlen = 0;
		if (want_gen != have_gen) {
			reconf = 1;
			np = want_n;
			memcpy(paths, want_paths, sizeof(paths));
			have_gen = want_gen;
		}
		pthread_mutex_unlock(&qlock);

		if (reconf)
			sinks_open(paths, np);
		for (int i = 0; i < nsinks; i++)
			if (sink_write(&sinks[i], list, &buf) < 0)
				ok = 0;
		if (!nsinks)
			ok = 0;
		atomic_fetch_add(&n_batches, 1);
		if (ok)
			atomic_fetch_add(&n_records, (uint64_t)n);
		else
			report_failure(n);
		for (struct rec *r = list; r; r = next) {
			next = r->next;
			if (r->done)
				r->done(r->ctx, ok ? 0 : r->fail_closed ? -1 : 1);
			free(r);
		}
		if (buf.alloc > (1 << 20))
			strbuf_release(&buf);
		pthread_mutex_lock(&qlock);
	}
	pthread_mutex_unlock(&qlock);
	strbuf_release(&buf);
	sinks_close();
	return NULL;
}

/* ------------------------------------------------------------------------
 * Configuration
 */

int
mcpg_audit_configure(const struct mcpg_rt *rt, char *err, size_t errlen)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_audit *a = &rt->cfg->governance.audit;
	char paths[MAX_SINKS][4096];
	uint32_t ns;
	const struct mcpg_union_slot *list = mcpg_audit_sinks(img, a, &ns);
	int n = 0, changed;

	for (uint32_t i = 0; i < ns && n < MAX_SINKS; i++) {
		const struct mcpg_audit_local_file *lf = mcpg_audit_sink_local_file(img, &list[i]);

		if (lf)
			snprintf(paths[n++], sizeof(paths[0]), "%s",
				 mcpg_audit_local_file_path(img, lf));
	}
	if (ns > MAX_SINKS)
		mcpg_log(MCPG_LOG_WARN, NULL, "only the first audit sinks are written", "sinks",
			 MCPG_LF_U64, (uint64_t)MAX_SINKS, NULL);
	if (!a->enabled || !n) {
		atomic_store(&active, 0);
		return 0;
	}
	pthread_mutex_lock(&qlock);
	changed = n != want_n;
	for (int i = 0; i < n && !changed; i++)
		changed = strcmp(paths[i], want_paths[i]) != 0;
	if (changed) {
		for (int i = 0; i < n; i++)
			snprintf(want_paths[i], sizeof(want_paths[i]), "%s", paths[i]);
		want_n = n;
		want_gen++;
	}
	if (!started) {
		/* First use: open here so that boot can refuse with the reason. */
		have_gen = want_gen;
		pthread_mutex_unlock(&qlock);
		if (sinks_open(paths, n) < 0) {
			mcpg_audit_last_error(err, errlen);
			if (a->required) {
				sinks_close();
				return -1;
			}
			mcpg_log(MCPG_LOG_WARN, NULL, "audit ledger cannot be opened; each record "
				 "will be retried and on_failure decides", "error", MCPG_LF_STR, err,
				 NULL);
		}
		pthread_mutex_lock(&qlock);
		stop = 0;
		if (pthread_create(&writer_thread, NULL, writer, NULL)) {
			pthread_mutex_unlock(&qlock);
			snprintf(err, errlen, "cannot start the audit writer thread");
			sinks_close();
			return -1;
		}
		started = 1;
	}
	pthread_mutex_unlock(&qlock);
	atomic_store(&active, 1);
	return 0;
}

int
mcpg_audit_active(void)
{
	return atomic_load_explicit(&active, memory_order_relaxed);
}

void
mcpg_audit_stop(void)
{
	pthread_mutex_lock(&qlock);
	atomic_store(&active, 0);
	if (!started) {
		pthread_mutex_unlock(&qlock);
		return;
	}
	stop = 1;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qlock);
	pthread_join(writer_thread, NULL);
	pthread_mutex_lock(&qlock);
	started = 0;
	pthread_mutex_unlock(&qlock);
}

/* ------------------------------------------------------------------------
 * Records
 */

static uint64_t
rand64(void)
{
	uint64_t x;

	if (!rng && (getrandom(&rng, sizeof(rng), 0) != sizeof(rng) || !rng))
		rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL | 1;
	x = rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* event_id (UUIDv7: 48 bits of Unix milliseconds, then random) and occurred_at. */
static void
add_id_time(struct strbuf *o)
{
	struct timespec ts;
	struct tm tm;
	uint64_t ms, a = rand64(), b = rand64();

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	gmtime_r(&ts.tv_sec, &tm);
	strbuf_addf(o, "{\"event_id\":\"%08llx-%04llx-7%03llx-%04llx-%012llx\",",
		    (unsigned long long)(ms >> 16), (unsigned long long)(ms & 0xffff),
		    (unsigned long long)(a & 0xfff),
		    (unsigned long long)(0x8000 | ((a >> 12) & 0x3fff)),
		    (unsigned long long)(b & 0xffffffffffffULL));
	strbuf_addf(o, "\"occurred_at\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, (long)(ts.tv_nsec / 1000000));
}

static void
add_str_list(struct strbuf *o, const char *key, const char *const *v, size_t n)
{
	if (!n)
		return;
	strbuf_addf(o, ",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addch(o, ',');
		mcpg_jsonw_cstr(o, v[i]);
	}
	strbuf_addch(o, ']');
}

static void
add_nullable(struct strbuf *o, const char *key, const char *v)
{
	strbuf_addf(o, ",\"%s\":", key);
	if (v && *v)
		mcpg_jsonw_cstr(o, v);
	else
		strbuf_addstr(o, "null");
}

static void
add_actor(struct strbuf *o, const struct mcpg_identity_view *id)
{
	if (!id) {
		strbuf_addstr(o, "\"actor\":{\"kind\":\"system\",\"trust_level\":\"verified\","
				 "\"subject_id\":\"mcpg-gateway\",\"auth_provider\":null,"
				 "\"issuer\":null}");
		return;
	}
	strbuf_addf(o, "\"actor\":{\"kind\":\"%s\",\"trust_level\":\"%s\"",
		    id->trust_level ? "user" : "anonymous", mcpg_trust_name(id->trust_level));
	add_nullable(o, "subject_id", id->subject_id);
	add_nullable(o, "auth_provider", id->auth_provider);
	add_nullable(o, "issuer", id->issuer);
	add_str_list(o, "groups", id->groups, id->ngroups);
	add_str_list(o, "scopes", id->scopes, id->nscopes);
	if (id->tenant && *id->tenant) {
		strbuf_addstr(o, ",\"attributes\":{\"tenant\":");
		mcpg_jsonw_cstr(o, id->tenant);
		strbuf_addch(o, '}');
	}
	strbuf_addch(o, '}');
}

int
mcpg_audit_emit(const struct mcpg_audit_event *ev, mcpg_audit_done_fn *done, void *ctx)
{
	struct strbuf o = STRBUF_INIT;
	struct rec *r;

	if (!mcpg_audit_active())
		return -1;
	strbuf_init(&o, 512);
	add_id_time(&o);
	add_actor(&o, ev->actor);
	strbuf_addstr(&o, ",\"action\":");
	mcpg_jsonw_cstr(&o, ev->action);
	if (ev->resource) {
		strbuf_addstr(&o, ",\"resource\":");
		mcpg_jsonw_cstr(&o, ev->resource);
	}
	strbuf_addstr(&o, ",\"outcome\":");
	mcpg_jsonw_cstr(&o, ev->outcome ? ev->outcome : "success");
	if (ev->request_id && *ev->request_id) {
		strbuf_addstr(&o, ",\"request_id\":");
		mcpg_jsonw_cstr(&o, ev->request_id);
	}
	strbuf_addf(&o, ",\"node_id\":\"%s\",\"details\":%s", mcpg_log_instance(),
		    ev->details ? ev->details : "{}");
	r = malloc(sizeof(*r) + o.len + 1);
	if (!r) {
		strbuf_release(&o);
		atomic_fetch_add(&n_failures, 1);
		if (done)
			done(ctx, ev->fail_closed ? -1 : 1);
		return 0;
	}
	r->next = NULL;
	r->done = done;
	r->ctx = ctx;
	r->fail_closed = ev->fail_closed;
	r->len = o.len;
	memcpy(r->text, o.buf, o.len + 1);
	strbuf_release(&o);
	pthread_mutex_lock(&qlock);
	if (!started || stop) {
		/* The writer is gone (exit): nothing will write this record. */
		pthread_mutex_unlock(&qlock);
		free(r);
		atomic_fetch_add(&n_failures, 1);
		if (done)
			done(ctx, ev->fail_closed ? -1 : 1);
		return 0;
	}
	*qtail = r;
	qtail = &r->next;
	if (qlen++ == 0)
		pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qlock);
	return 0;
}

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, status;
};

static void
wake_waiter(void *ctx, int status)
{
	struct waiter *w = ctx;

	pthread_mutex_lock(&w->lock);
	w->done = 1;
	w->status = status;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int
mcpg_audit_emit_wait(const struct mcpg_audit_event *ev)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

	if (mcpg_audit_emit(ev, wake_waiter, &w) < 0)
		return 0;
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	return w.status;
}

static int
live_fail_closed(void)
{
	struct mcpg_rt *rt = mcpg_rt_acquire();
	int fc = rt ? rt->cfg->governance.audit.on_failure == MCPG_AUDIT_FAILURE_MODE_FAIL_CLOSED
		    : 1;

	mcpg_rt_release(rt);
	return fc;
}

void
mcpg_audit_auth_failure(const struct sockaddr *peer, const char *reason)
{
	struct mcpg_audit_event ev = { "mcpg.auth.failed", NULL, NULL, "failure", NULL, NULL, 0 };
	struct mcpg_identity_view anon = { 0 };
	struct strbuf d = STRBUF_INIT;
	char ip[INET6_ADDRSTRLEN] = "";

	if (!mcpg_audit_active())
		return;
	if (peer && peer->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)peer)->sin_addr, ip,
			  sizeof(ip));
	else if (peer && peer->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr,
			  ip, sizeof(ip));
	strbuf_addstr(&d, "{\"peer\":");
	mcpg_jsonw_cstr(&d, ip[0] ? ip : NULL);
	strbuf_addstr(&d, ",\"reason\":");
	mcpg_jsonw_cstr(&d, reason ? reason : "");
	strbuf_addch(&d, '}');
	ev.actor = &anon;
	ev.details = d.buf;
	ev.fail_closed = live_fail_closed();
	mcpg_audit_emit(&ev, NULL, NULL);
	strbuf_release(&d);
}

void
mcpg_audit_config_reloaded(int ok, const char *source, const char *prev_digest,
			   const char *next_digest, const char *error)
{
	struct mcpg_audit_event ev = { "mcpg.config.reloaded", NULL, "config://gateway",
				       ok ? "success" : "failure", NULL, NULL, 0 };
	struct strbuf d = STRBUF_INIT;

	if (!mcpg_audit_active())
		return;
	strbuf_addf(&d, "{\"success\":%s,\"source\":", ok ? "true" : "false");
	mcpg_jsonw_cstr(&d, source ? source : "");
	strbuf_addstr(&d, ",\"prev_digest\":");
	mcpg_jsonw_cstr(&d, prev_digest);
	strbuf_addstr(&d, ",\"next_digest\":");
	mcpg_jsonw_cstr(&d, next_digest);
	if (error) {
		strbuf_addstr(&d, ",\"error\":");
		mcpg_jsonw_cstr(&d, error);
	}
	strbuf_addch(&d, '}');
	ev.details = d.buf;
	ev.fail_closed = live_fail_closed();
	mcpg_audit_emit(&ev, NULL, NULL);
	strbuf_release(&d);
}

/* ------------------------------------------------------------------------
 * Metrics
 */

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

void
mcpg_audit_metrics(struct strbuf *o)
{
	long q;

	pthread_mutex_lock(&qlock);
	q = qlen;
	pthread_mutex_unlock(&qlock);
	strbuf_addf(o, "# HELP mcpg_audit_records_total Audit records made durable.\n"
		       "# TYPE mcpg_audit_records_total counter\nmcpg_audit_records_total %llu\n",
		    LOAD(n_records));
	strbuf_addf(o, "# HELP mcpg_audit_fsyncs_total fdatasync calls of the audit ledger (one "
		       "per batch and sink).\n# TYPE mcpg_audit_fsyncs_total counter\n"
		       "mcpg_audit_fsyncs_total %llu\n", LOAD(n_fsyncs));
	strbuf_addf(o, "# HELP mcpg_audit_batches_total Group commits of the audit writer.\n"
		       "# TYPE mcpg_audit_batches_total counter\nmcpg_audit_batches_total %llu\n",
		    LOAD(n_batches));
	strbuf_addf(o, "# HELP mcpg_audit_failures_total Audit records that could not be made "
		       "durable.\n# TYPE mcpg_audit_failures_total counter\n"
		       "mcpg_audit_failures_total %llu\n", LOAD(n_failures));
	strbuf_addf(o, "# HELP mcpg_audit_reopens_total Ledger files reopened after external "
		       "rotation.\n# TYPE mcpg_audit_reopens_total counter\n"
		       "mcpg_audit_reopens_total %llu\n", LOAD(n_reopens));
	strbuf_addf(o, "# HELP mcpg_audit_queue Audit records waiting for the writer.\n"
		       "# TYPE mcpg_audit_queue gauge\nmcpg_audit_queue %ld\n", q);
}
