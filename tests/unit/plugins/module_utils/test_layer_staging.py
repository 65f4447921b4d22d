# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import base64
import hashlib
import os
from unittest.mock import MagicMock

import boto3
import botocore
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_staging
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import publish_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import client_config
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import layer_version_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import resolved_s3_object_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import changed_fields
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import storage_mode_of
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import COPY
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import REFERENCE
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import StagedObjectMismatch
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import check_storage_mode_supported
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import composite_sha256_of_file
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import default_staging_key
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import holds_package
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import publish_content
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import resolve_s3_source
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import sha256_hex
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import stage_package
from ansible_collections.layerwise.aws.plugins.module_utils._layer_staging import transfer_config

MiB = 1024 * 1024
BUCKET = "layer-staging"
KEY = "layerwise/l1/pkg.zip"
WRITES = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "CopyObject"}
# Small parts, so multipart is exercised with a few MiB: 5 MiB is S3's smallest part.
SMALL_PARTS = dict(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)


def b64_sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def package(tmp_path, data, name="pkg.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path), b64_sha256(data), len(data)


@pytest.fixture(autouse=True)
def no_sleep(retry_clock):
    """Backoff sleeps are recorded by the retry clock of tests/unit/plugins/conftest.py, not slept."""
    return retry_clock.slept


@pytest.fixture(scope="module")
def mocked_aws():
    """One in-process mock for the module (making clients is the slow part); emptied before each test."""
    saved = {name: os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    mock = mock_aws()
    mock.start()
    # The collection's client settings: botocore's own retries off.
    client = boto3.client("s3", region_name="us-east-1", config=client_config())
    yield mock, client
    mock.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


class Calls:
    """The S3 operations a client sends, and scripted failures raised before chosen ones are sent."""

    def __init__(self):
        self.names = []
        self.failures = {}

    def before_call(self, model, **kwargs):
        self.names.append(model.name)
        queued = self.failures.get(model.name)
        if queued:
            raise queued.pop(0)

    def writes(self):
        return [name for name in self.names if name in WRITES]


@pytest.fixture
def s3_and_calls(mocked_aws):
    mock, client = mocked_aws
    mock.reset()
    client.create_bucket(Bucket=BUCKET)
    calls = Calls()
    client.meta.events.register("before-call.s3.*", calls.before_call, unique_id="staging-test-calls")
    yield client, calls
    client.meta.events.unregister("before-call.s3.*", unique_id="staging-test-calls")


@pytest.fixture
def s3(s3_and_calls):
    return s3_and_calls[0]


@pytest.fixture
def calls(s3_and_calls):
    return s3_and_calls[1]


def error(code, status, operation):
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def enable_versioning(s3, status="Enabled"):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": status})


# Keys and hashes.


def test_default_key_names_the_layer_and_the_content():
    digest = hashlib.sha256(b"zip").digest()
    hex_digest = sha256_hex(base64.b64encode(digest).decode())
    assert hex_digest == digest.hex()
    assert default_staging_key("my-layer", hex_digest) == f"layerwise/my-layer/{digest.hex()}.zip"


def test_sha256_hex_refuses_what_is_not_base64():
    with pytest.raises(ValueError):
        sha256_hex("not base64!")


@pytest.mark.parametrize("size", [1, 5 * MiB, 5 * MiB + 1, 12 * MiB + 7])
def test_composite_sha256_is_the_hash_of_the_part_hashes(tmp_path, size):
    data = os.urandom(size)
    path, _sha, _size = package(tmp_path, data)
    parts = [data[offset:offset + 5 * MiB] for offset in range(0, size, 5 * MiB)]
    expected = base64.b64encode(hashlib.sha256(b"".join(hashlib.sha256(part).digest() for part in parts)).digest()).decode()
    assert composite_sha256_of_file(path, 5 * MiB) == (expected, len(parts))


# Staging: upload once, recognise the bytes afterwards.


def test_single_part_upload_then_skipped_when_the_object_holds_the_bytes(tmp_path, s3, calls):
    path, sha, size = package(tmp_path, os.urandom(64 * 1024))
    first = stage_package(s3, BUCKET, KEY, path, sha, size)
    assert first.uploaded is True
    assert calls.writes() == ["PutObject"]
    head = s3.head_object(Bucket=BUCKET, Key=KEY, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha
    assert head["Metadata"] == {"layerwise-sha256": sha}

    calls.names.clear()
    second = stage_package(s3, BUCKET, KEY, path, sha, size)
    assert second.uploaded is False
    assert (second.bucket, second.key) == (BUCKET, KEY)
    assert calls.writes() == []


def test_uploaded_again_when_the_object_holds_other_bytes_of_the_same_size(tmp_path, s3, calls):
    old = os.urandom(64 * 1024)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=old, ChecksumAlgorithm="SHA256")
    new = os.urandom(len(old))
    path, sha, size = package(tmp_path, new)
    calls.names.clear()
    staged = stage_package(s3, BUCKET, KEY, path, sha, size)
    assert staged.uploaded is True
    assert calls.writes() == ["PutObject"]
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == new


def test_an_object_without_a_checksum_is_never_taken_for_the_package(tmp_path, s3, calls):
    # Same bytes, even our metadata, but no S3 checksum: nothing S3 vouches for, so it is uploaded again.
    data = os.urandom(1024)
    path, sha, size = package(tmp_path, data)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=data, Metadata={"layerwise-sha256": sha})
    calls.names.clear()
    assert stage_package(s3, BUCKET, KEY, path, sha, size).uploaded is True
    assert calls.writes() == ["PutObject"]


def test_multipart_upload_is_recognised_on_the_next_run(tmp_path, s3, calls):
    path, sha, size = package(tmp_path, os.urandom(12 * MiB + 3))
    config = transfer_config(**SMALL_PARTS)
    assert stage_package(s3, BUCKET, KEY, path, sha, size, config=config).uploaded is True
    assert calls.writes().count("UploadPart") == 3
    assert "PutObject" not in calls.writes()

    calls.names.clear()
    again = stage_package(s3, BUCKET, KEY, path, sha, size, config=config)
    assert again.uploaded is False
    assert calls.writes() == []
    # Recognised through the composite checksum: part 1 was read for its size.
    assert calls.names.count("HeadObject") == 2


def test_multipart_object_with_one_part_changed_is_uploaded_again(tmp_path, s3, calls):
    data = bytearray(os.urandom(12 * MiB))
    path, sha, size = package(tmp_path, bytes(data))
    config = transfer_config(**SMALL_PARTS)
    stage_package(s3, BUCKET, KEY, path, sha, size, config=config)
    data[6 * MiB] ^= 0xFF
    path, sha, size = package(tmp_path, bytes(data))
    calls.names.clear()
    assert stage_package(s3, BUCKET, KEY, path, sha, size, config=config).uploaded is True
    assert "CompleteMultipartUpload" in calls.writes()
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["Metadata"]["layerwise-sha256"] == sha


def test_composite_checksum_as_real_s3_reports_it(tmp_path):
    # Real S3 answers "<digest>-<parts>" with ChecksumType COMPOSITE (moto drops both): recognised.
    data = os.urandom(11 * MiB)
    path, sha, size = package(tmp_path, data)
    composite, parts = composite_sha256_of_file(path, 5 * MiB)
    client = MagicMock()
    client.head_object.return_value = {"ContentLength": 5 * MiB, "PartsCount": parts}
    head = {"ContentLength": size, "ChecksumSHA256": f"{composite}-{parts}", "ChecksumType": "COMPOSITE", "VersionId": "v1"}
    assert holds_package(client, BUCKET, KEY, head, path, sha, size) is True
    client.head_object.assert_called_once_with(Bucket=BUCKET, Key=KEY, PartNumber=1, VersionId="v1")

    other = dict(head, ChecksumSHA256=f"{b64_sha256(b'other')}-{parts}")
    assert holds_package(client, BUCKET, KEY, other, path, sha, size) is False
    client.head_object.return_value = {"ContentLength": 5 * MiB, "PartsCount": parts + 1}
    assert holds_package(client, BUCKET, KEY, head, path, sha, size) is False


def test_full_object_checksum_that_differs_reads_no_part(tmp_path):
    path, sha, size = package(tmp_path, b"PK\x03\x04 new")
    client = MagicMock()
    head = {"ContentLength": size, "ChecksumSHA256": b64_sha256(b"PK\x03\x04 old"), "ChecksumType": "FULL_OBJECT"}
    assert holds_package(client, BUCKET, KEY, head, path, sha, size) is False
    client.head_object.assert_not_called()


def test_check_mode_uploads_nothing(tmp_path, s3, calls):
    path, sha, size = package(tmp_path, os.urandom(12 * MiB))
    staged = stage_package(s3, BUCKET, KEY, path, sha, size, check_mode=True, config=transfer_config(**SMALL_PARTS))
    assert (staged.uploaded, staged.version_id) == (True, None)
    assert calls.writes() == []
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_check_mode_reports_no_upload_when_already_staged(tmp_path, s3, calls):
    path, sha, size = package(tmp_path, os.urandom(1024))
    stage_package(s3, BUCKET, KEY, path, sha, size)
    calls.names.clear()
    assert stage_package(s3, BUCKET, KEY, path, sha, size, check_mode=True).uploaded is False
    assert calls.writes() == []


# Versions.


def test_versioned_bucket_pins_the_uploaded_version_and_keeps_it_on_the_next_run(tmp_path, s3):
    enable_versioning(s3)
    path, sha, size = package(tmp_path, os.urandom(2048))
    staged = stage_package(s3, BUCKET, KEY, path, sha, size, storage_mode=REFERENCE)
    latest = [v for v in s3.list_object_versions(Bucket=BUCKET)["Versions"] if v["IsLatest"]][0]
    assert staged.version_id == latest["VersionId"]
    assert stage_package(s3, BUCKET, KEY, path, sha, size, storage_mode=REFERENCE).version_id == staged.version_id
    assert publish_content(staged.bucket, staged.key, staged.version_id, REFERENCE) == {
        "S3Bucket": BUCKET,
        "S3Key": KEY,
        "S3ObjectVersion": staged.version_id,
        "S3ObjectStorageMode": "REFERENCE",
    }


def test_unversioned_bucket_has_no_version_to_pin(tmp_path, s3):
    path, sha, size = package(tmp_path, os.urandom(2048))
    staged = stage_package(s3, BUCKET, KEY, path, sha, size)
    assert staged.version_id is None
    assert publish_content(BUCKET, KEY, staged.version_id, COPY) == {"S3Bucket": BUCKET, "S3Key": KEY, "S3ObjectStorageMode": "COPY"}
    assert publish_content(BUCKET, KEY) == {"S3Bucket": BUCKET, "S3Key": KEY}


def test_suspended_versioning_has_no_version_to_pin(tmp_path, s3):
    enable_versioning(s3, "Suspended")
    path, sha, size = package(tmp_path, os.urandom(2048))
    assert stage_package(s3, BUCKET, KEY, path, sha, size).version_id is None


@pytest.mark.parametrize("status, described", [(None, "versioning never enabled"), ("Suspended", "versioning Suspended")])
def test_reference_on_an_unversioned_bucket_is_refused_before_any_write(tmp_path, s3, calls, status, described):
    if status:
        enable_versioning(s3, status)
    path, sha, size = package(tmp_path, os.urandom(2048))
    with pytest.raises(LayerInputError) as refused:
        stage_package(s3, BUCKET, KEY, path, sha, size, storage_mode=REFERENCE)
    assert str(refused.value) == f"s3_object_storage_mode: REFERENCE needs a versioned bucket; bucket {BUCKET} has {described}"
    assert calls.writes() == []


def test_reference_without_a_version_cannot_be_published():
    with pytest.raises(LayerInputError, match="^s3_object_storage_mode: REFERENCE needs the object version"):
        publish_content(BUCKET, KEY, None, REFERENCE)


# Bad input: each names its option, before any write.


def test_missing_bucket_names_s3_bucket(tmp_path, s3, calls):
    path, sha, size = package(tmp_path, b"PK\x03\x04")
    with pytest.raises(LayerInputError) as refused:
        stage_package(s3, "no-such-bucket", KEY, path, sha, size)
    assert str(refused.value) == "s3_bucket: bucket no-such-bucket does not exist"
    assert calls.writes() == []
    with pytest.raises(LayerInputError, match="^s3_bucket: bucket no-such-bucket does not exist$"):
        resolve_s3_source(s3, "no-such-bucket", KEY)


def test_missing_key_of_an_existing_bucket_names_s3_key(s3):
    with pytest.raises(LayerInputError) as refused:
        resolve_s3_source(s3, BUCKET, "missing.zip")
    assert str(refused.value) == f"s3_key: s3://{BUCKET}/missing.zip does not exist"


def test_missing_version_of_an_existing_key_names_s3_object_version(s3):
    enable_versioning(s3)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"PK\x03\x04")
    with pytest.raises(LayerInputError, match=f"^s3_object_version: bucket {BUCKET} has no object version .* of key '{KEY}'"):
        resolve_s3_source(s3, BUCKET, KEY, version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")


def test_resolve_s3_source_pins_the_current_version_and_returns_the_head(s3):
    enable_versioning(s3)
    version = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"PK\x03\x04 zip", ChecksumAlgorithm="SHA256")["VersionId"]
    resolved = resolve_s3_source(s3, BUCKET, KEY, storage_mode=REFERENCE)
    assert (resolved.version_id, resolved.uploaded) == (version, False)
    assert resolved.head["ChecksumSHA256"] == b64_sha256(b"PK\x03\x04 zip")


def test_reference_source_on_an_unversioned_bucket_is_refused(s3):
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"PK\x03\x04")
    with pytest.raises(LayerInputError, match="^s3_object_storage_mode: REFERENCE needs a versioned bucket"):
        resolve_s3_source(s3, BUCKET, KEY, storage_mode=REFERENCE)


def test_bucket_in_another_region_names_s3_bucket(tmp_path, s3, calls):
    s3.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    path, sha, size = package(tmp_path, b"PK\x03\x04")
    with pytest.raises(LayerInputError, match="^s3_bucket: bucket eu-bucket is in region eu-west-1; .* layer's region us-east-1$"):
        stage_package(s3, "eu-bucket", KEY, path, sha, size)
    assert calls.writes() == []


def test_bucket_that_refuses_the_upload_names_s3_bucket(tmp_path, s3, calls):
    calls.failures["PutObject"] = [error("AccessDenied", 403, "PutObject")]
    path, sha, size = package(tmp_path, b"PK\x03\x04")
    with pytest.raises(LayerInputError) as refused:
        stage_package(s3, BUCKET, KEY, path, sha, size)
    assert str(refused.value).startswith(f"s3_bucket: cannot write s3://{BUCKET}/{KEY} (AccessDenied); staging needs s3:PutObject")
    assert calls.names.count("PutObject") == 1  # refused: not retried


def test_object_that_cannot_be_read_names_s3_bucket(tmp_path, s3, calls):
    calls.failures["HeadObject"] = [error("403", 403, "HeadObject")]
    path, sha, size = package(tmp_path, b"PK\x03\x04")
    with pytest.raises(LayerInputError, match=f"^s3_bucket: cannot read s3://{BUCKET}/{KEY} \\(403\\)"):
        stage_package(s3, BUCKET, KEY, path, sha, size)
    assert calls.writes() == []


def test_bucket_without_list_permission_still_stages(tmp_path, s3, calls):
    # HeadBucket 403: the bucket exists, only s3:ListBucket is missing.
    calls.failures["HeadBucket"] = [error("403", 403, "HeadBucket")]
    path, sha, size = package(tmp_path, b"PK\x03\x04")
    assert stage_package(s3, BUCKET, KEY, path, sha, size).uploaded is True


# Retries and read-back.


def test_a_throttled_upload_is_sent_again(tmp_path, s3, calls, no_sleep):
    calls.failures["PutObject"] = [error("SlowDown", 503, "PutObject")]
    path, sha, size = package(tmp_path, os.urandom(1024))
    assert stage_package(s3, BUCKET, KEY, path, sha, size).uploaded is True
    assert calls.names.count("PutObject") == 2
    assert len(no_sleep) == 1


def test_a_failed_part_restarts_the_multipart_upload(tmp_path, s3, calls):
    calls.failures["UploadPart"] = [error("InternalError", 500, "UploadPart")]
    path, sha, size = package(tmp_path, os.urandom(11 * MiB))
    staged = stage_package(s3, BUCKET, KEY, path, sha, size, config=transfer_config(max_concurrency=1, **SMALL_PARTS))
    assert staged.uploaded is True
    assert calls.names.count("CreateMultipartUpload") == 2
    assert "AbortMultipartUpload" in calls.names
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == open(path, "rb").read()


def test_other_upload_errors_are_aws_errors_with_their_code(tmp_path, s3, calls):
    calls.failures["PutObject"] = [error("InvalidRequest", 400, "PutObject")]
    path, sha, size = package(tmp_path, b"PK\x03\x04")
    with pytest.raises(AnsibleLambdaLayerError) as failed:
        stage_package(s3, BUCKET, KEY, path, sha, size)
    assert failed.value.exception.response["Error"]["Code"] == "InvalidRequest"


def test_an_object_replaced_before_it_is_read_back_is_reported(tmp_path, s3, monkeypatch):
    real_upload = _layer_staging.upload_file

    def upload_then_overwritten(client, path, bucket, key, extra_args, config):
        real_upload(client, path, bucket, key, extra_args, config)
        client.put_object(Bucket=bucket, Key=key, Body=b"someone else's", ChecksumAlgorithm="SHA256")

    monkeypatch.setattr(_layer_staging, "upload_file", upload_then_overwritten)
    path, sha, size = package(tmp_path, os.urandom(1024))
    with pytest.raises(StagedObjectMismatch, match="another writer"):
        stage_package(s3, BUCKET, KEY, path, sha, size)


# The Lambda side: the field, the request, the answer.


class FakeShape:
    def __init__(self, members):
        self.members = dict.fromkeys(members)


class FakeLambdaModel:
    def __init__(self, members):
        self._members = members

    def shape_for(self, name):
        assert name == "LayerVersionContentInput"
        return FakeShape(self._members)


def test_botocore_without_the_field_is_refused_naming_the_option():
    old_model = FakeLambdaModel(["S3Bucket", "S3Key", "S3ObjectVersion", "ZipFile"])
    with pytest.raises(LayerInputError) as refused:
        check_storage_mode_supported(old_model, botocore_version="1.43.36")
    assert str(refused.value) == (
        "s3_object_storage_mode: the installed botocore 1.43.36 does not know this field; botocore >= 1.43.37 is needed"
    )


def test_installed_botocore_knows_the_field():
    model = boto3.client("lambda", region_name="us-east-1").meta.service_model
    check_storage_mode_supported(model)
    assert "S3ObjectStorageMode" in model.shape_for("LayerVersionContentInput").members
    assert _layer_staging.STORAGE_MODE_MIN_BOTOCORE == "1.43.37"
    assert tuple(int(n) for n in botocore.__version__.split(".")[:3]) >= (1, 43, 37)


LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:l1"


def publish_answer(content_extra=None):
    content = {"Location": "https://example.invalid/l1", "CodeSha256": b64_sha256(b"zip"), "CodeSize": 3}
    content.update(content_extra or {})
    return {"Content": content, "LayerArn": LAYER_ARN, "LayerVersionArn": f"{LAYER_ARN}:4", "Version": 4, "CreatedDate": "2026-11-24T17:25:10.150+0000"}


def test_publish_sends_the_storage_mode_and_the_pinned_version():
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    content = publish_content(BUCKET, KEY, "v-7", REFERENCE)
    with Stubber(client) as stub:
        stub.add_response(
            "publish_layer_version",
            publish_answer({"ResolvedS3Object": {"S3Bucket": BUCKET, "S3Key": KEY, "S3ObjectVersion": "v-7"}}),
            expected_params={
                "LayerName": "l1",
                "Content": {"S3Bucket": BUCKET, "S3Key": KEY, "S3ObjectVersion": "v-7", "S3ObjectStorageMode": "REFERENCE"},
            },
        )
        answer = publish_layer_version(client, LayerName="l1", Content=content)
        stub.assert_no_pending_responses()
    assert resolved_s3_object_facts(answer) == {"bucket": BUCKET, "key": KEY, "version_id": "v-7"}


def test_resolved_s3_object_of_a_documented_get_layer_version_answer():
    # Stubber checks the canned answer against the installed model: this is the documented shape.
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stub:
        stub.add_response(
            "get_layer_version",
            publish_answer({"ResolvedS3Object": {"S3Bucket": BUCKET, "S3Key": KEY, "S3ObjectVersion": "v-9"}}),
            {"LayerName": "l1", "VersionNumber": 4},
        )
        stub.add_response("get_layer_version", publish_answer(), {"LayerName": "l1", "VersionNumber": 3})
        referenced = client.get_layer_version(LayerName="l1", VersionNumber=4)
        copied = client.get_layer_version(LayerName="l1", VersionNumber=3)
    assert resolved_s3_object_facts(referenced) == {"bucket": BUCKET, "key": KEY, "version_id": "v-9"}
    assert resolved_s3_object_facts(copied) is None
    assert (storage_mode_of(layer_version_facts(referenced)), storage_mode_of(layer_version_facts(copied))) == (REFERENCE, COPY)
    assert resolved_s3_object_facts({}) is None


def test_a_change_of_mode_is_a_change_only_when_a_mode_is_asked_for():
    referenced = layer_version_facts(publish_answer({"ResolvedS3Object": {"S3Bucket": BUCKET, "S3Key": KEY, "S3ObjectVersion": "v"}}))
    copied = layer_version_facts(publish_answer())

    def changes(mode, current):
        # Every other compared field as the version has it: only the mode can differ.
        return changed_fields(current, dict(current, s3_object_storage_mode=mode))

    assert changes(COPY, referenced) == ["s3_object_storage_mode"]
    assert changes(REFERENCE, copied) == ["s3_object_storage_mode"]
    assert changes(REFERENCE, referenced) == []
    assert changes(COPY, copied) == []
    assert changes(None, referenced) == []
