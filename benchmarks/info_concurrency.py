# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lambda_layer_version_info's detail reads: concurrent pool vs sequential, side by side.

    .venv/bin/python benchmarks/info_concurrency.py [--versions 300] [--runs 5]

Starts its own local endpoint, publishes N versions of one layer, then reads every
version's full facts the way the module does (ListLayerVersions, then one
GetLayerVersion per version), alternating pool sizes run by run, and prints the
median wall time of each with the ratio. Run `make setup` first.
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.environ.get("CACHE") or os.path.join(ROOT, ".cache"), "collections"))

import boto3  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.layerwise.aws.plugins.module_utils._layer_info import LayerVersionReader  # noqa: E402  pylint: disable=wrong-import-position


def local_aws(action, state_dir):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "local_aws.py"), action, "--state-dir", state_dir], check=True, capture_output=True, text=True
    ).stdout.strip()


def zip_bytes(n):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/v.py", f"VERSION = {n}\n")
    return buffer.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pools", default="1,4,8,16")
    parser.add_argument(
        "--rtt-ms", type=float, default=0.0, help="add this much latency to every request, as a network round trip to a real region would"
    )
    args = parser.parse_args()
    pools = [int(size) for size in args.pools.split(",")]

    state_dir = tempfile.mkdtemp(prefix="layerwise-bench-")
    endpoint = local_aws("start", state_dir)
    try:
        client = boto3.client(
            "lambda", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        for n in range(args.versions):
            client.publish_layer_version(LayerName="bench", Content={"ZipFile": zip_bytes(n)})
        if args.rtt_ms:
            # Sleeping in the calling thread just before each request is sent stands for the
            # round trip: like real latency, it overlaps between threads.
            client.meta.events.register("before-send.lambda.*", lambda **_kwargs: time.sleep(args.rtt_ms / 1000.0))
        timings = {size: [] for size in pools}
        for _run in range(args.runs):
            for size in pools:
                started = time.perf_counter()
                items = LayerVersionReader(client, workers=size).versions("bench")
                timings[size].append(time.perf_counter() - started)
                assert len(items) == args.versions and all(item["code_sha256"] for item in items)
        sequential = statistics.median(timings[1]) if 1 in timings else None
        print(
            f"lambda_layer_version_info detail reads, {args.versions} versions, median of {args.runs} runs"
            f" (local moto endpoint, {args.rtt_ms:g} ms added per request)"
        )
        print(f"{'pool size':>10} | {'seconds':>8} | {'speed-up':>13}")
        print(f"{'-' * 10}-+-{'-' * 8}-+-{'-' * 13}")
        for size in pools:
            median = statistics.median(timings[size])
            ratio = f"{sequential / median:.2f}x" if sequential else "-"
            print(f"{size:>10} | {median:8.3f} | {ratio:>13}")
    finally:
        local_aws("stop", state_dir)


if __name__ == "__main__":
    main()
