/*
 * log.h - the runtime's operational log: one line per event, JSON or
 * pretty text, to the sinks of observability.logs.
 *
 * Every line carries the level, the time (RFC 3339, milliseconds, UTC), the
 * process's instance id (64 random bits, hex) and, when there is one, the
 * request id.  Fields follow as key/type/value triples ended by NULL:
 *
 *	mcpg_log(MCPG_LOG_INFO, rid, "reloaded",
 *		 "old", MCPG_LF_STR, old_digest,
 *		 "reloads", MCPG_LF_U64, (uint64_t)n, NULL);
 *
 * A line is formatted into a stack buffer and written with one write(2) per
 * sink, so lines from concurrent threads never interleave and logging
 * allocates nothing.  Before mcpg_log_configure() the sink is stderr, JSON,
 * level info.  Boot errors that end the process are not log lines: main.c
 * prints them as "mcpg: error: ..." (one line, exit 1).
 */
#ifndef MCPG_LOG_H
#define MCPG_LOG_H

#include <stdint.h>

struct mcpg_rt;

enum mcpg_log_lvl {
	MCPG_LOG_TRACE,
	MCPG_LOG_DEBUG,
	MCPG_LOG_INFO,
	MCPG_LOG_WARN,
	MCPG_LOG_ERROR,
};

/* Field types of the key/type/value triples. */
enum mcpg_log_ftype {
	MCPG_LF_STR,  /* const char * (NULL prints as null) */
	MCPG_LF_U64,  /* uint64_t */
	MCPG_LF_I64,  /* int64_t */
	MCPG_LF_DBL,  /* double */
	MCPG_LF_BOOL, /* int */
	MCPG_LF_RAW,  /* const char *: JSON text inserted as is */
};

/* Pick the instance id (getrandom); call once, first thing in main. */
void mcpg_log_init(void);
/* The instance id, 16 lowercase hex digits. */
const char *mcpg_log_instance(void);

/*
 * Apply observability.logs of `rt` (enabled, level, sinks).  Opens file
 * sinks for append; a file that cannot be opened is reported on the
 * previous sinks and returns -1 (the previous sinks stay).  Called at boot
 * and after each reload.
 */
int mcpg_log_configure(const struct mcpg_rt *rt);

/* Whether a line at `level` would be written (skip costly formatting). */
int mcpg_log_enabled(enum mcpg_log_lvl level);

/* Write one line.  `rid` may be NULL.  Never fails visibly. */
void mcpg_log(enum mcpg_log_lvl level, const char *rid, const char *msg, ...);

/* Close file sinks (at exit). */
void mcpg_log_close(void);

#endif /* MCPG_LOG_H */
