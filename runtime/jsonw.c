/*
 * jsonw.c - JSON text helpers (see jsonw.h).
 */
#include "jsonw.h"

#include <string.h>

/* 1 for the bytes a JSON string must escape. */
static const unsigned char must_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
	['\\'] = 1,
};

void
mcpg_jsonw_str(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;

	strbuf_grow(sb, len + 2);
	strbuf_addch(sb, '"');
	for (;;) {
		unsigned char c;
		char e[6];

		while (i < len && !must_escape[p[i]])
			i++;
		strbuf_add(sb, s + run, i - run);
		if (i == len)
			break;
		c = p[i++];
		run = i;
		e[0] = '\\';
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			strbuf_add(sb, e, 6);
			continue;
		}
		strbuf_add(sb, e, 2);
	}
	strbuf_addch(sb, '"');
}

void
mcpg_jsonw_cstr(struct strbuf *sb, const char *s)
{
	if (s)
		mcpg_jsonw_str(sb, s, strlen(s));
	else
		strbuf_add(sb, "null", 4);
}

void
mcpg_jsonw_key(struct strbuf *sb, const char *key, int first)
{
	if (!first)
		strbuf_addch(sb, ',');
	mcpg_jsonw_cstr(sb, key);
	strbuf_addch(sb, ':');
}

static int
dump_cb(const char *buf, size_t size, void *data)
{
	strbuf_add(data, buf, size);
	return 0;
}

void
mcpg_jsonw_value(struct strbuf *sb, const json_t *v)
{
	if (!v) {
		strbuf_add(sb, "null", 4);
		return;
	}
	json_dump_callback(v, dump_cb, sb, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}
