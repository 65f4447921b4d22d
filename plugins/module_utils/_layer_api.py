# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWS calls of the collection: one small function per API call.

PRIVATE to the collection: not a public API, may change without notice.

Every call is retried as ``_layer_retry`` says and turns botocore errors into
an AnsibleLambdaLayerError that ``fail_json_aws_error`` reports with the AWS
error code. Clients are made by ``aws_client``, without botocore's own retries.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.layerwise.aws.plugins.module_utils._layer_responses import checked_call
from ansible_collections.layerwise.aws.plugins.module_utils._layer_responses import checked_pages
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import client_config
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import retry_idempotent
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import retry_refused


class AnsibleLambdaLayerError(AnsibleAWSError):
    pass


class LambdaLayerErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleLambdaLayerError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


class S3ObjectErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleLambdaLayerError

    @classmethod
    def _is_missing(cls):
        # HeadObject has no body, so a missing key or version is a bare 404.
        return is_boto3_error_code(["404", "NoSuchKey", "NoSuchVersion", "NotFound"])


def aws_client(module, service, pool_size=10, **kwargs):
    """A client of an AnsibleAWSModule whose only retries are the collection's (see _layer_retry)."""
    return module.client(service, config=client_config(pool_size), **kwargs)


# What the collection reads from the answers that describe one layer version.
VERSION_MEMBERS = ("LayerVersionArn", "Version", "Content.CodeSha256", "Content.CodeSize")
SUMMARY_MEMBERS = ("LayerVersions", "LayerVersions[].Version")


@LambdaLayerErrorHandler.list_error_handler("read the newest version of the layer", None)
@retry_idempotent
def get_newest_layer_version_summary(client, layer_name):
    """Return the ListLayerVersions item of the newest version, or None.

    The API lists newest first and MaxItems=1 makes this one call however many
    versions exist. The maximum is taken anyway, because some endpoints (moto)
    ignore MaxItems and return every version.
    """
    summaries = checked_call(client, "ListLayerVersions", SUMMARY_MEMBERS, LayerName=layer_name, MaxItems=1)["LayerVersions"]
    if not summaries:
        return None
    return max(summaries, key=lambda summary: summary["Version"])


@LambdaLayerErrorHandler.list_error_handler("get layer version", None)
@retry_idempotent
def get_layer_version(client, layer_name, version_number):
    """Return GetLayerVersion's answer, or None when the version does not exist."""
    return checked_call(client, "GetLayerVersion", VERSION_MEMBERS, LayerName=layer_name, VersionNumber=version_number)


@LambdaLayerErrorHandler.list_error_handler("list layer versions", [])
@retry_idempotent
def list_layer_versions(client, layer_name, **filters):
    """Every version of a layer, newest first, all pages read.

    ``filters``: CompatibleRuntime and CompatibleArchitecture, as the API takes them.
    """
    summaries = [summary for page in checked_pages(client, "ListLayerVersions", SUMMARY_MEMBERS, LayerName=layer_name, **filters) for summary in page["LayerVersions"]]
    return sorted(summaries, key=lambda summary: summary["Version"], reverse=True)


@LambdaLayerErrorHandler.list_error_handler("list layers", [])
@retry_idempotent
def list_layers(client, **filters):
    """Every layer with its newest (matching) version, all pages read."""
    required = ("Layers", "Layers[].LayerName", "Layers[].LayerArn")
    return [layer for page in checked_pages(client, "ListLayers", required, **filters) for layer in page["Layers"]]


# The most layers one ListLayers page holds (the API's maximum MaxItems).
LIST_LAYERS_PAGE_SIZE = 50


@LambdaLayerErrorHandler.common_error_handler("list layers")
@retry_idempotent
def list_layers_page(client, marker=None):
    """One page of ListLayers, unfiltered: ``(layers, next marker or None)``.

    Without filters each layer's ``LatestMatchingVersion`` is its newest version.
    One call per page, so that a caller can stop paging once it has what it needs.
    """
    request = {"MaxItems": LIST_LAYERS_PAGE_SIZE}
    if marker:
        request["Marker"] = marker
    page = checked_call(client, "ListLayers", ("Layers", "Layers[].LayerName"), **request)
    return page["Layers"], page.get("NextMarker") or None


@LambdaLayerErrorHandler.list_error_handler("read the newest versions of the layer", [])
@retry_idempotent
def list_newest_layer_versions(client, layer_name, max_items=10):
    """The newest versions of a layer (at most ``max_items`` as the API counts), newest first, one call."""
    summaries = checked_call(client, "ListLayerVersions", SUMMARY_MEMBERS, LayerName=layer_name, MaxItems=max_items)["LayerVersions"]
    return sorted(summaries, key=lambda summary: summary["Version"], reverse=True)


@LambdaLayerErrorHandler.common_error_handler("publish layer version")
@retry_refused
def publish_layer_version(client, **request):
    return checked_call(client, "PublishLayerVersion", VERSION_MEMBERS, **request)


@LambdaLayerErrorHandler.deletion_error_handler("delete layer version")
@retry_idempotent
def delete_layer_version(client, layer_name, version_number):
    # DeleteLayerVersion is idempotent in AWS, so retrying it is safe.
    client.delete_layer_version(LayerName=layer_name, VersionNumber=version_number)
    return True


@LambdaLayerErrorHandler.common_error_handler("read the caller's account id")
@retry_idempotent
def get_caller_account_id(sts_client):
    return checked_call(sts_client, "GetCallerIdentity", ("Account",))["Account"]


@S3ObjectErrorHandler.list_error_handler("read the S3 object's metadata", None)
@retry_idempotent
def head_s3_object(s3_client, bucket, key, version_id=None):
    """HeadObject with checksums enabled, or None when the object does not exist."""
    request = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        request["VersionId"] = version_id
    return checked_call(s3_client, "HeadObject", ("ContentLength",), **request)


@S3ObjectErrorHandler.common_error_handler("read the S3 object")
@retry_idempotent
def open_s3_object(s3_client, bucket, key, version_id=None):
    """The streaming body of an S3 object; the caller reads and closes it."""
    request = {"Bucket": bucket, "Key": key}
    if version_id:
        request["VersionId"] = version_id
    return s3_client.get_object(**request)["Body"]


@LambdaLayerErrorHandler.list_error_handler("read the layer version's policy", None)
@retry_idempotent
def get_layer_version_policy(client, layer_name, version_number):
    """``{"Policy": <JSON text>, "RevisionId": ...}``, or None when the version has no policy."""
    return checked_call(client, "GetLayerVersionPolicy", ("Policy",), LayerName=layer_name, VersionNumber=version_number)


@LambdaLayerErrorHandler.common_error_handler("add a layer version permission")
@retry_refused
def add_layer_version_permission(client, **request):
    # Not idempotent either (a second add of the same statement id fails); the
    # caller reads the policy again when the answer is lost.
    return checked_call(client, "AddLayerVersionPermission", ("Statement",), **request)


@LambdaLayerErrorHandler.deletion_error_handler("remove a layer version permission")
@retry_idempotent
def remove_layer_version_permission(client, **request):
    client.remove_layer_version_permission(**request)
    return True
