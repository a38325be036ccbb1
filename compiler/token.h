/*
 * token.h - API token files (governance.access.api_tokens.file) in the
 * pgEdge format (reference/peers.md A.2), and `mcpgc token`.
 *
 *   tokens:
 *     token-1735689600:                  # the id; the caller's subject
 *       hash: 9f86d08...                 # SHA-256 of the token text, lowercase hex
 *       expires_at: 2026-01-01T00:00:00Z # RFC 3339, or null for never
 *       annotation: "Production API"     # optional
 *       created_at: 2025-01-01T00:00:00Z # optional, informational
 *       database: analytics              # optional, pgEdge's; ignored
 *
 * mcpgc reads the file when it builds the image and stores the entries
 * sorted by hash (image_format.h, TOKS); the plain tokens are never stored
 * anywhere.  Rebuilding the image (and renaming it into place) is how a
 * token is revoked.
 */
#ifndef MCC_TOKEN_H
#define MCC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct mcc_token {
	const char *id;
	unsigned char hash[32];
	int64_t expires_at; /* 0: never */
	int64_t created_at; /* 0: unknown */
	const char *note;   /* NULL: none */
};

/*
 * Load token file `path`: entries (arena memory) sorted by hash in *out,
 * their number in *n.  Errors go to `d` at their place in the file.
 * A missing file is an empty list when `missing_ok`.  Returns 0 or -1.
 */
int mcc_tokens_load(const char *path, int missing_ok, struct mcc_diag *d,
		    struct mcc_token **out, size_t *n);

/* `mcpgc token ...` (argv after "token"); returns the exit status. */
int mcc_token_main(int argc, char **argv);

#endif /* MCC_TOKEN_H */
