#!/usr/bin/env bash
# The project's test command (`make test`, run by CI): every step runs, a summary closes.
set -uo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root" || exit 1
bash scripts/setup-env.sh || exit 1

passed=()
failed=()
step() {
    local name=$1
    shift
    printf '\n===== %s =====\n' "$name"
    local started=$SECONDS
    if "$@"; then
        passed+=("$name ($((SECONDS - started))s)")
    else
        failed+=("$name ($((SECONDS - started))s)")
    fi
}

render_docs() {
    local path module
    for path in plugins/modules/*.py; do
        module=$(basename "$path" .py)
        ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS "$VENV/bin/ansible-doc" "layerwise.aws.$module" > "$CACHE/ansible-doc-$module.txt" || return 1
        grep -q "layerwise.aws.$module" "$CACHE/ansible-doc-$module.txt" || return 1
        echo "ansible-doc layerwise.aws.$module: $(wc -l < "$CACHE/ansible-doc-$module.txt") lines"
    done
}

# meta/runtime.yml's requires_ansible and galaxy.yml's amazon.aws dependency name their lowest
# versions: each ansible-core line from there to the newest tested must be in the list given.
claimed_lines_tested() {
    local lowest amazon_aws minor line newest=0
    for line in "$@"; do [ "${line#*.}" -gt "$newest" ] && newest=${line#*.}; done
    lowest=$(sed -n 's/^requires_ansible: *">=\([0-9]*\.[0-9]*\).*/\1/p' meta/runtime.yml)
    amazon_aws=$(sed -n 's/^ *amazon\.aws: *">=\([0-9.]*\)".*/\1/p' galaxy.yml)
    [ -n "$lowest" ] || { echo "requires_ansible in meta/runtime.yml is not \">=X.Y...\"" >&2; return 1; }
    for ((minor = ${lowest#*.}; minor <= newest; minor++)); do
        if [[ " $* " != *" ${lowest%%.*}.$minor "* ]]; then
            echo "ansible-core ${lowest%%.*}.$minor is claimed (requires_ansible >=$lowest) but not tested" >&2
            return 1
        fi
    done
    [ "$amazon_aws" = 9.0.0 ] || { echo "galaxy.yml claims amazon.aws >=$amazon_aws; the amazon.aws integration step tests 9.0.0" >&2; return 1; }
    echo "ansible-core $lowest to ${lowest%%.*}.$newest: each line tested; amazon.aws: $amazon_aws, the lowest claimed, tested"
}

# The other ansible-core lines that meta/runtime.yml claims, each with a Python it supports
# (every sanity test, every unit test), and integration on the lowest amazon.aws that galaxy.yml
# claims: in the background, in a cache of their own (their own copy of the collection, their
# own local endpoint), while the steps below run; mostly CPU where the integration tests mostly
# wait. Their steps are recorded in $lines_results and their output in $lines_log, both read
# at the end.
other_core_lines=(2.17:3.10 2.18:3.12 2.20:3.13)
lines_cache=$CACHE/lines
lines_log=$CACHE/lines.log
lines_results=$CACHE/lines.results
claimed_lines() {
    local line core python
    for line in "${other_core_lines[@]}"; do
        core=${line%%:*} python=${line##*:}
        step "ansible-test sanity (ansible-core $core, Python $python)" \
            env CACHE="$lines_cache" ANSIBLE_TEST_CORE="$core" ANSIBLE_TEST_PYTHON="$python" bash scripts/ansible-test.sh sanity
        step "ansible-test units (ansible-core $core, Python $python)" \
            env CACHE="$lines_cache" ANSIBLE_TEST_CORE="$core" ANSIBLE_TEST_PYTHON="$python" bash scripts/ansible-test.sh units
    done
    # amazon.aws 9.0.0 is bundled by ansible 11.0.0: the main target of each module, and the
    # action group that extends amazon.aws's (the fault, packaging, lifecycle and scale targets
    # exercise our own code, not more of amazon.aws's, and run on amazon.aws 10 above).
    step "ansible-test integration on amazon.aws 9.0.0 (each module's target, module_defaults_group)" \
        env CACHE="$lines_cache/amazon.aws-9" ANSIBLE_PACKAGE_VERSION=11.0.0 \
        bash scripts/ansible-test.sh integration lambda_layer_version lambda_layer_version_info \
        lambda_layer_version_permission lambda_layer_versions module_defaults_group
    for name in "${passed[@]}"; do echo "passed: $name"; done > "$lines_results"
    for name in "${failed[@]+"${failed[@]}"}"; do echo "FAILED: $name"; done >> "$lines_results"
}
rm -f "$lines_results"
claimed_lines > "$lines_log" 2>&1 &
lines_pid=$!

step "ansible-test sanity" bash scripts/ansible-test.sh sanity
step "ansible-test units" bash scripts/ansible-test.sh units
step "ansible-test integration" bash scripts/ansible-test.sh integration
step "documentation examples against the local endpoint" bash scripts/examples.sh
step "newcomer: make demo, its way in, the documented shell commands in make shell" bash scripts/newcomer-test.sh
step "execution environment (ansible-builder create + introspection)" bash scripts/ee-test.sh
step "AWX-style jobs through ansible-runner" bash scripts/awx-runner-test.sh
step "ansible-doc renders every module" render_docs
# The reduced form of `make load` (30-50 s on 2 busy cores; the runs are stopped after 75 s).
step "load at Lambda's quota (reduced: 2 x 10 layers + 3 runs on one layer)" \
    "$VENV/bin/python" scripts/load-test.py --processes 2 --layers 10 --single-runs 3 --timeout 75
step "ansible-lint (production) on examples and integration targets" bash scripts/lint.sh
step "ansible-test sanity (ansible-core 2.21, Python 3.12)" env ANSIBLE_TEST_CORE=2.21 bash scripts/ansible-test.sh sanity
step "ansible-test units (ansible-core 2.21, Python 3.12)" env ANSIBLE_TEST_CORE=2.21 bash scripts/ansible-test.sh units
step "antsibull-docs lint and HTML docs site" bash scripts/docs-site.sh
step "antsibull-changelog lint" bash scripts/changelog.sh
step "build the tarball, install it, run it" bash scripts/build-install-test.sh
step "galaxy-importer on the tarball" bash scripts/galaxy-importer.sh

step "every ansible-core line from requires_ansible on is tested" claimed_lines_tested 2.19 2.21 "${other_core_lines[@]%%:*}"
printf '\n===== the claimed lines (run in the background; output from %s) =====\n' "$lines_log"
waited=$SECONDS
wait "$lines_pid"
echo "(waited $((SECONDS - waited))s for them)"
cat "$lines_log"
if [ -f "$lines_results" ]; then
    while read -r status name; do
        if [ "$status" = passed: ]; then passed+=("$name"); else failed+=("$name"); fi
    done < "$lines_results"
else
    failed+=("the claimed lines: no results recorded (see $lines_log)")
fi

printf '\n===== summary =====\n'
for name in "${passed[@]}"; do echo "passed: $name"; done
for name in "${failed[@]+"${failed[@]}"}"; do echo "FAILED: $name"; done
echo "test steps: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
