#!/usr/bin/env bash
# Lint the collection's documentation and build its HTML docs site (antsibull-docs + Sphinx),
# offline, into a folder that is not committed:
#
#   scripts/docs-site.sh            lint, then build $CACHE/docs-site/build/html/index.html
#   scripts/docs-site.sh lint       antsibull-docs lint-collection-docs only
#
# The site holds the module pages antsibull-docs renders from the plugins and the hand-written
# guides of docs/*.md (Markdown, through MyST). Links to docs.ansible.com (amazon.aws modules,
# the return-value and configuration references) resolve through a small intersphinx inventory
# written here, so the build needs no network and still links to the real pages.
# The tools live in $CACHE/docs-venv (made once, kept by a stamp).
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/tool-venv.sh
. "$(dirname "$0")/tool-venv.sh"
cd "$root"
what=${1:-all}
report_failure() {
    local status=$?
    if [ "$status" -ne 0 ]; then echo "docs-site: FAILED (exit $status)" >&2; fi
}
trap report_failure EXIT

bash scripts/setup-env.sh
docs_venv=$CACHE/docs-venv
docs_tools_venv "$docs_venv"
export PATH=$docs_venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

echo "== antsibull-docs lint-collection-docs"
(cd "$COLLECTION" && antsibull-docs lint-collection-docs --plugin-docs .)
echo "docs-site: lint-collection-docs clean"
[ "$what" = lint ] && exit 0

site=${DOCS_SITE:-$CACHE/docs-site}
rm -rf "$site"
mkdir -p "$site"
chmod 700 "$site"   # antsibull-docs wants its destination writable by its owner only
cd "$site"
antsibull-docs sphinx-init --use-current --dest-dir . layerwise.aws > /dev/null
mkdir -p rst
chmod og-w rst
antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --use-current --dest-dir rst layerwise.aws

# The guides, in the order a reader needs them; any other docs/*.md after them.
mkdir -p rst/guides
guides=()
for name in getting_started migrating_from_lambda_layer awx local_endpoint; do
    if [ -f "$root/docs/$name.md" ]; then guides+=("$name"); fi
done
for path in "$root"/docs/*.md; do
    name=$(basename "$path" .md)
    if [[ " ${guides[*]} " != *" $name "* ]]; then guides+=("$name"); fi
done
for name in "${guides[@]}"; do cp "$root/docs/$name.md" rst/guides/; done

version=$(sed -n 's/^version: *//p' "$root/galaxy.yml")
{
    cat <<RST
.. _docsite_root_index:

layerwise.aws $version
=====================$(printf '%*s' "${#version}" '' | tr ' ' '=')

Idempotent AWS Lambda layer versions for Ansible: publish a new version only when something
changed, with check mode, diff mode and Terraform's attribute names.

.. toctree::
   :maxdepth: 1
   :caption: Guides:

RST
    for name in "${guides[@]}"; do echo "   guides/$name"; done
    cat <<'RST'

.. toctree::
   :maxdepth: 2
   :caption: Collection:

   collections/index

.. toctree::
   :maxdepth: 1
   :caption: Plugin indexes:
   :glob:

   collections/index_*

.. toctree::
   :maxdepth: 1
   :caption: Reference indexes:

   collections/environment_variables
RST
} > rst/index.rst

# Offline intersphinx: map the labels of docs.ansible.com that the pages use to their URLs.
# A label that is neither defined here nor known below stays unresolved and fails the build.
"$docs_venv/bin/python" - rst ansible_devel.inv <<'PY'
import pathlib
import re
import sys
import zlib

source, inventory = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
known = {
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings", "Ansible Configuration Settings"),
    "list_of_collections": ("collections/index.html#list-of-collections", "Collection Index"),
}
plugin_label = re.compile(r"ansible_collections\.(\w+)\.(\w+)\.(\w+)_(module|[a-z]+)$")
text = "\n".join(path.read_text() for path in source.rglob("*.rst"))
defined = set(re.findall(r"^\.\. _([^:]+):", text, re.M))
wanted = set(re.findall(r":ref:`(?:[^`<]*<)?([^`<>]+)>?`", text)) - defined
lines = []
for label in sorted(wanted):
    if label in known:
        uri, title = known[label]
    elif plugin_label.match(label) and not label.startswith("ansible_collections.layerwise.aws."):
        namespace, name, plugin, plugin_type = plugin_label.match(label).groups()
        uri = f"collections/{namespace}/{name}/{plugin}_{plugin_type}.html#{label.replace('.', '-').replace('_', '-')}"
        title = f"{namespace}.{name}.{plugin} {plugin_type}"
    else:
        continue
    lines.append(f"{label} std:label -1 {uri} {title}\n")
header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder of this file is compressed using zlib.\n"
inventory.write_bytes(header.encode() + zlib.compress("".join(lines).encode()))
print(f"offline intersphinx inventory: {len(lines)} docs.ansible.com labels")
PY

"$docs_venv/bin/python" - conf.py "$version" <<'PY'
import pathlib
import re
import sys

conf, version = pathlib.Path(sys.argv[1]), sys.argv[2]
text = conf.read_text()
text = re.sub(r"intersphinx_mapping = \{.*?\n\}",
              "intersphinx_mapping = {\n    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', '../ansible_devel.inv'),\n}",
              text, flags=re.S)
text = text.replace("project = 'Ansible collections'", "project = 'layerwise.aws'")
text = text.replace("copyright = 'Ansible contributors'", "copyright = 'layerwise.aws contributors'")
text = re.sub(r"^title = .*$", f"title = 'layerwise.aws {version}'", text, flags=re.M)
text = re.sub(r"^html_short_title = .*$", f"html_short_title = 'layerwise.aws {version}'", text, flags=re.M)
text = text.replace("'sphinx_antsibull_ext']", "'sphinx_antsibull_ext', 'myst_parser']")
text += "\n# The hand-written guides are Markdown.\nmyst_heading_anchors = 3\n"
assert "myst_parser" in text and "ansible_devel.inv" in text, "conf.py from sphinx-init changed shape"
conf.write_text(text)
PY

echo "== sphinx-build"
sphinx-build -M html rst build -c . -W --keep-going -q
echo "docs-site: built file://$site/build/html/index.html"
