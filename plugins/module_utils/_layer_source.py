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
- ``package_facts()``: the ``package`` facts of a local package, else None.

Hashes are what Lambda reports as CodeSha256 (``_layer_hash``).
"""

import base64
import binascii
import os
import stat
import zipfile

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import head_s3_object
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import full_object_sha256
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import sha256_of_file
from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import sha256_of_s3_object

# PublishLayerVersion takes at most 50 MB of zip in the request itself; larger
# packages must come from S3.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Lambda's limit on the unzipped size of a function and all its layers.
UNZIPPED_SIZE_LIMIT = 262144000

# The packager (_layer_package) and the staging code (_layer_staging) are imported where a
# source needs them, not here: a module's module_utils are compiled from source on every
# run (AnsiballZ imports them from a zip, without .pyc files), and the common case, a zip
# file sent in the request, needs neither (about 30 ms of CPU per run; docs/performance.md).


def shown_path(path):
    """A path fit for a message: bytes that are not UTF-8 become backslash escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def mib(size):
    """A size in bytes as MiB, for messages."""
    return f"{size / 1048576:g} MiB"


def zip_unzipped_size(path, max_unzipped_size=UNZIPPED_SIZE_LIMIT, option="filename"):
    """``(unzipped_size, files)`` of a zip from its central directory, nothing decompressed.

    ``files`` counts the entries that are not directories. Raises
    ``LayerInputError`` naming ``option`` when the zip cannot be read or
    unzips to more than ``max_unzipped_size`` bytes. The sizes are those the
    zip declares; Lambda checks what it really unpacks.
    """
    shown = shown_path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except OSError as e:
        raise LayerInputError(f"{option}: cannot read {shown}: {e.strerror}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise LayerInputError(f"{option}: {shown} is not a readable zip file: {e}")
    unzipped_size = sum(entry.file_size for entry in entries)
    files = sum(1 for entry in entries if not entry.is_dir())
    if unzipped_size > max_unzipped_size:
        raise LayerInputError(
            f"{option}: {shown} unzips to {unzipped_size} bytes, over the {max_unzipped_size} bytes ({mib(max_unzipped_size)})"
            " Lambda accepts unzipped for a function and its layers"
        )
    return unzipped_size, files


def check_local_zip(path, direct=True):
    """Fail with a message naming ``filename`` unless ``path`` is a usable zip.

    ``direct``: it is to be published in the request itself (at most 50 MiB).

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
    if direct and info.st_size > DIRECT_UPLOAD_LIMIT:
        raise LayerInputError(
            f"filename: {path} is {info.st_size} bytes, over the {DIRECT_UPLOAD_LIMIT} bytes (50 MiB) that Lambda accepts"
            " in a direct upload; add s3_bucket to stage it through S3"
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


def _staging():
    """The staging code (_layer_staging), imported on first use (see above)."""
    from ansible_collections.layerwise.aws.plugins.module_utils import _layer_staging

    return _layer_staging


class LocalZipSource:
    """A zip file on the host the module runs on, checked when created (before any AWS call).

    ``direct``: published in the request itself, so at most DIRECT_UPLOAD_LIMIT;
    a staged zip (see StagedSource) has no such limit. Either way its unzipped
    size must fit Lambda's limit, read from the zip's central directory.
    """

    option = "filename"

    def __init__(self, path, direct=True):
        self.path = path
        self.size = check_local_zip(path, direct=direct)
        self.unzipped_size, self.files = zip_unzipped_size(path, option="filename")
        self._sha256 = None

    def content_sha256(self, needed=True):
        if self._sha256 is None:
            self._sha256 = sha256_of_file(self.path)
        return self._sha256

    def ensure_publishable(self, check_mode=False, progress=None):
        """Checked when created."""

    def publish_content(self):
        return {"ZipFile": read_local_zip(self.path)}

    def package_facts(self):
        return {"sha256": self.content_sha256(), "size": self.size, "unzipped_size": self.unzipped_size, "files": self.files}


class DirectorySource(LocalZipSource):
    """A directory, packaged reproducibly into ``workdir`` when created (before any AWS call)."""

    option = "source_dir"

    def __init__(self, source_dir, excludes, workdir, direct=True):  # pylint: disable=super-init-not-called
        from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import build_package

        info = build_package(source_dir, excludes, os.path.join(workdir, "package.zip"))
        if direct and info.size > DIRECT_UPLOAD_LIMIT:
            raise LayerInputError(
                f"source_dir: the package of {source_dir} is {info.size} bytes, over the {DIRECT_UPLOAD_LIMIT} bytes (50 MiB) that"
                " Lambda accepts in a direct upload; add s3_bucket to stage it through S3"
            )
        self.path = info.path
        self.size = info.size
        self.unzipped_size = info.unzipped_size
        self.files = info.files
        self._sha256 = info.sha256


class StagedSource:
    """A local package (a zip file or a packaged directory) staged through S3 when a publish is due.

    The object is ``key``, by default ``layerwise/<layer_name>/<sha256-hex>.zip``;
    it is uploaded only when it does not already hold the package's bytes, and
    never in check mode. The publish then reads it from S3, pinned to the
    version the upload made (on a versioned bucket).
    """

    def __init__(self, local, s3_client, bucket, key=None, storage_mode=None, layer_name=None):
        self.local = local
        self.option = local.option
        self.s3_client = s3_client
        self.bucket = bucket
        self.key = key or _staging().default_staging_key(layer_name, _staging().sha256_hex(local.content_sha256()))
        self.storage_mode = storage_mode
        self.size = local.size
        self.staged = None

    def content_sha256(self, needed=True):
        return self.local.content_sha256()

    def ensure_publishable(self, check_mode=False, progress=None):
        self.staged = _staging().stage_package(
            self.s3_client, self.bucket, self.key, self.local.path, self.local.content_sha256(), self.local.size,
            check_mode=check_mode, storage_mode=self.storage_mode,
        )
        if self.staged.uploaded and not check_mode and progress is not None:
            progress.wrote(f"uploaded the package to s3://{self.bucket}/{self.key}", package=self.package_facts())

    def publish_content(self):
        return _staging().publish_content(self.bucket, self.key, self.staged.version_id, self.storage_mode)

    def package_facts(self):
        version_id = self.staged.version_id if self.staged is not None else None
        return dict(self.local.package_facts(), s3_bucket=self.bucket, s3_key=self.key, s3_object_version=version_id)


class S3Source:
    """A zip in S3. HeadObject is made at most once; the object is read only when its hash is needed."""

    option = "s3_key"

    def __init__(self, s3_client, bucket, key, version_id=None, storage_mode=None):
        self.s3_client = s3_client
        self.bucket = bucket
        self.key = key
        self.version_id = version_id
        self.storage_mode = storage_mode
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
                _staging().check_bucket(self.s3_client, self.bucket)  # a missing bucket is named as such
                raise LayerInputError(f"s3_key: {self.location} does not exist or cannot be read")
            self._head = head
        return self._head

    @property
    def size(self):
        return self._read_head().get("ContentLength")

    def ensure_publishable(self, check_mode=False, progress=None):
        if self.storage_mode == _staging().REFERENCE:
            _staging().check_reference_bucket(self.s3_client, self.bucket)
        self._read_head()

    def content_sha256(self, needed=True):
        """S3's full-object SHA-256 when it has one, else a streamed hash (only if ``needed``)."""
        checksum = full_object_sha256(self._read_head())
        if checksum or not needed:
            return checksum
        return sha256_of_s3_object(self.s3_client, self.bucket, self.key, self.version_id)

    def publish_content(self):
        if not self.storage_mode:
            content = {"S3Bucket": self.bucket, "S3Key": self.key}
            if self.version_id:
                content["S3ObjectVersion"] = self.version_id
            return content
        # With a storage mode, the object version read is pinned: REFERENCE keeps referring to it.
        version_id = self.version_id or _staging()._pinnable_version(self._read_head().get("VersionId"))
        return _staging().publish_content(self.bucket, self.key, version_id, self.storage_mode)

    @staticmethod
    def package_facts():
        return None
