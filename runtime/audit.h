/*
 * audit.h - the audit ledger: sink dev.mcpg.builtin.audit.local-file
 * (reference/mcpg.md section 6).
 *
 * One JSON object per line, fields in this fixed order, absent ones left
 * out (never null):
 *
 *   event_id occurred_at actor action resource? outcome request_id?
 *   node_id details prev_event_hash?
 *
 * prev_event_hash is the lowercase hex SHA-256 of the previous line's bytes
 * as written (without its newline).  A chain continues across restarts: at
 * start the sink hashes the last line of the existing file (an unterminated
 * tail, which no caller was ever told is durable, is cut off first).  It
 * also continues across external rotation: before each batch the writer
 * compares the open file with what the path names now, and reopens the
 * path (create + append) when the file was renamed or removed; the first
 * line of the new file chains to the last line of the old one.  So only the
 * first line of the first file ever lacks prev_event_hash.
 *
 * One writer thread owns the files.  It takes everything queued, appends
 * it with one write(2) per sink, calls fdatasync once for the whole batch
 * and then tells every waiter.  When the write or the sync fails, the bytes of
 * the batch are cut off again (ftruncate to where the batch began), the
 * chain is rolled back and every waiter of the batch hears "not durable";
 * the file never holds a line that the next line does not chain from.
 *
 * What waits for durability: a tools/call waits for its "allowed" record
 * before the backend runs and answers only after its "completed" record is
 * durable (mcp.c); the boot record (mcpg.lifecycle.gateway_started) is
 * waited for.  Session, denial, authentication-failure and reload records
 * are queued and written in order without holding up the request.  With
 * on_failure fail_closed an action whose record failed is refused; with
 * fail_open the failure is logged and counted and the action goes on.
 */
#ifndef MCPG_AUDIT_H
#define MCPG_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "expr.h"
#include "hex.h"
#include "image.h"
#include "strbuf.h"

struct mcpg_rt;

/* One event.  Strings are copied; NULL fields are left out. */
struct mcpg_audit_event {
	const char *action;   /* "mcpg.tool.call.completed" */
	const struct mcpg_identity_view *actor; /* NULL: the gateway itself */
	const char *resource; /* "tool://echo", "session://<id>", "config://gateway" */
	const char *outcome;  /* success | failure | partial | denied */
	const char *request_id;
	const char *details;  /* a JSON object as text; NULL is {} */
	int fail_closed;      /* on_failure of the snapshot the action runs on */
};

/*
 * Called on the writer thread with the record's fate: 0 durable, 1 not
 * durable under fail_open (logged and counted; go on), -1 not durable under
 * fail_closed (refuse the action).  May be called before mcpg_audit_emit()
 * returns when there is no memory for the record.
 */
typedef void mcpg_audit_done_fn(void *ctx, int status);

/*
 * Apply governance.audit of `rt` (boot and every reload): the sinks to
 * write, whether records are taken at all.  Opens the sink files and starts
 * the writer thread the first time.  Returns 0, or -1 with a one-line
 * message when a sink cannot be opened and audit.required is on (boot
 * refuses; a reload keeps writing where it wrote before).
 */
int mcpg_audit_configure(const struct mcpg_rt *rt, char *err, size_t errlen);

/* Whether records are taken (enabled, with a sink): cheap, any thread. */
int mcpg_audit_active(void);

/*
 * Queue `ev`; `done` (may be NULL) is called as described above.  Returns
 * 0, or -1 when audit is not active (then `done` is not called).
 */
int mcpg_audit_emit(const struct mcpg_audit_event *ev, mcpg_audit_done_fn *done, void *ctx);

/*
 * Queue `ev` and wait until it is durable or failed: the status above, 0
 * also when audit is not active.
 */
int mcpg_audit_emit_wait(const struct mcpg_audit_event *ev);

/* The last write, fsync or open error of the ledger, "" when none. */
void mcpg_audit_last_error(char *buf, size_t len);

/* An authentication failure from `peer` (may be NULL); best effort. */
void mcpg_audit_auth_failure(const struct sockaddr *peer, const char *reason);

/* A reload: `ok`, the trigger, previous and next image digests (hex). */
void mcpg_audit_config_reloaded(int ok, const char *source, const char *prev_digest,
				const char *next_digest, const char *error);

/* Write what is queued and stop the writer (exit). */
void mcpg_audit_stop(void);

/* Append the audit counters to the Prometheus page. */
void mcpg_audit_metrics(struct strbuf *out);

/*
 * The chain hash of one line (its bytes without the newline), as lowercase
 * hex into `hex` (65 bytes).  Shared with `mcpgc audit-verify`.  Returns 0,
 * or -1 when OpenSSL fails.
 */
static inline int
mcpg_audit_line_hash(const char *line, size_t len, char hex[65])
{
	unsigned char md[32];

	if (mcpg_sha256(line, len, md) < 0)
		return -1;
	mcpg_hex(hex, md, sizeof(md));
	return 0;
}

#endif /* MCPG_AUDIT_H */
