/*
 * utf8.h - decode one UTF-8 sequence: for the two YAML loaders of mcpgc
 * (yaml.c checks that scalars are UTF-8; yaml_fast.c also refuses some code
 * points it leaves to libfyaml) and the runtime's JSON parser (jsonparse.c).
 */
#ifndef MCC_UTF8_H
#define MCC_UTF8_H

#include <stddef.h>

/*
 * The sequence at s[i] (i < len): its length in bytes, with the code point
 * in *cp; 0 when it is not well-formed UTF-8 (an ASCII byte, a stray
 * continuation byte, an overlong form, a surrogate, a code point beyond
 * U+10FFFF, or a sequence cut off by `len`).  Callers handle ASCII first.
 */
static inline size_t
mcc_utf8_seq(const unsigned char *s, size_t i, size_t len, unsigned *cp)
{
	unsigned c = s[i], need, min, v;

	if (c >= 0xc2 && c <= 0xdf)
		need = 1, min = 0x80, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2, min = 0x800, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3, min = 0x10000, v = c & 0x07;
	else
		return 0;
	if (len - i <= need)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i + k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need + 1;
}

#endif /* MCC_UTF8_H */
