/*
 * merge.c - fold config layers into one tree, and look things up in it.
 *
 * Second phase of mcpgc (DESIGN.md section 4; the rules are figment's, see
 * reference/mcpg.md 2.1): mappings merge key by key, a later layer's
 * scalars, sequences and nulls replace earlier values whole.  Every
 * replaced value is kept on the `overrode` chain for `mcpgc explain` and
 * for notes in diagnostics.
 */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

/* Below this many keys, a linear scan finds a key faster than a hash. */
#define FEW_KEYS 8

static int
key_eq(const struct mcc_node *k, const char *s, size_t len)
{
	return k->len == len && !memcmp(k->text, s, len);
}

static struct mcc_node *
replace(struct mcc_node *base, struct mcc_node *over)
{
	struct mcc_node *n = mcc_alloc(sizeof(*n));

	*n = *over;
	n->overrode = base;
	return n;
}

struct mcc_node *
mcc_merge(struct mcc_node *base, struct mcc_node *over)
{
	struct mcc_strmap index = MCC_STRMAP_INIT;
	struct mcc_pair *pairs;
	struct mcc_node *n;
	size_t nr;

	if (!base)
		return over;
	if (!over)
		return base;
	if (base->kind != MCC_N_MAP || over->kind != MCC_N_MAP)
		return replace(base, over);

	pairs = mcc_alloc((base->nr + over->nr) * sizeof(*pairs));
	if (base->nr)
		memcpy(pairs, base->pairs, base->nr * sizeof(*pairs));
	nr = base->nr;
	if (base->nr >= FEW_KEYS) {
		/* store index + 1: the map wants non-NULL values */
		for (size_t i = 0; i < base->nr; i++)
			mcc_strmap_put(&index, base->pairs[i].key->text, base->pairs[i].key->len,
				       (void *)(i + 1));
	}
	for (size_t k = 0; k < over->nr; k++) {
		struct mcc_pair *op = &over->pairs[k];
		size_t at = 0; /* index + 1 of the key in base, or 0 */

		if (index.alloc) {
			at = (size_t)mcc_strmap_get(&index, op->key->text, op->key->len);
		} else {
			for (size_t i = 0; i < base->nr && !at; i++)
				if (key_eq(base->pairs[i].key, op->key->text, op->key->len))
					at = i + 1;
		}
		if (!at) {
			pairs[nr++] = *op;
			continue;
		}
		struct mcc_pair *bp = &pairs[at - 1];

		if (bp->value->kind == MCC_N_MAP && op->value->kind == MCC_N_MAP) {
			bp->value = mcc_merge(bp->value, op->value);
		} else {
			bp->key = op->key;
			bp->value = replace(bp->value, op->value);
		}
	}
	mcc_strmap_release(&index);

	n = mcc_alloc(sizeof(*n));
	*n = *base;
	n->pairs = pairs;
	n->nr = nr;
	return n;
}

/* ---- Lookup -------------------------------------------------------------- */

static const struct mcc_pair *
get_pair(const struct mcc_node *map, const char *key, size_t len)
{
	if (!map || map->kind != MCC_N_MAP)
		return NULL;
	for (size_t i = 0; i < map->nr; i++)
		if (key_eq(map->pairs[i].key, key, len))
			return &map->pairs[i];
	return NULL;
}

const struct mcc_pair *
mcc_node_get_pair(const struct mcc_node *map, const char *key)
{
	return get_pair(map, key, strlen(key));
}

const struct mcc_node *
mcc_node_get(const struct mcc_node *map, const char *key)
{
	const struct mcc_pair *p = get_pair(map, key, strlen(key));

	return p ? p->value : NULL;
}

const struct mcc_node *
mcc_node_at(const struct mcc_node *root, const char *path)
{
	const struct mcc_node *n = root;
	const char *p = path;

	if (!p)
		return NULL;
	while (n && *p) {
		if (*p == '[') {
			char *end;
			unsigned long long i;

			if (p[1] < '0' || p[1] > '9')
				return NULL;
			i = strtoull(p + 1, &end, 10);
			if (*end != ']' || n->kind != MCC_N_SEQ || i >= n->nr)
				return NULL;
			n = n->items[i];
			p = end + 1;
			if (*p == '.' && p[1] && p[1] != '.' && p[1] != '[')
				p++;
			else if (*p && *p != '[')
				return NULL;
			continue;
		}
		size_t len = strcspn(p, ".[");

		if (!len)
			return NULL;
		const struct mcc_pair *pair = get_pair(n, p, len);

		if (!pair)
			return NULL;
		n = pair->value;
		p += len;
		if (*p == '.') {
			p++;
			if (!*p)
				return NULL;
		}
	}
	return n;
}

char *
mcc_path_key(const char *parent, const char *key)
{
	if (!parent || !*parent)
		return mcc_strdup(key);
	return mcc_printf("%s.%s", parent, key);
}

char *
mcc_path_index(const char *parent, size_t index)
{
	return mcc_printf("%s[%zu]", parent ? parent : "", index);
}
