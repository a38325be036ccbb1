/*
 * access.h - compile the files named by governance.access into the image:
 * jwks.keys_file (the pre-staged key set, section KEYS) and
 * api_tokens.file (the token hashes, section TOKS, sorted), relative to the
 * config file that set each key.  Runs after the rules, which have checked
 * the key set; a file that cannot be read or parsed is an error at its key
 * (or at its place in the token file).
 */
#ifndef MCC_ACCESS_H
#define MCC_ACCESS_H

#include "compile.h"

/* Add the sections and lay the image out again; 0, or -1 with errors in `d`. */
int mcc_access_embed(struct mcc_config *cfg, struct mcc_diag *d);

#endif /* MCC_ACCESS_H */
