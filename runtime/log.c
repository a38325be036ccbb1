/*
 * log.c - operational log lines (see log.h).
 *
 * The sink set is replaced as a whole under a write lock at boot and on
 * reload; writers hold the read lock only while they write(2) the line.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

#define MAX_SINKS 8
#define LINE_MAX_BYTES 4096

struct sink {
	int fd;
	int pretty;
	int owned; /* a file we opened */
	char path[256];
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct sink sinks[MAX_SINKS] = { { 2, 0, 0, "" } };
static int nsinks = 1;
static int min_level = MCPG_LOG_INFO;
static char instance[17] = "0000000000000000";

static const char *const level_names[] = { "trace", "debug", "info", "warn", "error" };

void
mcpg_log_init(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
	}
	snprintf(instance, sizeof(instance), "%016" PRIx64, v);
}

const char *
mcpg_log_instance(void)
{
	return instance;
}

int
mcpg_log_enabled(enum mcpg_log_lvl level)
{
	return (int)level >= __atomic_load_n(&min_level, __ATOMIC_RELAXED);
}

/* A small bounded writer: output past the end is dropped, never overrun. */
struct line {
	char *p;
	size_t len, cap;
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (l->len + n > l->cap)
		n = l->cap > l->len ? l->cap - l->len : 0;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void
putf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= l->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->p + l->len, l->cap - l->len + 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n > l->cap - l->len ? l->cap - l->len : (size_t)n;
}

/* A JSON string body (no quotes); `pretty` leaves printable text alone. */
static void
put_esc(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[6];

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			put(l, e, 2);
		} else if (c < 0x20) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			put(l, e, 6);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
}

static void
put_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char buf[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(ts.tv_nsec / 1000000) % 1000);
	puts_(l, buf);
}

static void
format_fields(struct line *l, int pretty, va_list ap)
{
	const char *key;

	while ((key = va_arg(ap, const char *))) {
		int t = va_arg(ap, int);
		const char *s;

		if (pretty) {
			putf(l, " %s=", key);
		} else {
			puts_(l, ",\"");
			put_esc(l, key);
			puts_(l, "\":");
		}
		switch (t) {
		case MCPG_LF_STR:
			s = va_arg(ap, const char *);
			if (!s) {
				puts_(l, "null");
			} else if (pretty && !strpbrk(s, " \"=")) {
				put_esc(l, s);
			} else {
				puts_(l, "\"");
				put_esc(l, s);
				puts_(l, "\"");
			}
			break;
		case MCPG_LF_U64:
			putf(l, "%" PRIu64, va_arg(ap, uint64_t));
			break;
		case MCPG_LF_I64:
			putf(l, "%" PRId64, va_arg(ap, int64_t));
			break;
		case MCPG_LF_DBL:
			putf(l, "%.3f", va_arg(ap, double));
			break;
		case MCPG_LF_BOOL:
			puts_(l, va_arg(ap, int) ? "true" : "false");
			break;
		case MCPG_LF_RAW:
			s = va_arg(ap, const char *);
			puts_(l, s ? s : "null");
			break;
		default:
			return; /* a caller bug: stop rather than read garbage */
		}
	}
}

static size_t
format_line(char *buf, size_t cap, int pretty, enum mcpg_log_lvl level, const char *rid,
	    const char *msg, va_list *ap)
{
	struct line l = { buf, 0, cap - 2 };

	if (pretty) {
		put_time(&l);
		putf(&l, " %-5s %s", level_names[level], msg);
		if (rid)
			putf(&l, " request_id=%s", rid);
		if (ap)
			format_fields(&l, 1, *ap);
		else
			puts_(&l, " truncated=true");
	} else {
		puts_(&l, "{\"level\":\"");
		puts_(&l, level_names[level]);
		puts_(&l, "\",\"time\":\"");
		put_time(&l);
		puts_(&l, "\",\"instance\":\"");
		puts_(&l, instance);
		if (rid) {
			puts_(&l, "\",\"request_id\":\"");
			put_esc(&l, rid);
		}
		puts_(&l, "\",\"msg\":\"");
		put_esc(&l, msg);
		puts_(&l, "\"");
		if (ap)
			format_fields(&l, 0, *ap);
		else
			puts_(&l, ",\"truncated\":true");
	}
	if (l.len == l.cap)
		return 0; /* too long: the caller formats it again without fields */
	l.cap += 2;
	if (!pretty)
		put(&l, "}", 1);
	put(&l, "\n", 1);
	return l.len;
}

static size_t
format_any(char *buf, size_t cap, int pretty, enum mcpg_log_lvl level, const char *rid,
	   const char *msg, va_list *ap)
{
	size_t n = format_line(buf, cap, pretty, level, rid, msg, ap);

	if (!n)
		n = format_line(buf, cap, pretty, level, rid, msg, NULL);
	return n;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void
mcpg_log(enum mcpg_log_lvl level, const char *rid, const char *msg, ...)
{
	char json[LINE_MAX_BYTES], text[LINE_MAX_BYTES];
	size_t njson = 0, ntext = 0;

	if (!mcpg_log_enabled(level))
		return;
	pthread_rwlock_rdlock(&lock);
	for (int i = 0; i < nsinks; i++) {
		va_list ap;

		if (sinks[i].pretty && !ntext) {
			va_start(ap, msg);
			ntext = format_any(text, sizeof(text), 1, level, rid, msg, &ap);
			va_end(ap);
		} else if (!sinks[i].pretty && !njson) {
			va_start(ap, msg);
			njson = format_any(json, sizeof(json), 0, level, rid, msg, &ap);
			va_end(ap);
		}
		if (sinks[i].pretty)
			write_all(sinks[i].fd, text, ntext);
		else
			write_all(sinks[i].fd, json, njson);
	}
	pthread_rwlock_unlock(&lock);
}

static void
close_owned(struct sink *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i].owned)
			close(s[i].fd);
}

int
mcpg_log_configure(const struct mcpg_rt *rt)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_observability *o = &rt->cfg->observability;
	const struct mcpg_logs *lg = &o->logs;
	struct sink next[MAX_SINKS];
	int n = 0, level = mcpg_logs_level(img, lg);
	uint32_t ns = 0;
	const struct mcpg_union_slot *u = mcpg_logs_sinks(img, lg, &ns);

	if (!o->enabled || !lg->enabled)
		ns = 0;
	for (uint32_t i = 0; i < ns && n < MAX_SINKS; i++) {
		const struct mcpg_log_stream *st;
		const struct mcpg_log_file *f;

		memset(&next[n], 0, sizeof(next[n]));
		if ((st = mcpg_log_sink_stderr(img, &u[i]))) {
			next[n].fd = 2;
			next[n].pretty = mcpg_log_stream_format(img, st) == MCPG_LOG_FORMAT_PRETTY;
		} else if ((st = mcpg_log_sink_stdout(img, &u[i]))) {
			next[n].fd = 1;
			next[n].pretty = mcpg_log_stream_format(img, st) == MCPG_LOG_FORMAT_PRETTY;
		} else if ((f = mcpg_log_sink_file(img, &u[i]))) {
			const char *path = mcpg_log_file_path(img, f);
			int fd = -1;

			/* The same file as now: keep its descriptor (no reopen on reload). */
			pthread_rwlock_rdlock(&lock);
			for (int j = 0; j < nsinks; j++)
				if (sinks[j].owned && !strcmp(sinks[j].path, path))
					fd = dup(sinks[j].fd);
			pthread_rwlock_unlock(&lock);
			if (fd < 0)
				fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
			if (fd < 0) {
				int e = errno;

				close_owned(next, n);
				mcpg_log(MCPG_LOG_ERROR, NULL, "cannot open log file",
					 "path", MCPG_LF_STR, path, "error", MCPG_LF_STR,
					 strerror(e), NULL);
				return -1;
			}
			next[n].fd = fd;
			next[n].owned = 1;
			next[n].pretty = mcpg_log_file_format(img, f) == MCPG_LOG_FORMAT_PRETTY;
			snprintf(next[n].path, sizeof(next[n].path), "%s", path);
		} else {
			continue;
		}
		n++;
	}
	pthread_rwlock_wrlock(&lock);
	close_owned(sinks, nsinks);
	memcpy(sinks, next, sizeof(next[0]) * (size_t)n);
	nsinks = n;
	__atomic_store_n(&min_level, n ? level : MCPG_LOG_ERROR + 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&lock);
	return 0;
}

void
mcpg_log_close(void)
{
	pthread_rwlock_wrlock(&lock);
	close_owned(sinks, nsinks);
	sinks[0].fd = 2;
	sinks[0].pretty = 0;
	sinks[0].owned = 0;
	nsinks = 1;
	pthread_rwlock_unlock(&lock);
}
