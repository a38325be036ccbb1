/*
 * arena.h - mcpgc takes its memory from one arena, freed at exit (nginx's
 * configuration pool).  There is no per-node free.  Allocation failure
 * aborts with a message: the compiler cannot do anything useful without
 * memory, and checking every allocation would hide the logic.
 */
#ifndef MCC_ARENA_H
#define MCC_ARENA_H

#include <stdarg.h>
#include <stddef.h>

/* Zeroed memory, 16-byte aligned, valid until mcc_arena_free_all(). */
void *mcc_alloc(size_t size);
/* Grow an arena array: returns a copy with room for `new_nr` elements. */
void *mcc_grow(void *old, size_t old_nr, size_t new_nr, size_t elem);
char *mcc_strdup(const char *s);
char *mcc_strndup(const char *s, size_t len);
char *mcc_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mcc_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void mcc_arena_free_all(void);
/*
 * Bumped by every mcc_arena_free_all(): a cache of arena pointers keys on
 * it, so it never hands out memory from an arena that is gone.
 */
unsigned long mcc_arena_generation(void);

#endif /* MCC_ARENA_H */
