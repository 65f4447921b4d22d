# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import base64
import hashlib
import io
import zipfile
from unittest.mock import MagicMock

import boto3
import pytest
from moto import mock_aws

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import build_desired
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerVersionManager
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import LocalZipSource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import S3Source

ARN = "arn:aws:lambda:us-east-1:123456789012:layer:l1"


def zip_bytes(payload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/mod.py", payload)
    return buffer.getvalue()


def b64sha(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def package(tmp_path):
    data = zip_bytes("v1")
    path = tmp_path / "layer.zip"
    path.write_bytes(data)
    return str(path), b64sha(data)


def version_response(version, code_sha256, **extra):
    response = {
        "LayerArn": ARN,
        "LayerVersionArn": f"{ARN}:{version}",
        "Version": version,
        "CreatedDate": "2026-11-24T17:25:10.150+0000",
        "Content": {"CodeSha256": code_sha256, "CodeSize": 10},
    }
    response.update(extra)
    return response


def mock_client(newest=None):
    client = MagicMock()
    client.list_layer_versions.return_value = {"LayerVersions": [{"Version": newest["Version"]}] if newest else []}
    client.get_layer_version.return_value = newest
    client.publish_layer_version.side_effect = lambda **request: version_response(
        (newest["Version"] if newest else 0) + 1, "published-hash", Description=request.get("Description", "")
    )
    return client


def test_unchanged_costs_two_reads_and_writes_nothing(package):
    path, code_sha256 = package
    client = mock_client(version_response(7, code_sha256, CompatibleRuntimes=["python3.12"]))
    desired = build_desired("l1", compatible_runtimes=["python3.12"])
    result = LayerVersionManager(client).present(desired, LocalZipSource(path))
    assert result["changed"] is False
    assert result["layer_version"]["version"] == 7
    assert result["deleted_versions"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    client.list_layer_versions.assert_called_once_with(LayerName="l1", MaxItems=1)
    client.get_layer_version.assert_called_once_with(LayerName="l1", VersionNumber=7)
    client.publish_layer_version.assert_not_called()
    client.delete_layer_version.assert_not_called()


def test_newest_is_the_highest_version_even_if_max_items_is_ignored(package):
    path, code_sha256 = package
    client = mock_client(version_response(9, code_sha256))
    client.list_layer_versions.return_value = {"LayerVersions": [{"Version": 3}, {"Version": 9}, {"Version": 5}]}
    LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    client.get_layer_version.assert_called_once_with(LayerName="l1", VersionNumber=9)


def test_change_publishes_and_deletes_only_the_superseded_version(package):
    path, _code_sha256 = package
    client = mock_client(version_response(7, "old-hash"))
    result = LayerVersionManager(client).present(build_desired("l1", description="new"), LocalZipSource(path))
    assert result["changed"] is True
    assert result["layer_version"]["version"] == 8
    assert result["deleted_versions"] == [7]
    request = client.publish_layer_version.call_args.kwargs
    assert request["LayerName"] == "l1"
    assert request["Description"] == "new"
    assert zipfile.ZipFile(io.BytesIO(request["Content"]["ZipFile"])).read("python/mod.py") == b"v1"
    client.delete_layer_version.assert_called_once_with(LayerName="l1", VersionNumber=7)
    assert result["diff"]["before"]["version"] == 7
    assert result["diff"]["after"]["version"] == 8


def test_skip_destroy_keeps_the_superseded_version(package):
    path, _code_sha256 = package
    client = mock_client(version_response(7, "old-hash"))
    result = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path), skip_destroy=True)
    assert result["changed"] is True
    assert result["deleted_versions"] == []
    client.delete_layer_version.assert_not_called()


def test_first_version_deletes_nothing(package):
    path, code_sha256 = package
    client = mock_client(None)
    result = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert result["changed"] is True
    assert result["layer_version"]["version"] == 1
    assert result["diff"]["before"] == {}
    client.get_layer_version.assert_not_called()
    client.delete_layer_version.assert_not_called()


def test_check_mode_predicts_and_writes_nothing(package):
    path, code_sha256 = package
    client = mock_client(version_response(7, "old-hash"))
    result = LayerVersionManager(client, check_mode=True).present(build_desired("l1", license_info="MIT"), LocalZipSource(path))
    assert result["changed"] is True
    assert result["deleted_versions"] == [7]
    facts = result["layer_version"]
    assert facts["version"] is None and facts["arn"] is None and facts["created_date"] is None
    assert facts["code_sha256"] == code_sha256
    assert facts["license_info"] == "MIT"
    assert facts["layer_arn"] == ARN
    assert result["diff"]["after"]["version"] is None
    # A reviewer sees the deletion in the diff and the message, not only in deleted_versions.
    assert result["diff"]["before"]["versions"] == [7] and result["diff"]["after"]["versions"] == []
    assert result["msg"] == "would publish a new version (content, licence changed); would delete version 7"
    client.publish_layer_version.assert_not_called()
    client.delete_layer_version.assert_not_called()


def test_messages_of_a_publish_and_of_an_unchanged_run(package):
    path, code_sha256 = package
    client = mock_client(version_response(7, "old-hash"))
    published = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert published["msg"] == "published version 8 (content changed); deleted version 7"
    client = mock_client(version_response(8, code_sha256))
    unchanged = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert unchanged["msg"] == "version 8 is up to date"
    assert unchanged["diff"]["before"] == unchanged["diff"]["after"]
    first = LayerVersionManager(mock_client(None), check_mode=True).present(build_desired("l1"), LocalZipSource(path))
    assert first["msg"] == "would publish a new version (no version yet)" and first["diff"]["before"] == {}


def test_source_code_hash_replaces_hashing(package, monkeypatch):
    path, _code_sha256 = package
    given = b64sha(b"something else")
    client = mock_client(version_response(7, given))
    source = LocalZipSource(path)
    monkeypatch.setattr(source, "content_sha256", MagicMock(side_effect=AssertionError("must not hash")))
    result = LayerVersionManager(client).present(build_desired("l1"), source, source_code_hash=given)
    assert result["changed"] is False


def test_source_code_hash_mismatch_after_publish_warns(package):
    path, _code_sha256 = package
    warnings = []
    client = mock_client(version_response(7, "old-hash"))
    LayerVersionManager(client, warn=warnings.append).present(build_desired("l1"), LocalZipSource(path), source_code_hash=b64sha(b"x"))
    assert len(warnings) == 1 and warnings[0].startswith("source_code_hash: ")


def test_absent_one_version_shows_the_whole_layer_before_and_after():
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value = [{"LayerVersions": [{"Version": 5}, {"Version": 4}, {"Version": 3}]}]
    result = LayerVersionManager(client).absent("l1", version=3)
    assert result == {
        "changed": True,
        "deleted_versions": [3],
        "msg": "deleted version 3 of layer l1",
        "diff": {"before": {"layer_name": "l1", "versions": [5, 4, 3]}, "after": {"layer_name": "l1", "versions": [5, 4]}},
    }
    client.delete_layer_version.assert_called_once_with(LayerName="l1", VersionNumber=3)


def test_absent_of_a_missing_version_says_so():
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value = [{"LayerVersions": [{"Version": 5}]}]
    result = LayerVersionManager(client).absent("l1", version=3)
    assert result["changed"] is False and result["deleted_versions"] == []
    assert result["msg"] == "version 3 of layer l1 does not exist: nothing to delete"
    client.delete_layer_version.assert_not_called()


def test_absent_all_versions_reads_every_page():
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value = [{
        "LayerVersions": [{"Version": 2}, {"Version": 5}, {"Version": 1}]
    }]
    result = LayerVersionManager(client).absent("l1")
    assert result["deleted_versions"] == [5, 2, 1]
    assert [call.kwargs["VersionNumber"] for call in client.delete_layer_version.call_args_list] == [5, 2, 1]


def test_absent_nothing_to_do():
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value = [{"LayerVersions": []}]
    result = LayerVersionManager(client).absent("l1")
    assert result["changed"] is False and result["deleted_versions"] == []
    client.delete_layer_version.assert_not_called()


@pytest.mark.parametrize("check_mode, skip_destroy", [(True, False), (False, True)])
def test_absent_check_mode_and_skip_destroy_delete_nothing(check_mode, skip_destroy):
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value = [{"LayerVersions": [{"Version": 2}]}]
    result = LayerVersionManager(client, check_mode=check_mode).absent("l1", skip_destroy=skip_destroy)
    client.delete_layer_version.assert_not_called()
    assert result["deleted_versions"] == ([2] if check_mode else [])
    assert result["changed"] is check_mode
    assert result["msg"] == ("would delete version 2 of layer l1" if check_mode else "skip_destroy: deleted nothing (version 2 of layer l1 kept)")


@mock_aws
def test_s3_source_uses_the_checksum_without_reading_the_object():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="layer-bucket")
    data = zip_bytes("s3")
    s3.put_object(Bucket="layer-bucket", Key="with.zip", Body=data, ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket="layer-bucket", Key="without.zip", Body=data)
    reads = []
    s3.meta.events.register("before-call.s3.GetObject", lambda **kwargs: reads.append(kwargs))
    assert S3Source(s3, "layer-bucket", "with.zip").content_sha256() == b64sha(data)
    assert reads == []
    assert S3Source(s3, "layer-bucket", "without.zip").content_sha256() == b64sha(data)
    assert len(reads) == 1


@mock_aws
def test_s3_source_missing_object_names_s3_key():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="layer-bucket")
    with pytest.raises(LayerInputError, match="^s3_key: s3://layer-bucket/missing.zip does not exist"):
        S3Source(s3, "layer-bucket", "missing.zip").ensure_publishable()


@mock_aws
def test_end_to_end_against_moto_in_process(tmp_path):
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    path = tmp_path / "layer.zip"
    path.write_bytes(zip_bytes("v1"))
    manager = LayerVersionManager(lambda_client)
    first = manager.present(build_desired("l1", compatible_runtimes=["python3.12"]), LocalZipSource(str(path)))
    second = manager.present(build_desired("l1", compatible_runtimes=["python3.12"]), LocalZipSource(str(path)))
    assert (first["changed"], second["changed"]) == (True, False)
    path.write_bytes(zip_bytes("v2"))
    third = manager.present(build_desired("l1", compatible_runtimes=["python3.12"]), LocalZipSource(str(path)))
    assert third["changed"] is True and third["deleted_versions"] == [1]
    versions = [item["Version"] for item in lambda_client.list_layer_versions(LayerName="l1")["LayerVersions"]]
    assert versions == [2]


def test_copy_permissions_carries_statements_to_the_new_version(package):
    import json  # pylint: disable=import-outside-toplevel

    path, _code_sha256 = package
    statement = {"Sid": "share", "Effect": "Allow", "Principal": "210987654321", "Action": "lambda:GetLayerVersion"}
    client = mock_client(version_response(7, "old-hash"))
    client.get_layer_version_policy.return_value = {"Policy": json.dumps({"Statement": [statement]}), "RevisionId": "r"}
    order = []
    client.add_layer_version_permission.side_effect = lambda **request: order.append(("add", request["VersionNumber"], request["StatementId"])) or {
        "Statement": "{}"
    }
    client.delete_layer_version.side_effect = lambda **request: order.append(("delete", request["VersionNumber"]))

    checked = LayerVersionManager(client, check_mode=True).present(build_desired("l1"), LocalZipSource(path), copy_permissions=True)
    assert checked["copied_permissions"] == ["share"]
    assert checked["diff"]["after"]["permissions"][0]["principal"] == "210987654321"
    assert order == []

    result = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path), copy_permissions=True)
    assert result["copied_permissions"] == ["share"]
    # The superseded version is marked first, the statement copied before it goes.
    assert order == [("add", 7, "layerwise-superseded"), ("add", 8, "share"), ("delete", 7)]


def test_copy_permissions_reads_nothing_when_unchanged(package):
    path, code_sha256 = package
    client = mock_client(version_response(7, code_sha256))
    result = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path), copy_permissions=True)
    assert result["changed"] is False and result["copied_permissions"] == []
    client.get_layer_version_policy.assert_not_called()


def test_the_publish_goes_through_a_client_sized_for_the_package(package):
    path, _code_sha256 = package
    reads = mock_client(version_response(7, "old-hash"))
    publisher = mock_client(version_response(7, "old-hash"))
    asked = []

    def publish_client_for(package_bytes):
        asked.append(package_bytes)
        return publisher

    LayerVersionManager(reads, publish_client_for=publish_client_for).present(build_desired("l1"), LocalZipSource(path))
    assert asked == [LocalZipSource(path).size]
    reads.publish_layer_version.assert_not_called()
    publisher.publish_layer_version.assert_called_once()


@mock_aws
def test_a_missing_bucket_and_a_missing_key_are_told_apart():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="layer-bucket")
    with pytest.raises(LayerInputError, match="^s3_key: s3://layer-bucket/missing.zip does not exist"):
        S3Source(s3, "layer-bucket", "missing.zip").ensure_publishable()
    with pytest.raises(LayerInputError, match="^s3_bucket: bucket no-such-bucket does not exist"):
        S3Source(s3, "no-such-bucket", "layer.zip").ensure_publishable()


def test_missing_credentials_say_what_to_set():
    from botocore.exceptions import NoCredentialsError  # pylint: disable=import-outside-toplevel

    from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Progress  # pylint: disable=import-outside-toplevel
    from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import failure_result  # pylint: disable=import-outside-toplevel

    result = failure_result(Progress(), NoCredentialsError())
    assert result["msg"].startswith("Unable to locate credentials")
    assert "Set access_key and secret_key" in result["msg"] and "profile" in result["msg"]
