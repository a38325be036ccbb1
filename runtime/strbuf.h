/*
 * strbuf.h - growable byte buffers for the runtime, in git's shape.
 *
 *	struct strbuf sb = STRBUF_INIT;
 *	strbuf_addf(&sb, "%s=%d", name, v);
 *	use(sb.buf, sb.len);
 *	strbuf_release(&sb);
 *
 * sb.buf is always NUL-terminated (the NUL is not counted in len) and never
 * NULL: an empty buffer points at a shared "" that must not be written.
 * Functions grow the buffer in place; none returns a new pointer.
 * Allocation failure aborts with a message, as git's xmalloc does: request
 * handling has no sensible way on without memory.
 */
#ifndef MCPG_STRBUF_H
#define MCPG_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

/* Set up an empty buffer with room for `hint` bytes (0: allocate nothing). */
void strbuf_init(struct strbuf *sb, size_t hint);
/* Free the contents; the buffer is empty again and reusable. */
void strbuf_release(struct strbuf *sb);
/* Take the contents (malloc'd, NUL-terminated); the buffer is emptied. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Make room for `extra` more bytes. */
void strbuf_grow(struct strbuf *sb, size_t extra);

static inline void
strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (sb->alloc) {
		sb->len = len;
		sb->buf[len] = '\0';
	}
}

static inline void
strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif /* MCPG_STRBUF_H */
