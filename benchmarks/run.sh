#!/usr/bin/env bash
# The performance benchmark in one command (not part of CI; it asserts no time):
#   bash benchmarks/run.sh [--quick] [--runs N] [--loop-runs N] [--clean]
# Prepares .venv and .cache/collections (or $VENV and $CACHE) with scripts/setup-env.sh, then
# runs benchmarks/compare.py, which starts its own local endpoint and stops it at the end.
# Results: printed as Markdown and written to benchmarks/results/ (git-ignored).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh
bash scripts/setup-env.sh
exec "$VENV/bin/python" benchmarks/compare.py "$@"
