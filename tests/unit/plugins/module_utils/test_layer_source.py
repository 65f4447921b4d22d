# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import base64
import hashlib
import io
import os
import zipfile

import boto3
import pytest
from moto import mock_aws

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_hash
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import DIRECT_UPLOAD_LIMIT
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import check_local_zip
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import check_source_code_hash
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import full_object_sha256
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import sha256_of_file
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import sha256_of_s3_object


def expected_hash(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def make_zip(path, payload=b"print('hi')\n"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("python/mod.py", payload)
    return path


def test_file_hash_matches_hashlib_across_chunk_boundaries(tmp_path):
    data = os.urandom(3 * _layer_hash.CHUNK_SIZE + 12345)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_of_file(str(path)) == expected_hash(data)


def test_stream_hash_reuses_one_buffer():
    # Bounded memory: every read goes into the same buffer, whatever the size.
    source = io.BytesIO(os.urandom(5 * _layer_hash.CHUNK_SIZE))
    buffers = set()

    def readinto(buffer):
        buffers.add(id(buffer))
        assert len(buffer) == _layer_hash.CHUNK_SIZE
        return source.readinto(buffer)

    assert _layer_hash.sha256_of_stream(readinto) == expected_hash(source.getvalue())
    assert len(buffers) == 1


def test_good_zip_returns_its_size(tmp_path):
    path = make_zip(str(tmp_path / "ok.zip"))
    assert check_local_zip(path) == os.path.getsize(path)


def test_missing_file(tmp_path):
    with pytest.raises(LayerInputError, match="^filename: .* does not exist"):
        check_local_zip(str(tmp_path / "nope.zip"))


def test_directory(tmp_path):
    with pytest.raises(LayerInputError, match="^filename: .* is a directory"):
        check_local_zip(str(tmp_path))


def test_fifo_is_not_a_regular_file(tmp_path):
    fifo = str(tmp_path / "pipe")
    os.mkfifo(fifo)
    with pytest.raises(LayerInputError, match="^filename: .* is not a regular file"):
        check_local_zip(fifo)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.zip"
    path.write_bytes(b"")
    with pytest.raises(LayerInputError, match="^filename: .* is empty"):
        check_local_zip(str(path))


def test_not_a_zip(tmp_path):
    path = tmp_path / "text.zip"
    path.write_text("just text, not a zip")
    with pytest.raises(LayerInputError, match="^filename: .* is not a zip file"):
        check_local_zip(str(path))


def test_truncated_zip(tmp_path):
    path = make_zip(str(tmp_path / "whole.zip"), payload=os.urandom(4096))
    with open(path, "rb") as whole:
        data = whole.read()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(LayerInputError, match="^filename: .* is not a zip file \\(or is truncated\\)"):
        check_local_zip(str(truncated))


def test_over_the_direct_upload_limit_points_to_s3(tmp_path):
    path = tmp_path / "big.zip"
    with open(path, "wb") as big:
        big.truncate(DIRECT_UPLOAD_LIMIT + 1)  # sparse: no 50 MiB written to disk
    with pytest.raises(LayerInputError, match="^filename: .*over the 52428800 bytes.*add s3_bucket to stage it through S3"):
        check_local_zip(str(path))


def test_unreadable_file(tmp_path, monkeypatch):
    path = make_zip(str(tmp_path / "locked.zip"))

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    # Root reads any file whatever its mode, so the refusal is simulated at open().
    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(LayerInputError, match="^filename: cannot read .*Permission denied"):
        check_local_zip(path)


def test_source_code_hash_must_be_a_sha256():
    good = expected_hash(b"x")
    assert check_source_code_hash(good) == good
    for bad in ("", "not base64!", base64.b64encode(b"short").decode(), good[:-4]):
        with pytest.raises(LayerInputError, match="^source_code_hash: "):
            check_source_code_hash(bad)


@pytest.mark.parametrize(
    "head, expected",
    [
        ({}, None),
        ({"ChecksumSHA256": "abc=", "ChecksumType": "FULL_OBJECT"}, "abc="),
        ({"ChecksumSHA256": "abc="}, "abc="),
        ({"ChecksumSHA256": "abc=-3", "ChecksumType": "COMPOSITE"}, None),
        ({"ChecksumSHA256": "abc=-3"}, None),
        ({"ChecksumCRC32": "xyz", "ChecksumType": "FULL_OBJECT"}, None),
    ],
)
def test_full_object_checksum_only(head, expected):
    assert full_object_sha256(head) == expected


@mock_aws
def test_s3_object_is_hashed_by_streaming():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="layer-bucket")
    data = os.urandom(2 * _layer_hash.CHUNK_SIZE + 7)
    s3.put_object(Bucket="layer-bucket", Key="k.zip", Body=data)
    assert sha256_of_s3_object(s3, "layer-bucket", "k.zip") == expected_hash(data)
