#!/usr/bin/env bash
# The performance benchmarks, one command each (not part of CI; they assert no time):
#   bash benchmarks/run.sh [--quick] [--runs N] [--loop-runs N] [--clean]     # loopback: benchmarks/compare.py
#   bash benchmarks/run.sh realistic [--quick] [--baseline REF] [...]         # at Lambda's limits: benchmarks/realistic.py
# Prepares .venv and .cache/collections (or $VENV and $CACHE) with scripts/setup-env.sh, then
# runs the benchmark, which starts its own local endpoint (and proxy) and stops them at the end.
# Results: printed as Markdown and written to benchmarks/results/ (git-ignored).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh
bash scripts/setup-env.sh
if [ "${1:-}" = realistic ]; then
    shift
    exec "$VENV/bin/python" benchmarks/realistic.py "$@"
fi
exec "$VENV/bin/python" benchmarks/compare.py "$@"
