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

# Colour only where a person reads it: ansible-core colours its output on a terminal and nowhere
# else by itself. NO_COLOR (https://no-color.org), when set and not empty, turns colour off
# everywhere, even against an ANSIBLE_FORCE_COLOR of the caller's. Call it before running Ansible.
honour_no_color() {
    if [ -n "${NO_COLOR:-}" ]; then
        export ANSIBLE_NOCOLOR=1
        unset ANSIBLE_FORCE_COLOR
    fi
}
