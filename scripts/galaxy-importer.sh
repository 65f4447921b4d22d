#!/usr/bin/env bash
# Run galaxy-importer (the checks Galaxy runs on upload) on the collection tarball, offline and
# without a container engine, with release/galaxy-importer.cfg. Fails on any WARNING or ERROR
# line of the import log, and when a module's documentation did not come through ansible-doc.
#
#   scripts/galaxy-importer.sh [TARBALL]   default: $CACHE/dist/layerwise-aws-VERSION.tar.gz,
#                                          built first if missing
# galaxy-importer lives in $CACHE/importer-venv (made once, kept by a stamp).
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/tool-venv.sh
. "$(dirname "$0")/tool-venv.sh"
cd "$root"
bash scripts/setup-env.sh

version=$(sed -n 's/^version: *//p' galaxy.yml)
tarball=${1:-$CACHE/dist/layerwise-aws-$version.tar.gz}
if [ ! -f "$tarball" ]; then
    mkdir -p "$(dirname "$tarball")"
    "$VENV/bin/ansible-galaxy" collection build --force --output-path "$(dirname "$tarball")" .
fi
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")

importer_venv=$CACHE/importer-venv
tool_venv "$importer_venv" "$VENV/bin/python" "galaxy-importer>=0.4.44,<0.5"
work=$CACHE/galaxy-importer
rm -rf "$work"
mkdir -p "$work/tmp" "$work/ansible-tmp"

# Galaxy refuses a collection without a repository URL, and galaxy.yml names none until the
# collection has a public repository (a made-up one would show on Galaxy and on every page of
# the docs site). So that the importer's other checks still run, it reads a copy of the tarball
# whose MANIFEST.json holds a stand-in; this is said below, and the tarball itself is unchanged.
# (MANIFEST.json is not listed in FILES.json, so no checksum changes.)
if ! grep -q '^repository:' galaxy.yml; then
    stand_in=https://stand-in.invalid/galaxy.yml-names-no-repository
    "$VENV/bin/python" - "$tarball" "$work/$(basename "$tarball")" "$stand_in" <<'PY'
import io
import json
import sys
import tarfile

source, target, stand_in = sys.argv[1:]
with tarfile.open(source) as original, tarfile.open(target, "w:gz") as copy:
    for member in original.getmembers():
        data = original.extractfile(member) if member.isfile() else None
        if member.name.lstrip("./") == "MANIFEST.json":
            manifest = json.load(data)
            manifest["collection_info"]["repository"] = stand_in
            content = json.dumps(manifest, indent=1).encode()
            member.size = len(content)
            data = io.BytesIO(content)
        copy.addfile(member, data)
PY
    tarball=$work/$(basename "$tarball")
    echo "galaxy-importer: galaxy.yml names no repository, which Galaxy requires before an upload;" \
        "this check reads a copy of the tarball with the stand-in $stand_in"
fi

# The importer runs ansible-doc with ANSIBLE_COLLECTIONS_PATH set to the extracted tarball only,
# so the amazon.aws doc fragments our modules use are not found there (a known limitation of
# galaxy-importer: collection dependencies are not installed). ansible-core also finds
# collections through sys.path: put amazon.aws, and only it, there for the importer's Python.
deps=$CACHE/importer-deps
mkdir -p "$deps/ansible_collections"
ln -sfn "$COLLECTIONS/ansible_collections/amazon" "$deps/ansible_collections/amazon"
site_packages=$("$importer_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$deps" > "$site_packages/layerwise-aws-importer-deps.pth"

# The importer looks for ansible-doc and ansible-lint on PATH and silently skips them if absent.
export PATH=$importer_venv/bin:$PATH
export GALAXY_IMPORTER_CONFIG=$root/release/galaxy-importer.cfg
export GALAXY_IMPORTER_TMP_ROOT_DIR=$work/tmp GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=$work/ansible-tmp
echo "galaxy-importer $("$importer_venv/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))') on $tarball"
cd "$work"
status=0
"$importer_venv/bin/python" -m galaxy_importer.main "$tarball" > import.log 2>&1 || status=$?
cat import.log

problems=$(grep -E '^(WARNING|ERROR|CRITICAL)' import.log || true)
if [ "$status" -ne 0 ] || [ -n "$problems" ] || ! grep -q "Importer processing completed successfully" import.log; then
    echo "galaxy-importer: FAILED (exit $status)${problems:+; warnings or errors above}" >&2
    exit 1
fi
# Each module's documentation must have been read (ansible-doc ran, with amazon.aws's fragments).
"$importer_venv/bin/python" - importer_result.json "$root/plugins/modules" <<'PY'
import json
import pathlib
import sys

result = json.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
expected = sorted(path.stem for path in pathlib.Path(sys.argv[2]).glob("*.py") if path.stem != "__init__")
documented = sorted(
    item["content_name"] for item in result["docs_blob"]["contents"]
    if item["content_type"] == "module" and item.get("doc_strings")
)
if documented != expected:
    sys.exit(f"galaxy-importer: modules with documentation {documented}, expected {expected}")
print(f"galaxy-importer: documentation read for {len(documented)} modules")
PY
echo "galaxy-importer: clean (no warnings or errors)"
