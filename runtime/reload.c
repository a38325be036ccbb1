/*
 * reload.c - inotify and SIGHUP reloads (see reload.h).
 */
#include "reload.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "rt.h"
#include "schema_desc.h"

extern char **environ;

static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static char image_path[4096], dir[4096], base[256];
static char *layers_copy, *mcpgc_copy;
static int ino_fd = -1, stop_fd = -1;
static pthread_t watcher;
static int watching;

/* ------------------------------------------------------------------------
 * Which restart keys changed: walk both images' records in parallel.
 */

static uint32_t
round_up(uint32_t n, uint32_t a)
{
	return (n + a - 1) / a * a;
}

static int slot_equal(const struct mcpg_image *a, uint32_t aa, const struct mcpg_image *b,
		      uint32_t ba, uint16_t t);

static const char *
tmpl_src(const struct mcpg_image *img, uint32_t v, int expr)
{
	if (!v)
		return "";
	return mcpg_str(img, expr ? img->expr[v - 1].src : img->tmpl[v - 1].src);
}

static int
str_eq(const char *x, const char *y)
{
	return !strcmp(x ? x : "", y ? y : "");
}

static void
list_geom(const struct mcpg_type *ty, const struct mcpg_type *et, uint32_t *stride,
	  uint32_t *voff)
{
	*voff = 0;
	*stride = round_up(et->size, et->align);
	if (ty->kind == MCPG_K_MAP) {
		*voff = et->align == 8 ? 8 : 4;
		*stride = round_up(*voff + et->size, et->align > 4 ? et->align : 4);
	}
}

static int
slot_equal(const struct mcpg_image *a, uint32_t aa, const struct mcpg_image *b, uint32_t ba,
	   uint16_t t)
{
	const struct mcpg_schema *S = &mcpg_schema;
	const struct mcpg_type *ty = &S->types[t];
	const unsigned char *pa = a->data + aa, *pb = b->data + ba;

	switch (ty->kind) {
	case MCPG_K_STRING:
	case MCPG_K_JSON:
		return str_eq(mcpg_str(a, mcpg_le32(pa)), mcpg_str(b, mcpg_le32(pb)));
	case MCPG_K_TEMPLATE:
	case MCPG_K_EXPR:
		return str_eq(tmpl_src(a, mcpg_le32(pa), ty->kind == MCPG_K_EXPR),
			      tmpl_src(b, mcpg_le32(pb), ty->kind == MCPG_K_EXPR));
	case MCPG_K_STRUCT:
		if (ty->set_words && mcpg_le64(pa) != mcpg_le64(pb))
			return 0;
		for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++)
			if (!slot_equal(a, aa + S->fields[i].offset, b, ba + S->fields[i].offset,
					S->fields[i].type))
				return 0;
		return 1;
	case MCPG_K_OPTIONAL:
		if (S->types[ty->elem].kind != MCPG_K_STRUCT)
			return slot_equal(a, aa, b, ba, ty->elem);
		if (!mcpg_le32(pa) || !mcpg_le32(pb))
			return !mcpg_le32(pa) == !mcpg_le32(pb);
		return slot_equal(a, mcpg_le32(pa), b, mcpg_le32(pb), ty->elem);
	case MCPG_K_UNION: {
		uint32_t tag = mcpg_le32(pa);
		const struct mcpg_variant *var;

		if (tag != mcpg_le32(pb))
			return 0;
		if (!tag)
			return 1;
		var = &S->variants[ty->first + tag - 1];
		return !var->type || slot_equal(a, mcpg_le32(pa + 4), b, mcpg_le32(pb + 4), var->type);
	}
	case MCPG_K_LIST:
	case MCPG_K_MAP: {
		uint32_t n = mcpg_le32(pa + 4), stride, voff;

		if (n != mcpg_le32(pb + 4))
			return 0;
		list_geom(ty, &S->types[ty->elem], &stride, &voff);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t ea = mcpg_le32(pa) + i * stride, eb = mcpg_le32(pb) + i * stride;

			if (ty->kind == MCPG_K_MAP &&
			    !str_eq(mcpg_str(a, mcpg_le32(a->data + ea)), mcpg_str(b, mcpg_le32(b->data + eb))))
				return 0;
			if (!slot_equal(a, ea + voff, b, eb + voff, ty->elem))
				return 0;
		}
		return 1;
	}
	default:
		return !memcmp(pa, pb, ty->size);
	}
}

struct diff {
	char changed[1024];
	size_t len;
	int n;
};

static void
note_changed(struct diff *d, const char *path)
{
	int w;

	if (d->n++ && d->len < sizeof(d->changed) - 1)
		d->changed[d->len++] = ',';
	w = snprintf(d->changed + d->len, sizeof(d->changed) - d->len, "%s", path);
	if (w > 0)
		d->len += (size_t)w < sizeof(d->changed) - d->len ? (size_t)w
								  : sizeof(d->changed) - d->len - 1;
}

static void
walk_restart(const struct mcpg_image *a, uint32_t aa, const struct mcpg_image *b, uint32_t ba,
	     uint16_t t, const char *path, struct diff *d, int depth)
{
	const struct mcpg_schema *S = &mcpg_schema;
	const struct mcpg_type *ty = &S->types[t];
	const unsigned char *pa = a->data + aa, *pb = b->data + ba;
	char sub[512];

	if (depth > 32)
		return;
	switch (ty->kind) {
	case MCPG_K_STRUCT:
		for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++) {
			const struct mcpg_field *f = &S->fields[i];

			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", f->name);
			if (f->flags & MCPG_F_RESTART) {
				if (!slot_equal(a, aa + f->offset, b, ba + f->offset, f->type))
					note_changed(d, sub);
			} else {
				walk_restart(a, aa + f->offset, b, ba + f->offset, f->type, sub, d,
					     depth + 1);
			}
		}
		return;
	case MCPG_K_OPTIONAL:
		if (S->types[ty->elem].kind == MCPG_K_STRUCT && mcpg_le32(pa) && mcpg_le32(pb))
			walk_restart(a, mcpg_le32(pa), b, mcpg_le32(pb), ty->elem, path, d, depth + 1);
		return;
	case MCPG_K_UNION: {
		uint32_t tag = mcpg_le32(pa);
		const struct mcpg_variant *var;

		if (!tag || tag != mcpg_le32(pb))
			return;
		var = &S->variants[ty->first + tag - 1];
		if (var->type)
			walk_restart(a, mcpg_le32(pa + 4), b, mcpg_le32(pb + 4), var->type, path, d,
				     depth + 1);
		return;
	}
	case MCPG_K_LIST: {
		uint32_t n = mcpg_le32(pa + 4), stride, voff;

		if (n != mcpg_le32(pb + 4))
			return;
		list_geom(ty, &S->types[ty->elem], &stride, &voff);
		for (uint32_t i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s[%" PRIu32 "]", path, i);
			walk_restart(a, mcpg_le32(pa) + i * stride, b, mcpg_le32(pb) + i * stride,
				     ty->elem, sub, d, depth + 1);
		}
		return;
	}
	default:
		return;
	}
}

/* ------------------------------------------------------------------------
 * Building an image from YAML layers (MCPG_CONFIG mode)
 */

int
mcpg_build_image(const char *mcpgc, const char *layers, const char *out, char *err,
		 size_t errlen)
{
	char *copy = strdup(layers), *save = NULL, *tok;
	char **argv = NULL;
	size_t n = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, status;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	argv = calloc(strlen(layers) + 6, sizeof(*argv));
	if (!argv) {
		free(copy);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	argv[n++] = (char *)mcpgc;
	argv[n++] = "build";
	for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		argv[n++] = tok;
	argv[n++] = "-o";
	argv[n++] = (char *)out;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	/* mcpgc's "wrote ..." line is not ours to print; its diagnostics are. */
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = strchr(mcpgc, '/') ? posix_spawn(&pid, mcpgc, &fa, NULL, argv, environ)
				: posix_spawnp(&pid, mcpgc, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	free(copy);
	if (rc) {
		snprintf(err, errlen, "cannot run '%s': %s", mcpgc, strerror(rc));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "'%s build' failed (exit status %d)", mcpgc,
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Reloading
 */

/* A refused reload in the audit ledger: the image that keeps serving. */
static void
audit_refused(const char *source, const char *err)
{
	struct mcpg_rt *cur = mcpg_rt_acquire();

	mcpg_audit_config_reloaded(0, source, cur ? cur->img.digest_hex : NULL, NULL, err);
	mcpg_rt_release(cur);
}

int
mcpg_reload_now(const char *source)
{
	struct mcpg_rt *next, *cur, *old;
	struct diff d = { "", 0, 0 };
	char err[512] = "";
	int64_t t0 = mcpg_mono_ms();

	pthread_mutex_lock(&reload_lock);
	if (layers_copy && !strcmp(source, "sighup")) {
		char tmp[4200];

		snprintf(tmp, sizeof(tmp), "%s.next", image_path);
		if (mcpg_build_image(mcpgc_copy, layers_copy, tmp, err, sizeof(err)) < 0 ||
		    rename(tmp, image_path) < 0) {
			if (!err[0])
				snprintf(err, sizeof(err), "rename: %s", strerror(errno));
			audit_refused(source, err);
			mcpg_metrics_reload(0);
			mcpg_log(MCPG_LOG_ERROR, NULL, "reload failed; the previous image keeps serving",
				 "source", MCPG_LF_STR, source, "error", MCPG_LF_STR, err, NULL);
			pthread_mutex_unlock(&reload_lock);
			return -1;
		}
	}
	err[0] = '\0';
	next = mcpg_rt_load(image_path, err, sizeof(err));
	if (!next) {
		audit_refused(source, err);
		mcpg_metrics_reload(0);
		mcpg_log(MCPG_LOG_ERROR, NULL, "reload failed; the previous image keeps serving",
			 "source", MCPG_LF_STR, source, "image", MCPG_LF_STR, image_path, "error",
			 MCPG_LF_STR, err, NULL);
		pthread_mutex_unlock(&reload_lock);
		return -1;
	}
	cur = mcpg_rt_acquire();
	if (cur && !memcmp(cur->img.digest, next->img.digest, sizeof(next->img.digest))) {
		mcpg_log(MCPG_LOG_DEBUG, NULL, "image unchanged", "source", MCPG_LF_STR, source,
			 "digest", MCPG_LF_STR, cur->img.digest_hex, NULL);
		mcpg_rt_release(cur);
		mcpg_rt_release(next);
		pthread_mutex_unlock(&reload_lock);
		return 0;
	}
	if (cur)
		walk_restart(&cur->img, MCPG_IMG_ROOT_REF, &next->img, MCPG_IMG_ROOT_REF,
			     mcpg_schema.root, "", &d, 0);
	mcpg_rt_release(cur);
	old = mcpg_rt_publish(next);
	mcpg_log_configure(next);
	if (mcpg_audit_configure(next, err, sizeof(err)) < 0)
		mcpg_log(MCPG_LOG_ERROR, NULL, "audit ledger of the new image cannot be opened",
			 "error", MCPG_LF_STR, err, NULL);
	mcpg_audit_config_reloaded(1, source, old ? old->img.digest_hex : NULL,
				   next->img.digest_hex, NULL);
	mcpg_mcp_reloaded(old, next);
	mcpg_metrics_reload(1);
	mcpg_log(MCPG_LOG_INFO, NULL, "config reloaded", "source", MCPG_LF_STR, source, "old",
		 MCPG_LF_STR, old ? old->img.digest_hex : NULL, "new", MCPG_LF_STR,
		 next->img.digest_hex, "generation", MCPG_LF_U64, next->generation,
		 "duration_ms", MCPG_LF_I64, mcpg_mono_ms() - t0, NULL);
	if (d.n)
		mcpg_log(MCPG_LOG_WARN, NULL, "changed keys need a restart; they keep their boot values",
			 "keys", MCPG_LF_STR, d.changed, NULL);
	mcpg_rt_release(old);
	pthread_mutex_unlock(&reload_lock);
	return 1;
}

static void *
watch_loop(void *arg)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)arg;
	for (;;) {
		struct pollfd p[2] = { { ino_fd, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };
		int trigger = 0;
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		n = read(ino_fd, buf, sizeof(buf));
		if (n <= 0)
			continue;
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)q;

			q += sizeof(*ev) + ev->len;
			if (!ev->len || (strcmp(ev->name, base) && strcmp(ev->name, "..data")))
				continue;
			if (ev->mask & IN_CREATE) {
				/* A new regular file is still being written: wait for its close. */
				struct stat st;
				char p2[4400];

				snprintf(p2, sizeof(p2), "%s/%s", dir, ev->name);
				if (lstat(p2, &st) < 0 || !S_ISLNK(st.st_mode))
					continue;
			}
			trigger = 1;
		}
		if (trigger)
			mcpg_reload_now("inotify");
	}
	return NULL;
}

int
mcpg_reload_start(const char *path, const char *layers, const char *mcpgc, int watch)
{
	char tmp[4096];

	snprintf(image_path, sizeof(image_path), "%s", path);
	if (layers) {
		layers_copy = strdup(layers);
		mcpgc_copy = strdup(mcpgc);
	}
	if (!watch)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(base, sizeof(base), "%s", basename(tmp));
	ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	stop_fd = eventfd(0, EFD_CLOEXEC);
	if (ino_fd < 0 || stop_fd < 0 ||
	    inotify_add_watch(ino_fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0) {
		mcpg_log(MCPG_LOG_WARN, NULL, "cannot watch the image directory; SIGHUP still reloads",
			 "dir", MCPG_LF_STR, dir, "error", MCPG_LF_STR, strerror(errno), NULL);
		return -1;
	}
	if (pthread_create(&watcher, NULL, watch_loop, NULL)) {
		mcpg_log(MCPG_LOG_WARN, NULL, "cannot start the image watcher", NULL);
		return -1;
	}
	watching = 1;
	return 0;
}

void
mcpg_reload_stop(void)
{
	uint64_t one = 1;

	if (!watching)
		return;
	if (write(stop_fd, &one, sizeof(one)) < 0)
		return;
	pthread_join(watcher, NULL);
	watching = 0;
	close(ino_fd);
	close(stop_fd);
}
