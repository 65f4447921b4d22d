# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Hashes of a package as Lambda reports them (CodeSha256), in bounded memory.

PRIVATE to the collection: not a public API, may change without notice.

CodeSha256 is the base64-encoded SHA-256 of the zip. Files and S3 objects are
hashed in fixed-size chunks, so memory does not grow with the package. Shared
by the package sources (``_layer_source``) and S3 staging (``_layer_staging``).
"""

import base64
import hashlib

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import S3ObjectErrorHandler
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import open_s3_object

CHUNK_SIZE = 1024 * 1024


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
