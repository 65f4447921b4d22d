#!/usr/bin/env bash
# AWX-style test: examples/ee/layer_job.yml run through ansible-runner with a private data
# directory per job, credentials only from env/envvars (as AWX's "Amazon Web Services"
# credential injects them), "run" and "check" (--check --diff) job types, assertions on
# the job events; against the local AWS endpoint, with dummy credentials only.
# The tests are tests/awx/test_awx_jobs.py (pytest). Ends with "awx-runner-test: PASSED"
# or "awx-runner-test: FAILED ..." and exits non-zero on any failure.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/tool-venv.sh
. "$(dirname "$0")/tool-venv.sh"
cd "$root"

log() { printf '[awx-runner-test] %s\n' "$*" >&2; }
fail() {
    echo "awx-runner-test: FAILED: $*"
    exit 1
}

bash scripts/setup-env.sh

# What an execution environment holds (ansible-core, ansible-runner, boto3), plus pytest,
# in a virtualenv of its own, made again only when these requirements change.
awx_venv=$CACHE/awx-venv
export PIP_CACHE_DIR=$CACHE/pip
tool_venv "$awx_venv" "$VENV/bin/python" \
    "ansible-core>=2.17,<2.20" "ansible-runner>=2.4,<2.5" "boto3>=1.34.0" "botocore>=1.34.0" "pytest>=8"
log "$("$awx_venv/bin/python" -c 'from importlib.metadata import version as v; print(", ".join(f"{p} {v(p)}" for p in ("ansible-runner", "ansible-core", "boto3")))')"

state_dir=$CACHE/awx-aws
work=$CACHE/awx-jobs
rm -rf "$work"
mkdir -p "$work"
endpoint=$("$VENV/bin/python" scripts/local_aws.py start --state-dir "$state_dir") || fail "the local AWS endpoint did not start"
cleanup() {
    local status=$?
    "$VENV/bin/python" "$root/scripts/local_aws.py" stop --state-dir "$state_dir" || true
    if [ "$status" -ne 0 ]; then
        echo "awx-runner-test: FAILED (exit $status; private data directories kept in $work)"
    fi
}
trap cleanup EXIT
log "local AWS endpoint $endpoint"

# No AWS profile or config file of the user's for the harness (it seeds S3 with dummy keys of
# its own); the jobs get a clean environment and their credential only from env/envvars.
env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    PYTHONDONTWRITEBYTECODE=1 LW_AWS_ENDPOINT="$endpoint" LW_COLLECTIONS="$COLLECTIONS" LW_WORK="$work" LW_RUNNER="$awx_venv/bin/ansible-runner" \
    "$awx_venv/bin/python" -m pytest -p no:cacheprovider --rootdir tests/awx -q -ra tests/awx

trap - EXIT
"$VENV/bin/python" scripts/local_aws.py stop --state-dir "$state_dir"
echo "awx-runner-test: PASSED (ansible-runner jobs: run, run again, check --diff, no credential)"
