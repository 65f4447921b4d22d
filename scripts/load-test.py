# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load held at Lambda's quota: concurrent ansible-playbook runs behind a rate-limited endpoint.

    $VENV/bin/python scripts/load-test.py [--processes 4] [--layers 50] [--single-runs 10]
        [--rate 15] [--burst 15] [--latency-ms 25] [--max-concurrency N] [--timeout 600]
        [--json FILE] [--keep]

Needs the collection copy made by scripts/setup-env.sh ($CACHE/collections) and the
virtualenv's Python (boto3, moto[server], ansible-core). Everything happens in a fresh
temporary directory, on loopback, with dummy credentials:

1. starts its own local endpoint (moto, scripts/local_aws.py) and the fault proxy in front
   of it (tests/integration/targets/setup_fault_proxy/files/fault_proxy.py) with a token
   bucket per region for Lambda only: --rate requests a second, --burst at once (Lambda's
   control-plane quota: 15 a second per region), --latency-ms added to every request it lets
   through; beyond the quota it answers 429 TooManyRequestsException;
2. creates every layer's initial version directly against moto (not through the proxy):
   --processes x --layers layers for the bulk runs (half of them get new content for the
   run), one shared layer, and two bystander layers that no task names;
3. starts at once --processes `ansible-playbook` runs, each with one
   layerwise.aws.lambda_layer_versions task over its own --layers layers, and --single-runs
   runs of layerwise.aws.lambda_layer_version that all publish the same new content to the
   shared layer; waits for them at most --timeout seconds (then stops them);
4. verifies against moto directly: every run exited 0; each changed layer has exactly one
   version, newer than its original and holding the new CodeSha256 (the superseded one is
   deleted); each unchanged layer has exactly its original version; the shared layer has
   exactly one version and it holds the new content; the bystanders and the set of layers
   are untouched; each bulk result reports what exists;
5. prints the figures: runs, wall time, requests the proxy received, forwarded and throttled
   (in all and per operation), the quota floor (forwarded / rate: the least time those
   requests need at the quota), the retries, the versions checked and the failures.

Retries: the modules' results do not say how often a call was retried. Every throttled
request is retried unless it was its call's last attempt, which then fails its layer with
TooManyRequestsException; so retries = throttled - layers failed on a throttle (both
counted exactly, by the proxy and from the results).

Exits 0 when every check passed, 1 when one failed, 2 when the set-up failed, 130 when
interrupted. The servers and runs it started are stopped in every case (Ctrl-C and SIGTERM
included); the temporary directory is removed unless --keep. Not a benchmark: it asserts
what exists afterwards, never a time.
"""

import argparse
import base64
import collections
import concurrent.futures
import datetime
import hashlib
import importlib.util
import io
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("CACHE") or os.path.join(ROOT, ".cache")
COLLECTIONS = os.path.join(CACHE, "collections")
COLLECTION = os.path.join(COLLECTIONS, "ansible_collections", "layerwise", "aws")
PROXY_SCRIPT = os.path.join(ROOT, "tests", "integration", "targets", "setup_fault_proxy", "files", "fault_proxy.py")
LOCAL_AWS_SCRIPT = os.path.join(ROOT, "scripts", "local_aws.py")

REGION = "us-east-1"
LAYERS_PATH = "/2018-10-31/layers/"
DESCRIPTION = "layerwise.aws load test"
# The tasks give the runtimes in another order than the initial versions: compared as sets, unchanged.
INITIAL_RUNTIMES = ["python3.12", "python3.13"]
TASK_RUNTIMES = ["python3.13", "python3.12"]
ARCHITECTURES = ["x86_64"]
THROTTLING_CODES = ("TooManyRequestsException", "ThrottlingException", "Throttling", "SlowDown")
BYSTANDERS = 2


def load_script(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop like on Ctrl-C."""


def _interrupt(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


# --- the layers and their packages ------------------------------------------------------------


class Layer:
    """One layer of the test: what it holds before, what the run asks for, what must exist after."""

    def __init__(self, name, role, run=None, changed=False):
        self.name = name
        self.role = role  # "bulk", "shared" or "bystander"
        self.run = run  # the bulk run that names it
        self.changed = changed
        self.old_zip = self.new_zip = None
        self.old_sha = self.new_sha = None
        self.original_versions = []  # version numbers created before the runs, oldest first

    @property
    def task_zip(self):
        return self.new_zip if self.changed else self.old_zip

    @property
    def task_sha(self):
        return self.new_sha if self.changed else self.old_sha


def write_zip(path, layer_name, marker):
    """A small reproducible package; returns base64(SHA-256), as Lambda's CodeSha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"python/{layer_name.replace('-', '_')}.py", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(info, f"LAYER = {layer_name!r}\nCONTENT = {marker!r}\n" + "# padding\n" * 20)
    data = buffer.getvalue()
    with open(path, "wb") as package:
        package.write(data)
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def plan_layers(run_id, processes, layers_per_run):
    layers = []
    for run in range(processes):
        for index in range(layers_per_run):
            # Half of the layers change, interleaved so that changed and unchanged ones run side by side.
            layers.append(Layer(f"load-{run_id}-b{run + 1}-{index + 1:03d}", "bulk", run=run, changed=index % 2 == 0))
    layers.append(Layer(f"load-{run_id}-shared", "shared", changed=True))
    for index in range(BYSTANDERS):
        layers.append(Layer(f"load-{run_id}-bystander-{index + 1}", "bystander"))
    return layers


def lambda_client(endpoint):
    import boto3  # pylint: disable=import-outside-toplevel
    import botocore.config  # pylint: disable=import-outside-toplevel

    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION).client(
        "lambda", endpoint_url=endpoint, config=botocore.config.Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=16)
    )


def publish(client, layer, zip_path):
    with open(zip_path, "rb") as package:
        answer = client.publish_layer_version(
            LayerName=layer.name,
            Content={"ZipFile": package.read()},
            Description=DESCRIPTION,
            CompatibleRuntimes=INITIAL_RUNTIMES,
            CompatibleArchitectures=ARCHITECTURES,
        )
    return answer["Version"]


def prepare_layers(client, layers, packages):
    """Write the packages and publish every initial version directly to moto (a bystander gets two)."""

    def prepare(layer):
        layer.old_zip = os.path.join(packages, f"{layer.name}-old.zip")
        layer.old_sha = write_zip(layer.old_zip, layer.name, "old")
        if layer.changed:
            layer.new_zip = os.path.join(packages, f"{layer.name}-new.zip")
            layer.new_sha = write_zip(layer.new_zip, layer.name, "new")
        layer.original_versions.append(publish(client, layer, layer.old_zip))
        if layer.role == "bystander":
            second = os.path.join(packages, f"{layer.name}-second.zip")
            write_zip(second, layer.name, "second")
            layer.original_versions.append(publish(client, layer, second))

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(prepare, layers))


# --- the playbooks ------------------------------------------------------------------------------


class Run:
    """One ansible-playbook process."""

    def __init__(self, name, kind, workdir):
        self.name = name
        self.kind = kind  # "bulk" or "single"
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.playbook = os.path.join(self.dir, "playbook.yml")
        self.log = os.path.join(self.dir, "output.log")
        self.tree = os.path.join(self.dir, "tree")
        self.layers = []
        self.process = None
        self.started = self.ended = None
        self.returncode = None
        self.timed_out = False
        self.result = None

    @property
    def seconds(self):
        return None if self.ended is None else self.ended - self.started

    def load_result(self):
        """The task's result, written by the tree callback (None when the run never got there)."""
        try:
            with open(os.path.join(self.tree, "localhost"), encoding="utf-8") as tree_file:
                self.result = json.load(tree_file)
        except (OSError, ValueError):
            self.result = None
        return self.result

    def output_tail(self, lines=15):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as log:
                return "".join(collections.deque(log, lines))
        except OSError:
            return ""


def task_item(layer):
    return {
        "layer_name": layer.name,
        "filename": layer.task_zip,
        "description": DESCRIPTION,
        "compatible_runtimes": TASK_RUNTIMES,
        "compatible_architectures": ARCHITECTURES,
    }


def write_playbook(run, endpoint, module, args):
    """JSON is YAML: the playbook is written without a YAML library."""
    play = {
        "name": f"load test: {run.name}",
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {"group/layerwise.aws.aws": {"endpoint_url": endpoint, "region": REGION}},
        "tasks": [{"name": f"{run.name}: {len(run.layers)} layer(s)", module: args}],
    }
    with open(run.playbook, "w", encoding="utf-8") as playbook:
        json.dump([play], playbook, indent=1)


def child_environment(python):
    """Dummy credentials only: no profile, config file or credential of the caller's is read."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ANSIBLE_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_PYTHON_INTERPRETER=python,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    return env


def launch(runs, inventory, env):
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    for run in runs:
        run_env = dict(env, ANSIBLE_CALLBACK_TREE_DIR=run.tree, ANSIBLE_LOCAL_TEMP=os.path.join(run.dir, "tmp"))
        with open(run.log, "wb") as log:
            run.started = time.monotonic()
            run.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [ansible_playbook, "-i", inventory, run.playbook],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=run.dir,
                env=run_env,
                start_new_session=True,  # its own process group: stopped as a whole on timeout or Ctrl-C
            )


def wait_for(runs, deadline):
    while True:
        pending = [run for run in runs if run.returncode is None]
        for run in pending:
            code = run.process.poll()
            if code is not None:
                run.returncode = code
                run.ended = time.monotonic()
        if all(run.returncode is not None for run in runs):
            return
        if time.monotonic() >= deadline:
            for run in runs:
                if run.returncode is None:
                    run.timed_out = True
            stop_runs(runs)
            return
        time.sleep(0.1)


def stop_runs(runs):
    """Stop every run still going: its whole process group, SIGTERM then SIGKILL."""
    live = [run for run in runs if run.process is not None and run.process.poll() is None]
    for run in live:
        try:
            os.killpg(run.process.pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + 5
    for run in live:
        try:
            run.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for run in live:
        try:
            os.killpg(run.process.pid, signal.SIGKILL)
        except OSError:
            pass
        run.process.wait()
        if run.returncode is None:
            run.returncode = run.process.returncode
            run.ended = time.monotonic()


# --- verification ------------------------------------------------------------------------------


def read_versions(client, layer_name):
    """{version: CodeSha256} of every version of a layer, read from moto directly."""
    versions = {}
    marker = None
    while True:
        page = client.list_layer_versions(LayerName=layer_name, **({"Marker": marker} if marker else {}))
        for summary in page.get("LayerVersions", []):
            versions[summary["Version"]] = None
        marker = page.get("NextMarker")
        if not marker:
            break
    for number in versions:
        versions[number] = client.get_layer_version(LayerName=layer_name, VersionNumber=number)["Content"]["CodeSha256"]
    return versions


def all_layer_names(client):
    names = set()
    for page in client.get_paginator("list_layers").paginate():
        names.update(layer["LayerName"] for layer in page.get("Layers", []))
    return names


class Checks:
    """Every check made, and the failed ones by kind.

    "run": a run did not exit 0 (why: its failed layers' messages); "explained": what exists
    differs from the contract's end state on a layer whose run reported that layer's failure
    (the consequence of that failure, e.g. a throttle); "contract": anything else, such as a
    layer whose run reported success, a failed layer's result that is not true, a layer touched
    that no task names.
    """

    KINDS = ("run", "explained", "contract")

    def __init__(self):
        self.failures = []  # (kind, message)
        self.count = 0

    def check(self, ok, message, kind="contract"):
        self.count += 1
        if not ok:
            self.failures.append((kind, message))
        return ok

    def of_kind(self, kind):
        return [message for failed_kind, message in self.failures if failed_kind == kind]


def bulk_items(runs):
    """{layer name: its item of a bulk run's results} for the runs that returned results."""
    items = {}
    for run in (run for run in runs if run.kind == "bulk"):
        results = (run.result or {}).get("results")
        if isinstance(results, list) and len(results) == len(run.layers):
            items.update((layer.name, item) for layer, item in zip(run.layers, results))
    return items


def why_not(layer, items, singles_failed):
    """(kind, reason) of an end-state failure: explained by a reported failure (e.g. a throttle), or not."""
    if layer.role == "shared":
        return ("explained", f"{singles_failed} single run(s) failed") if singles_failed else ("contract", "every single run succeeded")
    if layer.role != "bulk":
        return "contract", "no task names it"
    item = items.get(layer.name)
    if item is None:
        return "explained", "its run returned no result"
    if item.get("failed"):
        return "explained", f"its item failed with {item.get('error_code') or 'no AWS error code'}"
    return "contract", "its item succeeded"


def verify_layers(client, layers, items, singles_failed, checks):
    """The end state in moto against what the contract says must exist; returns {name: versions}."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip([layer.name for layer in layers], pool.map(lambda layer: read_versions(client, layer.name), layers)))
    for layer in layers:
        versions = found[layer.name]
        original = layer.original_versions
        kind, reason = why_not(layer, items, singles_failed)
        because = f" ({reason})"
        if layer.changed:
            newer = [number for number in versions if number > original[-1]]
            checks.check(
                len(versions) == 1 and len(newer) == 1 and versions[newer[0]] == layer.new_sha,
                f"{layer.name} ({layer.role}, changed): expected exactly one version, newer than {original[-1]}, with the new"
                f" CodeSha256; found {describe(versions, layer)}{because}",
                kind,
            )
        else:
            checks.check(
                sorted(versions) == original and versions[original[0]] == layer.old_sha,
                f"{layer.name} ({layer.role}, unchanged): expected exactly version(s) {original}; found {describe(versions, layer)}{because}",
                kind,
            )
    return found


def verify_failed_items(layers, items, found, checks):
    """A layer that failed says truthfully what it wrote: what it reports exists, what it says it deleted does not."""
    for layer in layers:
        item = items.get(layer.name)
        if not item or not item.get("failed"):
            continue
        versions = set(found[layer.name])
        reported = (item.get("layer_version") or {}).get("version")
        deleted = set(item.get("deleted_versions") or [])
        undeleted = set(item.get("undeleted_versions") or [])
        if item.get("changed"):
            # SPEC 1.1: after a write, the facts of what exists and what was not done. A superseded
            # version still there after a publish must be named in undeleted_versions.
            left = versions & set(layer.original_versions) if reported is not None and reported not in layer.original_versions else set()
            ok = (reported is None or reported in versions) and not deleted & versions and undeleted <= versions and left <= undeleted
        else:
            left = set()
            ok = versions == set(layer.original_versions) and not deleted
        checks.check(
            ok,
            f"{layer.name}: its failed result (changed={item.get('changed')}, version {reported}, deleted {sorted(deleted)},"
            f" undeleted {sorted(undeleted)}) does not match what exists: versions {sorted(versions)}"
            + (f"; superseded version(s) {sorted(left - undeleted)} left and not named in undeleted_versions" if left - undeleted else ""),
        )


def describe(versions, layer):
    if not versions:
        return "no version"
    names = {layer.old_sha: "old content", layer.new_sha: "new content"}
    return ", ".join(f"version {number} ({names.get(sha, sha)})" for number, sha in sorted(versions.items()))


def verify_bulk_results(runs, found, checks):
    """Each bulk run's per-layer results say what exists: changed, the version, what was deleted."""
    for run in (run for run in runs if run.kind == "bulk"):
        results = (run.result or {}).get("results")
        kind = "explained" if run.returncode != 0 or run.timed_out else "contract"
        if not checks.check(isinstance(results, list) and len(results) == len(run.layers), f"{run.name}: no per-layer results", kind):
            continue
        for layer, item in zip(run.layers, results):
            if item.get("failed"):
                continue  # reported with the run's failures
            version = (item.get("layer_version") or {}).get("version")
            numbers = sorted(found[layer.name])
            expected_deleted = layer.original_versions if layer.changed else []
            checks.check(
                item.get("layer_name") == layer.name
                and item.get("changed") is layer.changed
                and [version] == numbers
                and item.get("deleted_versions") == expected_deleted,
                f"{run.name}: {layer.name} reports changed={item.get('changed')}, version {version},"
                f" deleted {item.get('deleted_versions')}; expected changed={layer.changed}, version(s) {numbers}, deleted {expected_deleted}",
            )


def run_failures(runs):
    """(messages, layers failed on a throttle, error codes of failed layers) of the runs that did not succeed."""
    messages = []
    throttle_failures = 0
    codes = collections.Counter()
    for run in runs:
        result = run.result or {}
        items = result.get("results") if run.kind == "bulk" else [result] if result.get("failed") else []
        failed_items = [item for item in items or [] if item.get("failed")]
        for item in failed_items:
            code = item.get("error_code") or (item.get("error") or {}).get("code") or "no AWS error code"
            codes[code] += 1
            throttle_failures += code in THROTTLING_CODES
        if run.returncode == 0 and not run.timed_out:
            continue
        if run.timed_out:
            why = "timed out (stopped)"
        elif failed_items:
            first = failed_items[0]
            why = f"{len(failed_items)} layer(s) failed, e.g. {first.get('layer_name', run.layers[0].name)}: {str(first.get('msg'))[:300]}"
        elif result.get("msg"):
            why = str(result["msg"])[:300]
        else:
            why = "no result; output ends with:\n" + run.output_tail()
        messages.append(f"{run.name}: exit {run.returncode}: {why}")
    return messages, throttle_failures, codes


def shared_layer_story(runs, shared, log, remaining):
    """What the single runs did on the shared layer, from their results and the proxy's log.

    ``stale``: runs that succeeded but report a version that no longer exists (a concurrent
    run deleted it as its own duplicate after this run read it). Not a check of the contract
    (which says nothing of it), a warning.
    """
    path = LAYERS_PATH + shared.name + "/versions"
    published = sum(1 for entry in log if entry.get("operation") == "PublishLayerVersion" and entry.get("path") == path and entry.get("action") == "forwarded")
    singles = [run for run in runs if run.kind == "single" and run.result and not run.result.get("failed")]
    reported = collections.Counter((run.result.get("layer_version") or {}).get("version") for run in singles)
    changed = sum(1 for run in singles if run.result.get("changed"))
    stale = [
        f"{run.name} (changed={run.result.get('changed')}) reports version {(run.result.get('layer_version') or {}).get('version')},"
        f" which no longer exists (remaining: {sorted(remaining)})"
        for run in singles
        if (run.result.get("layer_version") or {}).get("version") not in remaining
    ]
    return {
        "publishes_forwarded": published,
        "runs_changed": changed,
        "reported_versions": dict(sorted((str(k), v) for k, v in reported.items())),
        "stale_reports": stale,
    }


def publishes_per_layer(log, layers):
    """Forwarded PublishLayerVersion requests per changed bulk layer (one is expected: a throttle refuses before any work)."""
    counts = collections.Counter()
    for entry in log:
        if entry.get("operation") == "PublishLayerVersion" and entry.get("action") == "forwarded":
            counts[entry["path"][len(LAYERS_PATH):].split("/")[0]] += 1
    return {layer.name: counts[layer.name] for layer in layers if layer.role == "bulk" and layer.changed and counts[layer.name] != 1}


# --- the report -----------------------------------------------------------------------------------


def table(rows, header=None):
    rows = [header] + rows if header else rows
    widths = [max(len(str(row[column])) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(str(cell).ljust(width) if column == 0 else str(cell).rjust(width) for column, (cell, width) in enumerate(zip(row, widths))))
        if header and index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def versions_of_tools():
    found = {}
    for name in ("moto", "boto3", "botocore", "ansible-core"):
        try:
            from importlib.metadata import version  # pylint: disable=import-outside-toplevel

            found[name] = version(name)
        except Exception:  # pylint: disable=broad-exception-caught
            found[name] = "?"
    return found


def client_limiter_hint():
    """Whether the collection copy's retry code speaks of a client-side rate limiter (a text search: a hint, not proof)."""
    try:
        with open(os.path.join(COLLECTION, "plugins", "module_utils", "_layer_retry.py"), encoding="utf-8") as source:
            text = source.read().lower().replace("_", " ")
    except OSError:
        return None
    return "rate limiter" in text or "token bucket" in text or "tokenbucket" in text


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def report(args, stats, figures, checks):
    ops = stats.get("by_operation", {})
    print()
    print(
        f"== load test: {args.processes} x lambda_layer_versions ({args.layers} layers, half changed)"
        f" + {args.single_runs} x lambda_layer_version on one layer"
    )
    print(
        f"   limits: {args.rate:g} requests/s per region, burst {args.burst}, +{args.latency_ms:g} ms, Lambda only;"
        f" max_concurrency {args.max_concurrency or 'default'}; {figures['machine']}"
    )
    print(
        f"   moto {figures['tools']['moto']}, boto3 {figures['tools']['boto3']}, ansible-core {figures['tools']['ansible-core']},"
        f" checkout commit {figures['commit']}"
    )
    print(f"   collection: {figures['collection']} (client-side rate limiter in _layer_retry.py: {figures['client_limiter_hint']})")
    print()
    rows = [
        ("runs (ok / all)", f"{figures['runs_ok']} / {figures['runs']}"),
        ("wall time, launch to last exit (s)", f"{figures['wall_seconds']:.1f}"),
        ("run time min / median / max (s)", "{:.1f} / {:.1f} / {:.1f}".format(*figures["run_seconds"])),
        ("requests received by the proxy", stats.get("received", 0)),
        ("  forwarded to moto", stats.get("forwarded", 0)),
        ("  throttled (429)", stats.get("throttled", 0)),
        ("throttled share", f"{figures['throttled_share']:.0%}"),
        ("quota floor: forwarded / rate (s)", f"{figures['quota_floor_seconds']:.1f}"),
        ("forwarded per second of wall time", f"{figures['forwarded_per_second']:.1f}"),
        ("retries (throttled - layers failed on a throttle)", figures["retries_inferred"]),
        ("layers failed on a throttle", figures["throttle_failures"]),
        ("publishes forwarded on the shared layer", figures["shared"]["publishes_forwarded"]),
        ("single runs that changed the shared layer", figures["shared"]["runs_changed"]),
        ("single runs reporting a deleted version", len(figures["shared"]["stale_reports"])),
        ("layers / versions checked in moto", f"{figures['layers_checked']} / {figures['versions_checked']}"),
        ("checks passed / all", f"{checks.count - len(checks.failures)} / {checks.count}"),
        ("failed: runs / explained by a run's failure / contract", " / ".join(str(len(checks.of_kind(kind))) for kind in Checks.KINDS)),
    ]
    print(table(rows, header=("figure", "value")))
    print()
    op_rows = [(name, counts.get("received", 0), counts.get("forwarded", 0), counts.get("throttled", 0)) for name, counts in sorted(ops.items())]
    if op_rows:
        print(table(op_rows, header=("operation", "received", "forwarded", "throttled")))
        print()
    if figures["failed_codes"]:
        print("failed layers by error code: " + ", ".join(f"{code}: {count}" for code, count in sorted(figures["failed_codes"].items())))
    print("module-side retries are not in the results; they are inferred from the proxy's throttles (see the script's docstring)")
    print(f"shared layer: versions reported by the single runs: {figures['shared']['reported_versions']}")
    for message in figures["shared"]["stale_reports"]:
        print(f"WARNING (not a failed check): {message}")
    if figures["extra_publishes"]:
        print(f"changed bulk layers without exactly one forwarded publish: {figures['extra_publishes']}")
    titles = {
        "run": "runs that did not succeed",
        "explained": "end state differs where a run reported that layer's failure (its consequence)",
        "contract": "contract broken (a layer whose run reported success, an untrue failed result, a layer no task names)",
    }
    for kind in Checks.KINDS:
        messages = checks.of_kind(kind)
        if messages:
            print()
            print(f"FAILED, {titles[kind]} ({len(messages)}):")
            for message in messages[:30]:
                print("  - " + message.replace("\n", "\n    "))
            if len(messages) > 30:
                print(f"  ... and {len(messages) - 30} more")
    if not checks.failures:
        print()
        print("every check passed")


# --- main -------------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4, help="concurrent lambda_layer_versions runs (default 4)")
    parser.add_argument("--layers", type=int, default=50, help="layers in each of them, half changed (default 50)")
    parser.add_argument("--single-runs", type=int, default=10, help="concurrent lambda_layer_version runs on one shared layer (default 10)")
    parser.add_argument("--rate", type=float, default=15, help="Lambda requests per second per region the proxy lets through (default 15)")
    parser.add_argument("--burst", type=int, default=15, help="the token bucket's size (default 15)")
    parser.add_argument("--latency-ms", type=float, default=25, help="milliseconds added to every request let through (default 25)")
    parser.add_argument("--max-concurrency", type=int, help="lambda_layer_versions' max_concurrency (default: the module's)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds the runs may take in all before they are stopped (default 600)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures and failures to FILE as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (playbooks, outputs, results, server logs)")
    args = parser.parse_args()
    if args.processes < 0 or args.single_runs < 0 or args.processes + args.single_runs == 0:
        parser.error("--processes and --single-runs: at least one run, none negative")
    if args.processes and args.layers < 1:
        parser.error("--layers: at least 1")
    if args.rate <= 0 or args.burst < 1 or args.latency_ms < 0 or args.timeout <= 0:
        parser.error("--rate and --timeout must be > 0, --burst >= 1, --latency-ms >= 0")
    return args


def main():  # pylint: disable=too-many-locals,too-many-statements
    args = parse_args()
    if not os.path.isdir(COLLECTION):
        print(f"load-test: no collection copy in {COLLECTIONS}; run scripts/setup-env.sh first", file=sys.stderr)
        return 2
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    local_aws = load_script("local_aws", LOCAL_AWS_SCRIPT)
    fault_proxy = load_script("fault_proxy", PROXY_SCRIPT)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (a background job)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)

    workdir = tempfile.mkdtemp(prefix="layerwise-load-")
    moto_state = os.path.join(workdir, "moto")
    proxy_state = os.path.join(workdir, "proxy")
    runs = []
    code = 2
    try:
        endpoint = local_aws.start(moto_state)
        limits = {"rate": args.rate, "burst": args.burst, "latency_ms": args.latency_ms, "scope": ["lambda"]}
        proxy = fault_proxy.start(proxy_state, endpoint, limits)
        client = lambda_client(endpoint)  # straight to moto: set-up and verification are never throttled
        before = all_layer_names(client)

        run_id = uuid.uuid4().hex[:8]
        layers = plan_layers(run_id, args.processes, args.layers)
        packages = os.path.join(workdir, "packages")
        os.makedirs(packages)
        started = time.monotonic()
        prepare_layers(client, layers, packages)
        setup_seconds = time.monotonic() - started

        python = sys.executable
        inventory = os.path.join(workdir, "inventory.ini")
        with open(inventory, "w", encoding="utf-8") as inventory_file:
            inventory_file.write(f"localhost ansible_connection=local ansible_python_interpreter={python}\n")
        bulk_options = {} if args.max_concurrency is None else {"max_concurrency": args.max_concurrency}
        for index in range(args.processes):
            run = Run(f"bulk-{index + 1}", "bulk", workdir)
            run.layers = [layer for layer in layers if layer.role == "bulk" and layer.run == index]
            write_playbook(run, proxy, "layerwise.aws.lambda_layer_versions", dict(bulk_options, layers=[task_item(layer) for layer in run.layers]))
            runs.append(run)
        shared = next(layer for layer in layers if layer.role == "shared")
        for index in range(args.single_runs):
            run = Run(f"single-{index + 1}", "single", workdir)
            run.layers = [shared]
            write_playbook(run, proxy, "layerwise.aws.lambda_layer_version", task_item(shared))
            runs.append(run)

        fault_proxy.control_request(proxy, "/reset", method="POST")  # counters from zero, buckets full
        print(
            f"load-test: {len(layers)} layers ready in {setup_seconds:.1f}s; starting {len(runs)} runs"
            f" against {proxy} (moto {endpoint}); timeout {args.timeout:g}s",
            flush=True,
        )
        launched = time.monotonic()
        launch(runs, inventory, child_environment(python))
        wait_for(runs, launched + args.timeout)
        wall = max(run.ended for run in runs) - launched
        stats = fault_proxy.control_request(proxy, "/stats")
        log = fault_proxy.control_request(proxy, "/log", timeout=30)
        with open(os.path.join(workdir, "proxy-log.json"), "w", encoding="utf-8") as log_file:
            json.dump({"stats": stats, "log": log}, log_file, indent=0)
        for run in runs:
            run.load_result()

        checks = Checks()
        run_messages, throttle_failures, codes = run_failures(runs)
        for message in run_messages:
            checks.check(False, message, "run")
        checks.count += len(runs) - len(run_messages)
        items = bulk_items(runs)
        singles_failed = sum(1 for run in runs if run.kind == "single" and (run.returncode != 0 or run.timed_out))
        found = verify_layers(client, layers, items, singles_failed, checks)
        verify_failed_items(layers, items, found, checks)
        verify_bulk_results(runs, found, checks)
        after = all_layer_names(client)
        expected = before | {layer.name for layer in layers}
        checks.check(after == expected, f"layers in moto: unexpected {sorted(after - expected)}, missing {sorted(expected - after)}")

        run_seconds = [run.seconds for run in runs]
        figures = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at the end",
            "tools": versions_of_tools(),
            "commit": git_commit(),
            "client_limiter_hint": client_limiter_hint(),
            "collection": COLLECTION,
            "arguments": {k: v for k, v in vars(args).items() if k not in ("json", "keep")},
            "runs": len(runs),
            "runs_ok": sum(1 for run in runs if run.returncode == 0 and not run.timed_out),
            "runs_timed_out": sum(1 for run in runs if run.timed_out),
            "setup_seconds": round(setup_seconds, 1),
            "wall_seconds": round(wall, 1),
            "run_seconds": [round(min(run_seconds), 1), round(statistics.median(run_seconds), 1), round(max(run_seconds), 1)],
            "received": stats.get("received", 0),
            "forwarded": stats.get("forwarded", 0),
            "throttled": stats.get("throttled", 0),
            "by_operation": stats.get("by_operation", {}),
            "throttled_share": stats.get("throttled", 0) / stats["received"] if stats.get("received") else 0.0,
            "quota_floor_seconds": round(stats.get("forwarded", 0) / args.rate, 1),
            "forwarded_per_second": round(stats.get("forwarded", 0) / wall, 1) if wall else 0.0,
            "throttle_failures": throttle_failures,
            "retries_inferred": stats.get("throttled", 0) - throttle_failures,
            "failed_codes": dict(codes),
            "shared": shared_layer_story(runs, shared, log, found[shared.name]),
            "extra_publishes": publishes_per_layer(log, layers),
            "layers_checked": len(layers),
            "versions_checked": sum(len(versions) for versions in found.values()),
            "checks": checks.count,
            "failures": {kind: checks.of_kind(kind) for kind in Checks.KINDS},
        }
        report(args, stats, figures, checks)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(figures, out, indent=1)
        code = 1 if checks.failures else 0
    except (KeyboardInterrupt, Interrupted) as interruption:
        print(f"\nload-test: interrupted ({str(interruption) or 'Ctrl-C'}); stopping everything", file=sys.stderr)
        code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave servers behind
        stop_runs(runs)
        fault_proxy.stop(proxy_state)
        local_aws.stop(moto_state)
        if args.keep:
            print(f"load-test: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
