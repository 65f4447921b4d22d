# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import os

import yaml

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def module_names(root):
    """Every module's name, those in subfolders as ``folder.module``."""
    names = set()
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py") and not name.startswith("_"):
                names.add(os.path.relpath(os.path.join(directory, name[: -len(".py")]), root).replace(os.sep, "."))
    return names


def test_action_group_lists_every_module_and_extends_amazon_aws():
    with open(os.path.join(COLLECTION_ROOT, "meta", "runtime.yml"), encoding="utf-8") as runtime_file:
        runtime = yaml.safe_load(runtime_file)
    group = runtime["action_groups"]["aws"]
    listed = [entry for entry in group if isinstance(entry, str)]
    metadata = [entry["metadata"] for entry in group if isinstance(entry, dict)]
    modules = module_names(os.path.join(COLLECTION_ROOT, "plugins", "modules"))
    assert modules, "no modules found"
    assert len(listed) == len(set(listed)), "a module is listed twice in the action group aws"
    assert set(listed) == modules
    assert metadata == [{"extend_group": ["amazon.aws.aws"]}]
    assert runtime["requires_ansible"] == ">=2.17.0"
