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
    # Compared only when the task sets it (see changed_fields).
    s3_object_storage_mode: typing.Optional[str] = None

    def with_content(self, code_sha256):
        return dataclasses.replace(self, code_sha256=code_sha256)

    def get(self, field, default=None):
        """Read like facts, so that one comparison serves both sides."""
        return getattr(self, field, default)


def build_desired(layer_name, description=None, license_info=None, compatible_runtimes=None, compatible_architectures=None, s3_object_storage_mode=None):
    """The desired version without its content hash, which the source gives later."""
    return DesiredVersion(
        layer_name=layer_name,
        s3_object_storage_mode=s3_object_storage_mode,
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


def storage_mode_of(facts):
    """The storage mode of an existing version, as far as the API shows it.

    Neither GetLayerVersion nor PublishLayerVersion returns S3ObjectStorageMode;
    a version whose archive stays in the user's bucket has a ResolvedS3Object
    (facts' ``resolved_s3_object``): present means REFERENCE, absent COPY.
    """
    return "REFERENCE" if facts.get("resolved_s3_object") else "COPY"


def changed_fields(current_facts, desired):
    """The names of the compared fields in which the newest version differs.

    With no version at all, every field differs. The storage mode is compared
    only when ``desired`` sets one, so a version is never published again over
    a field the task does not manage.
    """
    wanted_mode = desired.get("s3_object_storage_mode")
    if current_facts is None:
        return list(COMPARED_FIELDS) + (["s3_object_storage_mode"] if wanted_mode else [])
    current_view = comparable(current_facts)
    desired_view = comparable(desired)
    changes = [field for field in COMPARED_FIELDS if current_view[field] != desired_view[field]]
    if wanted_mode and storage_mode_of(current_facts) != wanted_mode:
        changes.append("s3_object_storage_mode")
    return changes


def diff_view(facts):
    """One side of a present diff: the version number and the compared fields ({} when none)."""
    if facts is None:
        return {}
    view = {"version": facts.get("version")}
    view.update(comparable(facts))
    return view


def present_diff(before, after, deleted_versions):
    """The diff of a present run: the compared fields, and the versions it deletes.

    ``versions`` lists, before, the existing versions the run touches (the one it
    supersedes, the ones it prunes) and, after, what remains of them, so that a
    dry run shows a deletion as plainly as a change.
    """
    before_view, after_view = diff_view(before), diff_view(after)
    if before is not None:  # a first version deletes nothing: before stays empty
        before_view["versions"] = sorted(set(deleted_versions), reverse=True)
        after_view["versions"] = []
    return {"before": before_view, "after": after_view}


# How the compared fields read in a message.
FIELD_WORDS = {
    "code_sha256": "content",
    "description": "description",
    "license_info": "licence",
    "compatible_runtimes": "runtimes",
    "compatible_architectures": "architectures",
    "s3_object_storage_mode": "storage mode",
}


def numbered(numbers, noun="version"):
    """``version 7`` or ``versions 3, 4``."""
    numbers = list(numbers)
    return f"{noun} {numbers[0]}" if len(numbers) == 1 else f"{noun}s {', '.join(str(number) for number in numbers)}"


def present_message(check_mode, before, after, changes, deleted_versions, extra=None):
    """One line that says what a present run did (or would do)."""
    parts = []
    if changes:
        why = "no version yet" if before is None else ", ".join(FIELD_WORDS[field] for field in changes) + " changed"
        if check_mode:
            parts.append(f"would publish a new version ({why})")
        else:
            parts.append(f"published version {after['version']} ({why})")
    elif after is not None:
        parts.append(f"version {after['version']} is up to date")
    if extra:
        parts.append(extra)
    if deleted_versions:
        parts.append(("would delete " if check_mode else "deleted ") + numbered(deleted_versions))
    return "; ".join(parts)


def absent_message(check_mode, layer_name, asked_version, existing, deleted_versions, skip_destroy):
    """One line that says what an absent run did (or would do)."""
    if deleted_versions:
        return ("would delete " if check_mode else "deleted ") + numbered(deleted_versions) + f" of layer {layer_name}"
    if skip_destroy and existing:
        return f"skip_destroy: deleted nothing ({numbered(existing)} of layer {layer_name} kept)"
    if asked_version is not None:
        return f"version {asked_version} of layer {layer_name} does not exist: nothing to delete"
    return f"layer {layer_name} has no versions: nothing to delete"


def versions_diff(layer_name, before_versions, after_versions):
    """The diff of an absent run: which version numbers exist before and after."""
    return {
        "before": {"layer_name": layer_name, "versions": list(before_versions)},
        "after": {"layer_name": layer_name, "versions": list(after_versions)},
    }
