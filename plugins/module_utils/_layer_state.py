# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Desired state, the comparison with the newest version, and the diff.

PRIVATE to the collection: not a public API, may change without notice.

Both sides are normalised the same way before they are compared: runtimes and
architectures become sorted sets (order and duplicates never matter), and an
unset description, licence or list equals an empty one. ``changed`` and the
diff are both derived from that one comparison.
"""

import dataclasses
import typing

COMPARED_FIELDS = ("code_sha256", "description", "license_info", "compatible_runtimes", "compatible_architectures")
_SET_FIELDS = ("compatible_runtimes", "compatible_architectures")


@dataclasses.dataclass(frozen=True)
class DesiredVersion:
    """The version a task asks for, normalised, built once from the options and never changed.

    ``code_sha256`` is None until the source's hash is known; ``with_content``
    gives the same desired version with it.
    """

    layer_name: str
    description: str = ""
    license_info: str = ""
    compatible_runtimes: typing.Tuple[str, ...] = ()
    compatible_architectures: typing.Tuple[str, ...] = ()
    code_sha256: typing.Optional[str] = None

    def with_content(self, code_sha256):
        return dataclasses.replace(self, code_sha256=code_sha256)

    def get(self, field, default=None):
        """Read like facts, so that one comparison serves both sides."""
        return getattr(self, field, default)


def build_desired(layer_name, description=None, license_info=None, compatible_runtimes=None, compatible_architectures=None):
    """The desired version without its content hash, which the source gives later."""
    return DesiredVersion(
        layer_name=layer_name,
        description=description or "",
        license_info=license_info or "",
        compatible_runtimes=tuple(sorted(set(compatible_runtimes or []))),
        compatible_architectures=tuple(sorted(set(compatible_architectures or []))),
    )


def comparable(facts):
    """The compared fields of facts or of a desired state, normalised."""
    view = {}
    for field in COMPARED_FIELDS:
        value = facts.get(field)
        if field in _SET_FIELDS:
            view[field] = sorted(set(value or []))
        elif field == "code_sha256":
            view[field] = value
        else:
            view[field] = value or ""
    return view


def changed_fields(current_facts, desired):
    """The names of the compared fields in which the newest version differs.

    With no version at all, every field differs.
    """
    if current_facts is None:
        return list(COMPARED_FIELDS)
    current_view = comparable(current_facts)
    desired_view = comparable(desired)
    return [field for field in COMPARED_FIELDS if current_view[field] != desired_view[field]]


def diff_view(facts):
    """One side of a present diff: the version number and the compared fields ({} when none)."""
    if facts is None:
        return {}
    view = {"version": facts.get("version")}
    view.update(comparable(facts))
    return view


def versions_diff(layer_name, before_versions, after_versions):
    """The diff of an absent run: which version numbers exist before and after."""
    return {
        "before": {"layer_name": layer_name, "versions": list(before_versions)},
        "after": {"layer_name": layer_name, "versions": list(after_versions)},
    }
