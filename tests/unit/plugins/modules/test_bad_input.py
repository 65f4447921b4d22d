# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every option with wrong types, empty strings, huge values, unicode and path tricks.

Each case must fail with a message that names the option, before any AWS call
(the clients are mocks that record every call; none may be made).
"""

import io
import os
import sys
import zipfile
from unittest.mock import MagicMock

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import head_s3_object
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError

from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version
from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version_info
from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version_permission
from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_versions

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}
LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:l"
ARABIC_ACCOUNT = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"


@pytest.fixture
def paths(tmp_path):
    """Files of every kind the filename option may be given."""
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("python/mod.py", "x = 1\n" * 200)
    data = good.read_bytes()
    eocd = data.rindex(b"PK\x05\x06")
    central = data.rindex(b"PK\x01\x02")

    made = {"good": str(good), "dir": str(tmp_path)}
    (tmp_path / "empty.zip").write_bytes(b"")
    made["empty"] = str(tmp_path / "empty.zip")
    (tmp_path / "text.zip").write_text("plain text")
    made["text"] = str(tmp_path / "text.zip")
    (tmp_path / "truncated.zip").write_bytes(data[: len(data) // 2])
    made["truncated"] = str(tmp_path / "truncated.zip")
    # The central directory names an entry whose local header is not where it says.
    corrupt = bytearray(data)
    corrupt[central + 42: central + 46] = (len(data) // 3).to_bytes(4, "little")
    (tmp_path / "corrupt.zip").write_bytes(bytes(corrupt))
    made["corrupt"] = str(tmp_path / "corrupt.zip")
    # The end-of-central-directory record counts more entries than there are.
    bad_count = bytearray(data)
    bad_count[eocd + 10: eocd + 12] = (7).to_bytes(2, "little")
    (tmp_path / "bad_count.zip").write_bytes(bytes(bad_count))
    made["bad_count"] = str(tmp_path / "bad_count.zip")
    os.symlink(tmp_path / "nowhere.zip", tmp_path / "dangling.zip")
    made["dangling"] = str(tmp_path / "dangling.zip")
    os.symlink(tmp_path / "loop_b.zip", tmp_path / "loop_a.zip")
    os.symlink(tmp_path / "loop_a.zip", tmp_path / "loop_b.zip")
    made["loop"] = str(tmp_path / "loop_a.zip")
    os.symlink(tmp_path, tmp_path / "dir_link.zip")
    made["dir_link"] = str(tmp_path / "dir_link.zip")
    os.mkfifo(tmp_path / "fifo.zip")
    made["fifo"] = str(tmp_path / "fifo.zip")
    with open(tmp_path / "huge.zip", "wb") as huge:
        huge.truncate(50 * 1024 * 1024 + 1)
    made["huge"] = str(tmp_path / "huge.zip")
    return made


def run(run_module, main, args):
    return run_module(main, dict(CONNECTION, **args))


# (case id, extra args for lambda_layer_version, option the message must name, words it must contain)
LAYER_VERSION_CASES = [
    ("name-empty", {"layer_name": "", "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-too-long", {"layer_name": "x" * 141, "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-huge", {"layer_name": "x" * 100000, "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-unicode", {"layer_name": "läyer", "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-path", {"layer_name": "../etc/passwd", "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-version-arn", {"layer_name": "arn:aws:lambda:us-east-1:123456789012:layer:x:1", "filename": "{good}"}, "layer_name", "version ARN"),
    ("name-function-arn", {"layer_name": "arn:aws:lambda:us-east-1:123456789012:function:x", "filename": "{good}"}, "layer_name", "neither"),
    ("name-arn-other-partition", {"layer_name": "arn:aws-cn:lambda:cn-north-1:123456789012:layer:x", "filename": "{good}"}, "layer_name",
     "partition aws-cn"),
    ("name-arn-other-region", {"layer_name": "arn:aws:lambda:eu-west-1:123456789012:layer:x", "filename": "{good}"}, "layer_name",
     "names region eu-west-1, but the module works in region us-east-1"),
    ("name-list", {"layer_name": ["a"], "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-trailing-newline", {"layer_name": "abc\n", "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-arabic-digit", {"layer_name": "layer\u0663", "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-arn-trailing-newline", {"layer_name": LAYER_ARN + "\n", "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-arn-text-before", {"layer_name": "see " + LAYER_ARN, "filename": "{good}"}, "layer_name", "neither a layer name"),
    ("name-arn-arabic-account", {"layer_name": f"arn:aws:lambda:us-east-1:{ARABIC_ACCOUNT}:layer:x", "filename": "{good}"}, "layer_name", "neither"),
    ("name-arn-slash", {"layer_name": "arn:aws:lambda:us-east-1:123456789012:layer/x", "filename": "{good}"}, "layer_name", "neither"),
    ("name-arn-name-too-long", {"layer_name": LAYER_ARN[:-1] + "x" * 141, "filename": "{good}"}, "layer_name", "neither"),
    ("name-arn-china-partition-us-region", {"layer_name": "arn:aws-cn:lambda:us-east-1:123456789012:layer:x", "filename": "{good}"}, "layer_name",
     "partition aws-cn, but the region it names, us-east-1, is in partition aws"),
    ("name-arn-gov-region-aws-partition", {"layer_name": "arn:aws:lambda:us-gov-west-1:123456789012:layer:x", "state": "absent"}, "layer_name",
     "partition aws, but the region it names, us-gov-west-1, is in partition aws-us-gov"),
    ("name-arn-version-zero", {"layer_name": LAYER_ARN + ":0", "state": "absent"}, "layer_name", "the ARN's version 0 is not a layer version number"),
    ("state-bad", {"layer_name": "l", "state": "gone"}, "state", "present, absent"),
    ("filename-empty", {"layer_name": "l", "filename": ""}, "filename", "must not be empty"),
    ("filename-missing", {"layer_name": "l", "filename": "{dir}/nope.zip"}, "filename", "does not exist"),
    ("filename-dir", {"layer_name": "l", "filename": "{dir}"}, "filename", "is a directory"),
    ("filename-dir-symlink", {"layer_name": "l", "filename": "{dir_link}"}, "filename", "is a directory"),
    ("filename-dangling-symlink", {"layer_name": "l", "filename": "{dangling}"}, "filename", "does not exist"),
    ("filename-symlink-loop", {"layer_name": "l", "filename": "{loop}"}, "filename", "cannot read"),
    ("filename-fifo", {"layer_name": "l", "filename": "{fifo}"}, "filename", "not a regular file"),
    ("filename-device", {"layer_name": "l", "filename": "/dev/null"}, "filename", "not a regular file"),
    ("filename-nul-byte", {"layer_name": "l", "filename": "{dir}/a\x00.zip"}, "filename", "not a valid path"),
    ("filename-empty-file", {"layer_name": "l", "filename": "{empty}"}, "filename", "is empty"),
    ("filename-text", {"layer_name": "l", "filename": "{text}"}, "filename", "not a zip file"),
    ("filename-truncated", {"layer_name": "l", "filename": "{truncated}"}, "filename", "truncated"),
    ("filename-corrupt", {"layer_name": "l", "filename": "{corrupt}"}, "filename", "corrupt zip"),
    ("filename-bad-count", {"layer_name": "l", "filename": "{bad_count}"}, "filename", "zip"),
    ("filename-over-limit", {"layer_name": "l", "filename": "{huge}"}, "filename", "add s3_bucket to stage it through S3"),
    ("filename-with-s3-object-version", {"layer_name": "l", "filename": "{good}", "s3_bucket": "bucket", "s3_key": "k", "s3_object_version": "v"},
     "filename|s3_object_version", "mutually exclusive"),
    ("filename-and-source-dir", {"layer_name": "l", "filename": "{good}", "source_dir": "{dir}"}, "filename|source_dir", "mutually exclusive"),
    ("source-dir-with-s3-key", {"layer_name": "l", "source_dir": "{dir}", "s3_bucket": "bucket", "s3_key": "k"}, "source_dir|s3_key",
     "mutually exclusive"),
    ("excludes-without-source-dir", {"layer_name": "l", "filename": "{good}", "excludes": ["*.pyc"]}, "excludes", "source_dir"),
    ("storage-mode-without-bucket", {"layer_name": "l", "filename": "{good}", "s3_object_storage_mode": "COPY"}, "s3_object_storage_mode", "s3_bucket"),
    ("storage-mode-unknown", {"layer_name": "l", "filename": "{good}", "s3_bucket": "bucket", "s3_object_storage_mode": "LINK"},
     "s3_object_storage_mode", "COPY, REFERENCE"),
    ("s3-bucket-alone", {"layer_name": "l", "s3_bucket": "bucket"}, "s3_key", "unless filename or source_dir"),
    ("s3-key-alone", {"layer_name": "l", "s3_key": "k"}, "s3_bucket", "missing"),
    ("s3-version-alone", {"layer_name": "l", "filename": "{good}", "s3_object_version": "v"}, "filename|s3_object_version", "mutually exclusive"),
    ("s3-bucket-empty", {"layer_name": "l", "s3_bucket": "", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
    ("s3-bucket-short", {"layer_name": "l", "s3_bucket": "ab", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
    ("s3-bucket-slash", {"layer_name": "l", "s3_bucket": "a/b/c", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
    ("s3-bucket-unicode", {"layer_name": "l", "s3_bucket": "bückets", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
    ("s3-bucket-trailing-newline", {"layer_name": "l", "s3_bucket": "bucket\n", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
    ("s3-key-empty", {"layer_name": "l", "s3_bucket": "bucket", "s3_key": "  "}, "s3_key", "must not be empty"),
    ("s3-key-huge", {"layer_name": "l", "s3_bucket": "bucket", "s3_key": "k" * 1025}, "s3_key", "at most 1024"),
    ("description-huge", {"layer_name": "l", "filename": "{good}", "description": "d" * 257}, "description", "at most 256"),
    ("license-huge", {"layer_name": "l", "filename": "{good}", "license_info": "é" * 513}, "license_info", "at most 512"),
    ("runtimes-empty-string", {"layer_name": "l", "filename": "{good}", "compatible_runtimes": [""]}, "compatible_runtimes", "unknown runtime"),
    ("runtimes-unicode", {"layer_name": "l", "filename": "{good}", "compatible_runtimes": ["pythön3.12"]}, "compatible_runtimes", "pythön3.12"),
    ("runtimes-too-many", {"layer_name": "l", "filename": "{good}", "compatible_runtimes": [f"python3.{n}" for n in range(6, 15)] + [
        "nodejs18.x", "nodejs20.x", "nodejs22.x", "java17", "java21", "ruby3.3", "provided.al2023"]}, "compatible_runtimes", "at most 15"),
    ("runtimes-dict", {"layer_name": "l", "filename": "{good}", "compatible_runtimes": {"python3.12": True}}, "compatible_runtimes", "list"),
    ("architectures-bad", {"layer_name": "l", "filename": "{good}", "compatible_architectures": ["x86-64"]}, "compatible_architectures", "x86-64"),
    ("architectures-empty", {"layer_name": "l", "filename": "{good}", "compatible_architectures": [""]}, "compatible_architectures", "x86_64, arm64"),
    ("hash-empty", {"layer_name": "l", "filename": "{good}", "source_code_hash": ""}, "source_code_hash", "not a base64-encoded SHA-256"),
    ("hash-hex", {"layer_name": "l", "filename": "{good}", "source_code_hash": "ab" * 32}, "source_code_hash", "not a base64-encoded SHA-256"),
    ("hash-unicode", {"layer_name": "l", "filename": "{good}", "source_code_hash": "ü" * 44}, "source_code_hash", "not a base64-encoded SHA-256"),
    ("skip-destroy-word", {"layer_name": "l", "filename": "{good}", "skip_destroy": "maybe"}, "skip_destroy", "bool"),
    ("version-with-present", {"layer_name": "l", "filename": "{good}", "version": 3}, "version", "only valid with state=absent"),
    ("version-zero", {"layer_name": "l", "state": "absent", "version": 0}, "version", "not a layer version number"),
    ("version-negative", {"layer_name": "l", "state": "absent", "version": -5}, "version", "not a layer version number"),
    ("version-word", {"layer_name": "l", "state": "absent", "version": "three"}, "version", "int"),
    ("version-float", {"layer_name": "l", "state": "absent", "version": 1.5}, "version", "int"),
    ("version-over-long", {"layer_name": "l", "state": "absent", "version": 2**63}, "version", "not a layer version number"),
    ("version-huge", {"layer_name": "l", "state": "absent", "version": 10**40}, "version", "not a layer version number"),
    # ansible-core's int type takes a bool as it is (bool is an int in Python).
    ("version-bool", {"layer_name": "l", "state": "absent", "version": True}, "version", "not a layer version number"),
    ("no-source", {"layer_name": "l"}, "filename, source_dir, s3_bucket", "missing"),
    ("amazon-aws-content", {"layer_name": "l", "content": {"zip_file": "x.zip"}}, "content", "here the package is filename"),
    ("amazon-aws-version-minus-one", {"layer_name": "l", "state": "absent", "version": -1}, "version", "to delete every version, leave version out"),
    ("runtime-typo", {"layer_name": "l", "filename": "{good}", "compatible_runtimes": ["pyhton3.12"]}, "compatible_runtimes", "did you mean python3.12"),
    ("keep-versions-zero", {"layer_name": "l", "filename": "{good}", "keep_versions": 0}, "keep_versions", "1 or more"),
    ("keep-versions-negative", {"layer_name": "l", "filename": "{good}", "keep_versions": -2}, "keep_versions", "1 or more"),
    ("keep-versions-bool", {"layer_name": "l", "filename": "{good}", "keep_versions": True}, "keep_versions", "not a number of versions"),
    ("keep-versions-word", {"layer_name": "l", "filename": "{good}", "keep_versions": "all"}, "keep_versions", "int"),
    ("keep-versions-skip-destroy", {"layer_name": "l", "filename": "{good}", "keep_versions": 2, "skip_destroy": True}, "keep_versions",
     "conflicts with skip_destroy"),
    ("keep-versions-absent", {"layer_name": "l", "state": "absent", "keep_versions": 2}, "keep_versions", "only valid with state=present"),
    ("prune-in-use-alone", {"layer_name": "l", "filename": "{good}", "prune_in_use": True}, "prune_in_use", "needs keep_versions"),
    ("prune-in-use-word", {"layer_name": "l", "filename": "{good}", "keep_versions": 1, "prune_in_use": "always"}, "prune_in_use", "bool"),
]


@pytest.mark.parametrize("args, option, words", [case[1:] for case in LAYER_VERSION_CASES], ids=[case[0] for case in LAYER_VERSION_CASES])
def test_lambda_layer_version_bad_input(run_module, aws_clients, paths, args, option, words):
    args = {key: value.format(**paths) if isinstance(value, str) and "{" in value else value for key, value in args.items()}
    result = run(run_module, lambda_layer_version.main, args)
    assert result.get("failed") is True, result
    if "\x00" in str(args.get("filename")) and sys.version_info >= (3, 12):
        # Python 3.12's syslog refuses NUL bytes: AnsibleModule fails while logging the
        # invocation, before the module's own check runs (still before any AWS call).
        assert "syslog" in result["msg"]
    else:
        assert option in result["msg"]
        assert words in result["msg"]
    assert aws_clients.calls() == []


def test_a_good_package_behind_a_unicode_symlinked_path_is_accepted(run_module, aws_clients, paths, tmp_path):
    link = tmp_path / "länger Weg.zip"
    os.symlink(paths["good"], link)
    aws_clients.setdefault("lambda", MagicMock()).list_layer_versions.return_value = {"LayerVersions": []}
    aws_clients["lambda"].meta = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta
    result = run(run_module, lambda_layer_version.main, {"layer_name": "l", "filename": str(link), "_ansible_check_mode": True})
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    aws_clients["lambda"].publish_layer_version.assert_not_called()


INFO_CASES = [
    ("arn-empty", {"arn": ""}, "arn", "not a layer version ARN"),
    ("arn-garbage", {"arn": "arn:aws:lambda:::"}, "arn", "not a layer version ARN"),
    ("arn-unicode", {"arn": "arn:aws:lambda:us-east-1:123456789012:layer:läyer:1"}, "arn", "not a layer version ARN"),
    ("arn-and-name", {"arn": "arn:aws:lambda:us-east-1:123456789012:layer:l:1", "layer_name": "l"}, "arn|layer_name", "mutually exclusive"),
    ("arn-trailing-newline", {"arn": LAYER_ARN + ":1\n"}, "arn", "not a layer version ARN"),
    ("arn-arabic-version", {"arn": LAYER_ARN + ":\u0661"}, "arn", "not a layer version ARN"),
    ("arn-arabic-account", {"arn": f"arn:aws:lambda:us-east-1:{ARABIC_ACCOUNT}:layer:l:1"}, "arn", "not a layer version ARN"),
    ("arn-version-zero", {"arn": LAYER_ARN + ":0"}, "arn", "the ARN's version 0 is not a layer version number"),
    ("arn-version-over-long", {"arn": LAYER_ARN + ":9223372036854775808"}, "arn", "is not a layer version number"),
    ("arn-version-huge", {"arn": LAYER_ARN + ":" + "9" * 2000}, "arn", "is not a layer version number"),
    ("arn-china-partition-us-region", {"arn": "arn:aws-cn:lambda:us-east-1:123456789012:layer:l:1"}, "arn",
     "partition aws-cn, but the region it names, us-east-1, is in partition aws"),
    # Another region is read in that region, but never outside the module's partition.
    ("arn-other-partition-than-module", {"arn": "arn:aws-cn:lambda:cn-north-1:123456789012:layer:l:1"}, "arn",
     "partition aws-cn, but the module works in region us-east-1, which is in partition aws"),
    ("name-bad", {"layer_name": "a b"}, "layer_name", "neither a layer name"),
    ("name-trailing-newline", {"layer_name": "l\n"}, "layer_name", "neither a layer name"),
    ("name-arn-other-partition-than-module", {"layer_name": "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:l"}, "layer_name",
     "partition aws-us-gov, but the module works in region us-east-1, which is in partition aws"),
    ("version-zero", {"layer_name": "l", "version": 0}, "version", "not a layer version number"),
    ("version-over-long", {"layer_name": "l", "version": 2**63}, "version", "not a layer version number"),
    ("version-bool", {"layer_name": "l", "version": True}, "version", "not a layer version number"),
    ("version-alone", {"version": 2}, "version", "needs layer_name"),
    ("version-and-latest", {"layer_name": "l", "version": 2, "latest": True}, "version|latest", "mutually exclusive"),
    ("latest-alone", {"latest": True}, "latest", "needs layer_name"),
    ("architecture-bad", {"layer_name": "l", "compatible_architecture": "sparc"}, "compatible_architecture", "sparc"),
    ("include-word", {"layer_name": "l", "include_content_location": "perhaps"}, "include_content_location", "bool"),
    ("include-usage-word", {"layer_name": "l", "include_usage": "perhaps"}, "include_usage", "bool"),
]


@pytest.mark.parametrize("args, option, words", [case[1:] for case in INFO_CASES], ids=[case[0] for case in INFO_CASES])
def test_lambda_layer_version_info_bad_input(run_module, aws_clients, args, option, words):
    result = run(run_module, lambda_layer_version_info.main, args)
    assert result.get("failed") is True, result
    assert option in result["msg"]
    assert words in result["msg"]
    assert aws_clients.calls() == []


BULK_CASES = [
    ("layers-missing", {}, "layers", "missing required arguments"),
    # ansible-core's own conversion message for a list item that is not a dict names no option;
    # it is checked here so that a change in it is noticed.
    ("layers-not-list", {"layers": "l"}, "", "dictionary requested"),
    ("item-without-name", {"layers": [{"filename": "{good}"}]}, "layer_name", "missing required arguments"),
    ("item-unknown-option", {"layers": [{"layer_name": "l", "filename": "{good}", "colour": "red"}]}, "colour", "Unsupported parameters"),
    ("item-bad-zip", {"layers": [{"layer_name": "l", "filename": "{text}"}]}, "layers[0] (l): filename", "not a zip file"),
    ("item-keep-zero", {"layers": [{"layer_name": "l", "filename": "{good}", "keep_versions": 0}]}, "layers[0] (l): keep_versions", "1 or more"),
    ("item-keep-skip-destroy", {"layers": [{"layer_name": "l", "filename": "{good}", "keep_versions": 3, "skip_destroy": True}]},
     "layers[0] (l): keep_versions", "conflicts with skip_destroy"),
    ("item-keep-absent", {"layers": [{"layer_name": "l", "state": "absent", "keep_versions": 3}]}, "layers[0] (l): keep_versions", "state=present"),
    ("item-prune-alone", {"layers": [{"layer_name": "l", "filename": "{good}", "prune_in_use": True}]}, "layers[0] (l): prune_in_use", "needs keep_versions"),
    ("item-both-sources", {"layers": [{"layer_name": "l", "filename": "{good}", "source_dir": "{dir}"}]}, "filename|source_dir", "mutually exclusive"),
    ("item-name-trailing-newline", {"layers": [{"layer_name": "l\n", "filename": "{good}"}]}, "layer_name", "neither a layer name"),
    ("item-version-over-long", {"layers": [{"layer_name": "l", "state": "absent", "version": 2**63}]}, "layers[0] (l): version", "not a layer version number"),
    ("item-arn-other-partition", {"layers": [{"layer_name": "arn:aws-cn:lambda:cn-north-1:123456789012:layer:l", "filename": "{good}"}]},
     "layers[0] (arn:aws-cn:lambda:cn-north-1:123456789012:layer:l): layer_name", "partition aws-cn"),
    ("concurrency-zero", {"layers": [], "max_concurrency": 0}, "max_concurrency", "between 1 and 64"),
    ("concurrency-huge", {"layers": [], "max_concurrency": 10 ** 9}, "max_concurrency", "between 1 and 64"),
    ("item-region-bad", {"layers": [{"layer_name": "l", "filename": "{good}", "region": "EU West"}]}, "layers[0] (l): region", "not an AWS region name"),
]


@pytest.mark.parametrize("args, option, words", [case[1:] for case in BULK_CASES], ids=[case[0] for case in BULK_CASES])
def test_lambda_layer_versions_bad_input(run_module, aws_clients, paths, args, option, words):
    if "layers" in args and isinstance(args["layers"], list):
        args = dict(args, layers=[{key: value.format(**paths) if isinstance(value, str) else value for key, value in item.items()} for item in args["layers"]])
    result = run(run_module, lambda_layer_versions.main, args)
    assert result.get("failed") is True, result
    assert option in result["msg"]
    assert words in result["msg"]
    assert aws_clients.calls() == []


PERMISSION_CASES = [
    ("statement-id-empty", {"statement_id": ""}, "statement_id", "1 to 100"),
    ("statement-id-too-long", {"statement_id": "s" * 101}, "statement_id", "1 to 100"),
    ("statement-id-trailing-newline", {"statement_id": "share\n"}, "statement_id", "1 to 100"),
    ("statement-id-unicode", {"statement_id": "sh\u00e4re"}, "statement_id", "1 to 100"),
    ("statement-id-newline-absent", {"statement_id": "share\n", "state": "absent"}, "statement_id", "1 to 100"),
    ("principal-missing", {"principal": None}, "principal", "required with state=present"),
    ("principal-trailing-newline", {"principal": "123456789012\n"}, "principal", "not an AWS account id"),
    ("principal-arabic-digits", {"principal": ARABIC_ACCOUNT}, "principal", "not an AWS account id"),
    ("principal-eleven-digits", {"principal": "12345678901"}, "principal", "not an AWS account id"),
    ("principal-root-trailing-newline", {"principal": "arn:aws:iam::123456789012:root\n"}, "principal", "not an AWS account id"),
    ("principal-root-arabic-digits", {"principal": f"arn:aws:iam::{ARABIC_ACCOUNT}:root"}, "principal", "not an AWS account id"),
    ("principal-root-user", {"principal": "arn:aws:iam::123456789012:user/bob"}, "principal", "not an AWS account id"),
    ("principal-root-other-partition", {"principal": "arn:aws-cn:iam::123456789012:root"}, "principal",
     "partition aws-cn, but the module works in region us-east-1, which is in partition aws"),
    ("organization-without-star", {"organization_id": "o-abcdefghij"}, "organization_id", "only valid with principal='*'"),
    ("organization-trailing-newline", {"principal": "*", "organization_id": "o-abcdefghij\n"}, "organization_id", "not an organization id"),
    ("organization-upper-case", {"principal": "*", "organization_id": "o-ABCDEFGHIJ"}, "organization_id", "not an organization id"),
    ("organization-arabic-digits", {"principal": "*", "organization_id": "o-" + ARABIC_ACCOUNT}, "organization_id", "not an organization id"),
    ("version-zero", {"version": 0}, "version", "not a layer version number"),
    ("version-over-long", {"version": 2**63}, "version", "not a layer version number"),
    ("name-trailing-newline", {"layer_name": "l\n"}, "layer_name", "neither a layer name"),
    ("arn-no-version", {"layer_name": None, "version": None, "arn": LAYER_ARN}, "arn", "not a layer version ARN"),
    ("arn-trailing-newline", {"layer_name": None, "version": None, "arn": LAYER_ARN + ":1\n"}, "arn", "not a layer version ARN"),
    ("arn-arabic-version", {"layer_name": None, "version": None, "arn": LAYER_ARN + ":\u0661"}, "arn", "not a layer version ARN"),
    ("arn-version-zero", {"layer_name": None, "version": None, "arn": LAYER_ARN + ":0"}, "arn", "the ARN's version 0 is not a layer version number"),
    ("arn-version-over-long", {"layer_name": None, "version": None, "arn": LAYER_ARN + ":9223372036854775808"}, "arn", "not a layer version number"),
    ("arn-other-region-no-sts", {"layer_name": None, "version": None, "arn": "arn:aws:lambda:eu-west-1:123456789012:layer:l:1"}, "arn",
     "names region eu-west-1, but the module works in region us-east-1"),
    ("arn-china-partition-us-region", {"layer_name": None, "version": None, "arn": "arn:aws-cn:lambda:us-east-1:123456789012:layer:l:1"}, "arn",
     "partition aws-cn, but the region it names, us-east-1, is in partition aws"),
]


@pytest.mark.parametrize("args, option, words", [case[1:] for case in PERMISSION_CASES], ids=[case[0] for case in PERMISSION_CASES])
def test_lambda_layer_version_permission_bad_input(run_module, aws_clients, args, option, words):
    args = {key: value for key, value in dict({"layer_name": "l", "version": 1, "statement_id": "share", "principal": "123456789012"}, **args).items()
            if value is not None}
    result = run(run_module, lambda_layer_version_permission.main, args)
    assert result.get("failed") is True, result
    assert option in result["msg"]
    assert words in result["msg"]
    assert aws_clients.calls() == []


@pytest.fixture
def s3_objects():
    """An unversioned and a versioned bucket in moto (in-process), each with the same zip."""
    moto = pytest.importorskip("moto")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("python/mod.py", "x = 1\n")
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="plain-bucket")
        s3.put_object(Bucket="plain-bucket", Key="layer.zip", Body=package.getvalue())
        s3.create_bucket(Bucket="versioned-bucket")
        s3.put_bucket_versioning(Bucket="versioned-bucket", VersioningConfiguration={"Status": "Enabled"})
        version_id = s3.put_object(Bucket="versioned-bucket", Key="layer.zip", Body=package.getvalue())["VersionId"]
        yield {"version_id": version_id}


S3_VERSION_CASES = [
    # HeadObject with any version id on an unversioned bucket: a bare 400 Bad Request.
    ("unversioned-bucket", "plain-bucket", "layer.zip", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
     "s3_object_version: bucket plain-bucket has no object version '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' of key 'layer.zip'"
     " (S3 answered 400 Bad Request: is versioning enabled on the bucket?)"),
    # A version id the key does not have: 404.
    ("unknown-version", "versioned-bucket", "layer.zip", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
     "s3_object_version: bucket versioned-bucket has no object version '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' of key 'layer.zip' (S3 answered 404 Not Found)"),
    ("version-of-missing-key", "versioned-bucket", "nothing.zip", "{version_id}",
     "s3_object_version: bucket versioned-bucket has no object version '{version_id}' of key 'nothing.zip' (S3 answered 404 Not Found)"),
]


@pytest.mark.parametrize("bucket, key, version, message", [case[1:] for case in S3_VERSION_CASES], ids=[case[0] for case in S3_VERSION_CASES])
def test_an_s3_object_version_s3_does_not_have_names_the_option(run_module, s3_objects, bucket, key, version, message):
    args = {"layer_name": "from-s3", "s3_bucket": bucket, "s3_key": key, "s3_object_version": version.format(**s3_objects)}
    result = run(run_module, lambda_layer_version.main, args)
    assert result.get("failed") is True, result
    assert result["msg"] == message.format(**s3_objects)
    lambda_client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    assert lambda_client.list_layer_versions(LayerName="from-s3")["LayerVersions"] == []


def test_an_s3_object_version_s3_has_is_used(run_module, s3_objects):
    args = {"layer_name": "from-s3", "s3_bucket": "versioned-bucket", "s3_key": "layer.zip", "s3_object_version": s3_objects["version_id"]}
    result = run(run_module, lambda_layer_version.main, dict(args, _ansible_check_mode=True))
    assert result.get("failed") is not True, result
    assert result["changed"] is True


def test_other_head_object_refusals_with_a_version_are_reported_as_aws_errors():
    """A 403 is not a missing version: it stays an AWS error with its code, not an input error."""
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(s3) as stubber:
        stubber.add_client_error("head_object", service_error_code="403", http_status_code=403)
        with pytest.raises(AnsibleLambdaLayerError) as error:
            head_s3_object(s3, "bucket", "key", "some-version")
    assert not isinstance(error.value, LayerInputError)
    assert "read the S3 object's metadata" in str(error.value)


def test_a_missing_key_without_a_version_is_none():
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(s3) as stubber:
        stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
        assert head_s3_object(s3, "bucket", "key") is None
