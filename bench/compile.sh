#!/bin/sh
# bench/compile.sh - how fast mcpgc checks and builds large configs, next to
# ajv-cli validating the same document against the generated JSON Schema.
#
#   bench/compile.sh                 100, 1,000, 10,000 and 100,000 tools
#   SIZES="100 10000" bench/compile.sh
#   RUNS=9 bench/compile.sh          runs per measurement (default 5; 3 at 100,000)
#
# For each size N, bench/gen-tools.py writes build/bench/tools-N.yaml and
# the same document as tools-N.json.  Each command runs RUNS times; the
# table gives the median wall time, the median CPU time (user + system, so
# a busy machine can be told apart from a slow program) and the largest
# peak RSS (getrusage ru_maxrss of the child, via a small wrapper compiled
# here).  The commands, with output discarded:
#
#   check   build/mcpgc check tools-N.yaml
#   build   build/mcpgc build tools-N.yaml -o tools-N.img   (writes, fsyncs, renames)
#   ajv     ajv validate -s generated/mcpg-config.schema.json -d tools-N.json
#               --spec=draft7 -c ajv-formats                (strict mode, the default)
#
# ajv's time includes starting node and compiling the schema, as mcpgc's
# includes loading the YAML: both are what a user waits for.  mcpgc
# checks more than ajv can (cross-field rules, templates, allow_if, JSON
# defaults), so for the same document ajv does less work.
#
# Needs python3 with PyYAML, node and npm (ajv-cli and ajv-formats are
# installed into build/bench/node_modules the first time), a C compiler.
# mcpgc is built with `make -j2 all` (the default -O2; unset SANITIZE).
#
# Targets (issue 3): 10,000 tools checked in <= 100 ms and built in
# <= 150 ms, at least 10x faster than ajv, peak RSS <= 10x the input size.
# The last lines say which of them this run met.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

B=build
out=$B/bench
SIZES=${SIZES:-100 1000 10000 100000}
mkdir -p "$out"

say() { echo "bench: $*" >&2; }

# ---- Tools ------------------------------------------------------------------

if [ -n "${SANITIZE:-}" ]; then
	say "SANITIZE is set; unset it to measure the -O2 build"
	exit 2
fi
make --no-print-directory -j2 all >&2
# Measure a private copy: other builds in the tree (SANITIZE=...) may
# replace build/mcpgc while this runs.
mcpgc=$out/mcpgc
cp "$B/mcpgc" "$mcpgc"
if nm "$mcpgc" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle'; then
	say "$B/mcpgc is a sanitizer build (make SANITIZE=... ran here); rebuild it with 'make all'"
	exit 2
fi
schema=generated/mcpg-config.schema.json

python3 -c 'import yaml' 2>/dev/null || {
	say "python3 cannot import yaml: apt-get install python3-yaml (or pip install pyyaml)"
	exit 2
}

ajv=$out/node_modules/.bin/ajv
if [ ! -x "$ajv" ] || [ ! -d "$out/node_modules/ajv-formats" ]; then
	say "installing ajv-cli and ajv-formats into $out/node_modules"
	[ -f "$out/package.json" ] || echo '{"name": "mcpg-bench", "private": true}' > "$out/package.json"
	(cd "$out" && npm install --no-audit --no-fund --loglevel=error ajv-cli@5 ajv-formats@3) >&2
fi
ajv_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$out/node_modules/ajv-cli/package.json")
ajv_core=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$out/node_modules/ajv/package.json")

# runstat OUT CMD...: run CMD, append "wall_us cpu_us maxrss_kb status" to OUT.
runstat=$out/runstat
if [ ! -x "$runstat" ] || [ -n "$(find "$0" -newer "$runstat")" ]; then
	cat > "$out/runstat.c" <<'EOF'
/* runstat OUT CMD...: wall and CPU time and peak RSS of one command. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *f;

	if (argc < 3)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = fopen(argv[1], "a");
	if (!f)
		return 2;
	fprintf(f, "%lld %lld %ld %d\n",
		(long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000,
		(long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
			ru.ru_utime.tv_usec + ru.ru_stime.tv_usec,
		ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return fclose(f) ? 2 : 0;
}
EOF
	${CC:-cc} -O2 -o "$runstat" "$out/runstat.c"
fi

# ---- Measuring --------------------------------------------------------------

# measure NAME RUNS CMD...: prints "wall_ms cpu_ms maxrss_kb" (medians of
# wall and CPU, the largest RSS); fails when any run exits non-zero.
measure() {
	name=$1 runs=$2
	shift 2
	stats=$out/stats-$name
	: > "$stats"
	i=0
	while [ $i -lt "$runs" ]; do
		"$runstat" "$stats" "$@" > /dev/null 2>&1 < /dev/null
		i=$((i + 1))
	done
	if awk '$4 != 0 { bad = 1 } END { exit !bad }' "$stats"; then
		say "$name: '$*' failed (exit $(awk '$4 != 0 { print $4; exit }' "$stats"))"
		return 1
	fi
	awk '
		function median(a, n,    i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		{ w[NR] = $1; c[NR] = $2; if ($3 > rss) rss = $3 }
		END { printf "%.1f %.1f %d\n", median(w, NR) / 1000, median(c, NR) / 1000, rss }
	' "$stats"
}

say "mcpgc $("$mcpgc" --version | sed 's/^mcpgc //'), ajv-cli $ajv_version (ajv $ajv_core), node $(node --version)"
say "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

rows=$out/rows
: > "$rows"
for n in $SIZES; do
	yaml=$out/tools-$n.yaml json=$out/tools-$n.json img=$out/tools-$n.img
	if [ ! -s "$json" ] || [ -n "$(find bench/gen-tools.py -newer "$json")" ]; then
		say "generating $n tools"
		python3 bench/gen-tools.py "$n" "$yaml" "$json"
	fi
	# Both must accept the document, or the timings mean nothing.
	"$mcpgc" check "$yaml" > /dev/null || { say "mcpgc refuses $yaml"; exit 1; }
	"$ajv" validate -s "$schema" -d "$json" --spec=draft7 -c ajv-formats > /dev/null 2>&1 ||
		{ say "ajv refuses $json"; exit 1; }
	runs=${RUNS:-$([ "$n" -ge 100000 ] && echo 3 || echo 5)}
	say "$n tools: $runs runs each of check, build, ajv"
	c=$(measure "check-$n" "$runs" "$mcpgc" check "$yaml")
	b=$(measure "build-$n" "$runs" "$mcpgc" build "$yaml" -o "$img")
	a=$(measure "ajv-$n" "$runs" "$ajv" validate -s "$schema" -d "$json" --spec=draft7 -c ajv-formats)
	echo "$n $(wc -c < "$yaml") $(wc -c < "$json") $(wc -c < "$img") $c $b $a" >> "$rows"
done

# ---- The table --------------------------------------------------------------

echo
echo "mcpgc check/build vs ajv-cli $ajv_version (ajv $ajv_core, draft7, ajv-formats, strict):" \
	"median wall ms (median CPU ms), peak RSS; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk -v fmt_h='| %7s | %9s | %9s | %17s | %8s | %17s | %8s | %17s | %8s | %9s | %8s |\n' '
function h(b) {
	if (b >= 1048576) return sprintf("%.1f MiB", b / 1048576)
	if (b >= 1024) return sprintf("%.0f KiB", b / 1024)
	return sprintf("%d B", b)
}
function t(w, c) { return sprintf("%.1f (%.1f)", w, c) }
BEGIN {
	printf fmt_h, "tools", "YAML", "JSON", "check ms", "RSS", "build ms", "RSS", "ajv ms", "RSS", "check/ajv", "RSS/YAML"
	printf "|---------|-----------|-----------|-------------------|----------|-------------------|----------|-------------------|----------|-----------|----------|\n"
}
{
	n = $1; ysz = $2; jsz = $3
	cw = $5; cc = $6; cr = $7 * 1024
	bw = $8; bc = $9; br = $10 * 1024
	aw = $11; ac = $12; ar = $13 * 1024
	rss = cr > br ? cr : br
	printf fmt_h, n, h(ysz), h(jsz), t(cw, cc), h(cr), t(bw, bc), h(br), t(aw, ac), h(ar),
		sprintf("%.3f", cw / aw), sprintf("%.1fx", rss / ysz)
}' "$rows"
echo
awk '
$1 == 10000 {
	found = 1
	printf "10,000 tools: check %.1f ms (target <= 100): %s\n", $5, ($5 <= 100 ? "met" : "MISSED")
	printf "10,000 tools: build %.1f ms (target <= 150): %s\n", $8, ($8 <= 150 ? "met" : "MISSED")
	printf "10,000 tools: ajv/check %.1fx (target >= 10x): %s\n", $11 / $5, ($11 / $5 >= 10 ? "met" : "MISSED")
}
{
	rss = ($7 > $10 ? $7 : $10) * 1024
	if (rss > 10 * $2) { over = over sprintf(" %d (%.1fx)", $1, rss / $2) }
}
END {
	if (found != 1) print "(no 10,000-tool row: add 10000 to SIZES for the timing targets)"
	print "peak RSS <= 10x YAML size: " (over == "" ? "met at every size" : "MISSED at" over)
}' "$rows"
