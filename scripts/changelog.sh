#!/usr/bin/env bash
# The changelog, with antsibull-changelog from $CACHE/docs-venv (made once, kept by a stamp):
#
#   scripts/changelog.sh            lint the fragments and changelogs/changelog.yaml (CI)
#   scripts/changelog.sh release    release the version in galaxy.yml: move
#                                   changelogs/fragments/ into changelogs/changelog.yaml and
#                                   write CHANGELOG.rst, then lint again
#
# A release lists as new modules those whose version_added equals the released version.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/tool-venv.sh
. "$(dirname "$0")/tool-venv.sh"
cd "$root"
what=${1:-lint}

bash scripts/setup-env.sh
docs_venv=$CACHE/docs-venv
docs_tools_venv "$docs_venv"
export PATH=$docs_venv/bin:$PATH
# amazon.aws beside the copy of this collection: the module docs use its doc fragments.
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

version=$(sed -n 's/^version: *//p' galaxy.yml)
case "$what" in
    lint) ;;
    release)
        antsibull-changelog release --version "$version"
        echo "changelog: released $version (CHANGELOG.rst, changelogs/changelog.yaml)"
        ;;
    *)
        echo "usage: $0 [lint|release]" >&2
        exit 2
        ;;
esac

antsibull-changelog lint
if [ -f changelogs/changelog.yaml ]; then
    antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
fi
if grep -q "^  $version:" changelogs/changelog.yaml 2>/dev/null; then
    echo "changelog: lint clean; $version (galaxy.yml) is released in changelogs/changelog.yaml"
else
    # Before the release: its summary must wait among the fragments.
    grep -lq "^release_summary:" changelogs/fragments/*.y*ml || {
        echo "changelog: no release_summary fragment for $version" >&2
        exit 1
    }
    echo "changelog: lint clean; $version (galaxy.yml) not released yet; $(find changelogs/fragments -name '*.y*ml' | wc -l) fragments wait"
fi
