/*
 * gen.c - `mcpgc gen`: drive the emitters and write generated/ (see gen.h).
 *
 * Pipeline position: after the DSL front end (dsl.c, sema.c) has resolved
 * schema/mcpg.schema into descriptor tables; before everything else, since
 * the rest of mcpgc and the runtime are compiled against generated/.
 *
 * Also home of the small helpers the emitters share (emit.h): the output
 * buffer, doc summaries and the field-owner lookup.
 */
#include "gen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "emit.h"

/* ---------------------------------------------------------------------------
 * The output buffer
 */

static void
out_grow(struct mcc_out *o, size_t extra)
{
	size_t want = o->len + extra + 1;

	if (want <= o->alloc)
		return;
	size_t n = o->alloc ? o->alloc : 4096;
	while (n < want)
		n *= 2;
	char *p = realloc(o->buf, n);
	if (!p) {
		fprintf(stderr, "mcpgc: fatal: out of memory (%zu bytes)\n", n);
		abort();
	}
	o->buf = p;
	o->alloc = n;
}

void
mcc_out_release(struct mcc_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->alloc = 0;
}

void
mcc_out_add(struct mcc_out *o, const char *s, size_t len)
{
	out_grow(o, len);
	memcpy(o->buf + o->len, s, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

void
mcc_out_puts(struct mcc_out *o, const char *s)
{
	mcc_out_add(o, s, strlen(s));
}

void
mcc_out_putc(struct mcc_out *o, int c)
{
	char ch = (char)c;

	mcc_out_add(o, &ch, 1);
}

void
mcc_out_printf(struct mcc_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	out_grow(o, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/* ---------------------------------------------------------------------------
 * Shared helpers
 */

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *
mcc_doc_summary(const char *doc, size_t max)
{
	size_t n = doc ? strlen(doc) : 0, len = 0;
	char *p = mcc_alloc(n + 4);

	if (max < 8)
		max = 8;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)doc[i];

		if (is_space(c)) {
			if (len && p[len - 1] != ' ')
				p[len++] = ' ';
			continue;
		}
		p[len++] = (char)c;
		/* The first sentence: ". " ends it, "e.g. " does not. */
		if ((c == '.' || c == '!' || c == '?') &&
		    (i + 1 == n || is_space(doc[i + 1])) &&
		    !(len >= 4 && !strncmp(p + len - 4, "e.g.", 4)) &&
		    !(len >= 4 && !strncmp(p + len - 4, "i.e.", 4)))
			break;
	}
	while (len && p[len - 1] == ' ')
		len--;
	p[len] = '\0';
	if (len <= max)
		return p;
	/* Cut at the last space that leaves room for "...". */
	size_t cut = max - 3;
	while (cut > max / 2 && p[cut] != ' ')
		cut--;
	if (p[cut] != ' ') {
		/* No space in reach: cut before a UTF-8 continuation byte. */
		cut = max - 3;
		while (cut && ((unsigned char)p[cut] & 0xc0) == 0x80)
			cut--;
	}
	while (cut && (p[cut - 1] == ' ' || p[cut - 1] == ',' || p[cut - 1] == ';' ||
		       p[cut - 1] == ':'))
		cut--;
	memcpy(p + cut, "...", 4);
	return p;
}

int
mcc_field_owner(const struct mcpg_schema *s, uint32_t fi)
{
	for (uint32_t t = 0; t < s->ntypes; t++) {
		const struct mcpg_type *ty = &s->types[t];

		if (ty->kind == MCPG_K_STRUCT && fi >= ty->first &&
		    fi < (uint32_t)ty->first + ty->count)
			return (int)t;
	}
	return -1;
}

/* ---------------------------------------------------------------------------
 * Rendering and writing
 */

static const struct {
	const char *name;
	void (*emit)(struct mcc_out *, const struct mcpg_schema *, const char *);
} files[] = {
	{ MCC_GEN_CONFIG_H, mcc_emit_config_h },
	{ MCC_GEN_SCHEMA_C, mcc_emit_schema_c },
	{ MCC_GEN_JSON_SCHEMA, mcc_emit_json_schema },
	{ MCC_GEN_MAN, mcc_emit_man },
	{ MCC_GEN_LOCKSTEP, mcc_emit_lockstep },
};

char *
mcc_gen_render(const struct mcpg_schema *s, const char *schema_path,
	       const char *name, size_t *len)
{
	struct mcc_out o = MCC_OUT_INIT;

	if (!strcmp(name, "keys")) {
		mcc_emit_keys(&o, s);
	} else {
		size_t i;

		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			if (!strcmp(name, files[i].name))
				break;
		if (i == sizeof(files) / sizeof(files[0]))
			return NULL;
		files[i].emit(&o, s, schema_path);
	}
	mcc_out_add(&o, "", 0); /* a NUL-terminated buffer even when empty */
	if (len)
		*len = o.len;
	return o.buf;
}

/* mkdir -p */
static int
make_dirs(const char *dir, struct mcc_diag *d)
{
	char *p = mcc_strdup(dir);
	size_t n = strlen(p);

	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			mcc_error(d, MCC_NOLOC, "cannot create directory '%s': %s", p,
				  strerror(errno));
			return -1;
		}
		p[i] = c;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		mcc_error(d, MCC_NOLOC, "'%s' is not a directory", dir);
		return -1;
	}
	return 0;
}

/* 1 when the file at `path` holds exactly buf[0..len), else 0. */
static int
same_content(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t off = 0, n;
	int same = 1;

	if (!f)
		return 0;
	while (same && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (n > len - off || memcmp(chunk, buf + off, n))
			same = 0;
		else
			off += n;
	}
	if (ferror(f))
		same = 0;
	fclose(f);
	return same && off == len;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replace outdir/name with buf unless it already holds exactly that. */
static int
write_if_changed(const char *outdir, const char *name, const char *buf,
		 size_t len, struct mcc_diag *d)
{
	char *path = mcc_printf("%s/%s", outdir, name);
	char *tmp = mcc_printf("%s/.%s.tmp", outdir, name);
	int fd;

	if (same_content(path, buf, len))
		return 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		mcc_error(d, MCC_NOLOC, "cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, buf, len) < 0) {
		mcc_error(d, MCC_NOLOC, "cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		mcc_error(d, MCC_NOLOC, "cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		mcc_error(d, MCC_NOLOC, "cannot rename '%s' to '%s': %s", tmp, path,
			  strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
mcc_gen(const struct mcpg_schema *s, const char *schema_path,
	const char *outdir, struct mcc_diag *d)
{
	int rc = 0;

	if (mcc_check_c_names(s, schema_path, d))
		return 1;
	if (make_dirs(outdir, d) < 0)
		return 2;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct mcc_out o = MCC_OUT_INIT;

		files[i].emit(&o, s, schema_path);
		if (write_if_changed(outdir, files[i].name, o.buf ? o.buf : "",
				     o.len, d) < 0)
			rc = 2;
		mcc_out_release(&o);
	}
	return rc;
}
