# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import os
import zipfile
from unittest.mock import MagicMock

import boto3
import pytest

from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}
BASE = dict(CONNECTION, layer_name="my-layer")


@pytest.fixture
def good_zip(tmp_path):
    path = tmp_path / "ok.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("python/mod.py", "x = 1\n")
    return str(path)


@pytest.mark.parametrize(
    "args, option, words",
    [
        ({"filename": "/nonexistent/layer.zip"}, "filename", "does not exist"),
        ({"filename": "{tmp}"}, "filename", "is a directory"),
        ({"filename": "{empty}"}, "filename", "is empty"),
        ({"filename": "{text}"}, "filename", "is not a zip file"),
        ({"filename": "{zip}", "compatible_runtimes": [f"python3.{n}" for n in range(16)] + ["nodejs22.x"]}, "compatible_runtimes", "at most 15"),
        ({"filename": "{zip}", "compatible_runtimes": ["python9.9"]}, "compatible_runtimes", "python9.9"),
        ({"filename": "{zip}", "compatible_architectures": ["sparc"]}, "compatible_architectures", "sparc"),
        ({"filename": "{zip}", "source_dir": "{tmp}"}, "filename|source_dir", "mutually exclusive"),
        ({"s3_key": "k"}, "s3_bucket", "missing"),
        ({"s3_bucket": "b", "s3_key": "k", "s3_object_version": "v", "filename": "{zip}"}, "filename", "mutually exclusive"),
        ({"layer_name": "bad name!", "filename": "{zip}"}, "layer_name", "neither a layer name"),
        ({"filename": "{zip}", "version": 2}, "version", "only valid with state=absent"),
        ({"state": "absent", "version": 0}, "version", "not a layer version number"),
        ({"filename": "{zip}", "source_code_hash": "abc"}, "source_code_hash", "not a base64-encoded SHA-256"),
        ({}, "filename, source_dir, s3_bucket", "state is present but any of the following are missing"),
        ({"filename": "{zip}", "version": "two"}, "version", "int"),
    ],
)
def test_bad_input_fails_naming_the_option_before_any_aws_call(run_module, aws_clients, tmp_path, good_zip, args, option, words):
    (tmp_path / "empty.zip").write_bytes(b"")
    (tmp_path / "text.zip").write_text("not a zip")
    places = {"{tmp}": str(tmp_path), "{empty}": str(tmp_path / "empty.zip"), "{text}": str(tmp_path / "text.zip"), "{zip}": good_zip}
    args = {key: places.get(value, value) if isinstance(value, str) else value for key, value in args.items()}
    result = run_module(lambda_layer_version.main, dict(BASE, **args))
    assert result["failed"] is True
    assert option in result["msg"]
    assert words in result["msg"]
    assert aws_clients.calls() == []


def test_foreign_account_arn_fails_after_one_sts_read_and_no_write(run_module, aws_clients, good_zip):
    aws_clients.setdefault("sts", MagicMock()).get_caller_identity.return_value = {"Account": "123456789012"}
    args = dict(BASE, layer_name="arn:aws:lambda:us-east-1:999999999999:layer:x", filename=good_zip)
    result = run_module(lambda_layer_version.main, args)
    assert result["failed"] is True
    assert result["msg"].startswith("layer_name: the ARN names account 999999999999")
    lambda_client = aws_clients["lambda"]
    lambda_client.list_layer_versions.assert_not_called()
    lambda_client.publish_layer_version.assert_not_called()


def test_diff_is_returned_only_in_diff_mode(run_module, aws_clients, good_zip):
    lambda_client = aws_clients.setdefault("lambda", MagicMock())
    lambda_client.meta = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta
    lambda_client.list_layer_versions.return_value = {"LayerVersions": []}
    result = run_module(lambda_layer_version.main, dict(BASE, filename=good_zip, _ansible_check_mode=True))
    assert result["changed"] is True
    assert "diff" not in result
    result = run_module(lambda_layer_version.main, dict(BASE, filename=good_zip, _ansible_check_mode=True, _ansible_diff=True))
    assert result["diff"]["before"] == {} and result["diff"]["after"]["version"] is None
    lambda_client.publish_layer_version.assert_not_called()


def test_a_bad_bulk_item_fails_alone_before_any_aws_call_for_it(run_module, aws_clients, good_zip):
    from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_versions  # pylint: disable=import-outside-toplevel

    lambda_client = aws_clients.setdefault("lambda", MagicMock())
    lambda_client.meta = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta
    lambda_client.list_layer_versions.return_value = {"LayerVersions": []}
    layers = [{"layer_name": "one", "filename": good_zip}, {"layer_name": "two", "filename": "/nonexistent.zip"}]
    result = run_module(lambda_layer_versions.main, dict(CONNECTION, layers=layers, _ansible_check_mode=True))
    assert result["failed"] is True
    assert result["msg"].startswith("1 of 2 layers failed")
    one, two = result["results"]
    assert (one["failed"], one["changed"]) == (False, True)  # handled: would publish
    assert two["failed"] is True and two["changed"] is False
    assert two["msg"].startswith("layers[1] (two): filename: /nonexistent.zip does not exist")
    assert {call.kwargs["LayerName"] for call in aws_clients.calls()} == {"one"}


def test_bulk_module_refuses_a_layer_given_twice(run_module, aws_clients, good_zip):
    from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_versions  # pylint: disable=import-outside-toplevel

    layers = [{"layer_name": "one", "filename": good_zip}, {"layer_name": "one", "filename": good_zip}]
    result = run_module(lambda_layer_versions.main, dict(CONNECTION, layers=layers))
    assert result["failed"] is True
    assert all(item["failed"] for item in result["results"])
    assert "layer one is given in layers[0], layers[1]" in result["msg"]
    assert aws_clients.calls() == []


def test_bulk_module_checks_max_concurrency(run_module, aws_clients, good_zip):
    from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_versions  # pylint: disable=import-outside-toplevel

    result = run_module(lambda_layer_versions.main, dict(CONNECTION, layers=[{"layer_name": "one", "filename": good_zip}], max_concurrency=0))
    assert result["failed"] is True
    assert result["msg"].startswith("max_concurrency: 0 is not between 1 and 64")
    assert aws_clients.calls() == []


def test_an_unforeseen_exception_fails_without_a_traceback(run_module, aws_clients, good_zip):
    lambda_client = aws_clients.setdefault("lambda", MagicMock())
    lambda_client.meta = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta
    lambda_client.list_layer_versions.side_effect = KeyError("LayerVersions")
    result = run_module(lambda_layer_version.main, dict(BASE, filename=good_zip))
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "KeyError: 'LayerVersions'. Nothing was written."
    assert "exception" not in result


def test_source_dir_staged_through_s3_end_to_end(run_module, tmp_path, monkeypatch):
    """The module against moto in process: check mode builds and hashes in a temporary directory it removes, writes nothing; a run stages and publishes."""
    from moto import mock_aws  # pylint: disable=import-outside-toplevel

    from ansible_collections.layerwise.aws.plugins.module_utils import _layer_version  # pylint: disable=import-outside-toplevel

    tree = tmp_path / "tree"
    (tree / "python").mkdir(parents=True)
    (tree / "python" / "mod.py").write_text("VALUE = 1\n")
    module_tmp = tmp_path / "module-tmp"
    module_tmp.mkdir()
    made = []
    real_temporary_directory = _layer_version.tempfile.TemporaryDirectory

    def temporary_directory(**kwargs):
        directory = real_temporary_directory(dir=str(module_tmp), **kwargs)
        made.append(directory.name)
        return directory

    monkeypatch.setattr(_layer_version.tempfile, "TemporaryDirectory", temporary_directory)
    args = dict(BASE, source_dir=str(tree), s3_bucket="staging-bucket")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        lambda_client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="staging-bucket")

        check = run_module(lambda_layer_version.main, dict(args, _ansible_check_mode=True))
        assert check["changed"] is True and "failed" not in check
        assert len(made) == 1 and not os.path.exists(made[0])
        assert os.listdir(module_tmp) == []
        assert check["package"]["files"] == 1 and check["package"]["s3_object_version"] is None
        assert s3.list_objects_v2(Bucket="staging-bucket").get("Contents", []) == []
        assert lambda_client.list_layer_versions(LayerName="my-layer")["LayerVersions"] == []

        run = run_module(lambda_layer_version.main, args)
        again = run_module(lambda_layer_version.main, args)
        stored = s3.list_objects_v2(Bucket="staging-bucket").get("Contents", [])
        versions = lambda_client.list_layer_versions(LayerName="my-layer")["LayerVersions"]
    assert run["changed"] is True
    assert run["package"]["sha256"] == check["package"]["sha256"] == run["layer_version"]["code_sha256"]
    assert [item["Key"] for item in stored] == [run["package"]["s3_key"]] == [check["package"]["s3_key"]]
    assert again["changed"] is False
    assert [version["Version"] for version in versions] == [run["layer_version"]["version"]]
    assert os.listdir(module_tmp) == [] and len(made) == 3
