# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Large packages through S3: staging a local zip, and the S3 side of a publish.

PRIVATE to the collection: not a public API, may change without notice.

A local package (``filename`` or ``source_dir``) that comes with ``s3_bucket`` is
uploaded to ``s3_key`` (default ``layerwise/<layer_name>/<sha256-hex>.zip``) and
published from there. The upload is skipped when the object already holds the
same bytes.

How a later run recognises the bytes
    Every upload asks S3 for SHA-256 checksums (``ChecksumAlgorithm=SHA256``).
    A package under ``MULTIPART_THRESHOLD`` goes up in one PutObject, and S3
    stores the full-object SHA-256: the run compares it with the package's.
    S3 has no full-object SHA-256 for a multipart upload, only a COMPOSITE one
    (the SHA-256 of the parts' SHA-256s, "<b64>-<parts>"), so for a larger
    package the run reads the size of part 1 (HeadObject with PartNumber=1),
    computes the composite of the local file with that part size (one streamed
    pass, nothing kept in memory) and compares. Both checksums are S3's own:
    S3 computed and checked them on the bytes it received, so a match means the
    same bytes. The package's SHA-256 is also written as object metadata
    ``x-amz-meta-layerwise-sha256`` for people and for the check after the
    upload, but it never decides a skip alone: anyone can write metadata.

    Single-part uploads of up to 5 GiB would give full-object checksums for
    every package, but a 250 MiB package would then travel in one request that
    starts over from the first byte on any failure; multipart keeps the parts
    small and parallel, and the composite costs one extra local hash pass only
    on the runs that find the object already staged.

Retries
    The collection's clients have botocore's own retries switched off, and the
    transfer manager retries no upload request by itself. An upload of the same
    bytes to the same key is idempotent, so the whole managed upload is
    retried as ``retry_idempotent`` says (at most 6 more attempts, at most
    31 s of sleep in all); a failed multipart upload is aborted by the transfer
    manager before the next attempt starts over.

Memory
    The transfer manager is given the file's name, not an open file: it then
    reads each part from disk while sending it, instead of holding parts in
    memory (see benchmarks/staging_memory.py for the measurement).
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from dataclasses import field

try:
    import botocore
    from boto3.s3.transfer import TransferConfig
    from boto3.s3.transfer import create_transfer_manager
except ImportError:  # AnsibleAWSModule reports a missing boto3.
    botocore = TransferConfig = create_transfer_manager = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import S3ObjectErrorHandler
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import head_s3_object
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import retry_idempotent
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import CHUNK_SIZE
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import b64_digest
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import full_object_sha256

COPY = "COPY"
REFERENCE = "REFERENCE"
STORAGE_MODES = (COPY, REFERENCE)

# The first botocore whose Lambda model has LayerVersionContentInput.S3ObjectStorageMode
# (and LayerVersionContentOutput.ResolvedS3Object): 1.43.36 has neither, 1.43.37 both.
STORAGE_MODE_MIN_BOTOCORE = "1.43.37"

# Object metadata (x-amz-meta-...) written with every staged package.
METADATA_SHA256 = "layerwise-sha256"

# Packages up to this size go up in one PutObject (full-object SHA-256); larger
# ones in parts of this size. 16 MiB parts: a 250 MiB package is 16 parts.
MULTIPART_THRESHOLD = 16 * 1024 * 1024
MULTIPART_CHUNKSIZE = 16 * 1024 * 1024
# Parts in flight at once; with the file read from disk as it is sent, memory
# does not grow with this (see the module docstring).
MAX_CONCURRENCY = 4

_ACCESS_DENIED = ("AccessDenied", "AllAccessDisabled", "Forbidden", "403")


class S3BucketErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleLambdaLayerError

    @classmethod
    def _is_missing(cls):
        # HeadBucket has no body either: a missing bucket is a bare 404.
        return is_boto3_error_code(["404", "NoSuchBucket", "NotFound"])


class StagedObjectMismatch(Exception):
    """The object read back after an upload is not the package just uploaded.

    Raised after a write (the upload happened): another writer replaced the
    object in between, or the endpoint kept something else.
    """


@dataclass(frozen=True)
class StagedObject:
    """Where a package is (or would be, in check mode) in S3.

    ``uploaded``: this run uploaded it, or in check mode would upload it.
    ``version_id``: the object version to pin; None when the bucket is not
    versioned, or in check mode before an upload.
    ``head``: the HeadObject answer the decision was made on (None in check
    mode when the object would be uploaded).
    """

    bucket: str
    key: str
    version_id: str = None
    uploaded: bool = False
    head: dict = field(default=None, compare=False, repr=False)


# The raw AWS calls of staging, in the style of _layer_api.


def _without_metadata(response):
    response.pop("ResponseMetadata", None)
    return response


def _bucket_region(response):
    # BucketRegion is in newer botocore models only; the header is always there.
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    return response.get("BucketRegion") or headers.get("x-amz-bucket-region")


@S3BucketErrorHandler.list_error_handler("read the S3 bucket", None)
@retry_idempotent
def head_s3_bucket(s3_client, bucket):
    """``{"region": ..., "readable": bool}``, or None when the bucket does not exist.

    S3 answers 404 for a bucket that does not exist, whoever asks; 403 means it
    exists but HeadBucket (s3:ListBucket) is not allowed, which staging does
    not need by itself, so it is no error here.
    """
    try:
        response = s3_client.head_bucket(Bucket=bucket)
    except is_boto3_error_code(list(_ACCESS_DENIED)) as e:
        return {"region": _bucket_region(e.response), "readable": False}
    return {"region": _bucket_region(response), "readable": True}


@S3BucketErrorHandler.common_error_handler("read the S3 bucket's versioning")
@retry_idempotent
def get_bucket_versioning_status(s3_client, bucket):
    """"Enabled", "Suspended", or None when versioning was never enabled."""
    return s3_client.get_bucket_versioning(Bucket=bucket).get("Status")


@S3ObjectErrorHandler.list_error_handler("read the S3 object's first part", None)
@retry_idempotent
def head_s3_object_part(s3_client, bucket, key, part_number, version_id=None):
    """HeadObject of one part of a multipart object (its ContentLength and the object's PartsCount)."""
    request = {"Bucket": bucket, "Key": key, "PartNumber": part_number}
    if version_id:
        request["VersionId"] = version_id
    return _without_metadata(s3_client.head_object(**request))


@S3ObjectErrorHandler.common_error_handler("upload the package to S3")
@retry_idempotent
def upload_file(s3_client, path, bucket, key, extra_args, config):
    """Managed upload of the file at ``path``: one PutObject, or a multipart upload over the threshold.

    The transfer manager is used directly rather than through
    ``s3_client.upload_file``, which turns every ClientError into an
    S3UploadFailedError without its AWS error code (so it could be neither
    retried by code nor reported with it), and rather than ``upload_fileobj``,
    which reads every part of an open file into memory.
    """
    with create_transfer_manager(s3_client, config) as manager:
        manager.upload(path, bucket, key, extra_args).result()


# Pure helpers.


def sha256_hex(sha256_b64):
    """The hex form of a base64 SHA-256 (as Lambda reports CodeSha256)."""
    try:
        return base64.b64decode(sha256_b64, validate=True).hex()
    except (binascii.Error, ValueError):
        raise ValueError(f"{sha256_b64!r} is not a base64-encoded digest") from None


def default_staging_key(layer_name, sha256_hex_digest):
    """``layerwise/<layer_name>/<sha256-hex>.zip``: one key per content, so a key never changes its bytes."""
    return f"layerwise/{layer_name}/{sha256_hex_digest}.zip"


def transfer_config(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNKSIZE, max_concurrency=MAX_CONCURRENCY):
    """The managed transfer's settings: threads, the classic (pure Python) client, fixed part size.

    The CRT client is never chosen (it would be, where awscrt is installed on a
    large instance): its memory and checksum behaviour differ from what is
    described and measured here.
    """
    return TransferConfig(
        multipart_threshold=multipart_threshold,
        multipart_chunksize=multipart_chunksize,
        max_concurrency=max_concurrency,
        use_threads=True,
        preferred_transfer_client="classic",
    )


def composite_sha256_of_file(path, part_size):
    """S3's COMPOSITE SHA-256 of the file cut in ``part_size`` parts: (base64 digest, part count).

    That is SHA-256 over the concatenated binary SHA-256 of each part, read in
    fixed chunks with one reused buffer.
    """
    part_digests = hashlib.sha256()
    parts = 0
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    with open(path, "rb") as package:
        while True:
            part = hashlib.sha256()
            remaining = part_size
            while remaining:
                count = package.readinto(view[:min(remaining, CHUNK_SIZE)])
                if not count:
                    break
                part.update(view[:count])
                remaining -= count
            if remaining == part_size:
                break
            part_digests.update(part.digest())
            parts += 1
            if remaining:
                break
    return b64_digest(part_digests.digest()), parts


def _checksum_digest(checksum):
    """The digest of an S3 checksum, without the "-<parts>" a COMPOSITE one carries.

    The local endpoint (moto 5.2) stores a multipart object's composite SHA-256
    without that suffix and without ChecksumType; comparing digests alone is
    sound on both, because equal SHA-256 digests of part hashes mean equal parts.
    """
    return checksum.split("-", 1)[0]


def _pinnable_version(version_id):
    # An object written while versioning is off or suspended has the version
    # id "null": there is nothing to pin.
    return None if version_id in (None, "", "null") else version_id


def _location(bucket, key):
    return f"s3://{bucket}/{key}"


# Checks before any write.


def check_bucket(s3_client, bucket):
    """Fail naming ``s3_bucket`` when the bucket does not exist or is in another region than the layer.

    Lambda reads a layer's package only from a bucket in the layer's region
    (the module's region, as the S3 client's). Returns the bucket's region, or
    None when S3 did not say.
    """
    facts = head_s3_bucket(s3_client, bucket)
    if facts is None:
        raise LayerInputError(f"s3_bucket: bucket {bucket} does not exist")
    region = facts["region"]
    layer_region = s3_client.meta.region_name
    if region and layer_region and region != layer_region:
        raise LayerInputError(
            f"s3_bucket: bucket {bucket} is in region {region}; Lambda takes a layer's package only from a bucket in the layer's region {layer_region}"
        )
    return region


def check_reference_bucket(s3_client, bucket):
    """``REFERENCE`` needs versioning enabled on the bucket (Lambda tracks the object version it references)."""
    status = get_bucket_versioning_status(s3_client, bucket)
    if status != "Enabled":
        described = f"versioning {status}" if status else "versioning never enabled"
        raise LayerInputError(f"s3_object_storage_mode: REFERENCE needs a versioned bucket; bucket {bucket} has {described}")


def check_storage_mode_supported(lambda_service_model, botocore_version=None):
    """Fail naming ``s3_object_storage_mode`` when the installed botocore cannot send it.

    ``lambda_service_model``: the Lambda client's ``meta.service_model``.
    """
    members = lambda_service_model.shape_for("LayerVersionContentInput").members
    if "S3ObjectStorageMode" not in members:
        installed = botocore_version or getattr(botocore, "__version__", "unknown")
        raise LayerInputError(
            f"s3_object_storage_mode: the installed botocore {installed} does not know this field; botocore >= {STORAGE_MODE_MIN_BOTOCORE} is needed"
        )


def _head_or_explain(s3_client, bucket, key, version_id=None):
    """HeadObject (checksums enabled), or None when the object does not exist; a refusal names ``s3_bucket``."""
    try:
        return head_s3_object(s3_client, bucket, key, version_id)
    except is_ansible_aws_error_code(list(_ACCESS_DENIED)) as e:
        raise LayerInputError(
            f"s3_bucket: cannot read {_location(bucket, key)} ({e.exception.response['Error']['Code']}); the module needs"
            f" s3:GetObject on the object and s3:ListBucket on bucket {bucket} to tell whether the package is there"
        ) from e


def resolve_s3_source(s3_client, bucket, key, version_id=None, storage_mode=None):
    """A package already in S3 (``s3_bucket`` + ``s3_key``): check it and resolve the version to pin.

    Fails naming ``s3_bucket`` (missing bucket, other region),
    ``s3_object_storage_mode`` (REFERENCE on an unversioned bucket),
    ``s3_object_version`` (no such version) or ``s3_key`` (no such object).
    Reads only; the returned StagedObject carries the HeadObject answer, whose
    full-object SHA-256 (``full_object_sha256(staged.head)``) may stand for the
    content hash.
    """
    check_bucket(s3_client, bucket)
    if storage_mode == REFERENCE:
        check_reference_bucket(s3_client, bucket)
    # A version id S3 does not know fails in head_s3_object, naming s3_object_version.
    head = _head_or_explain(s3_client, bucket, key, version_id)
    if head is None:
        raise LayerInputError(f"s3_key: {_location(bucket, key)} does not exist")
    return StagedObject(bucket, key, version_id=_pinnable_version(head.get("VersionId")) or version_id, uploaded=False, head=head)


# Staging.


def holds_package(s3_client, bucket, key, head, path, sha256_b64, size):
    """Whether the object of ``head`` holds exactly the local package (see the module docstring)."""
    if head.get("ContentLength") != size:
        return False
    checksum = head.get("ChecksumSHA256")
    if not checksum:
        return False
    if full_object_sha256(head) == sha256_b64:
        return True
    if head.get("ChecksumType") == "FULL_OBJECT":
        return False
    first_part = head_s3_object_part(s3_client, bucket, key, 1, head.get("VersionId"))
    if not first_part or not first_part.get("PartsCount") or not first_part.get("ContentLength"):
        return False
    composite, parts = composite_sha256_of_file(path, first_part["ContentLength"])
    return parts == first_part["PartsCount"] and _checksum_digest(checksum) == composite


def stage_package(s3_client, bucket, key, path, sha256_b64, size, check_mode=False, storage_mode=None, config=None):
    """Upload the local package at ``path`` to ``s3://bucket/key`` unless that object already holds it.

    ``sha256_b64`` and ``size``: the package's SHA-256 (base64, as CodeSha256)
    and size in bytes, already computed by the caller. ``storage_mode``: with
    REFERENCE the bucket must have versioning enabled (checked before any
    write). Check mode reads, never uploads, and returns ``uploaded=True`` with
    no version when an upload would happen.

    Bad input fails with LayerInputError naming the option before any write:
    a missing bucket or one in another region, a bucket that cannot be read or
    written (``s3_bucket``), REFERENCE on an unversioned bucket. Raises
    StagedObjectMismatch when the object read back after the upload is not
    the package (a write happened).
    """
    check_bucket(s3_client, bucket)
    if storage_mode == REFERENCE:
        check_reference_bucket(s3_client, bucket)
    head = _head_or_explain(s3_client, bucket, key)
    if head is not None and holds_package(s3_client, bucket, key, head, path, sha256_b64, size):
        return StagedObject(bucket, key, version_id=_pinnable_version(head.get("VersionId")), uploaded=False, head=head)
    if check_mode:
        return StagedObject(bucket, key, version_id=None, uploaded=True)

    extra_args = {"ChecksumAlgorithm": "SHA256", "ContentType": "application/zip", "Metadata": {METADATA_SHA256: sha256_b64}}
    try:
        upload_file(s3_client, path, bucket, key, extra_args, config or transfer_config())
    except is_ansible_aws_error_code(list(_ACCESS_DENIED)) as e:
        raise LayerInputError(
            f"s3_bucket: cannot write {_location(bucket, key)} ({e.exception.response['Error']['Code']}); staging needs"
            f" s3:PutObject on it (and kms:GenerateDataKey when bucket {bucket} encrypts with a KMS key)"
        ) from e

    # Read back: the version to pin, and proof that the object now there is
    # this upload. S3 has already checked every part's SHA-256 on receipt; the
    # size and the metadata tell this upload from another writer's.
    stored = head_s3_object(s3_client, bucket, key)
    if stored is None:
        raise StagedObjectMismatch(f"{_location(bucket, key)} was uploaded but is not there when read back")
    if stored.get("ContentLength") != size or (stored.get("Metadata") or {}).get(METADATA_SHA256) != sha256_b64 or not stored.get("ChecksumSHA256"):
        raise StagedObjectMismatch(
            f"{_location(bucket, key)} read back after the upload is not the package (size {stored.get('ContentLength')}, expected {size});"
            " another writer may have replaced it"
        )
    return StagedObject(bucket, key, version_id=_pinnable_version(stored.get("VersionId")), uploaded=True, head=stored)


# The publish request and its answer.


def publish_content(bucket, key, version_id=None, storage_mode=None):
    """PublishLayerVersion's ``Content`` for a package in S3.

    ``version_id`` is pinned whenever known, so Lambda takes exactly the bytes
    that were checked; REFERENCE needs it (Lambda keeps referencing that
    version).
    """
    if storage_mode == REFERENCE and not version_id:
        raise LayerInputError(
            f"s3_object_storage_mode: REFERENCE needs the object version of {_location(bucket, key)} to pin, and S3 reported none"
        )
    content = {"S3Bucket": bucket, "S3Key": key}
    if version_id:
        content["S3ObjectVersion"] = version_id
    if storage_mode:
        content["S3ObjectStorageMode"] = storage_mode
    return content
