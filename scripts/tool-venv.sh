# shellcheck shell=bash
# Helpers for the release scripts; source it after scripts/common.sh.
#
#   find_python 3.12          print the path of a working python3.12 (pyenv's shims of
#                             inactive versions exit 127, so they are tried last)
#   tool_venv DIR PYTHON REQ… a virtualenv at DIR holding REQ…, made again only when the
#                             requirements or the Python version change (a stamp file)

find_python() {
    local version=$1 candidate
    for candidate in /root/.pyenv/versions/"$version".*/bin/"python$version" \
        "$(command -v "python$version" 2>/dev/null || true)"; do
        if [ -x "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    echo "no working python$version found (tried pyenv and PATH)" >&2
    return 1
}

tool_venv() {
    local dir=$1 python=$2 stamp
    shift 2
    stamp="$("$python" -c 'import platform; print(platform.python_version())') $*"
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    printf '[tool-venv] creating %s (%s)\n' "$dir" "$stamp" >&2
    rm -rf "$dir"
    "$python" -m venv "$dir"
    # This machine's pip config names local indexes that may be absent; drop that noise only.
    "$dir/bin/python" -m pip install --quiet --upgrade pip "$@" \
        2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
    # Written last: an install that failed half-way is redone on the next run.
    echo "$stamp" > "$dir/.stamp"
}

# docs_tools_venv DIR: antsibull-docs, antsibull-changelog and Sphinx (scripts/docs-site.sh and
# scripts/changelog.sh share it). ansible-core 2.19 as in the project's virtualenv.
docs_tools_venv() {
    tool_venv "$1" "$VENV/bin/python" \
        "antsibull-docs>=2.28,<3" "antsibull-changelog>=0.36,<1" "ansible-core>=2.19,<2.20" \
        "sphinx>=8,<10" "sphinx-ansible-theme>=0.10,<1" "ansible-pygments" "myst-parser>=4,<6"
}
