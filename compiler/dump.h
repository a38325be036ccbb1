/*
 * dump.h - `mcpgc dump`: decode a verified config image back to YAML or JSON.
 *
 * The reverse of the lowering in validate.c: the records are walked from the
 * root with the image's own descriptor tables (img->schema), every field in
 * schema order with its effective value (the image holds defaults too), so
 * that `mcpgc build` of the YAML dump gives a byte-identical image, and the
 * dump of two images is a stable text to diff (DESIGN.md section 6).
 *
 * YAML, block style, two-space indentation:
 *
 *   # mcpg image sha256 <digest>, schema <schema hash>
 *   gateway:
 *     server:
 *       bind_address: "127.0.0.1:8787"
 *       allowed_origins: []
 *       request_timeout_ms: 30000
 *   cluster:
 *     kind: "redis"
 *     url: "${env.MCPG_REDIS_URL}"
 *     password: "<redacted>"
 *   mcp:
 *     capabilities:
 *       tools:
 *         - name: "echo"
 *           input_schema: {"type": "object"}
 *           backend:
 *             kind: "mock"
 *             response: null
 *
 *   strings        double-quoted with JSON escapes (valid YAML); a literal
 *                  "${" is written "$${" so that it reads back as text
 *   ${env.*}       strings (IPOL) and templates/expressions: the source text
 *                  as written, references unresolved
 *   int, uint      decimal; bool: true/false; enum: its YAML spelling, quoted
 *   json           the stored JSON inline (JSON is YAML flow syntax)
 *   absent         optional values that are not set are left out
 *   unions         the tag key first, then the variant's keys beside it or
 *                  under the union's nest_key
 *   lists, maps    block style; empty ones as [] and {}; map keys quoted
 *
 * Sensitive values (MCPG_F_SENSITIVE) are printed as "<redacted>" unless
 * they hold references (${env.X} and request-time roots name a secret, they
 * are not one).  An image built with a literal secret therefore dumps to a
 * config that does not rebuild to the same bytes, and may not check at all:
 * keep secrets in the environment.
 *
 * JSON (json != 0): one object, two-space indentation, the same keys in the
 * same order and the same values; json fields are embedded as JSON values,
 * not strings.  It has no comment line, so it is also a config `mcpgc build`
 * accepts.
 */
#ifndef MCC_DUMP_H
#define MCC_DUMP_H

#include <stdio.h>

struct mcpg_image;

/*
 * Write the config held by `img` (verified: mcpg_image_open() or
 * mcpg_image_verify()) to `out`.  The image is only read.  Returns 0, or -1
 * when writing to `out` failed (ferror); nothing is reported.
 */
int mcc_dump(const struct mcpg_image *img, FILE *out, int json);

/*
 * Write compact JSON text `json` inline, in the form dump uses for json
 * fields: a space after each ':' and ',' outside strings, and the characters
 * YAML would not read back as written escaped as \uXXXX.  Also used by
 * `mcpgc explain` to show defaults.
 */
void mcc_dump_json_text(FILE *out, const char *json);

/*
 * Write `len` bytes of `s` as a double-quoted string with JSON escapes that
 * both JSON and YAML read back as exactly these bytes.
 */
void mcc_dump_quoted(FILE *out, const char *s, size_t len);

#endif /* MCC_DUMP_H */
