# t2000 - golden diagnostics for broken configs.
#
# Each tests/config-errors/NNNN/ holds `desc` (one line), the layers
# (*.yaml, merged in name order unless a `layers` file lists them), and
# `expected`: the exact stderr of `mcpgc check` run from the top of the
# tree, which must exit 1.  An optional `args` file adds options (--env,
# --format=json; with --format=json `expected` holds stdout).  An optional
# `env` file holds NAME=VALUE lines exported first.
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 2
for dir in tests/config-errors/[0-9]*; do
	[ -d "$dir" ] || continue
	id="config-errors/$(basename "$dir"): $(cat "$dir/desc" 2>/dev/null)"
	if [ -f "$dir/layers" ]; then
		layers=$(sed "s|^|$dir/|" "$dir/layers")
	else
		layers=$(ls "$dir"/*.yaml)
	fi
	args=$(cat "$dir/args" 2>/dev/null || true)
	(
		if [ -f "$dir/env" ]; then
			set -a
			. "./$dir/env"
			set +a
		fi
		# shellcheck disable=SC2086
		"$MCPGC" check $args $layers > "$T/stdout" 2> "$T/stderr"
		echo $? > "$T/rc"
	)
	rc=$(cat "$T/rc")
	case " $args " in
	*--format=json*) out="$T/stdout" ;;
	*) out="$T/stderr" ;;
	esac
	if [ "$rc" != 1 ]; then
		fail "$id" "exit status $rc, wanted 1" "$(cat "$T/stderr")"
		continue
	fi
	golden "$id" "$dir/expected" "$out"
done
