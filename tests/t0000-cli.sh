# t0000 - the mcpgc command line: usage, exit codes, names, init, check
# summary lines, MCPG_CONFIG layering.
. "$TOP/tests/lib.sh"

expect_rc "no arguments is a usage error" 2 "$MCPGC"
expect_rc "--help exits 0" 0 "$MCPGC" --help
expect_rc "unknown command" 2 "$MCPGC" frobnicate
expect_rc "check with a missing file exits 2" 2 "$MCPGC" check "$T/nope.yaml"
expect_rc "check with no files and no MCPG_CONFIG" 2 env -u MCPG_CONFIG "$MCPGC" check
expect_rc "build without -o" 2 "$MCPGC" build "$TOP/templates/dev-single-node.yaml"

if "$MCPGC" --version | grep -q "^mcpgc [0-9.]* (schema [0-9a-f]\{64\})$"; then
	ok "--version names the schema hash"
else fail "--version names the schema hash" "$("$MCPGC" --version)"; fi

# init
"$MCPGC" init --list > list.out
if [ "$(wc -l < list.out)" -eq 6 ] && grep -q '^dev-single-node  *— ' list.out; then
	ok "init --list shows six templates"
else fail "init --list shows six templates" "$(cat list.out)"; fi
expect_rc "init writes a template" 0 "$MCPGC" init --template dev-single-node --output c.yaml
if cmp -s c.yaml "$TOP/templates/dev-single-node.yaml"; then ok "init writes the template verbatim"
else fail "init writes the template verbatim"; fi
expect_rc "init refuses to overwrite" 1 "$MCPGC" init --template dev-single-node --output c.yaml
expect_rc "init --force overwrites" 0 "$MCPGC" init --template air-gapped --output c.yaml --force
expect_rc "init with an unknown template" 1 "$MCPGC" init --template nope --output d.yaml
ln -sf "$MCPGC" mcpg-config-init
ln -sf "$MCPGC" mcpg-config-check
expect_rc "mcpg-config-init answers as init" 0 ./mcpg-config-init --template dev-single-node --output e.yaml
expect_rc "mcpg-config-check answers as check" 0 ./mcpg-config-check e.yaml
echo "" | "$MCPGC" init --output menu.yaml > menu.out 2>&1
if cmp -s menu.yaml "$TOP/templates/dev-single-node.yaml"; then ok "init menu defaults to template 1"
else fail "init menu defaults to template 1" "$(cat menu.out)"; fi

# check summary
"$MCPGC" check "$TOP/templates/dev-single-node.yaml" > sum.out 2>&1
if grep -q "^✓ $TOP/templates/dev-single-node.yaml: valid (2 bindings, audit on, observability on, cluster: single_node)$" sum.out; then
	ok "check prints the summary line"
else fail "check prints the summary line" "$(cat sum.out)"; fi

# The seed's layering: the override declares only what it changes.
cp "$TOP/templates/dev-single-node.yaml" base.yaml
cat > local-overrides.yaml <<'YAML'
gateway:
  server:
    bind_address: "127.0.0.1:9797"
YAML
expect_rc "MCPG_CONFIG=base:override check" 0 env MCPG_CONFIG=base.yaml:local-overrides.yaml "$MCPGC" check
if MCPG_CONFIG=base.yaml:local-overrides.yaml "$MCPGC" check | grep -q '^✓ base.yaml + local-overrides.yaml: valid'; then
	ok "MCPG_CONFIG layers are named in order"
else fail "MCPG_CONFIG layers are named in order"; fi
"$MCPGC" build base.yaml local-overrides.yaml -o l.img > /dev/null
if "$MCPGC" dump l.img | grep -q '127.0.0.1:9797'; then ok "the override layer wins"
else fail "the override layer wins"; fi

# Exit status 1 for an invalid config, and a ✗ line.
printf 'gateway:\n  server:\n    bind_adress: x\n' > bad.yaml
expect_rc "invalid config exits 1" 1 "$MCPGC" check bad.yaml
if "$MCPGC" check bad.yaml 2>&1 | grep -q '^✗ bad.yaml: invalid (1 error)$'; then ok "invalid config says so"
else fail "invalid config says so" "$("$MCPGC" check bad.yaml 2>&1)"; fi

# build: atomic write, digest printed, reproducible.
"$MCPGC" build "$TOP/templates/dev-single-node.yaml" -o a.img > build.out
"$MCPGC" build "$TOP/templates/dev-single-node.yaml" -o b.img > /dev/null
if cmp -s a.img b.img && grep -q "^wrote a.img ([0-9]* bytes, sha256 [0-9a-f]\{64\})$" build.out; then
	ok "build is reproducible and prints the digest"
else fail "build is reproducible and prints the digest" "$(cat build.out)"; fi
if [ ! -e a.img.tmp ]; then ok "build leaves no temp file"; else fail "build leaves no temp file"; fi
expect_rc "build into a missing directory exits 2" 2 "$MCPGC" build "$TOP/templates/dev-single-node.yaml" -o "$T/no/such/dir/x.img"

# schema
if "$MCPGC" schema | cmp -s - "$TOP/schema/mcpg.schema"; then ok "schema prints the schema"
else fail "schema prints the schema"; fi
if "$MCPGC" schema --json-schema | python3 -m json.tool > /dev/null; then ok "schema --json-schema is JSON"
else fail "schema --json-schema is JSON"; fi

# --format=json diagnostics
"$MCPGC" check --format=json bad.yaml > j.out 2>/dev/null
if python3 -c 'import json,sys; d=json.load(open("j.out")); assert d[0]["line"]==3 and d[0]["column"]==5 and "bind_adress" in d[0]["message"]'; then
	ok "--format=json diagnostics"
else fail "--format=json diagnostics" "$(cat j.out)"; fi
