# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWS calls of the collection: one small function per API call.

PRIVATE to the collection: not a public API, may change without notice.

Every call is rate-limited and retried as ``_layer_retry`` says (the client is
the first positional argument of each function: the rate limiter is chosen by
its service, region and endpoint) and turns botocore errors into an
AnsibleLambdaLayerError that ``fail_json_aws_error`` reports with the AWS error
code. A ``MalformedResponse`` raised inside one of these functions is retried
like a server error by the reads and never by the writes; it is not wrapped.
Clients are made by ``aws_client``, without botocore's own retries.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_responses import checked_call
from ansible_collections.layerwise.aws.plugins.module_utils._layer_responses import checked_pages
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import client_config
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import failure_kind
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
        # HeadObject has no body, so a missing key, version or bucket is a bare 404 (some endpoints name NoSuchBucket);
        # callers tell a missing bucket apart with HeadBucket.
        return is_boto3_error_code(["404", "NoSuchKey", "NoSuchVersion", "NotFound", "NoSuchBucket"])


def aws_client(module, service, pool_size=10, read_timeout=None, **kwargs):
    """A client of an AnsibleAWSModule whose only retries and timeouts are the collection's (see _layer_retry).

    ``pool_size``: connections the threads sharing the client may hold at once.
    ``read_timeout``: seconds of silence before a request is given up; ``READ_TIMEOUT``
    (15 s) by default, ``publish_read_timeout(package_bytes)`` for a publish client.
    ``kwargs`` go to ``module.client`` (``region=`` for another region).

    The user's ``aws_config`` (proxies, user agent, signature version, S3 addressing
    style, ...) applies, except its ``retries`` and timeouts: amazon.aws merges
    ``aws_config`` over ``config``, so the merged settings are passed as both and
    botocore's blind retries (which could publish twice) cannot come back.
    """
    try:
        config = client_config(pool_size, read_timeout=read_timeout, user_config=module.params.get("aws_config"))
    except ValueError as e:
        module.fail_json(msg=f"aws_config: not a valid botocore configuration: {e}")
    return module.client(service, config=config, aws_config=config, **kwargs)


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
    pages = checked_pages(client, "ListLayerVersions", SUMMARY_MEMBERS, LayerName=layer_name, **filters)
    summaries = [summary for page in pages for summary in page["LayerVersions"]]
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


# What the usage scan reads from ListFunctions: which function (and version) each configuration is.
FUNCTION_MEMBERS = ("Functions", "Functions[].FunctionArn", "Functions[].Version")


@LambdaLayerErrorHandler.common_error_handler("list functions")
@retry_idempotent
def list_function_configurations(client):
    """The configuration of every function of the region, $LATEST and every published version, all pages read.

    ListFunctions with FunctionVersion=ALL answers at most 50 configurations per call.
    """
    pages = checked_pages(client, "ListFunctions", FUNCTION_MEMBERS, FunctionVersion="ALL")
    return [function for page in pages for function in page["Functions"]]


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
def _head_object(s3_client, request):
    return checked_call(s3_client, "HeadObject", ("ContentLength",), **request)


def head_s3_object(s3_client, bucket, key, version_id=None):
    """HeadObject with checksums enabled, or None when the object does not exist.

    With ``version_id``, S3 saying there is no such version raises LayerInputError
    naming ``s3_object_version``: a version id the key does not have answers 404, and
    any version id on a bucket that never had versioning enabled a bare 400 (HeadObject
    has no body to say more), which would otherwise read "Bad Request".
    """
    request = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        request["VersionId"] = version_id
    try:
        head = _head_object(s3_client, request)
    except AnsibleLambdaLayerError as e:
        if not (version_id and failure_kind(e.exception) in ("400", "InvalidArgument")):
            raise
        raise LayerInputError(
            f"s3_object_version: bucket {bucket} has no object version {version_id!r} of key {key!r}"
            " (S3 answered 400 Bad Request: is versioning enabled on the bucket?)"
        ) from e
    if head is None and version_id:
        raise LayerInputError(f"s3_object_version: bucket {bucket} has no object version {version_id!r} of key {key!r} (S3 answered 404 Not Found)")
    return head


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
