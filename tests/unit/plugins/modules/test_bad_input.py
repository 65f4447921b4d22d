# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every option with wrong types, empty strings, huge values, unicode and path tricks.

Each case must fail with a message that names the option, before any AWS call
(the clients are mocks that record every call; none may be made).
"""

import os
import sys
import zipfile
from unittest.mock import MagicMock

import boto3
import pytest

from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version
from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version_info
from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_versions

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}


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
    ("name-list", {"layer_name": ["a"], "filename": "{good}"}, "layer_name", "neither a layer name"),
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
    ("filename-over-limit", {"layer_name": "l", "filename": "{huge}"}, "filename", "s3_bucket and s3_key"),
    ("filename-with-s3", {"layer_name": "l", "filename": "{good}", "s3_bucket": "b", "s3_key": "k"}, "filename|s3_bucket", "mutually exclusive"),
    ("s3-key-alone", {"layer_name": "l", "s3_key": "k"}, "s3_bucket, s3_key", "required together"),
    ("s3-version-alone", {"layer_name": "l", "filename": "{good}", "s3_object_version": "v"}, "filename|s3_object_version", "mutually exclusive"),
    ("s3-bucket-empty", {"layer_name": "l", "s3_bucket": "", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
    ("s3-bucket-short", {"layer_name": "l", "s3_bucket": "ab", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
    ("s3-bucket-slash", {"layer_name": "l", "s3_bucket": "a/b/c", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
    ("s3-bucket-unicode", {"layer_name": "l", "s3_bucket": "bückets", "s3_key": "k"}, "s3_bucket", "not an S3 bucket name"),
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
    ("no-source", {"layer_name": "l"}, "filename, s3_bucket", "missing"),
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
    ("name-bad", {"layer_name": "a b"}, "layer_name", "neither a layer name"),
    ("version-zero", {"layer_name": "l", "version": 0}, "version", "not a layer version number"),
    ("version-alone", {"version": 2}, "version", "needs layer_name"),
    ("version-and-latest", {"layer_name": "l", "version": 2, "latest": True}, "version|latest", "mutually exclusive"),
    ("latest-alone", {"latest": True}, "latest", "needs layer_name"),
    ("architecture-bad", {"layer_name": "l", "compatible_architecture": "sparc"}, "compatible_architecture", "sparc"),
    ("include-word", {"layer_name": "l", "include_content_location": "perhaps"}, "include_content_location", "bool"),
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
    ("item-both-sources", {"layers": [{"layer_name": "l", "filename": "{good}", "s3_bucket": "b", "s3_key": "k"}]}, "filename|s3_bucket", "mutually exclusive"),
    ("concurrency-zero", {"layers": [], "max_concurrency": 0}, "max_concurrency", "between 1 and 64"),
    ("concurrency-huge", {"layers": [], "max_concurrency": 10 ** 9}, "max_concurrency", "between 1 and 64"),
    ("pace-negative", {"layers": [], "max_requests_per_second": -1}, "max_requests_per_second", "between 0 and 10000"),
    ("pace-nan", {"layers": [], "max_requests_per_second": "nan"}, "max_requests_per_second", "between 0 and 10000"),
    ("pace-word", {"layers": [], "max_requests_per_second": "fast"}, "max_requests_per_second", "float"),
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
