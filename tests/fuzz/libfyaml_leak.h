/*
 * libfyaml_leak.h - included once by each fuzz target that runs the
 * libfyaml loader.
 *
 * libfyaml 0.7.12 leaks a buffer when the text of a single-quoted scalar
 * with five or more '' escapes is fetched; the leak is in the library, not
 * in mcpg (whose memory is the arena's, freed after every input), so
 * LeakSanitizer is told to ignore allocations made inside libfyaml.so.
 */
#ifndef MCPG_FUZZ_LIBFYAML_LEAK_H
#define MCPG_FUZZ_LIBFYAML_LEAK_H

const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libfyaml.so\n";
}

#endif
