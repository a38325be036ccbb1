/*
 * diag.c - the diagnostic sink (see diag.h).
 *
 * Text diagnostics are printed as they are reported, so a long run shows
 * progress; JSON diagnostics are printed together by mcc_diag_finish().
 * Either way every entry is also kept, so tests can inspect them.
 */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

static const char *const sev_name[] = { "error", "warning", "note" };

void
mcc_diag_init(struct mcc_diag *d, FILE *out, enum mcc_diag_format format)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
	d->format = format;
	d->prog = "mcpgc";
	d->max_errors = MCC_DIAG_MAX_ERRORS;
}

void
mcc_diag_release(struct mcc_diag *d)
{
	for (size_t i = 0; i < d->nr; i++)
		free(d->v[i].msg);
	free(d->v);
	d->v = NULL;
	d->nr = d->alloc = 0;
}

static void
print_text(struct mcc_diag *d, const struct mcc_diag_entry *e)
{
	if (!d->out)
		return;
	if (!e->loc.file)
		fprintf(d->out, "%s: ", d->prog);
	else if (e->loc.line <= 0)
		fprintf(d->out, "%s: ", e->loc.file);
	else if (e->loc.col <= 0)
		fprintf(d->out, "%s:%d: ", e->loc.file, e->loc.line);
	else
		fprintf(d->out, "%s:%d:%d: ", e->loc.file, e->loc.line, e->loc.col);
	fprintf(d->out, "%s: %s\n", sev_name[e->sev], e->msg);
}

static void
add(struct mcc_diag *d, enum mcc_severity sev, struct mcc_loc loc, char *msg)
{
	if (d->nr == d->alloc) {
		size_t n = d->alloc ? d->alloc * 2 : 16;
		struct mcc_diag_entry *v = realloc(d->v, n * sizeof(*v));

		if (!v) {
			free(msg);
			return;
		}
		d->v = v;
		d->alloc = n;
	}
	d->v[d->nr] = (struct mcc_diag_entry){ sev, loc, msg };
	if (d->format == MCC_DIAG_TEXT)
		print_text(d, &d->v[d->nr]);
	d->nr++;
}

void
mcc_vreport(struct mcc_diag *d, enum mcc_severity sev, struct mcc_loc loc,
	    const char *fmt, va_list ap)
{
	char *msg;

	if (d->stopped)
		return;
	if (sev == MCC_SEV_NOTE && d->suppress_notes)
		return;
	if (sev == MCC_SEV_ERROR && d->nerrors >= d->max_errors) {
		d->stopped = 1;
		add(d, MCC_SEV_ERROR, MCC_NOLOC, strdup("too many errors, stopping"));
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	d->suppress_notes = 0;
	if (sev == MCC_SEV_ERROR)
		d->nerrors++;
	else if (sev == MCC_SEV_WARNING)
		d->nwarnings++;
	add(d, sev, loc, msg);
}

void
mcc_error(struct mcc_diag *d, struct mcc_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mcc_vreport(d, MCC_SEV_ERROR, loc, fmt, ap);
	va_end(ap);
}

void
mcc_warning(struct mcc_diag *d, struct mcc_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mcc_vreport(d, MCC_SEV_WARNING, loc, fmt, ap);
	va_end(ap);
}

void
mcc_note(struct mcc_diag *d, struct mcc_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mcc_vreport(d, MCC_SEV_NOTE, loc, fmt, ap);
	va_end(ap);
}

static void
json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void
mcc_diag_finish(struct mcc_diag *d)
{
	if (d->format != MCC_DIAG_JSON || !d->out)
		return;
	fputs("[", d->out);
	for (size_t i = 0; i < d->nr; i++) {
		const struct mcc_diag_entry *e = &d->v[i];

		fputs(i ? ",\n " : "", d->out);
		fprintf(d->out, "{\"severity\":\"%s\",\"file\":", sev_name[e->sev]);
		if (e->loc.file)
			json_string(d->out, e->loc.file);
		else
			fputs("null", d->out);
		fprintf(d->out, ",\"line\":%d,\"column\":%d,\"message\":",
			e->loc.line, e->loc.col);
		json_string(d->out, e->msg);
		fputs("}", d->out);
	}
	fputs("]\n", d->out);
}

/* Optimal string alignment distance (Damerau-Levenshtein, adjacent swaps). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *base, *row0, *row1, *row2, r;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	base = row0 = calloc(3 * (lb + 1), sizeof(size_t));
	if (!base)
		return (size_t)-1;
	row1 = row0 + lb + 1;
	row2 = row1 + lb + 1;
	for (size_t j = 0; j <= lb; j++)
		row1[j] = j;
	for (size_t i = 1; i <= la; i++) {
		row2[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = row1[j - 1] + cost;

			if (row1[j] + 1 < best)
				best = row1[j] + 1;
			if (row2[j - 1] + 1 < best)
				best = row2[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && row0[j - 2] + 1 < best)
				best = row0[j - 2] + 1;
			row2[j] = best;
		}
		size_t *t = row0;
		row0 = row1;
		row1 = row2;
		row2 = t;
	}
	r = row1[lb];
	free(base);
	return r;
}

const char *
mcc_closest(const char *word, const char *const *cands, size_t n)
{
	size_t limit = strlen(word) / 3, best = (size_t)-1;
	const char *pick = NULL;

	if (limit < 1)
		limit = 1;
	for (size_t i = 0; i < n; i++) {
		size_t dist = distance(word, cands[i]);

		if (dist <= limit && dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	return pick;
}
