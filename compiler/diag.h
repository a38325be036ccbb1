/*
 * diag.h - every diagnostic mcpgc prints goes through here.
 *
 * One format, GNU style (file:line:col: error: message, 1-based, columns in
 * bytes), with `note:` lines for a second place.  Errors are collected and
 * counted; after MCC_DIAG_MAX_ERRORS the sink prints "too many errors,
 * stopping" once and sets `stopped`, and callers unwind.  Nothing below
 * main.c calls exit().  With MCC_DIAG_JSON the same content is printed as
 * one JSON array by mcc_diag_finish() (for CI tools).
 */
#ifndef MCC_DIAG_H
#define MCC_DIAG_H

#include <stdarg.h>
#include <stdio.h>

#define MCC_DIAG_MAX_ERRORS 20

struct mcc_loc {
	const char *file; /* NULL: no place; the message is prefixed "mcpgc: " */
	int line;         /* 1-based; 0 when only the file is known */
	int col;          /* 1-based; 0 when unknown */
};

#define MCC_NOLOC ((struct mcc_loc){ 0, 0, 0 })

enum mcc_severity { MCC_SEV_ERROR, MCC_SEV_WARNING, MCC_SEV_NOTE };

enum mcc_diag_format { MCC_DIAG_TEXT, MCC_DIAG_JSON };

struct mcc_diag_entry {
	enum mcc_severity sev;
	struct mcc_loc loc;
	char *msg;
};

struct mcc_diag {
	FILE *out;                  /* text goes here as it happens (stderr in main) */
	enum mcc_diag_format format;
	const char *prog;           /* "mcpgc" */
	int max_errors;             /* MCC_DIAG_MAX_ERRORS unless changed */
	int nerrors, nwarnings;
	int stopped;                /* the cap was reached; stop and unwind */
	int suppress_notes;         /* a note after a dropped error is dropped too */
	struct mcc_diag_entry *v;   /* everything reported, in order */
	size_t nr, alloc;
};

/* Set up a sink writing to `out` (not owned). */
void mcc_diag_init(struct mcc_diag *d, FILE *out, enum mcc_diag_format format);
/* Free the collected entries; the sink can be initialised again. */
void mcc_diag_release(struct mcc_diag *d);

void mcc_error(struct mcc_diag *d, struct mcc_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mcc_warning(struct mcc_diag *d, struct mcc_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A note belongs to the error or warning reported just before it. */
void mcc_note(struct mcc_diag *d, struct mcc_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mcc_vreport(struct mcc_diag *d, enum mcc_severity sev, struct mcc_loc loc,
		 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* JSON format: print the collected array.  Text format: nothing to do. */
void mcc_diag_finish(struct mcc_diag *d);

/*
 * The closest candidate to `word` among `n` strings (Damerau-Levenshtein
 * distance at most max(1, strlen(word) / 3)), or NULL.  For did-you-mean.
 */
const char *mcc_closest(const char *word, const char *const *cands, size_t n);

#endif /* MCC_DIAG_H */
