/*
 * audit_verify.c - `mcpgc audit-verify FILE...`: check the hash chain of an
 * audit ledger (runtime/audit.h, reference/mcpg.md section 6.3).
 *
 * Each line must be a JSON object whose keys come in the ledger's fixed
 * order, and from the second line on its prev_event_hash must be the
 * SHA-256 of the previous line's bytes.  Files named together are one chain
 * in the order given (the rotated file first, then the one mcpg went on
 * writing), so the first line of each later file must chain to the last
 * line of the file before it.  The first line of the first file may carry a
 * prev_event_hash (the file was rotated out of an earlier one): that link
 * cannot be checked without the earlier file and is reported as a note.
 *
 * The first broken line is reported as FILE:LINE: error: why, and nothing
 * after it is checked (everything after a break is unanchored anyway).
 */
#include "audit_verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"

/* The fields of a record, in the order they must appear; 1 = required. */
static const struct {
	const char *name;
	int required;
} fields[] = {
	{ "event_id", 1 }, { "occurred_at", 1 }, { "actor", 1 }, { "action", 1 },
	{ "resource", 0 }, { "outcome", 1 }, { "request_id", 0 }, { "node_id", 0 },
	{ "details", 1 }, { "prev_event_hash", 0 },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, alloc = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t k;

		if (alloc - n < 65536) {
			char *nb = realloc(buf, alloc ? alloc * 2 : 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			alloc = alloc ? alloc * 2 : 65536;
		}
		k = fread(buf + n, 1, alloc - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

static int
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

/* Check the keys of `obj` against `fields`; NULL or the problem. */
static const char *
check_fields(json_t *obj, char *why, size_t len)
{
	int present[NFIELDS] = { 0 };
	size_t last = 0;
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		size_t i;

		for (i = 0; i < NFIELDS && strcmp(fields[i].name, key); i++)
			;
		if (i == NFIELDS) {
			snprintf(why, len, "unknown field '%s'", key);
			return why;
		}
		present[i] = 1;
	}
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].required && !present[i]) {
			snprintf(why, len, "field '%s' is missing", fields[i].name);
			return why;
		}
	json_object_foreach(obj, key, v) {
		size_t i;

		for (i = 0; strcmp(fields[i].name, key); i++)
			;
		if (i < last) {
			snprintf(why, len, "field '%s' is out of order", key);
			return why;
		}
		last = i;
	}
	return NULL;
}

/*
 * Check one line against the chain value `prev` (NULL before the first
 * line of the chain).  Returns NULL when it chains, else the reason (in
 * `why`).  *ph gets its prev_event_hash when there is one.
 */
static const char *
check_line(const char *line, size_t len, const char *prev, int first_in_file, char ph[65],
	   char *why, size_t wlen)
{
	const char *r = NULL, *v;
	json_error_t jerr;
	json_t *obj, *p;

	ph[0] = '\0';
	obj = json_loadb(line, len, JSON_PRESERVE_ORDER, &jerr);
	if (!obj || !json_is_object(obj)) {
		snprintf(why, wlen, "not a JSON object%s%s", obj ? "" : ": ", obj ? "" : jerr.text);
		json_decref(obj);
		return why;
	}
	p = json_object_get(obj, "prev_event_hash");
	v = json_string_value(p);
	if (v && is_hex64(v))
		memcpy(ph, v, 65);
	r = check_fields(obj, why, wlen);
	if (!r && p && !json_is_null(p) && !ph[0]) {
		r = "prev_event_hash is not 64 lowercase hex digits";
	} else if (!r && prev && !ph[0]) {
		snprintf(why, wlen, "no prev_event_hash: the chain from the %s ends here",
			 first_in_file ? "file before" : "line before");
		r = why;
	} else if (!r && prev && strcmp(ph, prev)) {
		snprintf(why, wlen, "prev_event_hash %.12s... does not match the hash of %s "
			 "(%.12s...)", ph, first_in_file ? "the last line of the file before"
			 : "the line before", prev);
		r = why;
	}
	json_decref(obj);
	return r;
}

int
mcc_audit_verify(int nfiles, char **files, FILE *out, FILE *err)
{
	char prev[65] = "", ph[65], why[200];
	int have_prev = 0;
	size_t total = 0;

	for (int f = 0; f < nfiles; f++) {
		size_t len = 0, pos = 0, lineno = 0;
		char *buf = slurp(files[f], &len);
		const char *bad;

		if (!buf) {
			fprintf(err, "mcpgc: error: cannot read '%s': %s\n", files[f],
				strerror(errno));
			return 2;
		}
		for (; pos < len; pos++) {
			const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
			size_t ll = nl ? (size_t)(nl - line) : len - pos;

			lineno++;
			if (!nl) {
				fprintf(err, "%s:%zu: error: unterminated last line (a write in progress "
					"or a crash; mcpg cuts it off when it next opens the file)\n",
					files[f], lineno);
				free(buf);
				return 1;
			}
			bad = check_line(line, ll, have_prev ? prev : NULL, lineno == 1, ph, why,
					 sizeof(why));
			if (bad) {
				fprintf(err, "%s:%zu: error: %s\n", files[f], lineno, bad);
				free(buf);
				return 1;
			}
			if (!have_prev && ph[0])
				fprintf(out, "%s:%zu: note: the first record chains to an earlier file "
					"(%.12s...), which was not given; that link is not checked\n",
					files[f], lineno, ph);
			mcpg_audit_line_hash(line, ll, prev);
			have_prev = 1;
			pos += ll;
		}
		free(buf);
		fprintf(out, "%s: %zu records, chain intact\n", files[f], lineno);
		total += lineno;
	}
	if (nfiles > 1)
		fprintf(out, "%zu records in %d files, one chain\n", total, nfiles);
	return 0;
}
