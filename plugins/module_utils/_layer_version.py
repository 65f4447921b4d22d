# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What ``lambda_layer_version`` does: present and absent, check and diff mode.

PRIVATE to the collection: not a public API, may change without notice.

``LayerVersionManager`` works on boto3 clients and plain values, so it can be
tested without Ansible; ``run_module`` turns a module's parameters into calls
of it and its result into ``exit_json``.
"""

import tempfile
import threading
import time

from ansible.module_utils.common.warnings import warn

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import aws_client
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import delete_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_caller_account_id
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_layer_versions
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_newest_layer_versions
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import publish_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import layer_version_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import predicted_layer_version_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_region
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_runtimes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_s3_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_text_lengths
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_version_option
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import known_runtimes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_name
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import UsageScanner
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import check_retention_options
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import plan_pruning
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import retention_of
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Progress
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Step
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import module_boundary
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import outcome_unknown
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import publish_read_timeout
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import DirectorySource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import LocalZipSource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import S3Source
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import StagedSource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import check_source_code_hash
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import build_desired
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import changed_fields
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import absent_message
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import present_diff
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import present_message
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import versions_diff


# How often a publish whose answer was lost is sent again, after looking for its version.
PUBLISH_ATTEMPTS = 3
# After a publish whose outcome is unknown, the newest versions are read after these
# pauses (seconds): looks at 0, 2, 5, 10 and 20 s catch a version that appears late.
LATE_COMPLETION_PAUSES = (0, 2, 3, 5, 10)
# How often the newest version is listed again when the list names a version that
# GetLayerVersion then says does not exist (deleted in between, or an endpoint that disagrees).
READ_ATTEMPTS = 3
# How many of the newest versions are read when looking for a version a concurrent run
# or a lost answer published (more runs than this at once are not told apart).
SETTLE_WINDOW = 50
# The statement that marks a version superseded by a publish with copy_permissions,
# until its statements are copied and it is deleted: how a re-run recognises unfinished work.
SUPERSEDED_MARKER = "layerwise-superseded"


def _permission():
    """The permission code (_layer_permission), imported on first use: only copy_permissions needs it.

    A module's module_utils are compiled from source on every run (AnsiballZ imports them
    from a zip, without .pyc files); a run that does not need this file does not pay for it.
    """
    from ansible_collections.layerwise.aws.plugins.module_utils import _layer_permission

    return _layer_permission


def _sleep(seconds):
    time.sleep(seconds)


def _marker_statement(version_facts):
    """The marker statement for a version: its own account may read it, which it may anyway."""
    permission = _permission()
    return permission.desired_statement(SUPERSEDED_MARKER, permission.DEFAULT_ACTION, parse_aws_arn(version_facts["arn"])["account_id"], None)


def _without_marker(statements):
    return [statement for statement in statements if statement["statement_id"] != SUPERSEDED_MARKER]


class LayerVersionManager:
    """present and absent for one layer at a time; safe to share between threads (it keeps no run state)."""

    def __init__(self, lambda_client, check_mode=False, warn=None, publish_client_for=None, usage_scanner=None, newest_hints=None):
        """``publish_client_for(package_bytes)``: the client to publish with, whose read timeout fits the package."""
        self.client = lambda_client
        self.publish_client_for = publish_client_for or (lambda package_bytes: lambda_client)
        self.check_mode = check_mode
        self.warn = warn or (lambda message: None)
        # keep_versions' usage scan, shared by every layer of the run (thread-safe, once per client).
        self.usage_scanner = usage_scanner or UsageScanner()
        # {layer name: newest version number} read beforehand (ListLayers, see _layer_bulk): it
        # replaces the first ListLayerVersions of _read_newest(count=1); read only, never updated.
        self.newest_hints = newest_hints or {}

    def read_newest(self, layer_name):
        """Facts of the newest version, or None: two read calls however many versions exist."""
        return self._read_newest(layer_name)[0]

    def _read_newest(self, layer_name, count=1):
        """``(facts of the newest version or None, numbers of the ``count`` newest versions)``.

        Bounded: when the list names a version that cannot be read (deleted in
        between), the list is read again, at most READ_ATTEMPTS times in all.
        """
        hint = self.newest_hints.get(layer_name) if count == 1 else None
        for attempt in range(READ_ATTEMPTS):
            if hint is not None and attempt == 0:
                numbers = [hint]  # a stale hint (version deleted since) is caught by the get below: then list
            else:
                numbers = [summary["Version"] for summary in list_newest_layer_versions(self.client, layer_name, max_items=count)][:count]
            if not numbers:
                return None, []
            response = get_layer_version(self.client, layer_name, numbers[0])
            if response is not None:
                return layer_version_facts(response), numbers
        raise AnsibleLambdaLayerError(
            message=f"Failed to read the newest version of layer {layer_name}: ListLayerVersions names version {numbers[0]},"
            f" but GetLayerVersion says it does not exist ({READ_ATTEMPTS} times); the endpoint's answers disagree"
        )

    def present(self, desired, source, source_code_hash=None, skip_destroy=False, copy_permissions=False, progress=None, retention=None):
        progress = progress if progress is not None else Progress()
        layer_name = desired.layer_name
        # With copy_permissions, the version below the newest may carry an earlier run's unfinished work.
        finishing = copy_permissions and not skip_destroy
        current, numbers = self._read_newest(layer_name, count=2 if finishing else 1)
        progress.facts.update(layer_version=current, deleted_versions=[])

        # With no version yet a publish is certain, so an S3 object is not streamed just to predict its hash.
        desired = desired.with_content(source_code_hash or source.content_sha256(needed=current is not None))
        changes = changed_fields(current, desired)
        if not changes:
            if finishing and len(numbers) > 1:
                result = self._finish_superseded(current, numbers[1], progress)
            else:
                result = self._result(current, current, [], [], [] if copy_permissions else None)
            return result if retention is None else self._prune_unchanged(current, retention, result, progress)

        source.ensure_publishable(check_mode=self.check_mode, progress=progress)
        superseded = [] if current is None or skip_destroy else [current["version"]]
        pruning = None
        if retention is not None:
            pruning = plan_pruning(self.client, self.usage_scanner, current, retention, publishing=True)
            superseded = list(pruning.to_delete)
            progress.facts["kept_in_use"] = pruning.kept_in_use
        # The statements to carry over: None when not asked to, read only when a publish is due.
        carried = [] if copy_permissions else None
        if copy_permissions and current is not None:
            permission = _permission()
            carried = _without_marker(permission.statements_of(permission.read_policy(self.client, layer_name, current["version"])[0]))

        if self.check_mode:
            layer_arn = current["layer_arn"] if current else None
            predicted = predicted_layer_version_facts(desired, layer_arn, source.size)
            return self._with_kept_in_use(self._result(current, predicted, changes, superseded, carried), pruning)

        marked = finishing and current is not None and current["version"] in superseded
        if marked:
            self._mark_superseded(current, progress)
        try:
            published = self._publish_once(desired, source, current["version"] if current else 0, progress)
        except AnsibleLambdaLayerError as e:
            if marked and not outcome_unknown(e.exception):
                self._unmark_after_refusal(current, progress)
            raise
        if source_code_hash and published["code_sha256"] != source_code_hash:
            self.warn(
                f"source_code_hash: {source_code_hash} differs from the published package's CodeSha256"
                f" {published['code_sha256']}; every run will publish again until they match"
            )
        # Planned before anything else is read: a failure from here on reports the steps left.
        remedy = pruning.remedy(published["version"], current["version"] if marked else None) if pruning else None
        self._plan_copy_then_delete(published, carried or [], superseded, progress, marked, remedy)
        settled = self._settle(published, current["version"] if current else 0, progress)
        if settled is not published:  # a concurrent run's identical version wins: the copies go to it
            remedy = pruning.remedy(settled["version"], current["version"] if marked else None) if pruning else None
            self._plan_copy_then_delete(settled, carried or [], superseded, progress, marked, remedy)
        published = settled
        self._copy_then_delete(published, carried or [], progress)
        return self._with_kept_in_use(self._result(current, published, changes, progress.facts["deleted_versions"], carried), pruning)

    def _prune_unchanged(self, current, retention, result, progress):
        """An unchanged run with keep_versions prunes too, after what ``result`` did (see _finish_superseded)."""
        pruning = plan_pruning(self.client, self.usage_scanner, current, retention, publishing=False, excluded=result["deleted_versions"])
        progress.facts["kept_in_use"] = pruning.kept_in_use
        if pruning.to_delete and not self.check_mode:
            self._plan_copy_then_delete(current, [], pruning.to_delete, progress, False, pruning.remedy(current["version"]))
            self._copy_then_delete(current, [], progress)
        return pruning.added_to_unchanged(result, current, self.check_mode)

    @staticmethod
    def _with_kept_in_use(result, pruning):
        return result if pruning is None else pruning.reported_in(result)

    def _mark_superseded(self, current, progress):
        """Before publishing with copy_permissions: the marker on the version to be superseded.

        If the run stops after the publish, the marker tells a re-run that this version
        is superseded and still to be copied and deleted; a version kept on purpose
        (skip_destroy, or one keep_versions keeps) or published by another tool never carries it.
        """
        _permission().add_statement(self.client, current["layer_name"], current["version"], _marker_statement(current))
        progress.wrote(f"marked version {current['version']} as superseded (statement {SUPERSEDED_MARKER})")

    def _unmark_after_refusal(self, current, progress):
        """The publish was refused (nothing published): take the marker off again, if possible."""
        try:
            _permission().remove_statement(self.client, current["layer_name"], current["version"], SUPERSEDED_MARKER)
        except AnsibleLambdaLayerError:
            return  # the failure reports the marker as written; a later publish uses it, nothing else reads it
        progress.wrote(f"removed the marker from version {current['version']} again")

    @staticmethod
    def _plan_copy_then_delete(published, statements, superseded, progress, marked, remedy=None):
        """The steps after a publish: copy the statements to the new version, then delete the superseded versions.

        ``remedy``: how to finish if the run stops (by default, as the marker and ``superseded`` say).
        """
        version = published["version"]
        copies = [Step("copy", statement["statement_id"], f"add statement {statement['statement_id']} to version {version}") for statement in statements]
        deletions = [Step("delete", number, f"delete version {number}") for number in superseded]
        if remedy is None and marked:
            remedy = (
                f"run the task again once the cause is fixed: version {superseded[0]} carries the statement {SUPERSEDED_MARKER}, so the"
                f" next run copies what is missing to version {version} and deletes version {superseded[0]}"
            )
        elif remedy is None:
            remedy = " and ".join(
                f"delete version {number} with state=absent and version={number} (re-running this task does not: a version kept"
                " on purpose looks the same)"
                for number in superseded
            )
        progress.plan(copies + deletions, remedy)

    def _copy_then_delete(self, published, statements, progress):
        """Carry out the steps planned by _plan_copy_then_delete, recording each."""
        layer_name, version = published["layer_name"], published["version"]
        copies = [step for step in progress.pending if step.kind == "copy"]
        deletions = [step for step in progress.pending if step.kind == "delete"]
        copied = []
        for step, statement in zip(copies, statements):
            # Before the superseded version is deleted, so a failure leaves its policy to copy again.
            _permission().add_statement(self.client, layer_name, version, statement)
            copied.append(statement["statement_id"])
            progress.done(step)
            progress.wrote(f"added statement {statement['statement_id']} to version {version}", copied_permissions=list(copied))
        for step in deletions:
            delete_layer_version(self.client, layer_name, step.subject)
            progress.done(step)
            progress.wrote(f"deleted version {step.subject}", deleted_versions=progress.facts.get("deleted_versions", []) + [step.subject])

    def _finish_superseded(self, current, below, progress):
        """An unchanged run with copy_permissions: finish what an earlier run left (see _mark_superseded).

        Only a version carrying the marker is touched: its statements missing on the
        newest version are copied, then it is deleted.
        """
        permission = _permission()
        statements = permission.statements_of(permission.read_policy(self.client, current["layer_name"], below)[0])
        if not any(statement["statement_id"] == SUPERSEDED_MARKER for statement in statements):
            return self._result(current, current, [], [], [])
        newest = permission.statements_of(permission.read_policy(self.client, current["layer_name"], current["version"])[0])
        present = {statement["statement_id"] for statement in newest}
        missing = [statement for statement in _without_marker(statements) if statement["statement_id"] not in present]
        if not self.check_mode:
            self._plan_copy_then_delete(current, missing, [below], progress, marked=True)
            self._copy_then_delete(current, missing, progress)
        copied = ", ".join(statement["statement_id"] for statement in missing) or "nothing"
        would = "would finish" if self.check_mode else "finished"
        extra = f"{would} an interrupted run's work: statements copied to it: {copied}"
        result = self._result(current, current, [], [below], missing, extra=extra)
        result["finished_superseded_version"] = below
        return result

    def _publish_once(self, desired, source, newer_than, progress):
        """Publish, and never twice: PublishLayerVersion is not idempotent.

        Refusals (throttling, no connection) are retried by the call itself. When
        the outcome is unknown (a 5xx, a broken connection, a timeout, a malformed
        answer), AWS may have created the version all the same, possibly some
        seconds later: the newest versions are read over LATE_COMPLETION_PAUSES,
        and only if none newer than ``newer_than`` has the desired content and
        metadata is the request sent again, PUBLISH_ATTEMPTS times at most.
        """
        request = self._publish_request(desired, source)
        client = self.publish_client_for(source.size or 0)
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                published = layer_version_facts(publish_layer_version(client, **request))
                break
            except AnsibleLambdaLayerError as e:
                if not outcome_unknown(e.exception):
                    raise
                found = self._look_for_published(desired, source, newer_than)
                if found is not None:
                    published = found
                    break
                if attempt == PUBLISH_ATTEMPTS:
                    progress.wrote(f"sent {PUBLISH_ATTEMPTS} publish requests whose outcome is unknown")
                    progress.plan(
                        [Step("publish", None, "know whether a version was published")],
                        "run the task again: it looks for a version published meanwhile before publishing",
                    )
                    raise AnsibleLambdaLayerError(
                        message=f"Failed to publish layer version: the outcome of {PUBLISH_ATTEMPTS} attempts is unknown and no new version"
                        f" with the desired content appeared within {sum(LATE_COMPLETION_PAUSES)} s of each",
                        exception=e.exception,
                    ) from e
        progress.wrote(f"published version {published['version']}", layer_version=published)
        return published

    def _look_for_published(self, desired, source, newer_than):
        """A version newer than ``newer_than`` that is what ``desired`` asks for, looked for over a bounded time, or None."""
        wanted = desired.with_content(source.content_sha256(needed=True))
        for pause in LATE_COMPLETION_PAUSES:
            _sleep(pause)
            found = self._find_published(wanted, newer_than)
            if found is not None:
                return found
        return None

    def _find_published(self, wanted, newer_than, older_than=None, oldest=False):
        """A version numbered between ``newer_than`` and ``older_than`` (exclusive) that is what ``wanted`` asks for.

        The newest such version, or the oldest with ``oldest``; None when there is none.
        One list call of at most SETTLE_WINDOW versions, and a read of each candidate.
        """
        numbers = [
            summary["Version"]
            for summary in list_newest_layer_versions(self.client, wanted.get("layer_name"), max_items=SETTLE_WINDOW)
            if newer_than < summary["Version"] and (older_than is None or summary["Version"] < older_than)
        ]
        for number in sorted(numbers, reverse=not oldest):
            response = get_layer_version(self.client, wanted.get("layer_name"), number)
            if response and not changed_fields(layer_version_facts(response), wanted):
                return layer_version_facts(response)
        return None

    def _settle(self, published, superseded_number, progress):
        """Runs of the same task at once may each publish: the oldest identical new version wins.

        Every run that publishes reads the versions between the one it superseded and
        its own. If one of them holds the same content and metadata, a concurrent run
        published it first: ours is redundant and is deleted (only ours: a run never
        deletes what another run published), and the earlier one is reported. Since
        the first identical version exists before any later one is published, every
        later run sees it, so however the runs interleave exactly one new version
        remains. Returns the version to report.
        """
        earlier = self._find_published(published, newer_than=superseded_number, older_than=published["version"], oldest=True)
        if earlier is None:
            return published
        number = published["version"]
        step = Step("delete", number, f"delete version {number}, a duplicate of version {earlier['version']}")
        progress.pending.insert(0, step)
        delete_layer_version(self.client, published["layer_name"], number)
        progress.done(step)
        progress.wrote(
            f"deleted version {number}, a duplicate of version {earlier['version']} published by a concurrent run",
            layer_version=earlier,
            deleted_versions=progress.facts.get("deleted_versions", []) + [number],
        )
        return earlier

    @staticmethod
    def _publish_request(desired, source):
        request = {"LayerName": desired.layer_name, "Content": source.publish_content()}
        if desired.description:
            request["Description"] = desired.description
        if desired.license_info:
            request["LicenseInfo"] = desired.license_info
        if desired.compatible_runtimes:
            request["CompatibleRuntimes"] = list(desired.compatible_runtimes)
        if desired.compatible_architectures:
            request["CompatibleArchitectures"] = list(desired.compatible_architectures)
        return request

    def _result(self, before, after, changes, deleted_versions, carried=None, extra=None):
        """A present run's result: changed, facts, deletions, msg and diff, from one comparison."""
        result = {
            "changed": bool(changes or deleted_versions),
            "layer_version": after,
            "deleted_versions": list(deleted_versions),
            "msg": present_message(self.check_mode, before, after, changes, deleted_versions, extra),
            "diff": present_diff(before, after, deleted_versions),
        }
        if carried is not None:
            result["copied_permissions"] = [statement["statement_id"] for statement in carried]
            if carried:
                # Shown like any other change: the new version gets the superseded version's statements.
                result["diff"]["before"]["permissions"] = list(carried)
                result["diff"]["after"]["permissions"] = list(carried)
        return result

    def absent(self, layer_name, version=None, skip_destroy=False, progress=None):
        progress = progress if progress is not None else Progress()
        # Every version is listed (also for one version): the diff shows the whole layer before and after.
        existing = [summary["Version"] for summary in list_layer_versions(self.client, layer_name)]
        concerned = existing if version is None else [number for number in existing if number == version]
        to_delete = [] if skip_destroy else concerned
        progress.facts["deleted_versions"] = []
        if not self.check_mode:
            steps = [Step("delete", number, f"delete version {number}") for number in to_delete]
            progress.plan(steps, "run the task again once the cause is fixed: it deletes what is left")
            for step in steps:
                delete_layer_version(self.client, layer_name, step.subject)
                progress.done(step)
                progress.wrote(f"deleted version {step.subject}", deleted_versions=progress.facts["deleted_versions"] + [step.subject])
        remaining = [number for number in existing if number not in to_delete]
        return {
            "changed": bool(to_delete),
            "deleted_versions": list(to_delete),
            "msg": absent_message(self.check_mode, layer_name, version, concerned, to_delete, skip_destroy),
            "diff": versions_diff(layer_name, existing, remaining),
        }


class LayerTask:
    """One layer's checked input: what a run of the manager needs."""

    def __init__(self, params, layer_name, arn_parts, desired=None, source=None):
        self.params = params
        self.layer_name = layer_name
        self.arn_parts = arn_parts
        self.desired = desired
        self.source = source

    def run(self, manager, progress=None):
        params = self.params
        if params["state"] == "present":
            if progress is not None and self.source.package_facts() is not None:
                progress.facts["package"] = self.source.package_facts()
            result = manager.present(
                self.desired, self.source, params["source_code_hash"], params["skip_destroy"], params["copy_permissions"], progress=progress,
                retention=retention_of(params),
            )
            package = self.source.package_facts()
            if package is not None:
                result["package"] = package
            return result
        return manager.absent(self.layer_name, params["version"], params["skip_destroy"], progress=progress)


def prepare_task(params, lambda_model, s3_client_factory, warn_function=warn, workdir=None):
    """Every check of one layer's options, before the first AWS call.

    ``params`` are the module's parameters or one item of a list of layers;
    ``lambda_model`` is the installed botocore's Lambda service model (runtimes and
    limits are read from it); ``s3_client_factory`` makes the S3 client only if an
    S3 source needs one; ``workdir``: a temporary directory of the run, where a
    ``source_dir`` is packaged (removed by the caller afterwards).
    """
    if params.get("content") is not None:
        raise LayerInputError(
            "content: this is amazon.aws.lambda_layer's option; here the package is filename (a local zip), source_dir"
            " (a directory, zipped reproducibly) or s3_bucket and s3_key (a zip in S3)"
        )
    check_version_option(params["state"], params["version"])
    check_retention_options(params)
    layer_name, arn_parts = parse_layer_name(params["layer_name"])
    if params["state"] == "present" and all(params.get(option) is None for option in ("filename", "source_dir", "s3_bucket")):
        raise LayerInputError("state is present but any of the following are missing: filename, source_dir, s3_bucket")
    if params["state"] == "absent":
        return LayerTask(params, layer_name, arn_parts)
    if params["source_code_hash"] is not None:
        check_source_code_hash(params["source_code_hash"])
    local = params["filename"] is not None or params.get("source_dir") is not None
    if params["s3_bucket"] is not None and params["s3_key"] is None and not local:
        raise LayerInputError("s3_key: required with s3_bucket, unless filename or source_dir is given to be staged through S3")
    check_s3_location(params["s3_bucket"], params["s3_key"] if params["s3_key"] is not None else "layerwise/staged.zip")
    storage_mode = params.get("s3_object_storage_mode")
    if storage_mode:
        from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import check_storage_mode_supported

        check_storage_mode_supported(lambda_model)
    check_text_lengths(params, lambda_model)
    runtimes, warnings = check_runtimes(params["compatible_runtimes"], known_runtimes(lambda_model))
    for warning in warnings:
        warn_function(warning)
    desired = build_desired(
        layer_name,
        description=params["description"],
        license_info=params["license_info"],
        compatible_runtimes=runtimes,
        compatible_architectures=params["compatible_architectures"],
        s3_object_storage_mode=storage_mode,
    )
    staged = params["s3_bucket"] is not None
    if params["filename"] is not None:
        source = LocalZipSource(params["filename"], direct=not staged)
    elif params.get("source_dir") is not None:
        source = DirectorySource(params["source_dir"], params.get("excludes"), workdir, direct=not staged)
    else:
        source = S3Source(s3_client_factory(), params["s3_bucket"], params["s3_key"], params["s3_object_version"], storage_mode)
    if local and staged:
        source = StagedSource(source, s3_client_factory(), params["s3_bucket"], params["s3_key"], storage_mode, layer_name)
    return LayerTask(params, layer_name, arn_parts, desired, source)


class PublishClients:
    """Publish clients by read timeout: a publish may take longer the larger its package (see publish_read_timeout)."""

    def __init__(self, module, **client_options):
        self.module = module
        self.client_options = client_options
        self.clients = {}
        self.lock = threading.Lock()

    def __call__(self, package_bytes):
        timeout = publish_read_timeout(package_bytes)
        with self.lock:  # the bulk module's threads share it
            if timeout not in self.clients:
                self.clients[timeout] = aws_client(self.module, "lambda", read_timeout=timeout, **self.client_options)
            return self.clients[timeout]


def check_arn_locations(module, tasks):
    """Layer ARNs must name the module's region and the caller's account (one STS call, only if an ARN is given)."""
    with_arn = [task for task in tasks if task.arn_parts is not None]
    if not with_arn:
        return
    for task in with_arn:  # region and partition first: a wrong one fails with no AWS call at all
        check_layer_arn_region(task.arn_parts, module.region)
    account_id = get_caller_account_id(aws_client(module, "sts"))
    for task in with_arn:
        check_layer_arn_location(task.arn_parts, module.region, account_id)


def run_module(module):
    """Run ``lambda_layer_version`` for an AnsibleAWSModule and exit."""

    def work(progress):
        lambda_client = aws_client(module, "lambda")
        with tempfile.TemporaryDirectory(prefix="layerwise-") as workdir:
            task = prepare_task(module.params, lambda_client.meta.service_model, lambda: aws_client(module, "s3"), workdir=workdir)
            check_arn_locations(module, [task])
            # ansible-core's own warn(), not module.warn(): amazon.aws 10's AnsibleAWSModule
            # re-sends its warnings through exit_json, which ansible-core 2.19 reports as deprecated.
            manager = LayerVersionManager(lambda_client, check_mode=module.check_mode, warn=warn, publish_client_for=PublishClients(module))
            return task.run(manager, progress)

    module_boundary(module, work)
