#!/usr/bin/env bash
# ansible-lint (production profile) on the examples and the integration targets,
# from a virtualenv of its own (.cache/lint-venv) so it cannot move the test ansible-core.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root"
bash scripts/setup-env.sh

PYTHON=${PYTHON:-$VENV/bin/python}
lint_venv=$CACHE/lint-venv
lint_requirements="ansible-core>=2.17,<2.20 ansible-lint>=25"
if [ "$(cat "$lint_venv/.stamp" 2>/dev/null)" != "$lint_requirements" ]; then
    rm -rf "$lint_venv"
    "$PYTHON" -m venv "$lint_venv"
    # shellcheck disable=SC2086
    "$lint_venv/bin/python" -m pip install --quiet $lint_requirements 2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
    echo "$lint_requirements" > "$lint_venv/.stamp"
fi

cd "$COLLECTION"
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
export PATH=$lint_venv/bin:$PATH
ansible-lint --version
ansible-lint examples/ tests/integration/targets/
