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

printf '\n===== summary =====\n'
for name in "${passed[@]}"; do echo "passed: $name"; done
for name in "${failed[@]+"${failed[@]}"}"; do echo "FAILED: $name"; done
echo "test steps: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
