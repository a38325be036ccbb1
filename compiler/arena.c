/*
 * arena.c - the compiler's one memory pool (see arena.h).
 *
 * Memory comes from large blocks chained in a list; small requests are
 * bumped out of the current block, large ones get a block of their own.
 * Everything is released by mcc_arena_free_all() at exit.
 */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (256 * 1024)
#define ALIGN 16

struct block {
	struct block *next;
	size_t used, size;
	_Alignas(16) unsigned char mem[];
};

static struct block *blocks;
static unsigned long generation;

static void *
oom(size_t size)
{
	fprintf(stderr, "mcpgc: fatal: out of memory (%zu bytes)\n", size);
	abort();
}

static struct block *
new_block(size_t size)
{
	struct block *b = calloc(1, sizeof(*b) + size);

	if (!b)
		oom(size);
	b->used = 0;
	b->size = size;
	return b;
}

void *
mcc_alloc(size_t size)
{
	struct block *b = blocks;
	size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);

	if (size > SIZE_MAX - ALIGN)
		oom(size);
	if (need == 0)
		need = ALIGN;
	if (need > BLOCK_SIZE / 4) {
		/* A big request gets its own block, behind the current one. */
		struct block *big = new_block(need);

		if (b) {
			big->next = b->next;
			b->next = big;
		} else {
			big->next = NULL;
			blocks = big;
		}
		big->used = need;
		return big->mem;
	}
	if (!b || b->size - b->used < need) {
		b = new_block(BLOCK_SIZE);
		b->next = blocks;
		blocks = b;
	}
	void *p = b->mem + b->used;
	b->used += need;
	return p;
}

void *
mcc_grow(void *old, size_t old_nr, size_t new_nr, size_t elem)
{
	if (new_nr && elem > SIZE_MAX / new_nr)
		oom(SIZE_MAX);
	void *p = mcc_alloc(new_nr * elem);

	if (old && old_nr)
		memcpy(p, old, (old_nr < new_nr ? old_nr : new_nr) * elem);
	return p;
}

char *
mcc_strndup(const char *s, size_t len)
{
	char *p = mcc_alloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
mcc_strdup(const char *s)
{
	return mcc_strndup(s, strlen(s));
}

char *
mcc_vprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return mcc_strdup("");
	p = mcc_alloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
mcc_printf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = mcc_vprintf(fmt, ap);
	va_end(ap);
	return p;
}

unsigned long
mcc_arena_generation(void)
{
	return generation;
}

void
mcc_arena_free_all(void)
{
	generation++;
	while (blocks) {
		struct block *next = blocks->next;

		free(blocks);
		blocks = next;
	}
}
