#!/usr/bin/env python
# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run-time fixtures of the integration targets (set up by setup_layer_fixtures).

    layer_fixtures.py files DIR                      zips and bad packages, as JSON
    layer_fixtures.py zips DIR NAME...               one small zip per NAME, as JSON
    layer_fixtures.py publish-many LAYER COUNT       publish COUNT versions, each with other content
    layer_fixtures.py s3-put BUCKET KEY FILE [--sha256]   upload, print HeadObject's checksum
    layer_fixtures.py cleanup PREFIX [BUCKET...]     delete every layer named PREFIX* and the buckets
    layer_fixtures.py policy LAYER VERSION           the version's policy statements, by Sid (JSON; {} when none)
    layer_fixtures.py function NAME ROLE LAYER_VERSION_ARN... [--publish]
                                                     create a function using these layer versions (and the IAM
                                                     role ROLE it runs as, if missing); --publish a version of it
    layer_fixtures.py function-layers NAME LAYER_VERSION_ARN...   change the layers of the function's $LATEST
    layer_fixtures.py cleanup-functions PREFIX       delete every function and IAM role named PREFIX*
    layer_fixtures.py trees DIR                      two copies of one source tree that differ in all but content
    layer_fixtures.py big DIR                        a zip and a source tree of 51 MiB of random bytes
    layer_fixtures.py huge DIR                       a zip and a source tree that unzip to more than 250 MiB
    layer_fixtures.py bucket BUCKET [--versioned]    create the bucket (if needed), optionally versioned
    layer_fixtures.py s3-objects BUCKET              every version of every object, with its SHA-256

Nothing is committed: every package is made here, in DIR. AWS is reached with
the credentials, region and endpoint in the environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL),
so they appear neither in argv nor in the task's log.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import sys
import time
import zipfile

# Just over the 50 MiB PublishLayerVersion accepts in the request itself.
OVERSIZE = 50 * 1024 * 1024 + 4096
# Random, so deflate cannot bring the zip back under 50 MiB.
BIG = 51 * 1024 * 1024
# Just over the 250 MiB Lambda accepts unzipped (262144000 bytes).
HUGE = 251 * 1024 * 1024
MiB = 1024 * 1024


def b64_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as package:
        for chunk in iter(lambda: package.read(1024 * 1024), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


def describe(path):
    return {"path": path, "sha256": b64_sha256(path), "size": os.path.getsize(path)}


def zip_bytes(marker):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # A fixed date keeps a package's hash the same from run to run.
        entry = zipfile.ZipInfo("python/layer_marker.py", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(entry, f"MARKER = {marker!r}\n")
    return buffer.getvalue()


def write_zip(path, marker):
    with open(path, "wb") as package:
        package.write(zip_bytes(marker))
    return describe(path)


def make_zips(directory, names):
    os.makedirs(directory, exist_ok=True)
    return {name: write_zip(os.path.join(directory, f"{name}.zip"), name) for name in names}


def publish_many(layer, count):
    """Publish COUNT versions of LAYER, each with other content, straight through boto3."""
    lambda_client = client("lambda")
    published = []
    for number in range(count):
        data = zip_bytes(f"{layer}-{number}")
        response = lambda_client.publish_layer_version(
            LayerName=layer, Description=f"Package {number}", Content={"ZipFile": data}, CompatibleRuntimes=["python3.12"]
        )
        published.append(
            {
                "version": response["Version"],
                "arn": response["LayerVersionArn"],
                "code_sha256": response["Content"]["CodeSha256"],
                "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"),
            }
        )
    return published


def write_oversize_zip(path):
    """A valid zip just over the direct-upload limit, stored (not compressed), written in chunks."""
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        with archive.open(zipfile.ZipInfo("python/padding.bin", date_time=(2024, 1, 1, 0, 0, 0)), "w", force_zip64=True) as entry:
            remaining = OVERSIZE
            while remaining > 0:
                entry.write(chunk[: min(len(chunk), remaining)])
                remaining -= len(chunk)
    return describe(path)


def make_files(directory):
    os.makedirs(directory, exist_ok=True)
    files = {name: write_zip(os.path.join(directory, f"{name}.zip"), name) for name in ("a", "b", "c")}

    not_zip = os.path.join(directory, "not_a_zip.zip")
    with open(not_zip, "w", encoding="ascii") as text:
        text.write("This is plain text, not a zip archive.\n")

    truncated = os.path.join(directory, "truncated.zip")
    with open(files["a"]["path"], "rb") as source:
        whole = source.read()
    with open(truncated, "wb") as target:
        # Keeps the local header magic, loses the central directory.
        target.write(whole[: len(whole) // 2])

    empty = os.path.join(directory, "empty.zip")
    open(empty, "wb").close()  # pylint: disable=consider-using-with

    a_directory = os.path.join(directory, "a_directory.zip")
    os.makedirs(a_directory, exist_ok=True)

    files.update(
        not_zip={"path": not_zip},
        truncated={"path": truncated},
        empty={"path": empty},
        directory={"path": a_directory},
        missing={"path": os.path.join(directory, "does_not_exist.zip")},
        oversize=write_oversize_zip(os.path.join(directory, "oversize.zip")),
    )
    return files


# --- source trees ---------------------------------------------------------------------------


def pseudo_random(size, seed):
    """The same incompressible bytes on every run (a SHA-256 chain), so a package's hash is stable."""
    blocks = []
    block = seed.encode()
    while sum(len(b) for b in blocks) < size:
        block = hashlib.sha256(block).digest()
        blocks.append(block)
    return b"".join(blocks)[:size]


# (path relative to the tree, content, executable)
TREE_FILES = (
    ("bin/layer-tool", b"#!/bin/sh\necho 'layer tool'\n", True),
    ("lib/libdata.bin", pseudo_random(40 * 1024, "libdata"), False),
    ("python/layer_pkg/__init__.py", b"from .core import greet\n", False),
    ("python/layer_pkg/core.py", b"def greet(name):\n    return 'hello, ' + name\n", False),
    ("python/layer_pkg/data/config.json", b'{"level": 1}\n', False),
    ("python/layer_pkg/empty.txt", b"", False),
    ("python/layer_pkg/\u00fcnic\u00f6de_\u540d\u524d.txt", "non-ASCII name \u00e9\n".encode(), False),
)


def write_tree(root, order, modes, mtime_of, owner=None):
    """Write TREE_FILES under root in the given order, with the given modes and modification times."""
    for index in order:
        relative, content, executable = TREE_FILES[index]
        path = os.path.join(root, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as target:
            target.write(content)
        os.chmod(path, modes[index][1] if executable else modes[index][0])
        os.utime(path, (mtime_of(index), mtime_of(index)))
        if owner is not None:
            os.chown(path, *owner)
    for directory, _subdirs, _files in os.walk(root):
        os.utime(directory, (mtime_of(0) + 7, mtime_of(0) + 7))
        if owner is not None:
            os.chown(directory, *owner)


def make_trees(directory):
    """Two copies of one tree: same paths, bytes and executable bits, everything else different.

    original (DIR/original): files created in path order, modes 0644/0755, modification times
    in 2001; duplicate (DIR/copy): created in the reverse order (so a directory may list them
    otherwise), modes 0600/0640/0664 and 0700/0711/0775, times of today minus a few hours, and
    (when run as root) owned by nobody (65534).
    """
    original = os.path.join(directory, "original")
    copy = os.path.join(directory, "copy")
    count = len(TREE_FILES)
    write_tree(original, range(count), [(0o644, 0o755)] * count, lambda index: 1000000000 + index)
    copy_modes = [((0o600, 0o700), (0o664, 0o775), (0o640, 0o711))[index % 3] for index in range(count)]
    now = int(time.time())
    owner = (65534, 65534) if os.geteuid() == 0 else None
    write_tree(copy, reversed(range(count)), copy_modes, lambda index: now - 3600 * (index + 1), owner)
    os.chmod(os.path.join(copy, "python"), 0o700)
    return {
        "original": original,
        "duplicate": copy,
        "files": count,
        "unzipped_size": sum(len(content) for _path, content, _executable in TREE_FILES),
        "owners_differ": owner is not None,
    }


def write_random(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as target:
        remaining = size
        while remaining > 0:
            target.write(os.urandom(min(MiB, remaining)))
            remaining -= MiB


def make_big(directory):
    """A zip (stored) and a source tree, each of 51 MiB of random bytes: over the direct-upload limit."""
    tree = os.path.join(directory, "big-tree")
    blob = os.path.join(tree, "python", "blob.bin")
    write_random(blob, BIG)
    path = os.path.join(directory, "big.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.write(blob, "python/blob.bin")
    return {"zip": describe(path), "tree": tree, "unzipped_size": BIG}


def make_huge(directory):
    """Packages that unzip to more than 250 MiB, made cheaply.

    The zip holds 251 MiB of zeros, deflated (a few hundred KiB on disk); the tree holds one
    sparse file of 251 MiB (no disk blocks), which the module refuses from its size alone.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "huge.zip")
    zeros = b"\0" * MiB
    entry_info = zipfile.ZipInfo("python/zeros.bin", date_time=(2024, 1, 1, 0, 0, 0))
    entry_info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open(entry_info, "w") as entry:
            for _chunk in range(HUGE // MiB):
                entry.write(zeros)
    tree = os.path.join(directory, "huge-tree")
    os.makedirs(os.path.join(tree, "python"), exist_ok=True)
    with open(os.path.join(tree, "python", "sparse.bin"), "wb") as sparse:
        sparse.truncate(HUGE)
    return {"zip": describe(path), "tree": tree, "unzipped_size": HUGE}


def known_runtimes():
    import botocore.session  # pylint: disable=import-outside-toplevel

    model = botocore.session.get_session().get_service_model("lambda")
    return list(model.shape_for("Runtime").enum)


def client(service):
    import boto3  # pylint: disable=import-outside-toplevel

    return boto3.client(service, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))


def ensure_bucket(s3, bucket):
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        region = s3.meta.region_name
        request = {"Bucket": bucket}
        if region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**request)


def make_bucket(bucket, versioned):
    s3 = client("s3")
    ensure_bucket(s3, bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return {"bucket": bucket, "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status")}


def s3_objects(bucket):
    """Every version of every object (newest first per key), read back and hashed here.

    ``versions``: {KEY: [{version_id, is_latest, size, checksum_sha256, checksum_type,
    metadata, sha256, sha256_hex}, ...]}. ``sha256`` (base64) and ``sha256_hex`` are of the
    bytes read back, computed here, not what S3 or the module says.
    """
    s3 = client("s3")
    versions = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in page.get("Versions", []):
            request = {"Bucket": bucket, "Key": item["Key"]}
            if item["VersionId"] != "null":  # an unversioned bucket's only version (moto refuses "null" as a VersionId)
                request["VersionId"] = item["VersionId"]
            head = s3.head_object(ChecksumMode="ENABLED", **request)
            digest = hashlib.sha256()
            body = s3.get_object(**request)["Body"]
            for chunk in body.iter_chunks(MiB):
                digest.update(chunk)
            versions.setdefault(item["Key"], []).append(
                {
                    "version_id": item["VersionId"],
                    "is_latest": item["IsLatest"],
                    "size": item["Size"],
                    "checksum_sha256": head.get("ChecksumSHA256"),
                    "checksum_type": head.get("ChecksumType"),
                    "metadata": head.get("Metadata", {}),
                    "sha256": base64.b64encode(digest.digest()).decode("ascii"),
                    "sha256_hex": digest.hexdigest(),
                }
            )
    # ListObjectVersions gives each key's versions newest first (S3 documents it; moto does it).
    return {"bucket": bucket, "object_keys": sorted(versions), "versions": versions}


def s3_put(bucket, key, path, sha256):
    s3 = client("s3")
    ensure_bucket(s3, bucket)
    with open(path, "rb") as package:
        body = package.read()
    request = {"Bucket": bucket, "Key": key, "Body": body}
    if sha256:
        request["ChecksumAlgorithm"] = "SHA256"
    s3.put_object(**request)
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    return {"bucket": bucket, "key": key, "checksum_sha256": head.get("ChecksumSHA256")}


def cleanup(prefix, buckets):
    lambda_client = client("lambda")
    deleted = []
    for page in lambda_client.get_paginator("list_layers").paginate():
        for layer in page.get("Layers", []):
            name = layer["LayerName"]
            if not name.startswith(prefix):
                continue
            for versions in lambda_client.get_paginator("list_layer_versions").paginate(LayerName=name):
                for version in versions.get("LayerVersions", []):
                    lambda_client.delete_layer_version(LayerName=name, VersionNumber=version["Version"])
                    deleted.append(version["LayerVersionArn"])
    for bucket in buckets:
        delete_bucket(client("s3"), bucket)
    return {"deleted_layer_versions": deleted}


LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
# Bounded waits (seconds) for a new role to be usable and for a function to settle; moto needs none.
ROLE_PROPAGATION = 60
FUNCTION_WAIT = {"Delay": 2, "MaxAttempts": 60}


def ensure_role(role_name):
    """The ARN of the IAM role ROLE_NAME that Lambda may assume, created if missing (no permissions attached)."""
    iam = client("iam")
    try:
        return iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY))["Role"]["Arn"]


def create_function(name, role_name, layers, publish):
    """A Python function using LAYERS (layer version ARNs); with PUBLISH, a published version of it too."""
    import time  # pylint: disable=import-outside-toplevel

    lambda_client = client("lambda")
    role_arn = ensure_role(role_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("handler.py", date_time=(2024, 1, 1, 0, 0, 0)), "def handler(event, context):\n    return event\n")
    request = {
        "FunctionName": name, "Runtime": "python3.12", "Role": role_arn, "Handler": "handler.handler",
        "Code": {"ZipFile": buffer.getvalue()}, "Layers": list(layers),
    }
    deadline = time.monotonic() + ROLE_PROPAGATION
    while True:
        try:
            created = lambda_client.create_function(**request)
            break
        except lambda_client.exceptions.InvalidParameterValueException as e:
            # On AWS a new role takes some seconds before Lambda may assume it.
            if "cannot be assumed" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(3)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FUNCTION_WAIT)
    version = lambda_client.publish_version(FunctionName=name)["Version"] if publish else None
    return {"function_arn": created["FunctionArn"], "published_version": version}


def set_function_layers(name, layers):
    lambda_client = client("lambda")
    lambda_client.update_function_configuration(FunctionName=name, Layers=list(layers))
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FUNCTION_WAIT)
    return {"layers": [layer["Arn"] for layer in lambda_client.get_function_configuration(FunctionName=name).get("Layers", [])]}


def cleanup_functions(prefix):
    lambda_client = client("lambda")
    deleted = []
    for page in lambda_client.get_paginator("list_functions").paginate():
        for function in page.get("Functions", []):
            if function["FunctionName"].startswith(prefix):
                lambda_client.delete_function(FunctionName=function["FunctionName"])
                deleted.append(function["FunctionName"])
    iam = client("iam")
    roles = []
    for page in iam.get_paginator("list_roles").paginate():
        for role in page.get("Roles", []):
            if role["RoleName"].startswith(prefix):
                iam.delete_role(RoleName=role["RoleName"])
                roles.append(role["RoleName"])
    return {"deleted_functions": deleted, "deleted_roles": roles}


def delete_bucket(s3, bucket):
    """Delete the bucket with every object version, delete marker and unfinished multipart upload in it."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        pass
    except s3.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("NoSuchBucket", "404"):
            raise


def policy(layer, version):
    lambda_client = client("lambda")
    try:
        response = lambda_client.get_layer_version_policy(LayerName=layer, VersionNumber=int(version))
    except lambda_client.exceptions.ResourceNotFoundException:
        return {"statements": {}}
    statements = json.loads(response["Policy"]).get("Statement", [])
    return {"statements": {statement["Sid"]: statement for statement in statements}}


def drop_empty_environment():
    """An unset value reaches here as an empty string; boto3 must not see it."""
    for name in ("AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        if not os.environ.get(name):
            os.environ.pop(name, None)


def main():
    drop_empty_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    files = commands.add_parser("files")
    files.add_argument("directory")
    put = commands.add_parser("s3-put")
    put.add_argument("bucket")
    put.add_argument("key")
    put.add_argument("path")
    put.add_argument("--sha256", action="store_true", help="store the object with a SHA-256 checksum")
    zips = commands.add_parser("zips")
    zips.add_argument("directory")
    zips.add_argument("names", nargs="+")
    many = commands.add_parser("publish-many")
    many.add_argument("layer")
    many.add_argument("count", type=int)
    read_policy = commands.add_parser("policy")
    read_policy.add_argument("layer")
    read_policy.add_argument("version")
    function = commands.add_parser("function")
    function.add_argument("name")
    function.add_argument("role")
    function.add_argument("layers", nargs="+")
    function.add_argument("--publish", action="store_true", help="publish a version of the function too")
    function_layers = commands.add_parser("function-layers")
    function_layers.add_argument("name")
    function_layers.add_argument("layers", nargs="+")
    clean_functions = commands.add_parser("cleanup-functions")
    clean_functions.add_argument("prefix")
    clean = commands.add_parser("cleanup")
    clean.add_argument("prefix")
    clean.add_argument("buckets", nargs="*")
    for name in ("trees", "big", "huge"):
        commands.add_parser(name).add_argument("directory")
    bucket = commands.add_parser("bucket")
    bucket.add_argument("bucket")
    bucket.add_argument("--versioned", action="store_true", help="enable versioning")
    objects = commands.add_parser("s3-objects")
    objects.add_argument("bucket")
    args = parser.parse_args()

    if args.command == "files":
        result = {"files": make_files(args.directory), "known_runtimes": known_runtimes()}
    elif args.command == "s3-put":
        result = s3_put(args.bucket, args.key, args.path, args.sha256)
    elif args.command == "zips":
        result = make_zips(args.directory, args.names)
    elif args.command == "publish-many":
        result = publish_many(args.layer, args.count)
    elif args.command == "policy":
        result = policy(args.layer, args.version)
    elif args.command == "function":
        result = create_function(args.name, args.role, args.layers, args.publish)
    elif args.command == "function-layers":
        result = set_function_layers(args.name, args.layers)
    elif args.command == "cleanup-functions":
        result = cleanup_functions(args.prefix)
    elif args.command == "trees":
        result = make_trees(args.directory)
    elif args.command == "big":
        result = make_big(args.directory)
    elif args.command == "huge":
        result = make_huge(args.directory)
    elif args.command == "bucket":
        result = make_bucket(args.bucket, args.versioned)
    elif args.command == "s3-objects":
        result = s3_objects(args.bucket)
    else:
        result = cleanup(args.prefix, args.buckets)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
