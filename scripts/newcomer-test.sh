#!/usr/bin/env bash
# A newcomer's path through this checkout, as README.md and the guides tell it:
#   1. make demo with its output in a file: it passes, writes no colour codes, and ends with
#      the way in (make shell, and an export line for one's own shell);
#   2. make demo on a terminal with NO_COLOR set (and ANSIBLE_FORCE_COLOR=1, which NO_COLOR
#      beats): no colour codes; a one-task playbook on the same kind of terminal without
#      NO_COLOR does show colour, so the check can see it;
#   3. the export line the demo printed, alone in a clean environment: ansible-doc finds
#      the collection there;
#   4. every ```sh block marked <!-- example: shell --> in README.md and docs/*.md, verbatim,
#      in make shell (one shell per document, the blocks in document order), from the root
#      of the checkout; then make shell's local endpoint is stopped.
# Logs in $CACHE/newcomer/.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root"
logs=$CACHE/newcomer
rm -rf "$logs"
mkdir -p "$logs"
failures=0
fail() { echo "newcomer: FAILED: $*" >&2; failures=$((failures + 1)); }
has_colour() { grep -q $'\e\\[' "$1"; }
# On a pseudo-terminal of its own (util-linux script), as a person at a terminal would run it.
on_terminal() { script -qefc "$1" /dev/null < /dev/null; }

echo "== 1. make demo, output to a file"
if make demo > "$logs/demo.log" 2>&1; then
    echo "make demo: passed ($(grep -c '^PLAY RECAP' "$logs/demo.log") playbook runs)"
else
    tail -n 40 "$logs/demo.log"
    fail "make demo (log: $logs/demo.log)"
fi
if has_colour "$logs/demo.log"; then fail "make demo wrote colour codes into a file"; fi
grep -q '^make shell ' "$logs/demo.log" || fail "make demo does not end by naming make shell"
export_line=$(grep '^export ANSIBLE_COLLECTIONS_PATH=' "$logs/demo.log" || true)
[ -n "$export_line" ] || fail "make demo does not print an export line"

echo "== 2. colour on a terminal: none with NO_COLOR"
if NO_COLOR=1 ANSIBLE_FORCE_COLOR=1 on_terminal "make demo" > "$logs/demo-terminal-no-color.log" 2>&1; then
    if has_colour "$logs/demo-terminal-no-color.log"; then fail "make demo on a terminal with NO_COLOR set shows colour"; fi
else
    fail "make demo on a terminal with NO_COLOR set (log: $logs/demo-terminal-no-color.log)"
fi
printf -- '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: colour}\n' > "$logs/colour.yml"
env -u NO_COLOR -u ANSIBLE_NOCOLOR -u ANSIBLE_FORCE_COLOR ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    ANSIBLE_PYTHON_INTERPRETER="$VENV/bin/python" \
    script -qefc "$(printf '%q ' "$VENV/bin/ansible-playbook" "$logs/colour.yml")" /dev/null < /dev/null > "$logs/colour.log" 2>&1 || true
has_colour "$logs/colour.log" || fail "no colour from ansible-playbook on a terminal: this check cannot see colour (log: $logs/colour.log)"
if [ "$failures" -eq 0 ]; then echo "colour: none in a file, none on a terminal with NO_COLOR, some on a terminal without it"; fi

echo "== 3. the demo's export line, in a clean environment"
if [ -n "$export_line" ]; then
    if env -i HOME="$HOME" PATH=/usr/local/bin:/usr/bin:/bin bash -c "$export_line && ansible-doc layerwise.aws.lambda_layer_version" \
        > "$logs/export-ansible-doc.log" 2>&1 && grep -qF "$COLLECTION/plugins/modules/lambda_layer_version.py" "$logs/export-ansible-doc.log"; then
        echo "export line: ansible-doc layerwise.aws.lambda_layer_version reads $COLLECTION"
    else
        head -n 20 "$logs/export-ansible-doc.log"
        fail "ansible-doc with the demo's export line"
    fi
fi

echo "== 4. the documents' shell blocks, in make shell"
for document in README.md docs/*.md; do
    name=$(echo "$document" | tr '/' '_')
    "$VENV/bin/python" tests/examples/run_examples.py shell-script "$document" > "$logs/$name.sh"
    blocks=$(grep -c '^example_line=[1-9]' "$logs/$name.sh" || true)
    [ "$blocks" -gt 0 ] || continue
    started=$SECONDS
    if make shell < "$logs/$name.sh" > "$logs/$name.log" 2>&1; then
        echo "$document: $blocks shell blocks ran in make shell ($((SECONDS - started)) s)"
    else
        tail -n 40 "$logs/$name.log"
        fail "$document: a shell block failed in make shell (log: $logs/$name.log)"
    fi
done
if [ -f "$CACHE/shell-aws/pid" ]; then fail "make shell left its local endpoint running ($CACHE/shell-aws)"; fi

if [ "$failures" -gt 0 ]; then
    echo "newcomer: $failures failures" >&2
    exit 1
fi
echo "newcomer: the demo, its way in and every documented shell command work"
