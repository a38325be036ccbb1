/*
 * template.c - render request-time templates (see template.h).
 *
 * Called by the http and command backends once per templated field per
 * call.  Each request value is first rendered to text in a scratch buffer,
 * checked for the place it goes to, then appended (percent-encoded in URL
 * mode).
 */
#include "template.h"

#include "jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Compact JSON
 */

/* The shortest %g form that reads back as the same double. */
static void
put_real(struct strbuf *sb, double v)
{
	char buf[32];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	strbuf_addstr(sb, buf);
}

void
mcpg_json_compact(struct strbuf *sb, const json_t *v)
{
	const char *k;
	json_t *item;
	size_t i;
	int first = 1;

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		strbuf_addch(sb, '{');
		/* json_object_foreach wants a non-const object; it does not write. */
		json_object_foreach((json_t *)v, k, item) {
			if (!first)
				strbuf_addch(sb, ',');
			first = 0;
			mcpg_jsonw_str(sb, k, strlen(k));
			strbuf_addch(sb, ':');
			mcpg_json_compact(sb, item);
		}
		strbuf_addch(sb, '}');
		break;
	case JSON_ARRAY:
		strbuf_addch(sb, '[');
		json_array_foreach(v, i, item) {
			if (i)
				strbuf_addch(sb, ',');
			mcpg_json_compact(sb, item);
		}
		strbuf_addch(sb, ']');
		break;
	case JSON_STRING:
		mcpg_jsonw_str(sb, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		strbuf_addf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		put_real(sb, json_real_value(v));
		break;
	case JSON_TRUE:
		strbuf_addstr(sb, "true");
		break;
	case JSON_FALSE:
		strbuf_addstr(sb, "false");
		break;
	case JSON_NULL:
		strbuf_addstr(sb, "null");
		break;
	}
}

/* ------------------------------------------------------------------------
 * Values
 */

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Append a request value, percent-encoded in URL mode. */
static void
put_value(struct strbuf *out, const char *s, size_t len, unsigned flags)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!(flags & MCPG_TMPL_URL)) {
		strbuf_add(out, s, len);
		return;
	}
	strbuf_grow(out, 3 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c)) {
			strbuf_addch(out, c);
		} else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[c >> 4]);
			strbuf_addch(out, hex[c & 15]);
		}
	}
}

/*
 * Why `s` cannot go where `flags` says, as the end of a sentence ("contains
 * a NUL byte"), or NULL when it can.
 */
static const char *
refuse(const char *s, size_t len, unsigned flags)
{
	if (memchr(s, '\0', len))
		return "contains a NUL byte";
	if (flags & MCPG_TMPL_HEADER)
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return "contains a control character, which cannot "
				       "go in a header";
		}
	if ((flags & MCPG_TMPL_URL) &&
	    ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')))
		return len == 1 ? "is '.', which cannot go in a URL"
				: "is '..', which cannot go in a URL";
	return NULL;
}

/* ${arguments.path}: render the value into `val`. */
static int
render_arg(const char *path, const json_t *args, struct strbuf *val,
	   struct strbuf *err)
{
	const json_t *v = args;
	const char *p = path;

	if (!*path) {
		if (args)
			mcpg_json_compact(val, args);
		else
			strbuf_addstr(val, "{}");
		return 0;
	}
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (p != path && !json_is_object(v)) {
			strbuf_addf(err, "argument '%.*s' is not an object, so '%s' "
					 "cannot be read",
				    (int)(p - 1 - path), path, path);
			return MCPG_TMPL_E_ARGUMENT;
		}
		v = json_is_object(v) ? json_object_getn(v, p, n) : NULL;
		if (!v) {
			strbuf_addf(err, "missing argument '%s'", path);
			return MCPG_TMPL_E_ARGUMENT;
		}
		p += n + (dot != NULL);
	}
	if (json_is_string(v))
		strbuf_add(val, json_string_value(v), json_string_length(v));
	else
		mcpg_json_compact(val, v);
	return 0;
}

static const char *
id_string(const struct mcpg_identity_view *id, int f)
{
	switch (f) {
	case MCPG_ID_SUBJECT_ID: return id->subject_id;
	case MCPG_ID_TENANT: return id->tenant;
	case MCPG_ID_ISSUER: return id->issuer;
	case MCPG_ID_AUTH_PROVIDER: return id->auth_provider;
	}
	return NULL;
}

/* ${identity.field}: render the value into `val`. */
static int
render_identity(const char *name, const struct mcpg_identity_view *id,
		struct strbuf *val, struct strbuf *err)
{
	int f = mcpg_identity_field_lookup(name, strlen(name));
	const char *s, *const *v;
	size_t n;

	switch (mcpg_identity_field_type(f)) {
	case MCPG_IDT_STR:
		s = id_string(id, f);
		if (!s || !*s) {
			strbuf_addf(err, "identity field '%s' is empty", name);
			return MCPG_TMPL_E_IDENTITY;
		}
		strbuf_addstr(val, s);
		return 0;
	case MCPG_IDT_TRUST:
		s = mcpg_trust_name(id->trust_level);
		if (!s) {
			strbuf_addf(err, "identity field '%s' is out of range", name);
			return MCPG_TMPL_E_IDENTITY;
		}
		strbuf_addstr(val, s);
		return 0;
	case MCPG_IDT_LIST:
		v = f == MCPG_ID_GROUPS ? id->groups : id->scopes;
		n = f == MCPG_ID_GROUPS ? id->ngroups : id->nscopes;
		strbuf_addch(val, '[');
		for (size_t i = 0; v && i < n; i++) {
			if (i)
				strbuf_addch(val, ',');
			mcpg_jsonw_str(val, v[i] ? v[i] : "", v[i] ? strlen(v[i]) : 0);
		}
		strbuf_addch(val, ']');
		return 0;
	}
	strbuf_addf(err, "unknown identity field '%s'", name);
	return MCPG_TMPL_E_IMAGE;
}

int
mcpg_template_render(const struct mcpg_img_seg *segs, size_t n,
		     const struct mcpg_tmpl_in *in, unsigned flags,
		     struct strbuf *out, struct strbuf *err)
{
	static const struct mcpg_identity_view anonymous = {
		.trust_level = MCPG_TRUST_UNAUTHENTICATED,
	};
	const struct mcpg_identity_view *id = in->id ? in->id : &anonymous;
	struct strbuf val = STRBUF_INIT;
	size_t start = out->len;
	const char *why;
	int rc = MCPG_TMPL_OK;

	for (size_t i = 0; i < n && rc == MCPG_TMPL_OK; i++) {
		const char *s = in->str(in->ctx, segs[i].str), *e;

		if (!s) {
			strbuf_addf(err, "segment %zu: bad string reference", i);
			rc = MCPG_TMPL_E_IMAGE;
			break;
		}
		strbuf_reset(&val);
		switch (segs[i].kind) {
		case MCPG_SEG_LIT:
			strbuf_addstr(out, s);
			continue;
		case MCPG_SEG_ENV:
			e = in->env ? in->env(in->ctx, s) : NULL;
			if (!e) {
				strbuf_addf(err, "environment variable '%s' is not set", s);
				rc = MCPG_TMPL_E_ENV;
			} else if ((why = refuse(e, strlen(e), flags & MCPG_TMPL_HEADER))) {
				strbuf_addf(err, "environment variable '%s' %s", s, why);
				rc = MCPG_TMPL_E_ENV;
			} else {
				strbuf_addstr(out, e);
			}
			continue;
		case MCPG_SEG_ARG:
			rc = render_arg(s, in->arguments, &val, err);
			if (!rc && (why = refuse(val.buf, val.len, flags))) {
				strbuf_addf(err, "argument '%s' %s", *s ? s : "arguments",
					    why);
				rc = MCPG_TMPL_E_ARGUMENT;
			}
			break;
		case MCPG_SEG_IDENTITY:
			rc = render_identity(s, id, &val, err);
			if (!rc && (why = refuse(val.buf, val.len, flags))) {
				strbuf_addf(err, "identity field '%s' %s", s, why);
				rc = MCPG_TMPL_E_IDENTITY;
			}
			break;
		default:
			strbuf_addf(err, "segment %zu: unknown kind %u", i, segs[i].kind);
			rc = MCPG_TMPL_E_IMAGE;
			break;
		}
		if (!rc)
			put_value(out, val.buf, val.len, flags);
	}
	strbuf_release(&val);
	if (rc)
		strbuf_setlen(out, start);
	return rc;
}
