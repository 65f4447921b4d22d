#!/usr/bin/env bash
# ansible-lint (production profile) on the examples and the integration targets,
# from a virtualenv of its own (.cache/lint-venv) so it cannot move the test ansible-core.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/tool-venv.sh
. "$(dirname "$0")/tool-venv.sh"
cd "$root"
bash scripts/setup-env.sh

lint_venv=$CACHE/lint-venv
tool_venv "$lint_venv" "$VENV/bin/python" "ansible-core>=2.17,<2.20" "ansible-lint>=25"

cd "$COLLECTION"
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
export PATH=$lint_venv/bin:$PATH
# ansible-lint colours its report even into a file or a pipe: plain text there, as everywhere.
[ -t 1 ] || export NO_COLOR=1
honour_no_color
ansible-lint --version
ansible-lint examples/ tests/integration/targets/
