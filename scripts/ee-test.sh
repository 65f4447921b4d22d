#!/usr/bin/env bash
# Execution environment (EE) test, without a container engine:
#   1. `ansible-builder create` on examples/ee/execution-environment.yml: the build context
#      must install layerwise.aws and amazon.aws (galaxy stage) and run the introspection.
#   2. The galaxy stage, emulated: this collection built with `ansible-galaxy collection build`,
#      put into a build context as docs/awx.md says (additional_build_files), and installed
#      from there with the context's requirements.yml; amazon.aws beside it.
#   3. The builder stage, emulated: the context's own _build/scripts/introspect.py, run as its
#      Containerfile runs it, must find boto3 and botocore from layerwise.aws's metadata
#      (meta/execution-environment.yml -> requirements.txt).
# Ends with "ee-test: PASSED" or "ee-test: FAILED ..." and exits non-zero on any failure.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/tool-venv.sh
. "$(dirname "$0")/tool-venv.sh"
cd "$root"

log() { printf '[ee-test] %s\n' "$*" >&2; }
fail() {
    trap - EXIT
    echo "ee-test: FAILED: $*"
    exit 1
}
on_exit() {
    local status=$?
    [ "$status" -eq 0 ] || echo "ee-test: FAILED (exit $status; files kept in $CACHE/ee-test)"
}
trap on_exit EXIT

bash scripts/setup-env.sh

# ansible-builder in a virtualenv of its own, made again only when its requirements change.
builder_venv=$CACHE/ee-venv
export PIP_CACHE_DIR=$CACHE/pip
tool_venv "$builder_venv" "$VENV/bin/python" "ansible-builder>=3.1,<4"
log "ansible-builder $("$builder_venv/bin/ansible-builder" --version)"

work=$CACHE/ee-test
rm -rf "$work"
mkdir -p "$work/definition" "$work/dist" "$work/share/collections" "$work/output"
cp examples/ee/* "$work/definition/"

# 1. The build context.
context=$work/context
"$builder_venv/bin/ansible-builder" create --file "$work/definition/execution-environment.yml" \
    --context "$context" --output-filename Containerfile > "$work/create.log" 2>&1 ||
    { cat "$work/create.log"; fail "ansible-builder create"; }
containerfile=$context/Containerfile
[ -f "$containerfile" ] || fail "no Containerfile in $context"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$containerfile" ||
    fail "the Containerfile does not install the collections of requirements.yml"
grep -q 'introspect.py introspect' "$containerfile" ||
    fail "the Containerfile does not introspect the collections' dependencies"
"$builder_venv/bin/python" - "$context/_build/requirements.yml" <<'PY' || fail "the build context does not list layerwise.aws and amazon.aws"
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as requirements_file:
    collections = {entry["name"] for entry in yaml.safe_load(requirements_file)["collections"]}
print(f"[ee-test] build context collections: {', '.join(sorted(collections))}", file=sys.stderr)
sys.exit(not {"layerwise.aws", "amazon.aws"} <= collections)
PY

# 2. The galaxy stage: build this collection and install it as the image build would.
"$VENV/bin/ansible-galaxy" collection build "$COLLECTION" --output-path "$work/dist" > "$work/build.log" 2>&1 ||
    { cat "$work/build.log"; fail "ansible-galaxy collection build"; }
tarball=$(find "$work/dist" -name 'layerwise-aws-*.tar.gz' -print -quit)
[ -n "$tarball" ] || fail "no collection tarball built"
tar -tzf "$tarball" > "$work/tarball-members.txt"
for member in meta/execution-environment.yml requirements.txt; do
    grep -qx "$member" "$work/tarball-members.txt" || fail "$member is missing from $(basename "$tarball") (galaxy.yml build_ignore?)"
done
# The recipe of docs/awx.md for a collection not yet on a Galaxy server: the tarball in the
# build context (additional_build_files) and a "type: file" entry in requirements.yml.
# amazon.aws cannot come from Galaxy here: it is left out and copied in below instead.
offline=$work/offline-definition
cp -r "$work/definition" "$offline"
cp "$tarball" "$offline/"
"$builder_venv/bin/python" - "$offline" "$(basename "$tarball")" <<'PY'
import os
import sys

import yaml

definition_dir, tarball = sys.argv[1], sys.argv[2]
definition_path = os.path.join(definition_dir, "execution-environment.yml")
with open(definition_path, encoding="utf-8") as handle:
    definition = yaml.safe_load(handle)
definition["additional_build_files"] = [{"src": tarball, "dest": "collections"}]
with open(definition_path, "w", encoding="utf-8") as handle:
    yaml.safe_dump(definition, handle)
with open(os.path.join(definition_dir, "requirements.yml"), "w", encoding="utf-8") as handle:
    yaml.safe_dump({"collections": [{"name": f"collections/{tarball}", "type": "file"}]}, handle)
PY
offline_context=$work/offline-context
"$builder_venv/bin/ansible-builder" create --file "$offline/execution-environment.yml" \
    --context "$offline_context" --output-filename Containerfile > "$work/create-offline.log" 2>&1 ||
    { cat "$work/create-offline.log"; fail "ansible-builder create (collection tarball in the context)"; }
[ -f "$offline_context/_build/collections/$(basename "$tarball")" ] ||
    fail "additional_build_files did not put the tarball into the build context"
# As the Containerfile's galaxy stage does it: in _build (the image's /build), with its requirements.yml.
(cd "$offline_context/_build" && "$VENV/bin/ansible-galaxy" collection install --no-deps --offline -r requirements.yml \
    --collections-path "$work/share/collections") > "$work/install.log" 2>&1 ||
    { cat "$work/install.log"; fail "ansible-galaxy collection install -r requirements.yml in the build context"; }
[ -f "$work/share/collections/ansible_collections/layerwise/aws/MANIFEST.json" ] || fail "layerwise.aws was not installed"
cp -r "$COLLECTIONS/ansible_collections/amazon" "$work/share/collections/ansible_collections/"

# 3. The builder stage: the context's own introspection, on the installed collections.
"$builder_venv/bin/python" "$context/_build/scripts/introspect.py" introspect \
    --user-pip="$context/_build/requirements.txt" \
    --write-bindep="$work/output/bindep.txt" --write-pip="$work/output/requirements.txt" \
    "$work/share/collections" > "$work/introspect.log" 2>&1 ||
    { cat "$work/introspect.log"; fail "introspect.py"; }
echo "[ee-test] Python requirements of the EE (as the builder stage would write them):" >&2
sed 's/^/    /' "$work/output/requirements.txt" >&2
for package in boto3 botocore; do
    grep -Eq "^${package}[<>=!~ ].*# from collection .*layerwise\.aws" "$work/output/requirements.txt" ||
        fail "$package is not taken from layerwise.aws's metadata"
done
# Our collection needs no system packages; whatever amazon.aws lists is only for its tests.
if [ -f "$work/output/bindep.txt" ] && grep -q 'layerwise\.aws' "$work/output/bindep.txt"; then
    fail "unexpected system requirements from layerwise.aws"
fi

trap - EXIT
echo "ee-test: PASSED (ansible-builder create, collection metadata: boto3 and botocore from layerwise.aws)"
