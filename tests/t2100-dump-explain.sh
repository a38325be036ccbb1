# t2100 - `mcpgc dump` and `mcpgc explain`.
#
# dump: every template builds, dumps, and the dump builds to the same image
# bytes (YAML and JSON); JSON dumps parse; a literal secret is redacted in
# the dump, and a secret given as ${env.X} never reaches the image bytes.
# explain: a key set in one layer and overridden in another (golden), a
# default-only key, an unknown key with did-you-mean, a union variant key,
# list element paths.  Everything runs in $T.
. "$TOP/tests/lib.sh"
cd "$T" || exit 2

if [ ! -x "$MCPGC" ]; then
	skip t2100 "$MCPGC is not built"
	exit 0
fi

# The names of the ${env.NAME} references in a file.
env_refs() {
	grep -o '\${env\.[A-Za-z_][A-Za-z0-9_]*}' "$1" | sed 's/^\${env\.//; s/}$//' | sort -u
}

# ---- build -> dump -> build, one case per template --------------------------

for tpl in "$TOP"/templates/*.yaml; do
	name=$(basename "$tpl" .yaml)
	dir="$T/rt-$name"
	mkdir -p "$dir"
	layers="$tpl"
	# A template whose pre-staged files do not exist here checks with its
	# fixture overlay, copied next to the files it names (mcpgc reads them
	# relative to the config file that set the key; the dump lands here too).
	overlay="$TOP/tests/config-fixtures/$name.local.yaml"
	if [ -f "$overlay" ]; then
		cp "$TOP"/tests/config-fixtures/* "$dir/"
		layers="$tpl $dir/$name.local.yaml"
	fi
	(
		cd "$dir" || exit 2
		# Values are never resolved by build (no --env); they only need to exist.
		for v in $(env_refs "$tpl"); do
			eval "$v=dummy-$v; export $v"
		done
		# shellcheck disable=SC2086
		"$MCPGC" build $layers -o a.img > build-a.out 2>&1 || { echo "build a"; exit 1; }
		"$MCPGC" dump a.img > a.yaml 2> dump.err || { echo "dump"; exit 1; }
		"$MCPGC" build a.yaml -o b.img > build-b.out 2>&1 || { echo "build b"; exit 1; }
		cmp a.img b.img > cmp.out 2>&1 || { echo "cmp"; exit 1; }
		"$MCPGC" dump b.img > b.yaml 2>> dump.err || { echo "dump b"; exit 1; }
		cmp a.yaml b.yaml > cmp.out 2>&1 || { echo "dump not stable"; exit 1; }
		"$MCPGC" dump --format json a.img > a.json 2>> dump.err || { echo "dump json"; exit 1; }
		python3 -m json.tool a.json > /dev/null 2> json.err || { echo "json.tool json"; exit 1; }
		"$MCPGC" build a.json -o c.img > build-c.out 2>&1 || { echo "build json"; exit 1; }
		cmp a.img c.img > cmp.out 2>&1 || { echo "cmp json"; exit 1; }
	) > "$dir/step" 2>&1
	step=$(cat "$dir/step")
	case $step in
	"") ok "build, dump, build gives the same image: $name"
	    ok "dump --format json parses and builds the same image: $name" ;;
	"build a"*) fail "build, dump, build gives the same image: $name" \
		"the template does not build" "$(head -20 "$dir/build-a.out")" ;;
	"build b"*) fail "build, dump, build gives the same image: $name" \
		"the dump does not build" "$(head -20 "$dir/build-b.out")" ;;
	*json*) ok "build, dump, build gives the same image: $name"
	    fail "dump --format json parses and builds the same image: $name" "$step" \
		"$(cat "$dir/json.err" "$dir/build-c.out" "$dir/cmp.out" 2>/dev/null | head -20)" ;;
	*)  fail "build, dump, build gives the same image: $name" \
		"$step" "$(cat "$dir/cmp.out" "$dir/dump.err")" \
		"$(diff "$dir/a.yaml" "$dir/b.yaml" 2>/dev/null | head -20)" ;;
	esac
done

# ---- secrets ------------------------------------------------------------------

mkdir -p "$T/secret" && cd "$T/secret" || exit 2
cat > literal.yaml <<'EOF'
cluster:
  kind: redis
  url: "redis://127.0.0.1:6379"
  password: "s3cr3t-literal-8f2a"
EOF
cat > env.yaml <<'EOF'
cluster:
  kind: redis
  url: "redis://127.0.0.1:6379"
  password: "${env.MCPG_T2100_SECRET}"
EOF
base="$TOP/templates/dev-single-node.yaml"

id="a literal secret is redacted in the dump"
if "$MCPGC" build "$base" literal.yaml -o lit.img > lit.out 2>&1 &&
   "$MCPGC" dump lit.img > lit.yaml 2>&1 &&
   "$MCPGC" dump --format json lit.img > lit.json 2>&1; then
	if grep -q 's3cr3t-literal' lit.yaml lit.json; then
		fail "$id" "the secret is in the dump:" "$(grep -h 's3cr3t' lit.yaml lit.json)"
	elif grep -q '^  password: "<redacted>"$' lit.yaml &&
	     grep -q '^    "password": "<redacted>",$' lit.json; then
		ok "$id"
	else
		fail "$id" "no redacted password line" "$(cat lit.yaml)"
	fi
else
	fail "$id" "$(head -20 lit.out)"
fi

id="a secret in the environment is not in the image"
MCPG_T2100_SECRET=topsecret-4c1d9e; export MCPG_T2100_SECRET
if "$MCPGC" build "$base" env.yaml -o env.img > env.out 2>&1 &&
   "$MCPGC" build --env "$base" env.yaml -o env2.img >> env.out 2>&1 &&
   "$MCPGC" dump env.img > env.yaml.dump 2>&1; then
	if grep -a -q topsecret-4c1d9e env.img env2.img; then
		fail "$id" "the image bytes hold the secret"
	elif grep -q '^  password: "\${env.MCPG_T2100_SECRET}"$' env.yaml.dump &&
	     ! grep -q topsecret env.yaml.dump; then
		ok "$id"
	else
		fail "$id" "the dump does not show the reference" "$(cat env.yaml.dump)"
	fi
else
	fail "$id" "$(head -20 env.out)"
fi
unset MCPG_T2100_SECRET

# ---- explain ------------------------------------------------------------------

mkdir -p "$T/explain" && cd "$T/explain" || exit 2
cat > base.yaml <<'EOF'
gateway:
  server:
    bind_address: "127.0.0.1:9000"
cluster:
  kind: redis
  url: "redis://127.0.0.1:6379"
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        backend:
          kind: mock
      - name: fetch
        description: Fetch.
        backend:
          kind: http
          url: "https://example.com/${arguments.path}"
EOF
cat > prod.yaml <<'EOF'
gateway:
  server:
    bind_address: "0.0.0.0:8787"
    allow_anonymous_public_bind: true
EOF

id="explain: a key set in two layers shows both places"
cat > expected <<'EOF'
gateway.server.bind_address
  type:        string (format socket_addr)
  flags:       restart
  default:     "127.0.0.1:8787"
  doc:         Address and port the listener binds, as host:port or [v6]:port.
               A non-loopback address with anonymous access needs
               allow_anonymous_public_bind.
  value:       "0.0.0.0:8787"
               set at prod.yaml:3:19 (layer 2: prod.yaml)
               overrode "127.0.0.1:9000" at base.yaml:3:19
EOF
if "$MCPGC" explain base.yaml prod.yaml gateway.server.bind_address > out 2> err; then
	if diff -u expected out > diff.out; then ok "$id"
	else fail "$id" "$(cat diff.out)"; fi
else
	fail "$id" "exit status $?" "$(cat err)"
fi

id="explain: a key only the default sets"
if "$MCPGC" explain base.yaml prod.yaml gateway.server.mcp_path > out 2> err &&
   grep -q '^  default:     "/mcp"$' out &&
   grep -q '^  value:       not set; default "/mcp"$' out && ! grep -q 'set at' out; then
	ok "$id"
else
	fail "$id" "$(cat out err)"
fi

id="explain: an unknown key exits 1 with did-you-mean"
"$MCPGC" explain base.yaml prod.yaml gateway.server.bind_adress > out 2> err
rc=$?
echo "mcpgc: error: unknown key 'bind_adress' in 'gateway.server'" \
	"(did you mean 'bind_address'?)" > expected
if [ "$rc" -eq 1 ] && [ ! -s out ] && diff -u expected err > diff.out; then
	ok "$id"
else
	fail "$id" "exit status $rc, wanted 1" "$(cat out diff.out)"
fi

id="explain: a union variant key resolves through the selected kind"
if "$MCPGC" explain base.yaml prod.yaml cluster.url > out 2> err &&
   grep -q '^  variant:     kind: redis$' out &&
   grep -q '^  flags:       required, restart$' out &&
   grep -q '^  value:       "redis://127.0.0.1:6379"$' out &&
   grep -q '^               set at base.yaml:6:8 (layer 1: base.yaml)$' out; then
	ok "$id"
else
	fail "$id" "$(cat out err)"
fi

id="explain: a list element path"
if "$MCPGC" explain base.yaml prod.yaml 'mcp.capabilities.tools[1].backend.url' > out 2> err &&
   grep -q '^mcp.capabilities.tools\[1\].backend.url$' out &&
   grep -q '^  variant:     kind: http$' out &&
   grep -q '^  value:       "https://example.com/\${arguments.path}"$' out &&
   grep -q '^               set at base.yaml:18:16 (layer 1: base.yaml)$' out; then
	ok "$id"
else
	fail "$id" "$(cat out err)"
fi

id="explain: a list element path with [] is schema only"
if "$MCPGC" explain base.yaml 'mcp.capabilities.tools[].name' > out 2> err &&
   grep -q '^  flags:       required$' out && ! grep -q '^  value:' out; then
	ok "$id"
else
	fail "$id" "$(cat out err)"
fi

id="explain: a variant key the selected kind does not have"
na="^  value:       not applicable: 'mcp.capabilities.tools\[0\].backend.kind' is 'mock',"
if "$MCPGC" explain base.yaml 'mcp.capabilities.tools[0].backend.url' > out 2> err &&
   grep -q "$na which has no 'url'\$" out; then
	ok "$id"
else
	fail "$id" "$(cat out err)"
fi
