# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWS calls of the collection: one small function per API call.

PRIVATE to the collection: not a public API, may change without notice.

Every call is retried with amazon.aws's jittered backoff and turns botocore
errors into an AnsibleLambdaLayerError that ``fail_json_aws_error`` reports
with the AWS error code.
"""

try:
    import botocore  # pylint: disable=unused-import
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore.

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Lambda answers throttling with TooManyRequestsException (in AWSRetry's list);
# ServiceException is its 5xx.
_READ_RETRY = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=20, catch_extra_error_codes=["ServiceException", "ThrottlingException"])
# A publish is not idempotent: retry only on errors that say the request was refused
# before any work was done, never on a 5xx that may follow a publish.
_PUBLISH_RETRY = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=20, catch_extra_error_codes=["ThrottlingException"])


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


def _without_metadata(response):
    response.pop("ResponseMetadata", None)
    return response


@LambdaLayerErrorHandler.list_error_handler("read the newest version of the layer", None)
@_READ_RETRY
def get_newest_layer_version_summary(client, layer_name):
    """Return the ListLayerVersions item of the newest version, or None.

    The API lists newest first and MaxItems=1 makes this one call however many
    versions exist. The maximum is taken anyway, because some endpoints (moto)
    ignore MaxItems and return every version.
    """
    response = client.list_layer_versions(LayerName=layer_name, MaxItems=1)
    summaries = response.get("LayerVersions") or []
    if not summaries:
        return None
    return max(summaries, key=lambda summary: summary["Version"])


@LambdaLayerErrorHandler.list_error_handler("get layer version", None)
@_READ_RETRY
def get_layer_version(client, layer_name, version_number):
    """Return GetLayerVersion's answer, or None when the version does not exist."""
    return _without_metadata(client.get_layer_version(LayerName=layer_name, VersionNumber=version_number))


@LambdaLayerErrorHandler.list_error_handler("list layer versions", [])
@_READ_RETRY
def list_layer_versions(client, layer_name, **filters):
    """Every version of a layer, newest first, all pages read.

    ``filters``: CompatibleRuntime and CompatibleArchitecture, as the API takes them.
    """
    paginator = client.get_paginator("list_layer_versions")
    summaries = paginator.paginate(LayerName=layer_name, **filters).build_full_result().get("LayerVersions", [])
    return sorted(summaries, key=lambda summary: summary["Version"], reverse=True)


@LambdaLayerErrorHandler.list_error_handler("list layers", [])
@_READ_RETRY
def list_layers(client, **filters):
    """Every layer with its newest (matching) version, all pages read."""
    paginator = client.get_paginator("list_layers")
    return paginator.paginate(**filters).build_full_result().get("Layers", [])


@LambdaLayerErrorHandler.common_error_handler("publish layer version")
@_PUBLISH_RETRY
def publish_layer_version(client, **request):
    return _without_metadata(client.publish_layer_version(**request))


@LambdaLayerErrorHandler.deletion_error_handler("delete layer version")
@_READ_RETRY
def delete_layer_version(client, layer_name, version_number):
    # DeleteLayerVersion is idempotent in AWS, so retrying it is safe.
    client.delete_layer_version(LayerName=layer_name, VersionNumber=version_number)
    return True


@LambdaLayerErrorHandler.common_error_handler("read the caller's account id")
@_READ_RETRY
def get_caller_account_id(sts_client):
    return sts_client.get_caller_identity()["Account"]


@S3ObjectErrorHandler.list_error_handler("read the S3 object's metadata", None)
@_READ_RETRY
def head_s3_object(s3_client, bucket, key, version_id=None):
    """HeadObject with checksums enabled, or None when the object does not exist."""
    request = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        request["VersionId"] = version_id
    return _without_metadata(s3_client.head_object(**request))


@S3ObjectErrorHandler.common_error_handler("read the S3 object")
@_READ_RETRY
def open_s3_object(s3_client, bucket, key, version_id=None):
    """The streaming body of an S3 object; the caller reads and closes it."""
    request = {"Bucket": bucket, "Key": key}
    if version_id:
        request["VersionId"] = version_id
    return s3_client.get_object(**request)["Body"]
