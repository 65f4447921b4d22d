# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Lifecycle of a layer's versions: keep the newest N, and know which functions use a version.

PRIVATE to the collection: not a public API, may change without notice.

``keep_versions`` replaces 1.0's "delete the superseded version" rule: a run
keeps the current version and the ``keep_versions - 1`` versions below it, and
deletes the older ones, unless a function's configuration references them
(``kept_in_use``) and ``prune_in_use`` is not set. Versions newer than the
current one (published meanwhile by a concurrent run or another tool) are
never deleted.

Which functions use which layer version is read with ListFunctions
(FunctionVersion=ALL, every page): once per run and region, and only when
there is something to prune (or ``include_usage`` asks for it).
"""

import dataclasses
import threading
import typing

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_function_configurations
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_layer_versions
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import numbered
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import present_diff


@dataclasses.dataclass(frozen=True)
class Retention:
    """How many versions a task keeps, and whether versions in use may be deleted."""

    keep_versions: int
    prune_in_use: bool = False


def check_retention_options(params):
    """``keep_versions`` and ``prune_in_use`` of one task, before any AWS call (the message names the option)."""
    keep_versions = params.get("keep_versions")
    if keep_versions is None:
        if params.get("prune_in_use"):
            raise LayerInputError("prune_in_use: needs keep_versions (only the versions keep_versions prunes are checked for use)")
        return
    if params.get("state", "present") != "present":
        raise LayerInputError("keep_versions: only valid with state=present (state=absent deletes the version given in version, or every version)")
    if isinstance(keep_versions, bool):
        raise LayerInputError(f"keep_versions: {keep_versions} is not a number of versions; give 1 or more")
    if keep_versions < 1:
        raise LayerInputError(f"keep_versions: {keep_versions} would keep no version; give 1 or more (the current version counts as one)")
    if params.get("skip_destroy"):
        raise LayerInputError("keep_versions: conflicts with skip_destroy=true (keep_versions says which versions are deleted, skip_destroy deletes none)")


def retention_of(params):
    """The Retention a checked task asks for, or None without ``keep_versions``."""
    if params.get("keep_versions") is None:
        return None
    return Retention(params["keep_versions"], bool(params.get("prune_in_use")))


def function_arn(configuration):
    """The ARN that names one function configuration of ListFunctions: unqualified for $LATEST, else ``…:VERSION``.

    AWS answers $LATEST with the unqualified ARN and moto with ``…:$LATEST``;
    the unqualified ARN is what names $LATEST in both.
    """
    unqualified = ":".join(configuration["FunctionArn"].split(":")[:7])
    version = configuration.get("Version")
    if version in (None, "$LATEST"):
        return unqualified
    return f"{unqualified}:{version}"


def scan_usage(client):
    """``{layer version ARN: sorted function ARNs}`` over every function configuration of the client's region."""
    usage = {}
    for configuration in list_function_configurations(client):
        for layer in configuration.get("Layers") or []:
            if layer.get("Arn"):
                usage.setdefault(layer["Arn"], set()).add(function_arn(configuration))
    return {layer_version_arn: sorted(functions) for layer_version_arn, functions in usage.items()}


class UsageScanner:
    """The usage of layer versions, scanned at most once per client (one client per region) in a run.

    Safe to share between threads: a thread that needs the scan while another
    makes it waits for that one, so a run of many layers lists the functions once.
    """

    def __init__(self, scan=scan_usage):
        self._scan = scan
        self._lock = threading.Lock()
        self._scans = {}

    def usage(self, client):
        with self._lock:
            # Keyed by the client object itself (kept alive in the value), so an id is never reused.
            key = id(client)
            if key not in self._scans:
                self._scans[key] = (client, self._scan(client))
            return self._scans[key][1]


@dataclasses.dataclass(frozen=True)
class PruningPlan:
    """The versions a run deletes (oldest first) and those it keeps because functions use them."""

    keep_versions: int
    to_delete: typing.Tuple[int, ...] = ()
    kept_in_use: typing.Dict[str, typing.List[str]] = dataclasses.field(default_factory=dict)

    def remedy(self, version, marked_version=None):
        """How a user finishes the deletions if the run stops: keep_versions makes every run prune, so run it again."""
        remedy = (
            f"run the task again once the cause is fixed: with keep_versions={self.keep_versions} every run deletes the versions"
            f" below the newest {self.keep_versions} that no function uses"
        )
        if marked_version is not None:
            remedy += f", after copying what is missing to version {version} from version {marked_version}, which carries the superseded marker"
        return remedy

    def reported_in(self, result):
        """``result`` of a publish, whose deletions are already this plan's: with kept_in_use, said in msg too."""
        result = dict(result, kept_in_use=dict(self.kept_in_use))
        if self.kept_in_use:
            result["msg"] = f"{result['msg']}; {self._kept_text()}"
        return result

    def added_to_unchanged(self, result, current, check_mode):
        """``result`` of an unchanged run (what it did before pruning) with the pruning added: deletions, msg, diff."""
        result = dict(result, kept_in_use=dict(self.kept_in_use))
        parts = [result["msg"]]
        if self.to_delete:
            deleted = list(result["deleted_versions"]) + list(self.to_delete)
            diff = present_diff(current, current, deleted)
            for side in ("before", "after"):
                if "permissions" in result["diff"][side]:
                    diff[side]["permissions"] = result["diff"][side]["permissions"]
            result.update(changed=True, deleted_versions=deleted, diff=diff)
            parts.append(("would delete " if check_mode else "deleted ") + numbered(self.to_delete))
        if self.kept_in_use:
            parts.append(self._kept_text())
        result["msg"] = "; ".join(parts)
        return result

    def _kept_text(self):
        return f"kept {numbered(sorted(int(number) for number in self.kept_in_use))} in use by functions (keep_versions={self.keep_versions})"


def plan_pruning(client, scanner, current, retention, publishing, excluded=()):
    """Which versions of ``current``'s layer a run with ``retention`` deletes, and which it keeps in use.

    ``current``: the facts of the newest version (None when the layer has none).
    ``publishing``: a new version is due, which counts as one of the versions
    kept, so the current version is a candidate too. ``excluded``: versions the
    run deletes for another reason (not counted, not listed again).

    One ListLayerVersions call per 50 versions, plus the usage scan when there is
    something to prune and ``prune_in_use`` is not set.
    """
    if current is None:
        return PruningPlan(retention.keep_versions)
    highest = current["version"] if publishing else current["version"] - 1
    below = sorted(
        (summary["Version"] for summary in list_layer_versions(client, current["layer_name"]) if summary["Version"] <= highest),
        reverse=True,
    )
    below = [number for number in below if number not in excluded]
    candidates = sorted(below[retention.keep_versions - 1:])
    if not candidates or retention.prune_in_use:
        return PruningPlan(retention.keep_versions, tuple(candidates))
    usage = scanner.usage(client)
    kept_in_use = {}
    to_delete = []
    for number in candidates:
        functions = usage.get(f"{current['layer_arn']}:{number}")
        if functions:
            kept_in_use[str(number)] = list(functions)
        else:
            to_delete.append(number)
    return PruningPlan(retention.keep_versions, tuple(to_delete), kept_in_use)


def add_usage(items, scanner, client):
    """``items`` (layer version facts) each with ``used_by``: one usage scan, whatever their number."""
    if not items:
        return items
    usage = scanner.usage(client)
    return [dict(item, used_by=list(usage.get(item["arn"], []))) for item in items]
