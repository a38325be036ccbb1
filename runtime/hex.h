/*
 * hex.h - lowercase hexadecimal, bytes to text and back: digests in logs,
 * health answers and audit records, session ids, token hashes.
 */
#ifndef MCPG_HEX_H
#define MCPG_HEX_H

#include <stddef.h>

/* `n` bytes at `p` as 2n lowercase digits and a NUL into `out`. */
static inline void
mcpg_hex(char *out, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* `s`, exactly 2n lowercase digits, into `n` bytes at `out`: 0, or -1
 * (other length, other characters) with `out` partly written. */
static inline int
mcpg_unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return -1; /* also the NUL of a shorter string */
		if (i % 2)
			out[i / 2] = (unsigned char)(out[i / 2] << 4 | v);
		else
			out[i / 2] = (unsigned char)v;
	}
	return s[2 * n] ? -1 : 0;
}

#endif /* MCPG_HEX_H */
