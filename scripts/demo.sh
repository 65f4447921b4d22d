#!/usr/bin/env bash
# The main job, end to end, against the local AWS endpoint only:
# publish a layer, run again unchanged, then show a change in check mode with --diff.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root"
bash scripts/setup-env.sh

venv=$VENV
state_dir=$CACHE/demo-aws
work=$CACHE/demo
mkdir -p "$work"

endpoint=$("$venv/bin/python" scripts/local_aws.py start --state-dir "$state_dir")
trap '"$venv/bin/python" scripts/local_aws.py stop --state-dir "$state_dir"' EXIT

# Dummy credentials only; no profile or config file of the user's is read.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
# Playbooks on localhost must run modules with the virtualenv's Python (boto3 is there),
# not whatever interpreter discovery finds.
export ANSIBLE_PYTHON_INTERPRETER=$venv/bin/python
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
# No forced colour: a log or a pipe gets plain text, a terminal gets colour unless NO_COLOR is set.
honour_no_color

make_zip() {
    "$venv/bin/python" - "$1" "$2" <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1], "w") as archive:
    info = zipfile.ZipInfo("python/demo_helpers.py", date_time=(2026, 1, 1, 0, 0, 0))
    archive.writestr(info, sys.argv[2])
PY
}

playbook() { "$venv/bin/ansible-playbook" -e "aws_endpoint_url=$endpoint" -e aws_region=us-east-1 "$@"; }

make_zip "$work/layer.zip" 'def greet(): return "hello"'
echo "== 1. Publish the layer (local endpoint $endpoint)"
playbook examples/publish_layer.yml -e "layer_zip=$work/layer.zip"
echo "== 2. The same playbook again: nothing changes"
playbook examples/publish_layer.yml -e "layer_zip=$work/layer.zip"
echo "== 3. New content, dry run with --check --diff: shows the change, writes nothing"
make_zip "$work/layer.zip" 'def greet(): return "hello, world"'
playbook examples/publish_layer.yml -e "layer_zip=$work/layer.zip" --check --diff
echo "== 4. What exists now: still one version (the check-mode run wrote nothing)"
playbook examples/read_layer.yml
echo "== The local endpoint is stopped on exit; nothing was sent to real AWS."

# The way in for whoever runs this next: the same environment, by make or by hand.
cat <<NEXT

== Next: use the collection yourself (README.md, "Use it yourself")
make shell    # a shell where ansible-doc and ansible-playbook find layerwise.aws and amazon.aws,
              # with a local AWS endpoint of its own and dummy credentials; exit stops it
Or, in this shell (the collection is a copy of this checkout, refreshed by make demo and make shell):
export ANSIBLE_COLLECTIONS_PATH=$(printf %q "$COLLECTIONS") PATH=$(printf %q "$venv/bin"):"\$PATH" ANSIBLE_PYTHON_INTERPRETER=$(printf %q "$venv/bin/python")
ansible-doc layerwise.aws.lambda_layer_version
NEXT
