#!/usr/bin/env python
# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run-time fixtures of the lambda_layer_version_info integration target.

    info_fixtures.py zips DIR NAME...             one small zip per NAME, as JSON
    info_fixtures.py publish-many LAYER COUNT     publish COUNT versions, each with other content

Nothing is committed: every package is made here. AWS is reached with the
credentials, region and endpoint in the environment (AWS_ACCESS_KEY_ID,
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


def zip_bytes(marker):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # A fixed date keeps a package's hash the same from run to run.
        entry = zipfile.ZipInfo("python/layer_marker.py", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(entry, f"MARKER = {marker!r}\n")
    return buffer.getvalue()


def b64_sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def make_zips(directory, names):
    os.makedirs(directory, exist_ok=True)
    result = {}
    for name in names:
        data = zip_bytes(name)
        path = os.path.join(directory, f"{name}.zip")
        with open(path, "wb") as package:
            package.write(data)
        result[name] = {"path": path, "sha256": b64_sha256(data), "size": len(data)}
    return result


def publish_many(layer, count):
    import boto3  # pylint: disable=import-outside-toplevel

    client = boto3.client("lambda", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    published = []
    for number in range(count):
        data = zip_bytes(f"{layer}-{number}")
        response = client.publish_layer_version(
            LayerName=layer,
            Description=f"Package {number}",
            Content={"ZipFile": data},
            CompatibleRuntimes=["python3.12"],
        )
        published.append(
            {
                "version": response["Version"],
                "arn": response["LayerVersionArn"],
                "code_sha256": response["Content"]["CodeSha256"],
                "sha256": b64_sha256(data),
            }
        )
    return published


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    zips = commands.add_parser("zips")
    zips.add_argument("directory")
    zips.add_argument("names", nargs="+")
    many = commands.add_parser("publish-many")
    many.add_argument("layer")
    many.add_argument("count", type=int)
    args = parser.parse_args()

    if args.command == "zips":
        result = make_zips(args.directory, args.names)
    else:
        result = publish_many(args.layer, args.count)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
