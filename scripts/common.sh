# shellcheck shell=bash
# Paths shared by the project's scripts; source it. CACHE and VENV may be set to keep
# several checkouts or people apart on one machine (each gets its own copy of the
# collection, its own virtualenv and its own local endpoints).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$root/.cache}
VENV=${VENV:-$root/.venv}
COLLECTIONS=$CACHE/collections
COLLECTION=$COLLECTIONS/ansible_collections/layerwise/aws
export CACHE VENV COLLECTIONS COLLECTION
