#!/usr/bin/env bash
# Build the collection tarball as a release would, check what is in it, install it into a clean
# collections path, and use a module from there: ansible-doc, and a playbook against the local
# AWS endpoint (publish, publish again unchanged, read back).
#
#   scripts/build-install-test.sh     leaves the tarball in $CACHE/dist/ (galaxy-importer.sh uses it)
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root"
bash scripts/setup-env.sh

venv=$VENV
dist=$CACHE/dist
work=$CACHE/install-test
state_dir=$CACHE/install-test-aws
fail() { echo "build-install-test: FAILED: $*" >&2; exit 1; }

# Build from the checkout itself, as a maintainer would: build_ignore must keep out what the
# working tree holds besides the collection (virtualenvs, caches, test output, CI files).
rm -rf "$dist" "$work"
mkdir -p "$dist" "$work"
"$venv/bin/ansible-galaxy" collection build --output-path "$dist" .
version=$(sed -n 's/^version: *//p' galaxy.yml)
tarball=$dist/layerwise-aws-$version.tar.gz
[ -f "$tarball" ] || fail "no $tarball"

tar -tzf "$tarball" | sed 's#^\./##; s#/$##' | sort > "$work/contents.txt"
echo "tarball: $tarball, $(wc -l < "$work/contents.txt") entries, $(du -k "$tarball" | cut -f1) KiB"
junk='^(\.cache|\.venv|\.ci|\.git|\.github|scripts|benchmarks|release|collections|docs/_build)(/|$)'
junk+='|(^|/)(__pycache__|\.pytest_cache|\.mypy_cache)(/|$)|\.pyc$|\.tar\.gz$'
junk+='|^tests/output(/|$)|^tests/integration/(inventory|integration_config\.yml|cloud-config-[^/]*\.ini)$'
if grep -E "$junk" "$work/contents.txt"; then
    fail "the tarball holds the files above; add them to build_ignore in galaxy.yml"
fi
for required in MANIFEST.json FILES.json README.md COPYING meta/runtime.yml requirements.txt \
    plugins/modules/lambda_layer_version.py plugins/modules/lambda_layer_version_info.py \
    docs/getting_started.md; do
    grep -qx "$required" "$work/contents.txt" || fail "the tarball lacks $required"
done

# A clean collections path: the tarball, and amazon.aws (the dependency; Galaxy is not used).
collections=$work/collections
export ANSIBLE_COLLECTIONS_PATH=$collections ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
"$venv/bin/ansible-galaxy" collection install --no-deps -p "$collections" "$tarball"
ln -s "$COLLECTIONS/ansible_collections/amazon" "$collections/ansible_collections/amazon"
installed=$collections/ansible_collections/layerwise/aws
grep -q "\"version\": \"$version\"" "$installed/MANIFEST.json" || fail "installed MANIFEST.json is not version $version"

for path in plugins/modules/*.py; do
    module=layerwise.aws.$(basename "$path" .py)
    "$venv/bin/ansible-doc" --json "$module" > "$work/$module.json" || fail "ansible-doc $module"
    "$venv/bin/python" - "$work/$module.json" "$module" "$installed" <<'PY' || fail "ansible-doc $module: not from the installed tarball"
import json
import sys

doc_file, module, installed = sys.argv[1:]
entry = json.load(open(doc_file, encoding="utf-8"))[module]
assert entry["doc"]["filename"].startswith(installed + "/"), entry["doc"]["filename"]
print(f"ansible-doc {module}: {entry['doc']['filename']}")
PY
done

# Run the installed modules against the local endpoint, with dummy credentials only.
endpoint=$("$venv/bin/python" scripts/local_aws.py start --state-dir "$state_dir")
trap '"$venv/bin/python" "$root/scripts/local_aws.py" stop --state-dir "$state_dir"' EXIT
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
export ANSIBLE_PYTHON_INTERPRETER=$venv/bin/python
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

"$venv/bin/python" - "$work/layer.zip" <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1], "w") as archive:
    archive.writestr(zipfile.ZipInfo("python/installed_check.py", date_time=(2026, 1, 1, 0, 0, 0)), "VALUE = 1\n")
PY
cat > "$work/smoke.yml" <<'YAML'
---
- name: Use layerwise.aws as installed from the tarball
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/layerwise.aws.aws:
      endpoint_url: "{{ aws_endpoint_url }}"
      region: us-east-1
  tasks:
    - name: Publish a layer
      layerwise.aws.lambda_layer_version:
        layer_name: installed-check
        filename: "{{ layer_zip }}"
        compatible_runtimes: [python3.12]
      register: first

    - name: Publish it again, unchanged
      layerwise.aws.lambda_layer_version:
        layer_name: installed-check
        filename: "{{ layer_zip }}"
        compatible_runtimes: [python3.12]
      register: second

    - name: Read it back
      layerwise.aws.lambda_layer_version_info:
        layer_name: installed-check
        latest: true
      register: read

    - name: Check the results
      ansible.builtin.assert:
        that:
          - first is changed
          - first.layer_version.version == 1
          - second is not changed
          - read.layer_versions | length == 1
          - read.layer_versions[0].code_sha256 == first.layer_version.code_sha256
YAML
"$venv/bin/ansible-playbook" "$work/smoke.yml" -e "aws_endpoint_url=$endpoint" -e "layer_zip=$work/layer.zip"
echo "build-install-test: layerwise.aws $version built, installed from the tarball and run: passed"
