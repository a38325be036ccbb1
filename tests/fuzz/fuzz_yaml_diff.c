/*
 * fuzz_yaml_diff.c - differential libFuzzer target for the YAML fast path:
 * bytes -> mcc_yaml_fast_load() (compiler/yaml_fast.c).  When the fast
 * path accepts the input, the libfyaml loader (mcc_yaml_load_string_slow()
 * in compiler/yaml.c) must accept it too, without a single diagnostic,
 * and build the same tree: kinds, types, styles, texts, locations, layer,
 * order (mcc_node_diff()).  Anything else aborts, naming the difference.
 * Declining is always allowed: the libfyaml loader then does the work.
 *
 *   make build/fuzz/fuzz_yaml_diff, then
 *   tests/fuzz/run fuzz_yaml_diff 120
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "node.h"
#include "yaml.h"
#include "yaml_fast.h"

#include "libfyaml_leak.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_yaml_diff: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct mcc_node *fast, *slow;
	struct mcc_diag d;
	const char *diff;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		fail("cannot open /dev/null", NULL);
	fast = mcc_yaml_fast_load("fuzz.yaml", (const char *)data, size, 7);
	if (fast) {
		mcc_diag_init(&d, devnull, MCC_DIAG_TEXT);
		slow = mcc_yaml_load_string_slow("fuzz.yaml", (const char *)data, size, 7, &d);
		if (!slow)
			fail("the fast path accepts what the libfyaml loader rejects",
			     d.nr ? d.v[0].msg : NULL);
		if (d.nr)
			fail("the libfyaml loader reports on what the fast path accepts", d.v[0].msg);
		if ((diff = mcc_node_diff(fast, slow)))
			fail("the trees differ (fast vs libfyaml)", diff);
		mcc_diag_release(&d);
	}
	mcc_arena_free_all();
	return 0;
}
