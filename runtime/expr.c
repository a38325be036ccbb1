/*
 * expr.c - verify, run and print allow_if bytecode (format in expr.h).
 *
 * The compiler (compiler/allow_if.c) writes the bytecode; the image verifier
 * calls mcpg_expr_verify() once per EXPR entry at boot, and authorization
 * calls mcpg_expr_eval() per request.  All three walk the code with one
 * decoder, so they cannot disagree about instruction lengths.
 */
#include "expr.h"

#include <inttypes.h>
#include <string.h>

#include "image_format.h"

/* Value types on the stack (the verifier tracks them, eval checks them). */
enum { V_BOOL = 1, V_INT, V_STR };

struct insn {
	int op;
	uint8_t field;              /* FIELD, IN_FIELD */
	uint32_t ref;               /* STR */
	int64_t i;                  /* INT */
	uint16_t n;                 /* IN_STRS: number of strrefs */
	const unsigned char *refs;  /* IN_STRS: n little-endian u32 */
	size_t size;                /* bytes, opcode included */
};

/*
 * Decode the instruction at code[pc], pc < len.  Returns MCPG_EXPR_E_OK,
 * BAD_OPCODE or TRUNCATED; never reads past len.
 */
static int
decode(const unsigned char *code, size_t len, size_t pc, struct insn *in)
{
	size_t left = len - pc - 1; /* operand bytes available */
	const unsigned char *p = code + pc + 1;

	memset(in, 0, sizeof(*in));
	in->op = code[pc];
	in->size = 1;
	switch (in->op) {
	case MCPG_OP_TRUE:
	case MCPG_OP_FALSE:
	case MCPG_OP_NOT:
	case MCPG_OP_AND:
	case MCPG_OP_OR:
	case MCPG_OP_EQ_STR:
	case MCPG_OP_EQ_INT:
	case MCPG_OP_EQ_BOOL:
	case MCPG_OP_LT_INT:
	case MCPG_OP_LE_INT:
		return MCPG_EXPR_E_OK;
	case MCPG_OP_STR:
		if (left < 4)
			return MCPG_EXPR_E_TRUNCATED;
		in->ref = mcpg_le32(p);
		in->size += 4;
		return MCPG_EXPR_E_OK;
	case MCPG_OP_INT:
		if (left < 8)
			return MCPG_EXPR_E_TRUNCATED;
		in->i = (int64_t)mcpg_le64(p);
		in->size += 8;
		return MCPG_EXPR_E_OK;
	case MCPG_OP_FIELD:
	case MCPG_OP_IN_FIELD:
		if (left < 1)
			return MCPG_EXPR_E_TRUNCATED;
		in->field = p[0];
		in->size += 1;
		return MCPG_EXPR_E_OK;
	case MCPG_OP_IN_STRS:
		if (left < 2)
			return MCPG_EXPR_E_TRUNCATED;
		in->n = mcpg_le16(p);
		if ((left - 2) / 4 < in->n)
			return MCPG_EXPR_E_TRUNCATED;
		in->refs = p + 2;
		in->size += 2 + (size_t)in->n * 4;
		return MCPG_EXPR_E_OK;
	}
	return MCPG_EXPR_E_BAD_OPCODE;
}

const char *
mcpg_expr_strerror(int err)
{
	switch (err) {
#define X(name, text) case MCPG_EXPR_E_##name: return text;
	MCPG_EXPR_ERRORS(X)
#undef X
	}
	return "unknown error";
}

/* Pop `n` values of type `t` (0: any) from a type stack. */
static int
pop_types(const uint8_t *types, int *sp, int n, int t)
{
	if (*sp < n)
		return MCPG_EXPR_E_UNDERFLOW;
	for (int k = 1; k <= n; k++)
		if (t && types[*sp - k] != t)
			return MCPG_EXPR_E_TYPE;
	*sp -= n;
	return MCPG_EXPR_E_OK;
}

static int
push_type(uint8_t *types, int *sp, int t)
{
	if (*sp >= MCPG_EXPR_MAX_STACK)
		return MCPG_EXPR_E_OVERFLOW;
	types[(*sp)++] = (uint8_t)t;
	return MCPG_EXPR_E_OK;
}

/* The stack effect of `in` on the type stack. */
static int
verify_insn(const struct insn *in, uint8_t *types, int *sp, mcpg_expr_str_fn *str,
	    void *ctx)
{
	int err, ft;

	switch (in->op) {
	case MCPG_OP_TRUE:
	case MCPG_OP_FALSE:
		return push_type(types, sp, V_BOOL);
	case MCPG_OP_STR:
		if (str && !str(ctx, in->ref))
			return MCPG_EXPR_E_BAD_STRREF;
		return push_type(types, sp, V_STR);
	case MCPG_OP_INT:
		return push_type(types, sp, V_INT);
	case MCPG_OP_FIELD:
		ft = mcpg_identity_field_type(in->field);
		if (ft == MCPG_IDT_STR)
			return push_type(types, sp, V_STR);
		if (ft == MCPG_IDT_TRUST)
			return push_type(types, sp, V_INT);
		return MCPG_EXPR_E_BAD_FIELD;
	case MCPG_OP_NOT:
		err = pop_types(types, sp, 1, V_BOOL);
		break;
	case MCPG_OP_AND:
	case MCPG_OP_OR:
	case MCPG_OP_EQ_BOOL:
		err = pop_types(types, sp, 2, V_BOOL);
		break;
	case MCPG_OP_EQ_STR:
		err = pop_types(types, sp, 2, V_STR);
		break;
	case MCPG_OP_EQ_INT:
	case MCPG_OP_LT_INT:
	case MCPG_OP_LE_INT:
		err = pop_types(types, sp, 2, V_INT);
		break;
	case MCPG_OP_IN_FIELD:
		if (mcpg_identity_field_type(in->field) != MCPG_IDT_LIST)
			return MCPG_EXPR_E_BAD_FIELD;
		err = pop_types(types, sp, 1, V_STR);
		break;
	case MCPG_OP_IN_STRS:
		for (uint16_t k = 0; str && k < in->n; k++)
			if (!str(ctx, mcpg_le32(in->refs + 4 * (size_t)k)))
				return MCPG_EXPR_E_BAD_STRREF;
		err = pop_types(types, sp, 1, V_STR);
		break;
	default:
		return MCPG_EXPR_E_BAD_OPCODE;
	}
	if (err)
		return err;
	return push_type(types, sp, V_BOOL);
}

int
mcpg_expr_verify(const unsigned char *code, size_t len, mcpg_expr_str_fn *str,
		 void *ctx, size_t *err_off)
{
	uint8_t types[MCPG_EXPR_MAX_STACK];
	int sp = 0, err = MCPG_EXPR_E_OK;
	size_t pc = 0;
	struct insn in;

	if (len == 0)
		err = MCPG_EXPR_E_EMPTY;
	else if (len > MCPG_EXPR_MAX_CODE)
		err = MCPG_EXPR_E_TOO_LONG;
	while (!err && pc < len) {
		err = decode(code, len, pc, &in);
		if (!err)
			err = verify_insn(&in, types, &sp, str, ctx);
		if (!err)
			pc += in.size;
	}
	if (!err && (sp != 1 || types[0] != V_BOOL))
		err = MCPG_EXPR_E_RESULT;
	if (err && err_off)
		*err_off = pc;
	return err;
}

/* ------------------------------------------------------------------------
 * Evaluation
 */

struct slot {
	int t;
	int64_t i; /* V_BOOL: 0 or 1; V_INT */
	const char *s;
};

static const char *
id_str(const struct mcpg_identity_view *id, int f)
{
	const char *s = NULL;

	switch (f) {
	case MCPG_ID_SUBJECT_ID: s = id->subject_id; break;
	case MCPG_ID_TENANT: s = id->tenant; break;
	case MCPG_ID_ISSUER: s = id->issuer; break;
	case MCPG_ID_AUTH_PROVIDER: s = id->auth_provider; break;
	}
	return s ? s : "";
}

static int
id_list_has(const struct mcpg_identity_view *id, int f, const char *s)
{
	const char *const *v = f == MCPG_ID_GROUPS ? id->groups : id->scopes;
	size_t n = f == MCPG_ID_GROUPS ? id->ngroups : id->nscopes;

	for (size_t k = 0; v && k < n; k++)
		if (v[k] && !strcmp(v[k], s))
			return 1;
	return 0;
}

int
mcpg_expr_eval(const unsigned char *code, size_t len,
	       const struct mcpg_identity_view *id, mcpg_expr_str_fn *str, void *ctx)
{
	static const struct mcpg_identity_view anonymous = {
		.trust_level = MCPG_TRUST_UNAUTHENTICATED,
	};
	struct slot st[MCPG_EXPR_MAX_STACK], *a, *b;
	int sp = 0, need, want;
	size_t pc = 0;
	struct insn in;

	if (!id)
		id = &anonymous;
	if (!code || !str || len == 0 || len > MCPG_EXPR_MAX_CODE)
		return -1;
	while (pc < len) {
		if (decode(code, len, pc, &in))
			return -1;
		pc += in.size;

		/* Operands: how many, and of which type. */
		switch (in.op) {
		case MCPG_OP_NOT: need = 1; want = V_BOOL; break;
		case MCPG_OP_AND:
		case MCPG_OP_OR:
		case MCPG_OP_EQ_BOOL: need = 2; want = V_BOOL; break;
		case MCPG_OP_EQ_STR: need = 2; want = V_STR; break;
		case MCPG_OP_EQ_INT:
		case MCPG_OP_LT_INT:
		case MCPG_OP_LE_INT: need = 2; want = V_INT; break;
		case MCPG_OP_IN_FIELD:
		case MCPG_OP_IN_STRS: need = 1; want = V_STR; break;
		default: need = 0; want = 0; break;
		}
		if (sp < need)
			return -1;
		a = need >= 1 ? &st[sp - need] : NULL;
		b = need == 2 ? &st[sp - 1] : NULL;
		if ((a && a->t != want) || (b && b->t != want))
			return -1;
		sp -= need;
		if (sp >= MCPG_EXPR_MAX_STACK)
			return -1;

		struct slot r = { V_BOOL, 0, NULL };
		switch (in.op) {
		case MCPG_OP_TRUE: r.i = 1; break;
		case MCPG_OP_FALSE: r.i = 0; break;
		case MCPG_OP_STR:
			r.t = V_STR;
			if (!(r.s = str(ctx, in.ref)))
				return -1;
			break;
		case MCPG_OP_INT: r.t = V_INT; r.i = in.i; break;
		case MCPG_OP_FIELD:
			switch (mcpg_identity_field_type(in.field)) {
			case MCPG_IDT_STR:
				r.t = V_STR;
				r.s = id_str(id, in.field);
				break;
			case MCPG_IDT_TRUST:
				r.t = V_INT;
				r.i = id->trust_level;
				break;
			default:
				return -1;
			}
			break;
		case MCPG_OP_NOT: r.i = !a->i; break;
		case MCPG_OP_AND: r.i = a->i && b->i; break;
		case MCPG_OP_OR: r.i = a->i || b->i; break;
		case MCPG_OP_EQ_STR: r.i = !strcmp(a->s, b->s); break;
		case MCPG_OP_EQ_INT:
		case MCPG_OP_EQ_BOOL: r.i = a->i == b->i; break;
		case MCPG_OP_LT_INT: r.i = a->i < b->i; break;
		case MCPG_OP_LE_INT: r.i = a->i <= b->i; break;
		case MCPG_OP_IN_FIELD:
			if (mcpg_identity_field_type(in.field) != MCPG_IDT_LIST)
				return -1;
			r.i = id_list_has(id, in.field, a->s);
			break;
		case MCPG_OP_IN_STRS:
			/* No early exit: every strref is checked, as verify does. */
			for (uint16_t k = 0; k < in.n; k++) {
				const char *s = str(ctx, mcpg_le32(in.refs + 4 * (size_t)k));

				if (!s)
					return -1;
				if (!strcmp(a->s, s))
					r.i = 1;
			}
			break;
		default:
			return -1;
		}
		st[sp++] = r;
	}
	if (sp != 1 || st[0].t != V_BOOL)
		return -1;
	return st[0].i ? 1 : 0;
}

/* ------------------------------------------------------------------------
 * Disassembly
 */

static const char *
op_name(int op)
{
	switch (op) {
#define X(name, code) case MCPG_OP_##name: return #name;
	MCPG_EXPR_OPS(X)
#undef X
	}
	return "??";
}

static void
print_str(FILE *out, mcpg_expr_str_fn *str, void *ctx, uint32_t ref)
{
	const char *s = str ? str(ctx, ref) : NULL;

	if (!s) {
		fprintf(out, "#%" PRIu32, ref);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

int
mcpg_expr_disasm(const unsigned char *code, size_t len, mcpg_expr_str_fn *str,
		 void *ctx, FILE *out)
{
	struct insn in;
	const char *f;

	for (size_t pc = 0; pc < len; pc += in.size) {
		if (decode(code, len, pc, &in)) {
			fprintf(out, "%04zx ?? 0x%02x\n", pc, code[pc]);
			return -1;
		}
		fprintf(out, "%04zx %s", pc, op_name(in.op));
		switch (in.op) {
		case MCPG_OP_STR:
			fputc(' ', out);
			print_str(out, str, ctx, in.ref);
			break;
		case MCPG_OP_INT:
			fprintf(out, " %" PRId64, in.i);
			break;
		case MCPG_OP_FIELD:
		case MCPG_OP_IN_FIELD:
			f = mcpg_identity_field_name(in.field);
			if (f)
				fprintf(out, " %s", f);
			else
				fprintf(out, " #%u", in.field);
			break;
		case MCPG_OP_IN_STRS:
			fprintf(out, " %u", in.n);
			for (uint16_t k = 0; k < in.n; k++) {
				fputc(' ', out);
				print_str(out, str, ctx,
					  mcpg_le32(in.refs + 4 * (size_t)k));
			}
			break;
		}
		fputc('\n', out);
	}
	return 0;
}
