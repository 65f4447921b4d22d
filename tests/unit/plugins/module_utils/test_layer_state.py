# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import COMPARED_FIELDS
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import build_desired
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import changed_fields
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import diff_view
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import versions_diff

CURRENT = {
    "version": 4,
    "arn": "arn:aws:lambda:us-east-1:123456789012:layer:l:4",
    "code_sha256": "hash-a",
    "description": "d",
    "license_info": "MIT",
    "compatible_runtimes": ["python3.13", "python3.12"],
    "compatible_architectures": ["x86_64"],
}


def desired(**overrides):
    values = dict(
        description="d", license_info="MIT", compatible_runtimes=["python3.12", "python3.13"], compatible_architectures=["x86_64"]
    )
    code_sha256 = overrides.pop("code_sha256", "hash-a")
    values.update(overrides)
    return build_desired("l", **values).with_content(code_sha256)


def test_equal_state_has_no_changes():
    assert changed_fields(CURRENT, desired()) == []


def test_order_and_duplicates_never_change_anything():
    state = desired(compatible_runtimes=["python3.13", "python3.12", "python3.12"], compatible_architectures=["x86_64", "x86_64"])
    assert changed_fields(CURRENT, state) == []


def test_unset_equals_empty():
    current = dict(CURRENT, description="", license_info="", compatible_runtimes=[], compatible_architectures=[])
    for key in ("description", "license_info", "compatible_runtimes", "compatible_architectures"):
        current.pop(key)
    assert changed_fields(current, desired(description=None, license_info=None, compatible_runtimes=None, compatible_architectures=None)) == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("code_sha256", "hash-b"),
        ("description", "other"),
        ("license_info", "Apache-2.0"),
        ("compatible_runtimes", ["python3.12"]),
        ("compatible_architectures", ["arm64"]),
    ],
)
def test_each_compared_field_is_seen(field, value):
    assert changed_fields(CURRENT, desired(**{field: value})) == [field]


def test_no_version_means_everything_changes():
    assert changed_fields(None, desired()) == list(COMPARED_FIELDS)


def test_diff_view_holds_version_and_normalised_fields():
    assert diff_view(CURRENT) == {
        "version": 4,
        "code_sha256": "hash-a",
        "description": "d",
        "license_info": "MIT",
        "compatible_runtimes": ["python3.12", "python3.13"],
        "compatible_architectures": ["x86_64"],
    }
    assert diff_view(None) == {}


def test_versions_diff():
    assert versions_diff("l", [3, 2], []) == {"before": {"layer_name": "l", "versions": [3, 2]}, "after": {"layer_name": "l", "versions": []}}
