/*
 * expr.h - allow_if expressions: the bytecode format, its verifier and its
 * evaluator, and the identity model both the compiler and the runtime see.
 *
 * mcpgc parses and type-checks an allow_if expression (compiler/allow_if.c) and
 * stores it as bytecode in the image's CODE section, one EXPR entry per
 * expression (runtime/image_format.h).  At boot the image verifier calls
 * mcpg_expr_verify() once per EXPR entry; per request the authorization step
 * calls mcpg_expr_eval() with the caller's identity.  Evaluation allocates
 * nothing and has no side effects.
 *
 * IDENTITY FIELDS
 *
 * A fixed set, shared by allow_if and by ${identity.*} in request-time
 * templates (runtime/template.c).  Which claim fills which field is
 * configured with the identity sources (issue 5: subject, groups, scopes and
 * tenant come from configurable claims):
 *
 *   name           type          meaning
 *   subject_id     string        the verified subject (JWT sub, API token
 *                                owner, asserted subject header); "" when
 *                                anonymous
 *   tenant         string        the tenant claim; "" when there is none
 *   issuer         string        iss of the verified token; "" otherwise
 *   auth_provider  string        the identity source that produced the
 *                                identity ("jwks", "oidc", "api_token",
 *                                "header", "anonymous"; set by the identity
 *                                code)
 *   trust_level    trust level   unauthenticated < header_asserted < verified
 *   groups         list<string>  the groups claim
 *   scopes         list<string>  the scope claim, split on spaces
 *
 * MCPG's CEL environment also has identity.kind, roles and attributes; they
 * have no source here and are rejected at compile time.
 *
 * BYTECODE
 *
 * A straight-line program for a stack machine: no jumps, so the verifier is
 * one linear pass and the evaluator needs no control flow.  && and || do not
 * short-circuit; every operand is total and side-effect free, so the result
 * is the same.  Each instruction is one opcode byte followed by its
 * operands; multi-byte operands are little-endian and unaligned.  The code
 * holds no absolute address, so it can sit anywhere in CODE.  String
 * operands are strrefs into the image string pool.
 *
 *   op    name      operands              stack effect
 *   0x01  TRUE      -                     -> bool
 *   0x02  FALSE     -                     -> bool
 *   0x03  STR       u32 strref            -> string
 *   0x04  INT       i64                   -> int
 *   0x05  FIELD     u8 field              -> string, or int for trust_level
 *                                            (a list field is invalid here)
 *   0x06  NOT       -                     bool -> bool
 *   0x07  AND       -                     bool bool -> bool
 *   0x08  OR        -                     bool bool -> bool
 *   0x09  EQ_STR    -                     string string -> bool (bytewise)
 *   0x0a  EQ_INT    -                     int int -> bool
 *   0x0b  EQ_BOOL   -                     bool bool -> bool
 *   0x0c  LT_INT    -                     int a, int b -> bool (a < b)
 *   0x0d  LE_INT    -                     int a, int b -> bool (a <= b)
 *   0x0e  IN_FIELD  u8 field              string -> bool (member of the
 *                                            list field: groups or scopes)
 *   0x0f  IN_STRS   u16 n, n x u32 strref string -> bool (equal to one of
 *                                            the n strings; n may be 0)
 *
 * Opcode 0 is invalid, so zeroed memory is not a program.  A trust level is
 * an int at run time (enum mcpg_trust).  A valid program is at most
 * MCPG_EXPR_MAX_CODE bytes, never needs more than MCPG_EXPR_MAX_STACK slots,
 * never pops an empty stack or a value of the wrong type, and ends with
 * exactly one bool on the stack.  The compiler emits != as EQ_* NOT, > and
 * >= as LT_INT / LE_INT with the operands swapped.
 */
#ifndef MCPG_EXPR_H
#define MCPG_EXPR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MCPG_EXPR_MAX_CODE 65536
#define MCPG_EXPR_MAX_STACK 64

/* Trust levels, in order.  The numbers are part of the bytecode format. */
#define MCPG_TRUST_LIST(X)                                  \
	X(UNAUTHENTICATED, "unauthenticated")               \
	X(HEADER_ASSERTED, "header_asserted")               \
	X(VERIFIED, "verified")

enum mcpg_trust {
#define X(name, text) MCPG_TRUST_##name,
	MCPG_TRUST_LIST(X)
#undef X
	MCPG_TRUST__COUNT
};

/* The spelling of a trust level, or NULL when out of range. */
static inline const char *
mcpg_trust_name(int t)
{
	switch (t) {
#define X(name, text) case MCPG_TRUST_##name: return text;
	MCPG_TRUST_LIST(X)
#undef X
	}
	return NULL;
}

enum mcpg_identity_type {
	MCPG_IDT_STR,   /* const char * */
	MCPG_IDT_TRUST, /* enum mcpg_trust */
	MCPG_IDT_LIST,  /* const char *const *, size_t */
};

/* Identity fields.  The numbers are part of the bytecode format. */
#define MCPG_IDENTITY_FIELDS(X)                              \
	X(SUBJECT_ID, "subject_id", MCPG_IDT_STR)            \
	X(TENANT, "tenant", MCPG_IDT_STR)                    \
	X(ISSUER, "issuer", MCPG_IDT_STR)                    \
	X(AUTH_PROVIDER, "auth_provider", MCPG_IDT_STR)      \
	X(TRUST_LEVEL, "trust_level", MCPG_IDT_TRUST)        \
	X(GROUPS, "groups", MCPG_IDT_LIST)                   \
	X(SCOPES, "scopes", MCPG_IDT_LIST)

enum mcpg_identity_field {
#define X(name, text, type) MCPG_ID_##name,
	MCPG_IDENTITY_FIELDS(X)
#undef X
	MCPG_ID__COUNT
};

/* The name of a field, or NULL when out of range. */
static inline const char *
mcpg_identity_field_name(int f)
{
	switch (f) {
#define X(name, text, type) case MCPG_ID_##name: return text;
	MCPG_IDENTITY_FIELDS(X)
#undef X
	}
	return NULL;
}

/* The type of a field (enum mcpg_identity_type), or -1 when out of range. */
static inline int
mcpg_identity_field_type(int f)
{
	switch (f) {
#define X(name, text, type) case MCPG_ID_##name: return type;
	MCPG_IDENTITY_FIELDS(X)
#undef X
	}
	return -1;
}

/* The field called `name` (`len` bytes), or -1. */
static inline int
mcpg_identity_field_lookup(const char *name, size_t len)
{
	for (int f = 0; f < MCPG_ID__COUNT; f++) {
		const char *t = mcpg_identity_field_name(f);

		if (strlen(t) == len && !memcmp(t, name, len))
			return f;
	}
	return -1;
}

/*
 * The caller's identity as expressions and templates see it.  Borrowed: the
 * identity code owns every pointer.  A NULL string reads as "".
 */
struct mcpg_identity_view {
	const char *subject_id;
	const char *tenant;
	const char *issuer;
	const char *auth_provider;
	int trust_level; /* enum mcpg_trust */
	const char *const *groups;
	size_t ngroups;
	const char *const *scopes;
	size_t nscopes;
};

/* Opcodes (see the table above). */
#define MCPG_EXPR_OPS(X)                                     \
	X(TRUE, 0x01)                                        \
	X(FALSE, 0x02)                                       \
	X(STR, 0x03)                                         \
	X(INT, 0x04)                                         \
	X(FIELD, 0x05)                                       \
	X(NOT, 0x06)                                         \
	X(AND, 0x07)                                         \
	X(OR, 0x08)                                          \
	X(EQ_STR, 0x09)                                      \
	X(EQ_INT, 0x0a)                                      \
	X(EQ_BOOL, 0x0b)                                     \
	X(LT_INT, 0x0c)                                      \
	X(LE_INT, 0x0d)                                      \
	X(IN_FIELD, 0x0e)                                    \
	X(IN_STRS, 0x0f)

enum mcpg_expr_op {
#define X(name, code) MCPG_OP_##name = code,
	MCPG_EXPR_OPS(X)
#undef X
};

/* Verifier errors: an enum and its message from one list. */
#define MCPG_EXPR_ERRORS(X)                                                  \
	X(OK, "ok")                                                          \
	X(EMPTY, "empty bytecode")                                           \
	X(TOO_LONG, "bytecode longer than 65536 bytes")                      \
	X(BAD_OPCODE, "unknown opcode")                                      \
	X(TRUNCATED, "instruction runs past the end of the bytecode")        \
	X(BAD_FIELD, "identity field out of range or of the wrong type")     \
	X(BAD_STRREF, "string reference is not a string of the pool")        \
	X(UNDERFLOW, "stack underflow")                                      \
	X(OVERFLOW, "stack deeper than 64 slots")                            \
	X(TYPE, "operand of the wrong type")                                 \
	X(RESULT, "program does not end with exactly one bool")

enum mcpg_expr_err {
#define X(name, text) MCPG_EXPR_E_##name,
	MCPG_EXPR_ERRORS(X)
#undef X
	MCPG_EXPR_E__COUNT
};

/* The message for a verifier error ("unknown error" when out of range). */
const char *mcpg_expr_strerror(int err);

/*
 * A string accessor: the NUL-terminated text of strref `ref`, or NULL when
 * `ref` is not a string.  Strings have no NUL inside them (the pool forbids
 * it), so comparisons are strcmp.
 */
typedef const char *mcpg_expr_str_fn(void *ctx, uint32_t ref);

/*
 * Check that `code` (`len` bytes) is a valid program (see the table above).
 * `str`, when not NULL, is asked about every strref; a NULL answer is
 * MCPG_EXPR_E_BAD_STRREF.  Returns MCPG_EXPR_E_OK (0) or the first error,
 * with the byte offset of the failing instruction in *err_off (when
 * err_off is not NULL).  Reads nothing outside code[0..len).
 */
int mcpg_expr_verify(const unsigned char *code, size_t len,
		     mcpg_expr_str_fn *str, void *ctx, size_t *err_off);

/*
 * Run a program against identity `id` (NULL means anonymous: empty strings
 * and lists, unauthenticated).  Returns 1 to allow, 0 to deny.  Allocates
 * nothing.  Code that did not pass mcpg_expr_verify() gives -1 instead of
 * crashing (every read is bounds- and type-checked), so callers allow only
 * when the result is 1.
 */
int mcpg_expr_eval(const unsigned char *code, size_t len,
		   const struct mcpg_identity_view *id, mcpg_expr_str_fn *str,
		   void *ctx);

/*
 * Print one instruction per line ("0003 STR \"tenant_admins\"") for
 * `mcpgc dump --code` and tests.  Stops at the first malformed instruction
 * with a "?? " line.  Returns 0, or -1 when the code is malformed.
 */
int mcpg_expr_disasm(const unsigned char *code, size_t len,
		     mcpg_expr_str_fn *str, void *ctx, FILE *out);

#endif /* MCPG_EXPR_H */
