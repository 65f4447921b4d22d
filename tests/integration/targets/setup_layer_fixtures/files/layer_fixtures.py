#!/usr/bin/env python
# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run-time fixtures of the integration targets (set up by setup_layer_fixtures).

    layer_fixtures.py files DIR                      zips and bad packages, as JSON
    layer_fixtures.py zips DIR NAME...               one small zip per NAME, as JSON
    layer_fixtures.py publish-many LAYER COUNT       publish COUNT versions, each with other content
    layer_fixtures.py s3-put BUCKET KEY FILE [--sha256]   upload, print HeadObject's checksum
    layer_fixtures.py cleanup PREFIX [BUCKET]        delete every layer named PREFIX* and the bucket
    layer_fixtures.py policy LAYER VERSION           the version's policy statements, by Sid (JSON; {} when none)
    layer_fixtures.py function NAME ROLE LAYER_VERSION_ARN... [--publish]
                                                     create a function using these layer versions (and the IAM
                                                     role ROLE it runs as, if missing); --publish a version of it
    layer_fixtures.py function-layers NAME LAYER_VERSION_ARN...   change the layers of the function's $LATEST
    layer_fixtures.py cleanup-functions PREFIX       delete every function and IAM role named PREFIX*

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
import zipfile

# Just over the 50 MiB PublishLayerVersion accepts in the request itself.
OVERSIZE = 50 * 1024 * 1024 + 4096


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


def known_runtimes():
    import botocore.session  # pylint: disable=import-outside-toplevel

    model = botocore.session.get_session().get_service_model("lambda")
    return list(model.shape_for("Runtime").enum)


def client(service):
    import boto3  # pylint: disable=import-outside-toplevel

    return boto3.client(service, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))


def s3_put(bucket, key, path, sha256):
    s3 = client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        region = s3.meta.region_name
        request = {"Bucket": bucket}
        if region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**request)
    with open(path, "rb") as package:
        body = package.read()
    request = {"Bucket": bucket, "Key": key, "Body": body}
    if sha256:
        request["ChecksumAlgorithm"] = "SHA256"
    s3.put_object(**request)
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    return {"bucket": bucket, "key": key, "checksum_sha256": head.get("ChecksumSHA256")}


def cleanup(prefix, bucket):
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
    if bucket:
        s3 = client("s3")
        try:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
            s3.delete_bucket(Bucket=bucket)
        except s3.exceptions.NoSuchBucket:
            pass
        except s3.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") not in ("NoSuchBucket", "404"):
                raise
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
    clean.add_argument("bucket", nargs="?")
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
    else:
        result = cleanup(args.prefix, args.bucket)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
