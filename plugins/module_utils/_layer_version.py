# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What ``lambda_layer_version`` does: present and absent, check and diff mode.

PRIVATE to the collection: not a public API, may change without notice.

``LayerVersionManager`` works on boto3 clients and plain values, so it can be
tested without Ansible; ``run_module`` turns a module's parameters into calls
of it and its result into ``exit_json``.
"""

from ansible.module_utils.common.warnings import warn

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import aws_client
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import delete_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_caller_account_id
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_newest_layer_version_summary
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import head_s3_object
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_layer_versions
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_newest_layer_versions
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import publish_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import layer_version_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import predicted_layer_version_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_runtimes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_s3_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_text_lengths
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_version_option
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import known_runtimes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_name
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import check_local_zip
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import check_source_code_hash
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import full_object_sha256
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import read_local_zip
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import sha256_of_file
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import sha256_of_s3_object
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import add_statement
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import read_policy
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import statements_of
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import outcome_unknown
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import build_desired
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import changed_fields
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import diff_view
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import versions_diff


class LocalZipSource:
    """A zip file on the controller's target host, checked when created."""

    def __init__(self, path):
        self.path = path
        self.size = check_local_zip(path)

    def content_sha256(self, needed=True):
        return sha256_of_file(self.path)

    def ensure_exists(self):
        """Checked when created."""

    def publish_content(self):
        return {"ZipFile": read_local_zip(self.path)}


class S3Source:
    """A zip in S3. HeadObject is made at most once; the object is read only when its hash is needed."""

    def __init__(self, s3_client, bucket, key, version_id=None):
        self.s3_client = s3_client
        self.bucket = bucket
        self.key = key
        self.version_id = version_id
        self._head = None

    @property
    def location(self):
        suffix = f" (version {self.version_id})" if self.version_id else ""
        return f"s3://{self.bucket}/{self.key}{suffix}"

    def _read_head(self):
        if self._head is None:
            head = head_s3_object(self.s3_client, self.bucket, self.key, self.version_id)
            if head is None:
                # AWS refuses to publish from a missing object; some endpoints (moto)
                # publish an empty package instead, so it is checked here for both.
                raise LayerInputError(f"s3_key: {self.location} does not exist or cannot be read")
            self._head = head
        return self._head

    @property
    def size(self):
        return self._read_head().get("ContentLength")

    def ensure_exists(self):
        self._read_head()

    def content_sha256(self, needed=True):
        """S3's full-object SHA-256 when it has one, else a streamed hash (only if ``needed``)."""
        checksum = full_object_sha256(self._read_head())
        if checksum or not needed:
            return checksum
        return sha256_of_s3_object(self.s3_client, self.bucket, self.key, self.version_id)

    def publish_content(self):
        content = {"S3Bucket": self.bucket, "S3Key": self.key}
        if self.version_id:
            content["S3ObjectVersion"] = self.version_id
        return content


# How often a publish whose answer was lost is sent again, after looking for its version.
PUBLISH_ATTEMPTS = 3


class SupersededNotDeleted(Exception):
    """A new version was published, but the version it superseded could not be deleted."""

    def __init__(self, result, version, error):
        super().__init__(f"version {version} could not be deleted")
        self.result = result
        self.version = version
        self.error = error

    @property
    def message(self):
        published = self.result["layer_version"]
        return (
            f"Published version {published['version']} of layer {published['layer_name']} ({published['arn']}), but could not delete"
            f" version {self.version}, which it supersedes: {self.error}. Nothing else was changed. Delete it once the cause is fixed,"
            f" with state=absent and version={self.version} (re-running this task does not: a version kept on purpose looks the same)."
        )


class LayerVersionManager:
    def __init__(self, lambda_client, check_mode=False, warn=None):
        self.client = lambda_client
        self.check_mode = check_mode
        self.warn = warn or (lambda message: None)

    def read_newest(self, layer_name):
        """Facts of the newest version, or None: two read calls however many versions exist."""
        summary = get_newest_layer_version_summary(self.client, layer_name)
        if summary is None:
            return None
        response = get_layer_version(self.client, layer_name, summary["Version"])
        if response is None:
            # Deleted between the two calls: read again rather than guess.
            return self.read_newest(layer_name)
        return layer_version_facts(response)

    def present(self, desired, source, source_code_hash=None, skip_destroy=False, copy_permissions=False):
        layer_name = desired["layer_name"]
        current = self.read_newest(layer_name)
        # The statements to carry over: None when not asked to, read only when a publish is due.
        carried = [] if copy_permissions else None

        if source_code_hash:
            desired["code_sha256"] = source_code_hash
        else:
            # With no version yet a publish is certain, so an S3 object is not
            # streamed just to predict its hash.
            desired["code_sha256"] = source.content_sha256(needed=current is not None)

        if not changed_fields(current, desired):
            return self._result(False, current, current, [], carried)

        source.ensure_exists()
        desired["source_code_size"] = source.size
        superseded = [] if current is None or skip_destroy else [current["version"]]
        if copy_permissions and current is not None:
            carried = statements_of(read_policy(self.client, layer_name, current["version"])[0])

        if self.check_mode:
            layer_arn = current["layer_arn"] if current else None
            return self._result(True, current, predicted_layer_version_facts(desired, layer_arn), superseded, carried)

        published = self._publish_once(desired, source, newer_than=current["version"] if current else 0)
        if source_code_hash and published["code_sha256"] != source_code_hash:
            self.warn(
                f"source_code_hash: {source_code_hash} differs from the published package's CodeSha256"
                f" {published['code_sha256']}; every run will publish again until they match"
            )
        published, own_duplicates = self._settle(published)
        for statement in carried or []:
            # Before the superseded version is deleted, so a failure leaves its policy to copy again.
            add_statement(self.client, layer_name, published["version"], statement)
        deleted = list(own_duplicates)
        for version in superseded:
            try:
                delete_layer_version(self.client, layer_name, version)
            except AnsibleLambdaLayerError as e:
                raise SupersededNotDeleted(self._result(True, current, published, deleted, carried), version, e)
            deleted.append(version)
        return self._result(True, current, published, deleted, carried)

    def _publish_once(self, desired, source, newer_than):
        """Publish, and never twice: PublishLayerVersion is not idempotent.

        Refusals (throttling, no connection) are retried by the call itself. When
        the answer is lost (a 5xx, a broken connection, a timeout), AWS may have
        created the version all the same; the newest versions are read, and only
        if none newer than ``newer_than`` has the desired content and metadata is
        the request sent again.
        """
        request = self._publish_request(desired, source)
        attempt = 1
        while True:
            try:
                return layer_version_facts(publish_layer_version(self.client, **request))
            except AnsibleLambdaLayerError as e:
                if not outcome_unknown(e.exception):
                    raise
                found = self._find_published(desired, source, newer_than)
                if found is not None:
                    return found
                if attempt >= PUBLISH_ATTEMPTS:
                    raise
                attempt += 1

    def _find_published(self, desired, source, newer_than):
        """Facts of a version newer than ``newer_than`` that is what ``desired`` asks for, or None."""
        wanted = dict(desired, code_sha256=source.content_sha256(needed=True))
        for summary in list_newest_layer_versions(self.client, desired["layer_name"]):
            if summary["Version"] <= newer_than:
                break
            response = get_layer_version(self.client, desired["layer_name"], summary["Version"])
            if response and not changed_fields(layer_version_facts(response), wanted):
                return layer_version_facts(response)
        return None

    def _settle(self, published):
        """Two runs of the same task at once may both publish: the newest identical version wins.

        If a version newer than ours holds the same content and metadata, another run
        published it after us; ours is the redundant one and is deleted (only ours:
        a run never deletes what another run published). Returns the version to
        report and the numbers of our own deleted duplicates.
        """
        newest = self.read_newest(published["layer_name"])
        if newest is None or newest["version"] <= published["version"] or changed_fields(newest, published):
            return published, []
        delete_layer_version(self.client, published["layer_name"], published["version"])
        return newest, [published["version"]]

    @staticmethod
    def _publish_request(desired, source):
        request = {"LayerName": desired["layer_name"], "Content": source.publish_content()}
        if desired["description"]:
            request["Description"] = desired["description"]
        if desired["license_info"]:
            request["LicenseInfo"] = desired["license_info"]
        if desired["compatible_runtimes"]:
            request["CompatibleRuntimes"] = desired["compatible_runtimes"]
        if desired["compatible_architectures"]:
            request["CompatibleArchitectures"] = desired["compatible_architectures"]
        return request

    @staticmethod
    def _result(changed, before, after, deleted_versions, carried=None):
        result = {
            "changed": changed,
            "layer_version": after,
            "deleted_versions": list(deleted_versions),
            "diff": {"before": diff_view(before), "after": diff_view(after)},
        }
        if carried is not None:
            result["copied_permissions"] = [statement["statement_id"] for statement in carried]
            if carried:
                # Shown like any other change: the new version gets the superseded version's statements.
                result["diff"]["before"]["permissions"] = list(carried)
                result["diff"]["after"]["permissions"] = list(carried)
        return result

    def absent(self, layer_name, version=None, skip_destroy=False):
        if version is not None:
            existing = [version] if get_layer_version(self.client, layer_name, version) else []
        else:
            existing = [summary["Version"] for summary in list_layer_versions(self.client, layer_name)]
        to_delete = [] if skip_destroy else existing
        if not self.check_mode:
            for number in to_delete:
                delete_layer_version(self.client, layer_name, number)
        remaining = [number for number in existing if number not in to_delete]
        return {
            "changed": bool(to_delete),
            "deleted_versions": list(to_delete),
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

    def run(self, manager):
        params = self.params
        if params["state"] == "present":
            return manager.present(self.desired, self.source, params["source_code_hash"], params["skip_destroy"], params["copy_permissions"])
        return manager.absent(self.layer_name, params["version"], params["skip_destroy"])


def prepare_task(params, lambda_model, s3_client_factory, warn_function=warn):
    """Every check of one layer's options, before the first AWS call.

    ``params`` are the module's parameters or one item of a list of layers;
    ``lambda_model`` is the installed botocore's Lambda service model (runtimes and
    limits are read from it); ``s3_client_factory`` makes the S3 client only if an
    S3 source needs one.
    """
    check_version_option(params["state"], params["version"])
    layer_name, arn_parts = parse_layer_name(params["layer_name"])
    if params["state"] == "absent":
        return LayerTask(params, layer_name, arn_parts)
    if params["source_code_hash"] is not None:
        check_source_code_hash(params["source_code_hash"])
    check_s3_location(params["s3_bucket"], params["s3_key"])
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
    )
    if params["filename"] is not None:
        source = LocalZipSource(params["filename"])
    else:
        source = S3Source(s3_client_factory(), params["s3_bucket"], params["s3_key"], params["s3_object_version"])
    return LayerTask(params, layer_name, arn_parts, desired, source)


def check_arn_locations(module, tasks):
    """Layer ARNs must name the module's region and the caller's account (one STS call, only if an ARN is given)."""
    with_arn = [task for task in tasks if task.arn_parts is not None]
    if not with_arn:
        return
    account_id = get_caller_account_id(aws_client(module, "sts"))
    for task in with_arn:
        check_layer_arn_location(task.arn_parts, module.region, account_id)


def run_module(module):
    """Run ``lambda_layer_version`` for an AnsibleAWSModule and exit."""
    lambda_client = aws_client(module, "lambda")
    try:
        task = prepare_task(module.params, lambda_client.meta.service_model, lambda: aws_client(module, "s3"))
        check_arn_locations(module, [task])
        # ansible-core's own warn(), not module.warn(): amazon.aws 10's AnsibleAWSModule
        # re-sends its warnings through exit_json, which ansible-core 2.19 reports as deprecated.
        result = task.run(LayerVersionManager(lambda_client, check_mode=module.check_mode, warn=warn))
    except LayerInputError as e:
        module.fail_json(msg=str(e))
    except SupersededNotDeleted as e:
        result = _with_diff_if_asked(module, e.result)
        module.fail_json_aws(e.error.exception or e.error, msg=e.message, undeleted_versions=[e.version], **result)
    except AnsibleLambdaLayerError as e:
        module.fail_json_aws_error(e)
    module.exit_json(**_with_diff_if_asked(module, result))


def _with_diff_if_asked(module, result):
    result = dict(result)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    return result
