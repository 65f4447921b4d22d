#!/usr/bin/env bash
# Run every example of README.md, docs/*.md and the modules' EXAMPLES against a local AWS
# endpoint of its own (tests/examples/run_examples.py, fixtures in tests/examples/fixtures.yml),
# on a fresh copy of the checkout:
#
#   scripts/examples.sh [DOCUMENT...]      e.g. scripts/examples.sh docs/getting_started.md
#   scripts/examples.sh list               every block and what is done with it
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root"
bash scripts/setup-env.sh
if [ "${1:-}" = list ]; then
    shift
    exec "$VENV/bin/python" tests/examples/run_examples.py list "$@"
fi
exec "$VENV/bin/python" tests/examples/run_examples.py run "$@"
