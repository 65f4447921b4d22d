#!/usr/bin/env bash
# The load test at Lambda's quota in one command (`make load`: the full form):
#   bash scripts/load-test.sh [scripts/load-test.py options, e.g. --processes 2 --layers 10 --single-runs 3]
# Prepares $VENV and $CACHE/collections with scripts/setup-env.sh, then runs scripts/load-test.py,
# which starts its own local endpoint and rate-limiting proxy and stops them at the end.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh
bash scripts/setup-env.sh
exec "$VENV/bin/python" scripts/load-test.py "$@"
