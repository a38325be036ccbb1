/*
 * token.c - API token files and `mcpgc token` (see token.h).
 */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "arena.h"
#include "hex.h"
#include "node.h"
#include "yaml.h"

/* "2026-01-01T00:00:00Z", fractions and +hh:mm offsets allowed; -1 when not RFC 3339. */
static int64_t
parse_time(const char *s)
{
	struct tm tm = { 0 };
	int n = 0, oh = 0, om = 0;
	char sign;
	int64_t t;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	t = (int64_t)timegm(&tm);
	if ((*s == 'Z' || *s == 'z') && !s[1])
		return t;
	if (sscanf(s, "%c%2d:%2d%n", &sign, &oh, &om, &n) == 3 && !s[n] &&
	    (sign == '+' || sign == '-'))
		return sign == '+' ? t - (oh * 3600 + om * 60) : t + (oh * 3600 + om * 60);
	return -1;
}

static int
tok_cmp(const void *a, const void *b)
{
	return memcmp(((const struct mcc_token *)a)->hash, ((const struct mcc_token *)b)->hash, 32);
}

/* A scalar string value, or NULL (null), reporting anything else. */
static const char *
str_val(const struct mcc_node *v, const char *what, struct mcc_diag *d)
{
	if (mcc_node_is_null(v))
		return NULL;
	if (v->kind != MCC_N_SCALAR) {
		mcc_error(d, v->loc, "'%s' must be a string", what);
		return NULL;
	}
	return v->text;
}

int
mcc_tokens_load(const char *path, int missing_ok, struct mcc_diag *d, struct mcc_token **out,
		size_t *n)
{
	struct mcc_node *root;
	const struct mcc_node *toks;
	struct mcc_token *t;
	int before = d->nerrors;

	*out = NULL;
	*n = 0;
	if (missing_ok && access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	root = mcc_yaml_load_file(path, 0, d);
	if (!root || d->nerrors != before)
		return -1;
	if (mcc_node_is_null(root))
		return 0;
	toks = mcc_node_get(root, "tokens");
	if (root->kind != MCC_N_MAP || (toks && !mcc_node_is_null(toks) && toks->kind != MCC_N_MAP)) {
		mcc_error(d, root->loc, "'%s' is not a token file: it needs a 'tokens' mapping "
					"of token id to {hash, expires_at, annotation}", path);
		return -1;
	}
	for (size_t i = 0; i < root->nr; i++)
		if (strcmp(root->pairs[i].key->text, "tokens"))
			mcc_error(d, root->pairs[i].key->loc, "unknown key '%s' in a token file",
				  root->pairs[i].key->text);
	if (!toks || mcc_node_is_null(toks))
		return d->nerrors != before ? -1 : 0;
	t = mcc_alloc((toks->nr ? toks->nr : 1) * sizeof(*t));
	for (size_t i = 0; i < toks->nr; i++) {
		const struct mcc_pair *p = &toks->pairs[i];
		const struct mcc_node *e = p->value;
		struct mcc_token *k = &t[i];
		const char *hash = NULL;
		int have_hash = 0;

		memset(k, 0, sizeof(*k));
		k->id = p->key->text;
		if (!*k->id)
			mcc_error(d, p->key->loc, "a token id cannot be empty");
		if (e->kind != MCC_N_MAP) {
			mcc_error(d, e->loc, "token '%s' must be a mapping with 'hash'", k->id);
			continue;
		}
		for (size_t f = 0; f < e->nr; f++) {
			const char *key = e->pairs[f].key->text;
			const struct mcc_node *v = e->pairs[f].value;
			const char *s = str_val(v, key, d);

			if (!strcmp(key, "hash")) {
				hash = s;
				have_hash = 1;
				if (!s || mcpg_unhex(s, k->hash, 32) < 0)
					mcc_error(d, v->loc, "token '%s': 'hash' must be 64 lowercase hex "
							     "digits (SHA-256 of the token)", k->id);
			} else if (!strcmp(key, "expires_at") || !strcmp(key, "created_at")) {
				int64_t at = s ? parse_time(s) : 0;

				if (at < 0)
					mcc_error(d, v->loc, "token '%s': '%s' is not an RFC 3339 time "
							     "(like 2026-01-01T00:00:00Z) or null", k->id, key);
				else if (!strcmp(key, "expires_at"))
					k->expires_at = at;
				else
					k->created_at = at;
			} else if (!strcmp(key, "annotation")) {
				k->note = s;
			} else if (strcmp(key, "database")) {
				mcc_error(d, e->pairs[f].key->loc, "token '%s': unknown key '%s' (hash, "
								   "expires_at, annotation, created_at, database)",
					  k->id, key);
			}
		}
		if (!have_hash)
			mcc_error(d, e->loc, "token '%s' has no 'hash'", k->id);
		(void)hash;
	}
	if (d->nerrors != before)
		return -1;
	qsort(t, toks->nr, sizeof(*t), tok_cmp);
	for (size_t i = 1; i < toks->nr; i++)
		if (!memcmp(t[i - 1].hash, t[i].hash, 32)) {
			mcc_error(d, toks->loc, "tokens '%s' and '%s' have the same hash", t[i - 1].id,
				  t[i].id);
			return -1;
		}
	*out = t;
	*n = toks->nr;
	return 0;
}

/* ------------------------------------------------------------------------
 * mcpgc token
 */

static void
fmt_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(buf, len, "null");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A YAML double-quoted scalar. */
static void
put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int
save(const char *path, const struct mcc_token *t, size_t n)
{
	char *tmp = mcc_printf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int rc = 0;

	if (!f) {
		fprintf(stderr, "mcpgc: cannot write '%s': %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "# API tokens for mcpg (governance.access.api_tokens.file), written by\n"
		   "# `mcpgc token`.  Only SHA-256 hashes are stored; rebuild the image to\n"
		   "# apply a change.\n");
	fprintf(f, n ? "tokens:\n" : "tokens: {}\n");
	for (size_t i = 0; i < n; i++) {
		char h[65], ex[32], cr[32];

		mcpg_hex(h, t[i].hash, 32);
		fmt_time(ex, sizeof(ex), t[i].expires_at);
		fmt_time(cr, sizeof(cr), t[i].created_at);
		fprintf(f, "  ");
		put_quoted(f, t[i].id);
		fprintf(f, ":\n    hash: %s\n    expires_at: %s\n", h, ex);
		if (t[i].note) {
			fprintf(f, "    annotation: ");
			put_quoted(f, t[i].note);
			fputc('\n', f);
		}
		if (t[i].created_at)
			fprintf(f, "    created_at: %s\n", cr);
	}
	if (fflush(f) || fsync(fileno(f)))
		rc = -1;
	if (fclose(f))
		rc = -1;
	if (!rc && rename(tmp, path) < 0)
		rc = -1;
	if (rc) {
		fprintf(stderr, "mcpgc: cannot write '%s': %s\n", path, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

/* "30d", "2w", "12h", "1y" or "never": seconds (0 = never), or -1. */
static int64_t
parse_expiry(const char *s)
{
	char *end;
	long long v;

	if (!strcmp(s, "never"))
		return 0;
	v = strtoll(s, &end, 10);
	/* At most 100 years in any unit, so the product cannot overflow. */
	if (v <= 0 || v > 876600 || end == s || end[0] == '\0' || end[1] != '\0')
		return -1;
	if ((*end == 'd' && v > 36525) || (*end == 'w' && v > 5218) || (*end == 'y' && v > 100))
		return -1;
	switch (*end) {
	case 'h':
		return v * 3600;
	case 'd':
		return v * 86400;
	case 'w':
		return v * 7 * 86400;
	case 'y':
		return v * 365 * 86400;
	}
	return -1;
}

/* api_tokens.file of config `cfg` (relative to it), or NULL. */
static const char *
file_from_config(const char *cfg, struct mcc_diag *d)
{
	struct mcc_node *root = mcc_yaml_load_file(cfg, 0, d);
	const struct mcc_node *f = mcc_node_at(root, "governance.access.api_tokens.file");
	const char *slash;

	if (!f || f->kind != MCC_N_SCALAR) {
		fprintf(stderr, "mcpgc: '%s' sets no governance.access.api_tokens.file\n", cfg);
		return NULL;
	}
	if (f->text[0] == '/' || !(slash = strrchr(cfg, '/')))
		return f->text;
	return mcc_printf("%.*s/%s", (int)(slash - cfg), cfg, f->text);
}

static int
token_usage(void)
{
	fprintf(stderr, "usage: mcpgc token   add|list|remove [--file F | --config C] [--note N] "
			"[--expiry E] [ID]\n");
	return 2;
}

static int token_cmd(int argc, char **argv, struct mcc_diag *d);

int
mcc_token_main(int argc, char **argv)
{
	struct mcc_diag d;
	int rc;

	mcc_diag_init(&d, stderr, MCC_DIAG_TEXT);
	rc = token_cmd(argc, argv, &d);
	mcc_diag_release(&d);
	return rc;
}

static int
token_cmd(int argc, char **argv, struct mcc_diag *d)
{
	const char *cmd = argc > 0 ? argv[0] : NULL, *file = NULL, *cfg = NULL;
	const char *note = NULL, *expiry = "never", *which = NULL;
	struct mcc_token *t, *nt;
	size_t n;
	int64_t now = (int64_t)time(NULL), ttl;

	if (!cmd || (strcmp(cmd, "add") && strcmp(cmd, "list") && strcmp(cmd, "remove")))
		return token_usage();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((!strcmp(a, "--file") || !strcmp(a, "--config") || !strcmp(a, "--note") ||
		     !strcmp(a, "--expiry")) && i + 1 < argc) {
			const char *v = argv[++i];

			if (!strcmp(a, "--file"))
				file = v;
			else if (!strcmp(a, "--config"))
				cfg = v;
			else if (!strcmp(a, "--note"))
				note = v;
			else
				expiry = v;
		} else if (a[0] != '-' && !which) {
			which = a;
		} else {
			return token_usage();
		}
	}
	if (!file && cfg)
		file = file_from_config(cfg, d);
	if (!file) {
		if (!cfg)
			fprintf(stderr, "mcpgc: token: name the token file with --file or "
					"the config with --config\n");
		return 2;
	}
	if (mcc_tokens_load(file, !strcmp(cmd, "add"), d, &t, &n) < 0)
		return 1;
	if (!strcmp(cmd, "list")) {
		printf("%-24s %-12s %-20s %-7s %s\n", "ID", "HASH", "EXPIRES", "STATUS", "NOTE");
		for (size_t i = 0; i < n; i++) {
			char h[65], ex[32];

			mcpg_hex(h, t[i].hash, 32);
			fmt_time(ex, sizeof(ex), t[i].expires_at);
			printf("%-24s %.12s %-20s %-7s %s\n", t[i].id, h,
			       t[i].expires_at ? ex : "never",
			       t[i].expires_at && t[i].expires_at <= now ? "expired" : "active",
			       t[i].note ? t[i].note : "");
		}
		return 0;
	}
	if (!strcmp(cmd, "add")) {
		unsigned char raw[32];
		char tok[64], id[64], h[65], ex[32];
		struct mcc_token *k;

		if (which)
			return token_usage();
		ttl = parse_expiry(expiry);
		if (ttl < 0) {
			fprintf(stderr, "mcpgc: token: --expiry '%s' is not Nh, Nd, Nw or Ny (up to 100 years) or never\n",
				expiry);
			return 2;
		}
		if (RAND_bytes(raw, sizeof(raw)) != 1) {
			fprintf(stderr, "mcpgc: token: no random bytes\n");
			return 2;
		}
		/* pgEdge's form: URL-safe base64 with padding, 44 characters. */
		EVP_EncodeBlock((unsigned char *)tok, raw, sizeof(raw));
		for (char *c = tok; *c; c++)
			*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
		snprintf(id, sizeof(id), "token-%lld", (long long)now);
		for (int dup = 2;; dup++) {
			size_t i;

			for (i = 0; i < n && strcmp(t[i].id, id); i++)
				;
			if (i == n)
				break;
			snprintf(id, sizeof(id), "token-%lld-%d", (long long)now, dup);
		}
		nt = mcc_alloc((n + 1) * sizeof(*nt));
		if (n)
			memcpy(nt, t, n * sizeof(*nt));
		k = &nt[n];
		memset(k, 0, sizeof(*k));
		k->id = mcc_strdup(id);
		SHA256((const unsigned char *)tok, strlen(tok), k->hash);
		k->expires_at = ttl ? now + ttl : 0;
		k->created_at = now;
		k->note = note;
		if (save(file, nt, n + 1) < 0)
			return 2;
		mcpg_hex(h, k->hash, 32);
		fmt_time(ex, sizeof(ex), k->expires_at);
		fprintf(stderr, "added %s (hash %.12s, expires %s) to %s; the token is shown once:\n",
			id, h, k->expires_at ? ex : "never", file);
		printf("%s\n", tok);
		return 0;
	}
	/* remove: by id, by a hash prefix of 8 or more digits, or by note. */
	if (!which)
		return token_usage();
	{
		size_t hit = n, nhits = 0;

		for (size_t i = 0; i < n; i++) {
			char h[65];

			mcpg_hex(h, t[i].hash, 32);
			if (!strcmp(t[i].id, which) || (t[i].note && !strcmp(t[i].note, which)) ||
			    (strlen(which) >= 8 && !strncmp(h, which, strlen(which)))) {
				hit = i;
				nhits++;
			}
		}
		if (nhits != 1) {
			fprintf(stderr, "mcpgc: token: '%s' %s\n", which,
				nhits ? "matches more than one token; use the id" : "matches no token");
			return 1;
		}
		memmove(&t[hit], &t[hit + 1], (n - hit - 1) * sizeof(*t));
		if (save(file, t, n - 1) < 0)
			return 2;
		fprintf(stderr, "removed token from %s; rebuild the image to revoke it\n", file);
	}
	return 0;
}
