/*
 * audit_verify.h - `mcpgc audit-verify`: check an audit ledger's hash chain.
 */
#ifndef MCC_AUDIT_VERIFY_H
#define MCC_AUDIT_VERIFY_H

#include <stdio.h>

/*
 * Verify `files` as one chain, in order.  Reports to `out` (a line per
 * file) and `err` (FILE:LINE: error: why, for the first broken line).
 * Returns 0 intact, 1 broken, 2 a file could not be read.
 */
int mcc_audit_verify(int nfiles, char **files, FILE *out, FILE *err);

#endif /* MCC_AUDIT_VERIFY_H */
