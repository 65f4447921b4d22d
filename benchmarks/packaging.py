# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Packaging a source directory: build_package against zip and Terraform's archive_file.

    bash scripts/setup-env.sh && python3 benchmarks/packaging.py [--rounds 3] [--files 5000] [--mb 100] [--random-share 0.5]

Generates a tree in a temporary directory (by default 5,000 files, 100 MB: half
the files Python source text from the standard library, half random bytes,
sizes from a few bytes to a few MiB, in nested directories), then measures,
round by round in a rotated order:

- ours: ``build_package`` in a fresh Python process (as a module would run it),
  with the default worker count (the machine's cores) and with one worker;
- ``zip -qrX`` (Info-ZIP, level 6, one thread);
- Python's ``zipfile`` (ZIP_DEFLATED level 6, one thread): what a simple module does;
- Terraform's ``archive_file`` data source, when the hashicorp/archive provider is in
  the offline mirror (/opt/tf-plugins); otherwise the row says it was not measured.

Wall time, CPU time (user + system, from wait4) and peak RSS (through a small
launcher, whose own ~10 MiB is the floor) of each command;
medians over the rounds and ratios of per-round times. Then the phases of an
unchanged run in this process: the walk alone, the whole build, and hashing a
finished zip. Every round checks that our zip bytes are the same as in round
one. Not a test: nothing here asserts a time. Removes its temporary directory.
"""

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import threading
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("CACHE") or os.path.join(ROOT, ".cache")
COLLECTIONS = os.path.join(CACHE, "collections")
sys.path.insert(0, COLLECTIONS)

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_package  # noqa: E402  pylint: disable=wrong-import-position

TF_PLUGINS = "/opt/tf-plugins"
ARCHIVE_PROVIDER = os.path.join(TF_PLUGINS, "registry.terraform.io", "hashicorp", "archive")
# Peak RSS through this small launcher: Linux carries a process's peak RSS over exec,
# so a child forked from this (larger) process would report at least this one's peak.
LAUNCHER = textwrap.dedent("""
    import json, os, sys
    pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
    _pid, status, usage = os.wait4(pid, 0)
    with open(sys.argv[1], "w") as out:
        json.dump({"max_rss_kib": usage.ru_maxrss}, out)
    sys.exit(os.waitstatus_to_exitcode(status))
""")

OURS = textwrap.dedent("""
    import sys
    from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import build_package
    workers = int(sys.argv[3]) if sys.argv[3] != "default" else None
    info = build_package(sys.argv[1], [], sys.argv[2], workers=workers)
    print(info.sha256)
""")
ZIPFILE = textwrap.dedent("""
    import os, sys, zipfile
    source, destination = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for directory, dirs, names in os.walk(source):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(directory, name)
                archive.write(path, os.path.relpath(path, source))
""")
TERRAFORM_MAIN = """
terraform {
  required_providers {
    archive = { source = "hashicorp/archive" }
  }
}
data "archive_file" "layer" {
  type        = "zip"
  source_dir  = "%(source)s"
  output_path = "%(output)s"
}
output "sha" { value = data.archive_file.layer.output_base64sha256 }
"""


def text_corpus(limit=16 * 1000 * 1000):
    """Real source text: the running Python's own standard library."""
    stdlib = sysconfig.get_paths()["stdlib"]
    pieces, size = [], 0
    for directory, dirs, names in os.walk(stdlib):
        dirs[:] = sorted(name for name in dirs if name not in ("site-packages", "test", "__pycache__"))
        for name in sorted(names):
            if name.endswith(".py") and size < limit:
                with open(os.path.join(directory, name), "rb") as handle:
                    pieces.append(handle.read())
                size += len(pieces[-1])
    return b"".join(pieces)


def generate_tree(root, files, total_bytes, random_share=0.5, seed=20240601):
    """A deterministic tree of ``files`` files and ``total_bytes`` bytes.

    Sizes are drawn log-uniformly in three tiers (1% of the files 1-4 MiB, 4%
    64 KiB-1 MiB, the rest 10 B-64 KiB), then scaled to the total; a share
    ``random_share`` of the files (every other one by default) holds random
    bytes (incompressible, like images or compressed archives; a third of them
    executable), the others Python source text.
    """
    rng = random.Random(seed)
    corpus = text_corpus()
    tiers = [(0.01, 1 << 20, 4 << 20), (0.04, 64 << 10, 1 << 20), (0.95, 10, 64 << 10)]
    sizes = []
    for share, low, high in tiers:
        count = round(files * share) if share < 0.5 else files - len(sizes)
        sizes += [math.exp(rng.uniform(math.log(low), math.log(high))) for _index in range(count)]
    rng.shuffle(sizes)
    scale = total_bytes / sum(sizes)
    sizes = [max(1, int(size * scale)) for size in sizes]
    sizes[-1] += total_bytes - sum(sizes)
    directories = [f"python/pkg{a}/sub{b}" for a in range(20) for b in range(10)] + ["bin", "lib", "nodejs/node_modules/m"]
    for index, size in enumerate(sizes):
        directory = os.path.join(root, directories[index % len(directories)])
        os.makedirs(directory, exist_ok=True)
        if (index + 1) * random_share // 1 > index * random_share // 1:
            data = rng.randbytes(size)
            name = f"blob{index:05d}.so"
        else:
            start = rng.randrange(0, len(corpus))
            data = (corpus[start:start + size] + corpus)[:size]
            name = f"module{index:05d}.py"
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(data)
        if name.endswith(".so") and index % 3 == 0:
            os.chmod(path, 0o755)
    return sum(sizes)


def run_measured(command, cwd=None, env=None):
    """Wall time, CPU time (user + system of the command and its children), peak RSS in MiB."""
    with tempfile.NamedTemporaryFile(suffix=".json") as usage_file:
        launched = [sys.executable, "-c", LAUNCHER, usage_file.name, shutil.which(command[0])] + command[1:]
        start = time.perf_counter()
        process = subprocess.Popen(launched, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout, stderr = process.stdout.read().decode(), process.stderr.read().decode()
        process.stdout.close()
        process.stderr.close()
        if process.returncode != 0:
            raise SystemExit(f"{command[0]} failed ({process.returncode}): {stdout}{stderr}")
        rss = json.load(usage_file)["max_rss_kib"] / 1024
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": rss, "stdout": stdout}


def terraform_setup(work, source, output):
    if not shutil.which("terraform"):
        return None, "terraform is not installed"
    if not os.path.isdir(ARCHIVE_PROVIDER):
        hashicorp = os.path.join(TF_PLUGINS, "registry.terraform.io", "hashicorp")
        present = ", ".join(sorted(os.listdir(hashicorp))) if os.path.isdir(hashicorp) else "nothing"
        return None, f"the hashicorp/archive provider is not in the offline mirror {TF_PLUGINS} (it holds: {present})"
    directory = os.path.join(work, "terraform")
    os.makedirs(directory)
    config = os.path.join(work, "terraformrc")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write('provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' % TF_PLUGINS)
    with open(os.path.join(directory, "main.tf"), "w", encoding="utf-8") as handle:
        handle.write(TERRAFORM_MAIN % {"source": source, "output": output})
    env = dict(os.environ, TF_CLI_CONFIG_FILE=config, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
    init = subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=directory, env=env, capture_output=True, text=True, check=False)
    if init.returncode != 0:
        return None, f"terraform init failed: {init.stderr.strip()[:300]}"
    return (["terraform", "apply", "-auto-approve", "-input=false", "-no-color"], directory, env), None


def parallel_headroom(corpus, threads=2):
    """How much faster `threads` threads deflate than one, right now: what the machine's load leaves."""
    sample = corpus[:4 * 1000 * 1000]

    def deflate():
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        compressor.compress(sample)
        compressor.flush()

    timings = []
    for count in (1, threads):
        workers = [threading.Thread(target=deflate) for _worker in range(count)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        timings.append((time.perf_counter() - started) / count)
    return timings[0] / timings[1]


def median(values):
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--mb", type=int, default=100, help="total size of the tree in MB (10^6 bytes)")
    parser.add_argument("--random-share", type=float, default=0.5, help="share of the files holding random bytes (the rest is text)")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="layerwise-packaging-")
    try:
        source = os.path.join(work, "src")
        started = time.perf_counter()
        total = generate_tree(source, args.files, args.mb * 1000 * 1000, args.random_share)
        print(f"tree: {args.files} files ({args.random_share:.0%} random bytes, the rest text), {total} bytes,"
              f" generated in {time.perf_counter() - started:.1f} s under {work}")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]},"
              f" zlib {zlib.ZLIB_RUNTIME_VERSION}, {subprocess.run(['zip', '-v'], capture_output=True, text=True, check=True).stdout.splitlines()[1].strip()}")

        env = dict(os.environ, PYTHONPATH=COLLECTIONS)
        outputs = {name: os.path.join(work, f"{name}.zip") for name in ("ours", "ours-1", "zip", "zipfile", "terraform")}
        commands = {
            "ours": ([sys.executable, "-c", OURS, source, outputs["ours"], "default"], None, env),
            "ours-1": ([sys.executable, "-c", OURS, source, outputs["ours-1"], "1"], None, env),
            "zip": (["zip", "-qrX", outputs["zip"], "."], source, None),
            "zipfile": ([sys.executable, "-c", ZIPFILE, source, outputs["zipfile"]], None, None),
        }
        terraform, terraform_note = terraform_setup(work, source, outputs["terraform"])
        if terraform:
            commands["terraform"] = terraform
        else:
            print(f"terraform archive_file: not measured: {terraform_note}")

        corpus = text_corpus(4 * 1000 * 1000)
        headroom = [parallel_headroom(corpus)]
        names = list(commands)
        results = {name: [] for name in names}
        reference_sha = None
        for round_index in range(args.rounds):
            order = names[round_index % len(names):] + names[:round_index % len(names)]
            for name in order:
                if os.path.exists(outputs[name]):
                    os.unlink(outputs[name])  # zip would update an existing archive
                command, cwd, command_env = commands[name]
                results[name].append(run_measured(command, cwd, command_env))
            sha = results["ours"][-1]["stdout"].strip()
            assert sha == results["ours-1"][-1]["stdout"].strip(), "worker count changed the bytes"
            reference_sha = reference_sha or sha
            assert sha == reference_sha, "the package changed between rounds"
            print(f"round {round_index + 1}: " + ", ".join(f"{name} {results[name][-1]['wall']:.2f}s" for name in names))

        headroom.append(parallel_headroom(corpus))
        sizes = {name: os.path.getsize(outputs[name]) for name in names}
        print(f"parallel headroom: 2 threads deflated {headroom[0]:.2f}x as fast as one before the rounds, {headroom[1]:.2f}x after"
              f" (at most 2.0x on 2 cores); load average now {os.getloadavg()[0]:.1f}")
        print()
        print("| command | wall s (median) | wall min-max | CPU s | peak RSS MiB | zip MB | wall vs ours |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        labels = {
            "ours": f"build_package, {_layer_package.default_workers()} workers",
            "ours-1": "build_package, 1 worker",
            "zip": "zip -qrX (Info-ZIP 3.0, -6)",
            "zipfile": "Python zipfile, deflate 6",
            "terraform": "terraform apply, archive_file",
        }
        for name in names:
            walls = [result["wall"] for result in results[name]]
            ratio = median([theirs["wall"] / ours["wall"] for theirs, ours in zip(results[name], results["ours"])])
            print(
                f"| {labels[name]} | {median(walls):.2f} | {min(walls):.2f}-{max(walls):.2f} | {median(r['cpu'] for r in results[name]):.2f}"
                f" | {median(r['rss'] for r in results[name]):.0f} | {sizes[name] / 1e6:.1f} | {ratio:.2f}x |"
            )
        if not terraform:
            print("| terraform archive_file | not measured | | | | | |")

        # An unchanged run, in this process: rebuilding the package, or a hit of its record by content.
        phases = {"walk": [], "build": [], "build, recording": [], "cached": [], "sha256 of the zip": []}
        destination = os.path.join(work, "unchanged.zip")

        def timed(phase, action):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = action()
            phases[phase].append((time.perf_counter() - started, time.process_time() - cpu_started))
            return result

        def sha256_of_zip():
            digest = hashlib.sha256()
            with open(destination, "rb") as handle:
                for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                    digest.update(chunk)
            return digest

        cache = _layer_package.PackageCache(os.path.join(work, "cache"))
        for _round in range(args.rounds):
            timed("walk", lambda: _layer_package.scan_source_dir(source, []))
            info = timed("build", lambda: _layer_package.build_package(source, [], destination))
            assert info.sha256 == reference_sha
            timed("build, recording", lambda: _layer_package.build_package(source, [], destination, cache=cache))
            hit = timed("cached", lambda: _layer_package.cached_package_info(source, [], cache))
            assert hit is not None and hit.sha256 == reference_sha
            timed("sha256 of the zip", sha256_of_zip)
        print()
        print("| unchanged run, in this process | wall s (median) | CPU s (median) |")
        print("|---|---:|---:|")
        rows = [
            ("walk", f"walk only (scan_source_dir: {info.files} files)"),
            ("build", "whole build_package (walk, deflate, write, SHA-256 while writing)"),
            ("build, recording", "build_package recording in a PackageCache (also SHA-256 of every file)"),
            ("cached", "cached_package_info, a hit (walk, read and SHA-256 of every file, no deflate)"),
            ("sha256 of the zip", f"for comparison: SHA-256 of the finished {info.size / 1e6:.1f} MB zip, read back"),
        ]
        for phase, label in rows:
            print(f"| {label} | {median(wall for wall, _cpu in phases[phase]):.3f} | {median(cpu for _wall, cpu in phases[phase]):.3f} |")
        print(f"\nour package: {info.files} files, {info.unzipped_size} bytes unzipped, {info.size} bytes, CodeSha256 {info.sha256}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
