#!/usr/bin/env bash
# Prepare everything the demo and the tests need, on a fresh machine, idempotently:
#   .venv/                      Python virtualenv with ansible-core, boto3, moto[server], pytest
#   .cache/collections/         ansible_collections/amazon/aws (from the 'ansible' PyPI package)
#                               and ansible_collections/layerwise/aws (a copy of this checkout)
# Galaxy is not needed: amazon.aws is taken from the 'ansible' wheel on PyPI.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root"

PYTHON=${PYTHON:-python3.11}
ANSIBLE_PACKAGE_VERSION=${ANSIBLE_PACKAGE_VERSION:-12.3.0}   # bundles amazon.aws 10.x

log() { printf '[setup-env] %s\n' "$*" >&2; }
# This machine's pip config names local indexes that may be absent; drop that noise only.
quiet_pip() { "$VENV/bin/python" -m pip "$@" 2> >(grep -v "^WARNING: Location '.*' is ignored" >&2); }

# pyenv shims of inactive Pythons exit 127; use the real interpreter where pyenv has it.
if ! "$PYTHON" -c 'import sys' >/dev/null 2>&1; then
    for candidate in /root/.pyenv/versions/3.11*/bin/python3.11 "$(command -v python3)"; do
        if [ -x "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            PYTHON=$candidate
            break
        fi
    done
fi

requirements_stamp=$(cat requirements-dev.txt | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.requirements-stamp" 2>/dev/null)" != "$requirements_stamp" ]; then
    log "creating $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
    quiet_pip install --quiet --upgrade pip
    quiet_pip install --quiet -r requirements-dev.txt
    echo "$requirements_stamp" > "$VENV/.requirements-stamp"
fi

amazon_aws=$COLLECTIONS/ansible_collections/amazon/aws
if [ "$(cat "$amazon_aws/.from-ansible" 2>/dev/null)" != "$ANSIBLE_PACKAGE_VERSION" ]; then
    log "extracting amazon.aws from ansible==$ANSIBLE_PACKAGE_VERSION (PyPI)"
    download=$CACHE/download
    mkdir -p "$download"
    quiet_pip download --quiet --no-deps --dest "$download" "ansible==$ANSIBLE_PACKAGE_VERSION"
    rm -rf "$amazon_aws"
    "$VENV/bin/python" - "$download/ansible-$ANSIBLE_PACKAGE_VERSION-py3-none-any.whl" "$COLLECTIONS" <<'PY'
import sys
import zipfile

wheel, destination = sys.argv[1], sys.argv[2]
prefix = "ansible_collections/amazon/aws/"
with zipfile.ZipFile(wheel) as archive:
    archive.extractall(destination, members=[name for name in archive.namelist() if name.startswith(prefix)])
PY
    echo "$ANSIBLE_PACKAGE_VERSION" > "$amazon_aws/.from-ansible"
fi

# A real copy of the checkout (tracked and untracked-but-not-ignored files), as
# ansible-test and ansible-galaxy need it; a symlink does not do for ansible-test.
ours=$COLLECTION
rm -rf "$ours"
mkdir -p "$ours"
git ls-files -co --exclude-standard -z | "$VENV/bin/python" -c '
import os, shutil, sys
destination = sys.argv[1]
for path in sys.stdin.buffer.read().decode().split("\0"):
    if path and os.path.isfile(path):  # a file deleted but not yet committed is skipped
        target = os.path.join(destination, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(path, target)
' "$ours"
# Both collections lie inside this checkout's ignored .cache/, where tools that list files
# through git (ansible-test, antsibull-docs' collection copier) would find none: a
# repository of its own each makes them list the files (ours with our .gitignore).
git -C "$ours" init --quiet
[ -d "$amazon_aws/.git" ] || git -C "$amazon_aws" init --quiet
log "ready: $VENV, $COLLECTIONS"
