# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The layer's package: where it comes from, its hash, and what a publish sends.

PRIVATE to the collection: not a public API, may change without notice.

One family of sources, one small interface:

- ``content_sha256(needed=True)``: the package's CodeSha256 (None only when not
  ``needed`` and it cannot be had without downloading);
- ``size``: the package's size in bytes;
- ``ensure_publishable()``: fail (naming the option) unless a publish can be made
  from it; called only when a publish is due;
- ``publish_content()``: the ``Content`` of PublishLayerVersion.

Hashes are what Lambda reports as CodeSha256: the base64-encoded SHA-256 of the
zip. They are computed in fixed-size chunks, so memory does not grow with the
size of the package.
"""

import base64
import binascii
import hashlib
import os
import stat
import zipfile

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import S3ObjectErrorHandler
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import head_s3_object
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import open_s3_object
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError

# PublishLayerVersion takes at most 50 MB of zip in the request itself; larger
# packages must come from S3.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def b64_digest(digest):
    return base64.b64encode(digest).decode("ascii")


def sha256_of_stream(readinto):
    """SHA-256 of everything ``readinto`` yields, reading into one reused buffer."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    while True:
        count = readinto(buffer)
        if not count:
            break
        digest.update(view[:count])
    return b64_digest(digest.digest())


def sha256_of_file(path):
    with open(path, "rb") as package:
        return sha256_of_stream(package.readinto)


def check_local_zip(path):
    """Fail with a message naming ``filename`` unless ``path`` is a usable zip.

    Returns the file's size in bytes. Nothing here touches AWS.
    """
    if not path:
        raise LayerInputError("filename: must not be empty")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise LayerInputError(f"filename: {path} does not exist (or is a broken symlink)")
    except OSError as e:
        raise LayerInputError(f"filename: cannot read {path}: {e.strerror}")
    except ValueError as e:  # an embedded NUL byte
        raise LayerInputError(f"filename: {path!r} is not a valid path: {e}")
    if stat.S_ISDIR(info.st_mode):
        raise LayerInputError(f"filename: {path} is a directory, not a zip file")
    if not stat.S_ISREG(info.st_mode):
        raise LayerInputError(f"filename: {path} is not a regular file")
    if info.st_size == 0:
        raise LayerInputError(f"filename: {path} is empty")
    if info.st_size > DIRECT_UPLOAD_LIMIT:
        raise LayerInputError(
            f"filename: {path} is {info.st_size} bytes, over the {DIRECT_UPLOAD_LIMIT} bytes (50 MiB) that Lambda accepts"
            " in a direct upload; upload it to S3 and use s3_bucket and s3_key instead"
        )
    try:
        with open(path, "rb") as package:
            magic = package.read(4)
            if magic not in _ZIP_MAGIC or not zipfile.is_zipfile(package):
                raise LayerInputError(f"filename: {path} is not a zip file (or is truncated)")
            _check_zip_structure(path, package)
    except OSError as e:
        raise LayerInputError(f"filename: cannot read {path}: {e.strerror}")
    return info.st_size


def _check_zip_structure(path, package):
    """The central directory must parse and point at real entries.

    Only the headers are read (no decompression), so this costs the same for a
    small zip as for a 50 MiB one; damage inside compressed data is left to AWS,
    which unpacks the package when publishing.
    """
    try:
        with zipfile.ZipFile(package) as archive:
            entries = archive.infolist()
            counted = _end_record_entry_count(package)
            if counted is not None and counted != len(entries):
                raise zipfile.BadZipFile(f"the end record counts {counted} entries, the central directory holds {len(entries)}")
            for entry in entries:
                package.seek(entry.header_offset)
                if package.read(4) != b"PK\x03\x04":
                    raise zipfile.BadZipFile(f"no local header for {entry.filename!r}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise LayerInputError(f"filename: {path} is a corrupt zip file: {e}")


def _end_record_entry_count(package):
    """The total number of entries the end-of-central-directory record states (None for ZIP64)."""
    package.seek(0, os.SEEK_END)
    size = package.tell()
    tail_size = min(size, 65535 + 22)  # the record is at most a 64 KiB comment away from the end
    package.seek(size - tail_size)
    tail = package.read(tail_size)
    start = tail.rfind(b"PK\x05\x06")
    if start < 0 or len(tail) < start + 12:
        return None
    count = int.from_bytes(tail[start + 10:start + 12], "little")
    return None if count == 0xFFFF else count


def read_local_zip(path):
    with open(path, "rb") as package:
        return package.read()


def check_source_code_hash(value):
    """``source_code_hash`` must look like a CodeSha256: base64 of 32 bytes."""
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise LayerInputError(
            f"source_code_hash: {value!r} is not a base64-encoded SHA-256 digest"
            " (44 characters, as Lambda reports CodeSha256; e.g. the output of"
            " 'openssl dgst -sha256 -binary FILE | base64')"
        )
    return value


def full_object_sha256(head):
    """The object's full-object SHA-256 from a HeadObject answer, or None.

    S3 returns ChecksumSHA256 only when the object was stored with a SHA-256
    checksum. A multipart upload's composite checksum ("<b64>-<parts>", type
    COMPOSITE) is a hash of hashes, not of the content, so it cannot be used.
    """
    checksum = head.get("ChecksumSHA256")
    if not checksum:
        return None
    checksum_type = head.get("ChecksumType")
    if checksum_type == "FULL_OBJECT" or (checksum_type is None and "-" not in checksum):
        return checksum
    return None


@S3ObjectErrorHandler.common_error_handler("hash the S3 object")
def sha256_of_s3_object(s3_client, bucket, key, version_id=None):
    """Stream the object through SHA-256 without keeping it in memory."""
    body = open_s3_object(s3_client, bucket, key, version_id)
    try:
        digest = hashlib.sha256()
        for chunk in body.iter_chunks(CHUNK_SIZE):
            digest.update(chunk)
        return b64_digest(digest.digest())
    finally:
        body.close()


class LocalZipSource:
    """A zip file on the host the module runs on, checked when created."""

    def __init__(self, path):
        self.path = path
        self.size = check_local_zip(path)

    def content_sha256(self, needed=True):
        return sha256_of_file(self.path)

    def ensure_publishable(self):
        """Checked when created."""

    def publish_content(self):
        return {"ZipFile": read_local_zip(self.path)}


class S3Source:
    """A zip in S3. HeadObject is made at most once; the object is read only when its hash is needed."""

    def __init__(self, s3_client, bucket, key, version_id=None):
        self.s3_client = s3_client
        self.bucket = bucket
        self.key = key
        self.version_id = version_id
        self._head = None

    @property
    def location(self):
        suffix = f" (version {self.version_id})" if self.version_id else ""
        return f"s3://{self.bucket}/{self.key}{suffix}"

    def _read_head(self):
        if self._head is None:
            head = head_s3_object(self.s3_client, self.bucket, self.key, self.version_id)
            if head is None:
                # AWS refuses to publish from a missing object; some endpoints (moto)
                # publish an empty package instead, so it is checked here for both.
                raise LayerInputError(f"s3_key: {self.location} does not exist or cannot be read")
            self._head = head
        return self._head

    @property
    def size(self):
        return self._read_head().get("ContentLength")

    def ensure_publishable(self):
        self._read_head()

    def content_sha256(self, needed=True):
        """S3's full-object SHA-256 when it has one, else a streamed hash (only if ``needed``)."""
        checksum = full_object_sha256(self._read_head())
        if checksum or not needed:
            return checksum
        return sha256_of_s3_object(self.s3_client, self.bucket, self.key, self.version_id)

    def publish_content(self):
        content = {"S3Bucket": self.bucket, "S3Key": self.key}
        if self.version_id:
            content["S3ObjectVersion"] = self.version_id
        return content
