# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``prepare_task`` and ``LayerVersionManager`` with each kind of package source.

Which source a task's options make (local zip, directory, staged, S3 object), the default
staging key, Lambda's 250 MiB unzipped limit for every local package, the ``package``
facts, what a publish with a storage mode sends (botocore Stubber: moto ignores the field),
check mode with staging (no S3 write), and the storage-mode comparison.
"""

import base64
import hashlib
import io
import os
import zipfile
from unittest.mock import MagicMock

import boto3
import pytest
from botocore.stub import ANY
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_argspec import layer_version_options
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Progress
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import failure_result
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import UNZIPPED_SIZE_LIMIT
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import client_config
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import DirectorySource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import LocalZipSource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import S3Source
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import StagedSource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerVersionManager
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import prepare_task

LAYER = "l1"
LAYER_ARN = f"arn:aws:lambda:us-east-1:123456789012:layer:{LAYER}"
BUCKET = "layer-staging"
S3_WRITES = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "CopyObject", "DeleteObject"}
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LAMBDA_MODEL = boto3.client("lambda", **CREDENTIALS).meta.service_model


def b64_sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def params(**given):
    """The module's parameters: every option at its default, then ``given``."""
    values = {name: option.get("default") for name, option in layer_version_options().items()}
    values.update(layer_name=LAYER)
    values.update(given)
    return values


def no_s3_client():
    raise AssertionError("an S3 client was made for a source that needs none")


def zip_bytes(payload="x = 1\n"):
    """The same bytes on every call: a fixed entry date (writestr with a name would stamp the current second)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("python/mod.py", date_time=(2024, 1, 1, 0, 0, 0)), payload)
    return buffer.getvalue()


@pytest.fixture
def zip_path(tmp_path):
    path = tmp_path / "layer.zip"
    path.write_bytes(zip_bytes())
    return str(path)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    (root / "python" / "pkg").mkdir(parents=True)
    (root / "python" / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_text("#!/bin/sh\necho tool\n")
    os.chmod(root / "bin" / "tool", 0o755)
    return str(root)


@pytest.fixture
def workdir(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return str(path)


def declared_size_zip(path, declared_size):
    """A zip of one tiny stored file whose central directory declares ``declared_size`` bytes unzipped."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("python/big.bin", b"tiny")
    data = bytearray(open(path, "rb").read())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24: central + 28] = declared_size.to_bytes(4, "little")  # uncompressed size
    with open(path, "wb") as patched:
        patched.write(data)
    assert zipfile.ZipFile(path).infolist()[0].file_size == declared_size
    return str(path)


# --- which source the options make -------------------------------------------------------------


def test_filename_is_a_local_zip_published_directly_without_any_s3_client(zip_path):
    task = prepare_task(params(filename=zip_path), LAMBDA_MODEL, no_s3_client)
    assert type(task.source) is LocalZipSource  # pylint: disable=unidiomatic-typecheck
    assert task.source.option == "filename"
    assert task.source.publish_content() == {"ZipFile": zip_bytes()}
    assert task.source.package_facts() == {"sha256": b64_sha256(zip_bytes()), "size": len(zip_bytes()), "unzipped_size": 6, "files": 1}


def test_filename_with_s3_bucket_is_staged_to_the_default_key_and_reads_nothing_yet(zip_path):
    s3_client = MagicMock(name="s3")
    task = prepare_task(params(filename=zip_path, s3_bucket=BUCKET), LAMBDA_MODEL, lambda: s3_client)
    source = task.source
    assert isinstance(source, StagedSource)
    assert type(source.local) is LocalZipSource  # pylint: disable=unidiomatic-typecheck
    assert (source.bucket, source.key) == (BUCKET, f"layerwise/{LAYER}/{hashlib.sha256(zip_bytes()).hexdigest()}.zip")
    assert source.option == "filename"
    assert s3_client.method_calls == []  # staged only when a publish is due
    assert source.package_facts() == dict(source.local.package_facts(), s3_bucket=BUCKET, s3_key=source.key, s3_object_version=None)


def test_filename_with_s3_bucket_and_key_is_staged_to_that_key(zip_path):
    task = prepare_task(params(filename=zip_path, s3_bucket=BUCKET, s3_key="layers/mine.zip"), LAMBDA_MODEL, MagicMock)
    assert isinstance(task.source, StagedSource)
    assert task.source.key == "layers/mine.zip"


def test_the_default_key_of_a_layer_given_by_arn_names_the_layer(zip_path):
    task = prepare_task(params(layer_name=LAYER_ARN, filename=zip_path, s3_bucket=BUCKET), LAMBDA_MODEL, MagicMock)
    assert task.source.key == f"layerwise/{LAYER}/{hashlib.sha256(zip_bytes()).hexdigest()}.zip"


def test_source_dir_is_packaged_in_the_run_directory(tree, workdir):
    task = prepare_task(params(source_dir=tree), LAMBDA_MODEL, no_s3_client, workdir=workdir)
    source = task.source
    assert type(source) is DirectorySource  # pylint: disable=unidiomatic-typecheck
    assert source.option == "source_dir"
    assert os.path.dirname(source.path) == workdir
    with open(source.path, "rb") as package:
        data = package.read()
    assert source.package_facts() == {"sha256": b64_sha256(data), "size": len(data), "unzipped_size": 10 + 20, "files": 2}
    assert sorted(zipfile.ZipFile(source.path).namelist()) == ["bin/tool", "python/pkg/__init__.py"]


def test_source_dir_excludes_reach_the_package(tree, workdir):
    task = prepare_task(params(source_dir=tree, excludes=["bin"]), LAMBDA_MODEL, no_s3_client, workdir=workdir)
    assert zipfile.ZipFile(task.source.path).namelist() == ["python/pkg/__init__.py"]


def test_source_dir_with_s3_bucket_is_staged_to_the_key_of_its_package(tree, workdir):
    task = prepare_task(params(source_dir=tree, s3_bucket=BUCKET), LAMBDA_MODEL, MagicMock, workdir=workdir)
    source = task.source
    assert isinstance(source, StagedSource)
    assert type(source.local) is DirectorySource  # pylint: disable=unidiomatic-typecheck
    with open(source.local.path, "rb") as package:
        digest = hashlib.sha256(package.read()).hexdigest()
    assert source.key == f"layerwise/{LAYER}/{digest}.zip"
    assert source.option == "source_dir"


def test_s3_bucket_and_key_is_an_s3_source_read_lazily():
    s3_client = MagicMock(name="s3")
    task = prepare_task(
        params(s3_bucket=BUCKET, s3_key="layers/x.zip", s3_object_storage_mode="REFERENCE"), LAMBDA_MODEL, lambda: s3_client
    )
    assert type(task.source) is S3Source  # pylint: disable=unidiomatic-typecheck
    assert (task.source.bucket, task.source.key, task.source.storage_mode) == (BUCKET, "layers/x.zip", "REFERENCE")
    assert task.source.package_facts() is None
    assert task.desired.s3_object_storage_mode == "REFERENCE"
    assert s3_client.method_calls == []


# --- Lambda's 250 MiB unzipped limit, for every local package -----------------------------------


@pytest.mark.parametrize("staged", [False, True], ids=["direct", "staged"])
def test_a_zip_declaring_more_than_250_mib_unzipped_is_refused_naming_filename(tmp_path, staged):
    path = declared_size_zip(tmp_path / "bomb.zip", UNZIPPED_SIZE_LIMIT + 1)
    given = params(filename=path, s3_bucket=BUCKET if staged else None)
    with pytest.raises(LayerInputError) as refused:
        prepare_task(given, LAMBDA_MODEL, no_s3_client)  # before any client is made
    assert str(refused.value) == (
        f"filename: {path} unzips to 262144001 bytes, over the 262144000 bytes (250 MiB) Lambda accepts unzipped for a function and its layers"
    )


def test_a_zip_of_exactly_250_mib_unzipped_is_accepted(tmp_path):
    path = declared_size_zip(tmp_path / "limit.zip", UNZIPPED_SIZE_LIMIT)
    task = prepare_task(params(filename=path), LAMBDA_MODEL, no_s3_client)
    assert task.source.package_facts()["unzipped_size"] == UNZIPPED_SIZE_LIMIT


@pytest.mark.parametrize("staged", [False, True], ids=["direct", "staged"])
def test_a_source_dir_over_250_mib_is_refused_naming_source_dir(tmp_path, workdir, staged):
    root = tmp_path / "huge"
    root.mkdir()
    with open(root / "sparse.bin", "wb") as sparse:
        sparse.truncate(UNZIPPED_SIZE_LIMIT + 1)  # no disk blocks: refused from its size alone
    given = params(source_dir=str(root), s3_bucket=BUCKET if staged else None)
    with pytest.raises(LayerInputError, match=r"^source_dir: .* holds more than 262144000 bytes \(250 MiB\) of files"):
        prepare_task(given, LAMBDA_MODEL, no_s3_client, workdir=workdir)
    assert os.listdir(workdir) == []


# --- moto: a real S3, in process -----------------------------------------------------------------


class S3Calls:
    """The names of the S3 operations a client sends."""

    def __init__(self, client):
        self.names = []
        client.meta.events.register("before-call.s3.*", self.before_call)

    def before_call(self, model, **_kwargs):
        self.names.append(model.name)

    def writes(self):
        return [name for name in self.names if name in S3_WRITES]


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", config=client_config(), **CREDENTIALS)
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


def version_response(version, code_sha256, content_extra=None):
    content = {"Location": "https://example.invalid/layer.zip", "CodeSha256": code_sha256, "CodeSize": 10}
    content.update(content_extra or {})
    return {
        "LayerArn": LAYER_ARN,
        "LayerVersionArn": f"{LAYER_ARN}:{version}",
        "Version": version,
        "Description": "",
        "CreatedDate": "2026-11-24T17:25:10.150+0000",
        "Content": content,
    }


def lambda_mock(current=None):
    """A Lambda client whose layer has the version ``current`` (a GetLayerVersion answer) or none."""
    client = MagicMock(name="lambda")
    client.list_layer_versions.return_value = {"LayerVersions": [{"Version": current["Version"]}] if current else []}
    client.get_layer_version.return_value = current

    def publish(**request):
        number = (current["Version"] if current else 0) + 1
        return version_response(number, client.published_sha256)

    client.publish_layer_version.side_effect = publish
    return client


def test_check_mode_with_staging_hashes_but_writes_nothing(s3, tree, workdir):
    calls = S3Calls(s3)
    task = prepare_task(params(source_dir=tree, s3_bucket=BUCKET, s3_object_storage_mode="REFERENCE"), LAMBDA_MODEL, lambda: s3, workdir=workdir)
    lambda_client = lambda_mock(version_response(3, b64_sha256(b"older package")))
    result = task.run(LayerVersionManager(lambda_client, check_mode=True), Progress())
    assert result["changed"] is True
    assert result["layer_version"]["code_sha256"] == task.source.content_sha256()
    assert result["layer_version"]["version"] is None
    assert result["package"]["s3_key"] == task.source.key and result["package"]["s3_object_version"] is None
    # The bucket and the object were read (versioning for REFERENCE); nothing was written.
    assert "HeadBucket" in calls.names and "GetBucketVersioning" in calls.names and "HeadObject" in calls.names
    assert calls.writes() == []
    assert "Versions" not in s3.list_object_versions(Bucket=BUCKET)
    lambda_client.publish_layer_version.assert_not_called()
    lambda_client.delete_layer_version.assert_not_called()


def test_a_staged_publish_returns_the_package_with_the_object_version_it_pinned(s3, zip_path):
    calls = S3Calls(s3)
    task = prepare_task(params(filename=zip_path, s3_bucket=BUCKET), LAMBDA_MODEL, lambda: s3)
    lambda_client = lambda_mock(None)
    lambda_client.published_sha256 = b64_sha256(zip_bytes())
    result = task.run(LayerVersionManager(lambda_client), Progress())
    stored = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    assert [(item["Key"], item["IsLatest"]) for item in stored] == [(task.source.key, True)]
    assert calls.writes() == ["PutObject"]
    assert result["package"] == {
        "sha256": b64_sha256(zip_bytes()),
        "size": len(zip_bytes()),
        "unzipped_size": 6,
        "files": 1,
        "s3_bucket": BUCKET,
        "s3_key": task.source.key,
        "s3_object_version": stored[0]["VersionId"],
    }
    content = lambda_client.publish_layer_version.call_args.kwargs["Content"]
    assert content == {"S3Bucket": BUCKET, "S3Key": task.source.key, "S3ObjectVersion": stored[0]["VersionId"]}


def test_a_publish_refused_after_the_upload_reports_the_upload_and_the_package(s3, zip_path):
    task = prepare_task(params(filename=zip_path, s3_bucket=BUCKET), LAMBDA_MODEL, lambda: s3)
    lambda_client = lambda_mock(None)
    lambda_client.publish_layer_version.side_effect = boto3.client("lambda", **CREDENTIALS).exceptions.InvalidParameterValueException(
        {"Error": {"Code": "InvalidParameterValueException", "Message": "Unzipped size must be smaller than 262144000 bytes"}},
        "PublishLayerVersion",
    )
    progress = Progress()
    with pytest.raises(AnsibleLambdaLayerError) as refused:
        task.run(LayerVersionManager(lambda_client), progress)
    failure = failure_result(progress, refused.value)
    assert failure["changed"] is True  # the object was written
    version_id = s3.list_object_versions(Bucket=BUCKET)["Versions"][0]["VersionId"]
    assert failure["package"]["s3_object_version"] == version_id
    assert failure["package"]["s3_key"] == task.source.key
    assert f"Done before that: uploaded the package to s3://{BUCKET}/{task.source.key}" in failure["msg"]
    assert failure["error"]["code"] == "InvalidParameterValueException"


def test_reference_pins_the_uploaded_version_in_the_request_sent(s3, zip_path):
    """moto ignores S3ObjectStorageMode: what the module sends is checked against the model by Stubber."""
    lambda_client = boto3.client("lambda", **CREDENTIALS)
    sent = {}
    lambda_client.meta.events.register("before-parameter-build.lambda.PublishLayerVersion", lambda params, **_kwargs: sent.update(params))
    task = prepare_task(params(filename=zip_path, s3_bucket=BUCKET, s3_object_storage_mode="REFERENCE"), LAMBDA_MODEL, lambda: s3)
    content = {"S3Bucket": BUCKET, "S3Key": task.source.key, "S3ObjectVersion": ANY, "S3ObjectStorageMode": "REFERENCE"}
    resolved = {"S3Bucket": BUCKET, "S3Key": task.source.key, "S3ObjectVersion": "answered-version"}
    with Stubber(lambda_client) as stub:
        stub.add_response("list_layer_versions", {"LayerVersions": []}, {"LayerName": LAYER, "MaxItems": 1})
        stub.add_response(
            "publish_layer_version",
            version_response(1, b64_sha256(zip_bytes()), {"ResolvedS3Object": resolved}),
            {"LayerName": LAYER, "Content": content},
        )
        stub.add_response("list_layer_versions", {"LayerVersions": [{"Version": 1, "LayerVersionArn": f"{LAYER_ARN}:1"}]}, {"LayerName": LAYER, "MaxItems": 50})
        result = task.run(LayerVersionManager(lambda_client), Progress())
        stub.assert_no_pending_responses()
    uploaded = s3.list_object_versions(Bucket=BUCKET)["Versions"][0]["VersionId"]
    assert sent["Content"]["S3ObjectVersion"] == uploaded
    assert result["package"]["s3_object_version"] == uploaded
    # The documented answer is read: the version keeps referring to the object.
    assert result["layer_version"]["resolved_s3_object"] == {"bucket": BUCKET, "key": task.source.key, "version_id": "answered-version"}


def test_an_s3_source_with_a_mode_pins_the_version_it_read(s3):
    put = s3.put_object(Bucket=BUCKET, Key="layers/x.zip", Body=zip_bytes(), ChecksumAlgorithm="SHA256")
    lambda_client = boto3.client("lambda", **CREDENTIALS)
    task = prepare_task(params(s3_bucket=BUCKET, s3_key="layers/x.zip", s3_object_storage_mode="COPY"), LAMBDA_MODEL, lambda: s3)
    content = {"S3Bucket": BUCKET, "S3Key": "layers/x.zip", "S3ObjectVersion": put["VersionId"], "S3ObjectStorageMode": "COPY"}
    with Stubber(lambda_client) as stub:
        stub.add_response("list_layer_versions", {"LayerVersions": []}, {"LayerName": LAYER, "MaxItems": 1})
        stub.add_response("publish_layer_version", version_response(1, b64_sha256(zip_bytes())), {"LayerName": LAYER, "Content": content})
        stub.add_response("list_layer_versions", {"LayerVersions": [{"Version": 1, "LayerVersionArn": f"{LAYER_ARN}:1"}]}, {"LayerName": LAYER, "MaxItems": 50})
        result = task.run(LayerVersionManager(lambda_client), Progress())
        stub.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["layer_version"]["resolved_s3_object"] is None
    assert "package" not in result


# --- the storage mode in the comparison ----------------------------------------------------------


def s3_head_mock(code_sha256):
    s3_client = MagicMock(name="s3")
    s3_client.head_object.return_value = {"ContentLength": 10, "ChecksumSHA256": code_sha256, "ChecksumType": "FULL_OBJECT", "VersionId": "v-1"}
    s3_client.get_bucket_versioning.return_value = {"Status": "Enabled"}
    return s3_client


@pytest.mark.parametrize(
    "resolved, asked, changes",
    [
        ({"S3Bucket": BUCKET, "S3Key": "layers/x.zip", "S3ObjectVersion": "v-1"}, "COPY", True),
        ({"S3Bucket": BUCKET, "S3Key": "layers/x.zip", "S3ObjectVersion": "v-1"}, "REFERENCE", False),
        ({"S3Bucket": BUCKET, "S3Key": "layers/x.zip", "S3ObjectVersion": "v-1"}, None, False),
        (None, "REFERENCE", True),
        (None, "COPY", False),
        (None, None, False),
    ],
    ids=["referenced-asked-copy", "referenced-asked-reference", "referenced-unset", "copied-asked-reference", "copied-asked-copy", "copied-unset"],
)
def test_the_storage_mode_is_compared_only_when_asked_for(resolved, asked, changes):
    code_sha256 = b64_sha256(zip_bytes())
    current = version_response(4, code_sha256, {"ResolvedS3Object": resolved} if resolved else None)
    lambda_client = lambda_mock(current)
    s3_client = s3_head_mock(code_sha256)
    task = prepare_task(params(s3_bucket=BUCKET, s3_key="layers/x.zip", s3_object_storage_mode=asked), LAMBDA_MODEL, lambda: s3_client)
    result = task.run(LayerVersionManager(lambda_client, check_mode=True), Progress())
    assert result["changed"] is changes
    if changes:
        assert result["msg"] == "would publish a new version (storage mode changed); would delete version 4"
    else:
        assert result["msg"] == "version 4 is up to date"
        assert result["layer_version"]["resolved_s3_object"] == (
            {"bucket": BUCKET, "key": "layers/x.zip", "version_id": "v-1"} if resolved else None
        )
    lambda_client.publish_layer_version.assert_not_called()


def test_a_change_of_mode_publishes_with_the_mode_and_the_pinned_version():
    code_sha256 = b64_sha256(zip_bytes())
    current = version_response(4, code_sha256, {"ResolvedS3Object": {"S3Bucket": BUCKET, "S3Key": "layers/x.zip", "S3ObjectVersion": "v-1"}})
    lambda_client = lambda_mock(current)
    lambda_client.published_sha256 = code_sha256
    task = prepare_task(params(s3_bucket=BUCKET, s3_key="layers/x.zip", s3_object_storage_mode="COPY"), LAMBDA_MODEL, lambda: s3_head_mock(code_sha256))
    result = task.run(LayerVersionManager(lambda_client), Progress())
    assert result["changed"] is True
    assert result["msg"] == "published version 5 (storage mode changed); deleted version 4"
    request = lambda_client.publish_layer_version.call_args.kwargs
    assert request["Content"] == {"S3Bucket": BUCKET, "S3Key": "layers/x.zip", "S3ObjectVersion": "v-1", "S3ObjectStorageMode": "COPY"}
