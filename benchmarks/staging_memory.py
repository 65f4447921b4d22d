# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Peak memory of staging a large package through S3, against a baseline.

    .venv/bin/python benchmarks/staging_memory.py [--size-mb 200] [--budget-mib 64]

Starts its own local endpoint (scripts/local_aws.py), writes a zip of SIZE MB of
random bytes, and runs each case in a child process of its own, whose peak RSS
(getrusage RUSAGE_CHILDREN, read by a wrapper process around that one child)
is reported:

  baseline   imports boto3 and the collection's module_utils, makes the S3 client
  stage      hashes the package (streamed) and stages it: a multipart upload
  re-stage   the same again: the object already holds the bytes, recognised by
             its composite SHA-256 (one more streamed pass over the file)
  control    put_object of the whole file read into memory: what not streaming
             costs, to show the measurement would catch it

The staged cases must stay within baseline + BUDGET MiB; the exit status says
whether they did. Run `make setup` (or scripts/setup-env.sh) first.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(os.environ.get("CACHE") or os.path.join(ROOT, ".cache"), "collections")
BUCKET = "staging-memory"
KEY = "layerwise/bench/package.zip"
CASES = ("baseline", "stage", "re-stage", "control")


def local_aws(action, state_dir):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "local_aws.py"), action, "--state-dir", state_dir], check=True, capture_output=True, text=True
    ).stdout.strip()


def write_package(path, size):
    """A stored (uncompressed) zip of ``size`` random bytes, written in 1 MiB chunks."""
    chunk = 1024 * 1024
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        with archive.open("python/blob.bin", "w", force_zip64=True) as entry:
            written = 0
            while written < size:
                count = min(chunk, size - written)
                entry.write(os.urandom(count))
                written += count


def child(case, endpoint, path):
    """One case, in its own process; prints the seconds it took."""
    sys.path.insert(0, COLLECTIONS)
    import boto3  # pylint: disable=import-outside-toplevel

    from ansible_collections.layerwise.aws.plugins.module_utils import _layer_staging  # pylint: disable=import-outside-toplevel
    from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import client_config  # pylint: disable=import-outside-toplevel
    from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import sha256_of_file  # pylint: disable=import-outside-toplevel

    client = boto3.client(
        "s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", config=client_config()
    )
    started = time.monotonic()
    if case in ("stage", "re-stage"):
        staged = _layer_staging.stage_package(client, BUCKET, KEY, path, sha256_of_file(path), os.path.getsize(path))
        if staged.uploaded != (case == "stage"):
            raise SystemExit(f"{case}: expected uploaded={case == 'stage'}, got {staged.uploaded}")
    elif case == "control":
        with open(path, "rb") as package:
            client.put_object(Bucket=BUCKET, Key="control.zip", Body=package.read())
    print(f"{time.monotonic() - started:.1f}")


def measure(command):
    """Run ``command`` as this process's only child: (its peak RSS in KiB, its output)."""
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, completed.stdout.strip()


def main():
    if sys.argv[1:2] == ["--measure"]:
        peak, output = measure(sys.argv[2:])
        print(peak, output)
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--budget-mib", type=int, default=64)
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.endpoint, args.path)
        return 0

    workdir = tempfile.mkdtemp(prefix="layerwise-staging-bench-")
    state_dir = os.path.join(workdir, "local-aws")
    path = os.path.join(workdir, "package.zip")
    write_package(path, args.size_mb * 1000 * 1000)
    endpoint = local_aws("start", state_dir)
    try:
        import boto3  # pylint: disable=import-outside-toplevel

        boto3.client(
            "s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing"
        ).create_bucket(Bucket=BUCKET)
        results = {}
        for case in CASES:
            wrapper = [sys.executable, __file__, "--measure", sys.executable, __file__, "--child", case, "--endpoint", endpoint, "--path", path]
            peak, seconds = subprocess.run(wrapper, check=True, capture_output=True, text=True).stdout.split()
            results[case] = (int(peak), float(seconds))
    finally:
        local_aws("stop", state_dir)
        os.remove(path)

    baseline = results["baseline"][0]
    budget = args.budget_mib * 1024
    print(f"Package: {os.path.basename(path)}, {args.size_mb} MB of random bytes in a stored zip; budget: baseline + {args.budget_mib} MiB\n")
    print("| case | peak RSS (MiB) | over baseline (MiB) | seconds | within budget |")
    print("|---|---:|---:|---:|---|")
    failed = False
    for case in CASES:
        peak, seconds = results[case]
        over = peak - baseline
        verdict = ""
        if case in ("stage", "re-stage"):
            verdict = "yes" if over <= budget else "NO"
            failed = failed or over > budget
        elif case == "control":
            verdict = "(not streamed, for comparison)"
        print(f"| {case} | {peak / 1024:.1f} | {over / 1024:+.1f} | {seconds:.1f} | {verdict} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
