# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layerwise.aws against terraform plan and amazon.aws, side by side, on a local endpoint.

    bash benchmarks/run.sh [--quick] [--runs 5] [--loop-runs 3] [--clean]

Starts its own local endpoint (moto on loopback, dummy credentials), prepares the
layers (with `terraform apply` where terraform is installed, so that its plan is
"no changes"; else with boto3), then measures, run by run interleaved:

- unchanged runs of 1 layer and of 50 layers: our modules, amazon.aws.lambda_layer_info
  and `terraform plan`, wall time and the AWS requests each makes (from the endpoint's
  request log);
- sha256_of_file against sha256sum on a 200 MB file, with the hashing process's peak RSS;
- the peak RSS of module processes (run directly, without ansible-playbook, and
  measured with wait4) for unchanged runs with large packages and for publishing a
  45 MiB zip, against amazon.aws.lambda_layer;
- lambda_layer_version_info's concurrent detail reads (benchmarks/info_concurrency.py).

Prints Markdown tables with medians and ratios taken in the same rounds, and writes
them to benchmarks/results/. Not a test: nothing here asserts a time.
"""

import argparse
import base64
import collections
import datetime
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("CACHE") or os.path.join(ROOT, ".cache")
COLLECTIONS = os.path.join(CACHE, "collections")
sys.path.insert(0, COLLECTIONS)

import boto3  # noqa: E402  pylint: disable=wrong-import-position

REGION = "us-east-1"
MIB = 1024 * 1024
RUNTIMES = ["python3.12", "python3.13"]
ARCHITECTURES = ["x86_64"]
TF_PLUGINS = "/opt/tf-plugins"
_REQUEST_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP/')
_LAMBDA_PATH = re.compile(r"^/20\d\d-\d\d-\d\d/")
_RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


# Linux carries a process's peak RSS over exec, so a child forked from this (large)
# process would report at least this process's peak. The peak RSS of a command is
# therefore taken by this small launcher: it spawns the command, reaps it with wait4
# and writes the command's rusage (peak RSS, CPU) to the file named first.
_LAUNCHER = """
import json, os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"max_rss_kib": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime}, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


# One finished process: wall seconds, CPU seconds (its own and its children's), peak RSS in MiB, exit code, output.
Measured = collections.namedtuple("Measured", "seconds cpu max_rss_mib returncode output")


def measure(command, env=None, cwd=None, peak_rss=False):
    """Run ``command`` and reap it with wait4: wall and CPU time; with ``peak_rss``, through the launcher for the peak RSS."""
    with tempfile.TemporaryFile() as output, tempfile.NamedTemporaryFile(suffix=".json") as usage_file:
        if peak_rss:
            command = [sys.executable, "-c", _LAUNCHER, usage_file.name, shutil.which(command[0], path=(env or os.environ).get("PATH"))] + command[1:]
        started = time.perf_counter()
        with subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd) as process:
            _pid, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
        max_rss_mib = None
        if peak_rss:
            try:
                max_rss_mib = json.load(usage_file)["max_rss_kib"] / 1024.0
            except ValueError:
                pass
    return Measured(seconds, usage.ru_utime + usage.ru_stime, max_rss_mib, process.returncode, text)


def check(result, what):
    if result.returncode != 0:
        raise SystemExit(f"{what} failed (exit {result.returncode}):\n{result.output[-3000:]}")
    return result


def write_targets(out, checks):
    """The report's "Targets" section: one line per ``(text, met)`` check."""
    out("## Targets")
    out()
    for text, met in checks:
        out(f"- {'met' if met else 'MISSED'}: {text}")
    out()


def save_results(lines, prefix):
    """Write the report's Markdown lines to benchmarks/results/PREFIX-<date-time>.md (git-ignored); returns the path."""
    directory = os.path.join(ROOT, "benchmarks", "results")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{prefix}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}.md")
    with open(path, "w", encoding="utf-8") as results:
        results.write("\n".join(lines) + "\n")
    return path


class Endpoint:
    """The local endpoint, started by scripts/local_aws.py, and its request log."""

    def __init__(self, python, state_dir):
        self.python = python
        self.state_dir = state_dir
        self.url = None

    def _local_aws(self, action):
        command = [self.python, os.path.join(ROOT, "scripts", "local_aws.py"), action, "--state-dir", self.state_dir]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()

    def start(self):
        self.url = self._local_aws("start")
        return self.url

    def stop(self):
        self._local_aws("stop")

    def log_offset(self):
        try:
            return os.path.getsize(os.path.join(self.state_dir, "server.log"))
        except OSError:
            return 0

    def requests_since(self, offset):
        """(Lambda requests, other requests) logged since ``offset``; moto logs a request once it has answered it."""
        time.sleep(0.3)
        with open(os.path.join(self.state_dir, "server.log"), "rb") as log:
            log.seek(offset)
            lines = log.read().decode("utf-8", "replace").splitlines()
        lambda_calls = other_calls = 0
        for line in lines:
            match = _REQUEST_LINE.search(line)
            if not match or match.group(2).startswith("/moto-api"):
                continue
            if _LAMBDA_PATH.match(match.group(2)):
                lambda_calls += 1
            else:
                other_calls += 1
        return lambda_calls, other_calls


def write_zip(path, payload_bytes, seed_text):
    """A zip holding one stored member: ``seed_text`` then random bytes up to ``payload_bytes`` (reused if it exists)."""
    if os.path.exists(path):
        with zipfile.ZipFile(path) as archive:
            if archive.infolist()[0].file_size == payload_bytes:
                return path
    with zipfile.ZipFile(path + ".tmp", "w", compression=zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo("python/payload.bin", date_time=(2026, 1, 1, 0, 0, 0))
        with archive.open(info, "w", force_zip64=payload_bytes > 2 ** 31) as member:
            head = seed_text.encode()
            member.write(head)
            remaining = payload_bytes - len(head)
            while remaining > 0:
                chunk = os.urandom(min(remaining, 4 * MIB))
                member.write(chunk)
                remaining -= len(chunk)
    os.replace(path + ".tmp", path)
    return path


def small_zip(path, text):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("python/layer.py", date_time=(2026, 1, 1, 0, 0, 0)), text)
    return path


def b64_sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(MIB), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


class Bench:  # pylint: disable=too-many-instance-attributes
    def __init__(self, args):
        self.args = args
        self.python = os.path.join(os.environ.get("VENV") or os.path.join(ROOT, ".venv"), "bin", "python")
        self.bin = os.path.dirname(self.python)
        self.work = os.path.join(CACHE, "bench")
        self.files = os.path.join(self.work, "files")
        self.run_dir = os.path.join(self.work, "run")
        self.endpoint = Endpoint(self.python, os.path.join(self.work, "aws"))
        self.terraform = shutil.which("terraform") if os.path.isdir(TF_PLUGINS) else None
        self.client = None
        self.layers = []
        self.single = None
        self.timings = {}
        self.cpu_times = {}
        self.calls = {}
        self.rounds = {}
        self.lines = []

    # -- environment -------------------------------------------------------------------------

    def base_env(self):
        env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
            env.pop(name, None)
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            AWS_EC2_METADATA_DISABLED="true",
        )
        return env

    def ansible_env(self):
        env = self.base_env()
        env.update(
            ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
            ANSIBLE_PYTHON_INTERPRETER=self.python,
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="false",
            ANSIBLE_HOME=os.path.join(self.work, "ansible-home"),
        )
        return env

    def module_env(self):
        env = self.base_env()
        env["PYTHONPATH"] = COLLECTIONS
        return env

    def terraform_env(self):
        env = self.base_env()
        env.update(
            TF_CLI_CONFIG_FILE=os.path.join(self.run_dir, "terraform.rc"),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
        )
        return env

    def say(self, message):
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    # -- preparation -------------------------------------------------------------------------

    def prepare(self):
        os.makedirs(self.files, exist_ok=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        os.makedirs(self.run_dir)
        self.say(f"starting the local endpoint ({self.endpoint.start()})")
        self.client = boto3.client(
            "lambda", region_name=REGION, endpoint_url=self.endpoint.url, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.single = self.layer_spec("bench-single", 0)
        self.layers = [self.layer_spec(f"bench-{n:03d}", n + 1) for n in range(50)]
        if self.terraform:
            self.say(f"creating the layers with {self.terraform} (terraform apply), so that terraform plan has no changes")
            self.terraform_dir("tf-1", [self.single])
            self.terraform_dir("tf-50", self.layers)
        else:
            self.say("terraform not found (or no /opt/tf-plugins): creating the layers with boto3; the terraform column is skipped")
            for layer in [self.single] + self.layers:
                with open(layer["filename"], "rb") as package:
                    self.client.publish_layer_version(
                        LayerName=layer["layer_name"],
                        Content={"ZipFile": package.read()},
                        Description=layer["description"],
                        CompatibleRuntimes=layer["compatible_runtimes"],
                        CompatibleArchitectures=layer["compatible_architectures"],
                    )
        self.write_playbooks()

    def layer_spec(self, name, number):
        return {
            "layer_name": name,
            "filename": small_zip(os.path.join(self.run_dir, f"{name}.zip"), f"NUMBER = {number}\n"),
            "description": f"benchmark layer {number}",
            "compatible_runtimes": RUNTIMES,
            "compatible_architectures": ARCHITECTURES,
        }

    def terraform_dir(self, name, layers):
        with open(os.path.join(self.run_dir, "terraform.rc"), "w", encoding="utf-8") as rc_file:
            rc_file.write(
                "provider_installation {\n"
                f'  filesystem_mirror {{\n    path    = "{TF_PLUGINS}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
                "}\n"
            )
        directory = os.path.join(self.run_dir, name)
        os.makedirs(directory)
        url = self.endpoint.url
        with open(os.path.join(directory, "main.tf"), "w", encoding="utf-8") as main_tf:
            main_tf.write(
                f"""terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}

provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
    lambda = "{url}"
    s3     = "{url}"
    sts    = "{url}"
  }}
}}

variable "layers" {{
  type = map(object({{ filename = string, description = string, compatible_runtimes = list(string), compatible_architectures = list(string) }}))
}}

resource "aws_lambda_layer_version" "layer" {{
  for_each                 = var.layers
  layer_name               = each.key
  filename                 = each.value.filename
  source_code_hash         = filebase64sha256(each.value.filename)
  description              = each.value.description
  compatible_runtimes      = each.value.compatible_runtimes
  compatible_architectures = each.value.compatible_architectures
}}
"""
            )
        variables = {"layers": {layer["layer_name"]: {key: value for key, value in layer.items() if key != "layer_name"} for layer in layers}}
        with open(os.path.join(directory, "terraform.tfvars.json"), "w", encoding="utf-8") as tfvars:
            json.dump(variables, tfvars, indent=1)
        env = self.terraform_env()
        check(measure([self.terraform, "init", "-input=false", "-no-color"], env, directory), f"terraform init in {directory}")
        check(measure([self.terraform, "apply", "-auto-approve", "-input=false", "-no-color"], env, directory), f"terraform apply in {directory}")

    def write_playbooks(self):
        defaults = {"group/layerwise.aws.aws": {"endpoint_url": self.endpoint.url, "region": REGION}}

        def play(tasks):
            return [{"name": "Benchmark", "hosts": "localhost", "connection": "local", "gather_facts": False, "module_defaults": defaults, "tasks": tasks}]

        single = self.single
        loop_item = {key: f"{{{{ item.{key} }}}}" for key in single}
        playbooks = {
            "floor": [{"name": "Nothing but ansible-playbook itself", "ansible.builtin.debug": {"msg": "hello"}}],
            "ours-1": [{"name": "One unchanged layer", "layerwise.aws.lambda_layer_version": single}],
            "info-1": [{"name": "Read the same layer", "amazon.aws.lambda_layer_info": {"name": single["layer_name"]}}],
            "ours-bulk-50": [{"name": "Fifty unchanged layers, one task", "layerwise.aws.lambda_layer_versions": {"layers": self.layers}}],
            "ours-loop-50": [{"name": "Fifty unchanged layers, a loop", "layerwise.aws.lambda_layer_version": loop_item, "loop": self.layers}],
            "info-loop-50": [{"name": "Read fifty layers, a loop", "amazon.aws.lambda_layer_info": {"name": "{{ item.layer_name }}"}, "loop": self.layers}],
        }
        for name, tasks in playbooks.items():
            # JSON is YAML: no YAML writer needed.
            with open(os.path.join(self.run_dir, f"{name}.yml"), "w", encoding="utf-8") as playbook:
                json.dump(play(tasks), playbook, indent=1)

    # -- one measured run of each kind -----------------------------------------------------

    def command_of(self, label):
        if label.startswith("tf-"):
            plan = [self.terraform, "plan", "-input=false", "-lock=false", "-detailed-exitcode", "-no-color"]
            return plan, self.terraform_env(), os.path.join(self.run_dir, label)
        return [os.path.join(self.bin, "ansible-playbook"), os.path.join(self.run_dir, f"{label}.yml")], self.ansible_env(), self.run_dir

    def timed(self, label):
        command, env, cwd = self.command_of(label)
        offset = self.endpoint.log_offset()
        result = measure(command, env, cwd)
        if label.startswith("tf-"):
            if result.returncode != 0:  # -detailed-exitcode: 2 would mean changes
                raise SystemExit(f"terraform plan ({label}) did not report 'no changes' (exit {result.returncode}):\n{result.output[-3000:]}")
        else:
            recap = _RECAP.search(result.output)
            if result.returncode != 0 or not recap or recap.group(2) != "0" or recap.group(4) != "0":
                raise SystemExit(f"{label}: not an unchanged, successful run:\n{result.output[-3000:]}")
        self.timings.setdefault(label, []).append(result.seconds)
        self.cpu_times.setdefault(label, []).append(result.cpu)
        self.calls.setdefault(label, set()).add(self.endpoint.requests_since(offset))
        return result.seconds, result.cpu

    def run_rounds(self, labels, runs, key):
        """``runs`` rounds; each runs every label once, in an order rotated round by round."""
        rounds = []
        for number in range(runs):
            order = labels[number % len(labels):] + labels[:number % len(labels)]
            self.say(f"{key} round {number + 1}/{runs}: {', '.join(order)}")
            rounds.append({label: self.timed(label) for label in order})
        self.rounds[key] = rounds

    def unchanged_runs(self):
        labels = ["floor", "ours-1", "info-1", "ours-bulk-50"]
        if self.terraform:
            labels += ["tf-1", "tf-50"]
        self.say("warm-up (not counted)")
        for label in labels:
            self.timed(label)
        self.timings.clear()
        self.cpu_times.clear()
        self.calls.clear()
        self.run_rounds(labels, self.args.runs, "main")
        self.run_rounds(["ours-loop-50", "info-loop-50"], self.args.loop_runs, "loops")

    # -- hashing ---------------------------------------------------------------------------

    def hashing(self):
        size = self.args.hash_mb * 1000 * 1000
        small = write_zip(os.path.join(self.files, "hash-small.zip"), size // 10, "small")
        big = write_zip(os.path.join(self.files, "hash-big.zip"), size, "big")
        code = (
            "import sys, time\n"
            "from ansible_collections.layerwise.aws.plugins.module_utils._layer_hash import sha256_of_file\n"
            "started = time.perf_counter()\n"
            "digest = sha256_of_file(sys.argv[1])\n"
            "print(digest, time.perf_counter() - started)\n"
        )
        expected = b64_sha256_file(big)
        ours, ours_inner, theirs, ratios = [], [], [], []
        rss = {}
        for path in (small, big):  # warm the page cache for both
            measure(["sha256sum", path])
        for number in range(self.args.runs):
            self.say(f"hashing round {number + 1}/{self.args.runs}")
            pair = {}
            for tool in (("ours", "sha256sum") if number % 2 == 0 else ("sha256sum", "ours")):
                if tool == "ours":
                    result = check(measure([self.python, "-c", code, big], self.module_env(), peak_rss=True), "sha256_of_file")
                    digest, inner = result.output.split()
                    assert digest == expected, "sha256_of_file gave a different digest"
                    ours.append(result.seconds)
                    ours_inner.append(float(inner))
                    pair["ours"] = float(inner)
                    rss.setdefault("big", []).append(result.max_rss_mib)
                else:
                    result = check(measure(["sha256sum", big]), "sha256sum")
                    assert base64.b64encode(bytes.fromhex(result.output.split()[0])).decode() == expected
                    theirs.append(result.seconds)
                    pair["sha256sum"] = result.seconds
            ratios.append(pair["sha256sum"] / pair["ours"])
            result = check(measure([self.python, "-c", code, small], self.module_env(), peak_rss=True), "sha256_of_file (small)")
            rss.setdefault("small", []).append(result.max_rss_mib)
        megabytes = os.path.getsize(big) / 1e6
        sha256sum_rss = measure(["sha256sum", big], peak_rss=True).max_rss_mib
        launcher_floor = measure(["true"], peak_rss=True).max_rss_mib
        return {
            "sha256sum_rss": sha256sum_rss,
            "launcher_floor": launcher_floor,
            "megabytes": megabytes,
            "small_megabytes": os.path.getsize(small) / 1e6,
            "ours_inner": statistics.median(ours_inner),
            "ours_process": statistics.median(ours),
            "sha256sum": statistics.median(theirs),
            "ratio": statistics.median(ratios),
            "rss_big": statistics.median(rss["big"]),
            "rss_small": statistics.median(rss["small"]),
        }

    # -- module processes: memory ------------------------------------------------------------

    def run_module(self, module, params, label):
        """Run a module file directly (as AnsiballZ would, without ansible-playbook); wait4 gives its own peak RSS."""
        connection = {"endpoint_url": self.endpoint.url, "region": REGION, "access_key": "testing", "secret_key": "testing"}
        args_path = os.path.join(self.run_dir, f"args-{label}.json")
        with open(args_path, "w", encoding="utf-8") as args_file:
            json.dump({"ANSIBLE_MODULE_ARGS": dict(connection, **params)}, args_file)
        offset = self.endpoint.log_offset()
        result = measure([self.python, "-m", f"ansible_collections.{module}", args_path], self.module_env(), peak_rss=True)
        calls = self.endpoint.requests_since(offset)
        try:
            answer = json.loads(result.output[result.output.index("{"):])
        except ValueError:
            answer = {"failed": True, "msg": result.output[-2000:]}
        if answer.get("failed"):
            raise SystemExit(f"{label}: {module} failed: {answer.get('msg')}")
        return result, answer, calls

    def memory(self):  # pylint: disable=too-many-locals
        ours = "layerwise.aws.plugins.modules.lambda_layer_version"
        theirs = "amazon.aws.plugins.modules.lambda_layer"
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=self.endpoint.url, aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="bench")
        rows = []

        def unchanged(label, params, note):
            samples = []
            for _number in range(self.args.mem_runs):
                result, answer, calls = self.run_module(ours, params, label)
                if answer.get("changed"):
                    raise SystemExit(f"{label}: expected an unchanged run, got {answer}")
                samples.append(result)
            rows.append((label, note, statistics.median(r.max_rss_mib for r in samples), statistics.median(r.seconds for r in samples), calls))

        # Baseline: a small local zip, unchanged.
        unchanged("unchanged, small local zip (baseline)", dict(self.single), "hashes a few hundred bytes")

        local_big = write_zip(os.path.join(self.files, "local-49mib.zip"), 49 * MIB, "local")
        with open(local_big, "rb") as package:
            self.client.publish_layer_version(LayerName="mem-local", Content={"ZipFile": package.read()})
        unchanged("unchanged, local 49 MiB zip", {"layer_name": "mem-local", "filename": local_big}, "streams the file through SHA-256")

        s3_big = write_zip(os.path.join(self.files, "s3-200mb.zip"), self.args.hash_mb * 1000 * 1000, "s3")
        with open(s3_big, "rb") as package:
            s3.put_object(Bucket="bench", Key="plain.zip", Body=package)
        with open(s3_big, "rb") as package:
            s3.put_object(Bucket="bench", Key="sha256.zip", Body=package, ChecksumAlgorithm="SHA256")
        megabytes = os.path.getsize(s3_big) / 1e6
        self.client.publish_layer_version(LayerName="mem-s3", Content={"S3Bucket": "bench", "S3Key": "plain.zip"})
        self.client.publish_layer_version(LayerName="mem-s3-sha", Content={"S3Bucket": "bench", "S3Key": "sha256.zip"})
        unchanged(
            f"unchanged, S3 {megabytes:.0f} MB object without SHA-256 checksum",
            {"layer_name": "mem-s3", "s3_bucket": "bench", "s3_key": "plain.zip"},
            "GetObject streamed through SHA-256",
        )
        unchanged(
            f"unchanged, S3 {megabytes:.0f} MB object with SHA-256 checksum",
            {"layer_name": "mem-s3-sha", "s3_bucket": "bench", "s3_key": "sha256.zip"},
            "HeadObject's ChecksumSHA256, nothing downloaded",
        )

        publish = write_zip(os.path.join(self.files, "publish-45mib.zip"), 45 * MIB, "publish")
        samples = {"ours": [], "theirs": []}
        ratios = []
        for number in range(self.args.mem_runs):
            self.say(f"publish round {number + 1}/{self.args.mem_runs}")
            pair = {}
            for tool in (("ours", "theirs") if number % 2 == 0 else ("theirs", "ours")):
                name = f"pub-{tool}-{number}"
                if tool == "ours":
                    result, answer, _calls = self.run_module(ours, {"layer_name": name, "filename": publish}, name)
                else:
                    result, answer, _calls = self.run_module(theirs, {"name": name, "content": {"zip_file": publish}}, name)
                assert answer.get("changed"), f"{name}: expected a publish"
                samples[tool].append(result)
                pair[tool] = result.max_rss_mib
            ratios.append(pair["ours"] / pair["theirs"])
        publish_rows = {
            tool: (statistics.median(r.max_rss_mib for r in results), statistics.median(r.seconds for r in results)) for tool, results in samples.items()
        }
        return rows, publish_rows, statistics.median(ratios)

    def many_versions_calls(self):
        """Lambda calls of one unchanged run of a layer with many versions (moto ignores MaxItems, so the one list call returns them all)."""
        count = self.args.versions
        for number in range(count):
            path = small_zip(os.path.join(self.run_dir, "many.zip"), f"VERSION = {number}\n")
            with open(path, "rb") as package:
                self.client.publish_layer_version(LayerName="bench-many", Content={"ZipFile": package.read()})
        result, answer, calls = self.run_module("layerwise.aws.plugins.modules.lambda_layer_version", {"layer_name": "bench-many", "filename": path}, "many")
        assert not answer.get("changed"), answer
        return count, calls, result.seconds

    def info_concurrency(self):
        """benchmarks/info_concurrency.py on loopback, and (not with --quick) with 20 ms added per request, as a region's round trip."""
        command = [self.python, os.path.join(ROOT, "benchmarks", "info_concurrency.py"), "--versions", str(self.args.versions), "--pools", "1,8"]
        outputs = [check(measure(command + ["--runs", str(self.args.runs)], dict(os.environ, CACHE=CACHE)), "benchmarks/info_concurrency.py").output.strip()]
        if not self.args.quick:
            with_rtt = command + ["--runs", str(min(self.args.runs, 3)), "--rtt-ms", "20"]
            outputs.append(check(measure(with_rtt, dict(os.environ, CACHE=CACHE)), "benchmarks/info_concurrency.py --rtt-ms 20").output.strip())
        return "\n\n".join(outputs)

    # -- report ------------------------------------------------------------------------------

    def median(self, label):
        return statistics.median(self.timings[label])

    def spread(self, label):
        values = self.timings[label]
        return f"{min(values):.2f}-{max(values):.2f}"

    def round_ratio(self, key, numerator, denominator, index=0):
        """Median over the rounds of one round's ratio; ``index`` 0 is wall time, 1 CPU time."""
        return statistics.median(one[numerator][index] / one[denominator][index] for one in self.rounds[key])

    def calls_text(self, label):
        counts = sorted(self.calls[label])
        return ", ".join(f"{lam} Lambda" + (f" + {other} other" if other else "") for lam, other in counts)

    def out(self, line=""):
        self.lines.append(line)
        print(line, flush=True)

    def report(self, hashing, memory, many, info_output, seconds):  # pylint: disable=too-many-locals,too-many-statements
        args = self.args
        tf = bool(self.terraform)
        self.out(f"# layerwise.aws benchmark, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}")
        self.out()
        self.out(
            f"moto on loopback, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; medians of {args.runs} interleaved rounds"
            f" ({args.loop_runs} for the loops); total {seconds / 60:.1f} min."
        )
        if not tf:
            self.out("terraform (or /opt/tf-plugins) is absent here: its columns are skipped.")
        self.out()
        self.out("## Unchanged runs: wall time of the whole command")
        self.out()
        self.out("| what | command | wall s (median) | wall min-max | CPU s (median) | AWS requests per run |")
        self.out("|---|---|---:|---:|---:|---|")
        rows = [
            ("floor", "ansible-playbook, one `ansible.builtin.debug` task"),
            ("ours-1", "ansible-playbook, one `layerwise.aws.lambda_layer_version` task"),
            ("info-1", "ansible-playbook, one `amazon.aws.lambda_layer_info` task (same layer)"),
            ("tf-1", "`terraform plan`, 1 `aws_lambda_layer_version`"),
            ("ours-bulk-50", "ansible-playbook, one `layerwise.aws.lambda_layer_versions` task, 50 layers"),
            ("tf-50", "`terraform plan`, 50 `aws_lambda_layer_version`"),
            ("ours-loop-50", "ansible-playbook, loop of 50 `layerwise.aws.lambda_layer_version`"),
            ("info-loop-50", "ansible-playbook, loop of 50 `amazon.aws.lambda_layer_info`"),
        ]
        for label, what in rows:
            if label in self.timings:
                cpu = statistics.median(self.cpu_times[label])
                self.out(f"| {label} | {what} | {self.median(label):.2f} | {self.spread(label)} | {cpu:.2f} | {self.calls_text(label)} |")
        self.out()
        self.out("## Ratios (median of the per-round ratios; < 1 means ours is faster)")
        self.out()
        self.out("| ratio | wall | CPU | target (wall) |")
        self.out("|---|---:|---:|---|")
        pairs = [("main", "ours-1", "info-1", "<= 1.00"), ("loops", "ours-loop-50", "info-loop-50", "-")]
        if tf:
            pairs += [("main", "ours-1", "tf-1", "< 0.20"), ("main", "ours-bulk-50", "tf-50", "< 0.50 (aim 0.25)")]
        for key, numerator, denominator, target in pairs:
            wall = self.round_ratio(key, numerator, denominator)
            cpu = self.round_ratio(key, numerator, denominator, 1)
            self.out(f"| {numerator} / {denominator} | {wall:.2f} | {cpu:.2f} | {target} |")
        above_floor = [
            statistics.median((one["ours-1"][index] - one["floor"][index]) / (one["info-1"][index] - one["floor"][index]) for one in self.rounds["main"])
            for index in (0, 1)
        ]
        self.out(f"| (ours-1 - floor) / (info-1 - floor): the tasks alone | {above_floor[0]:.2f} | {above_floor[1]:.2f} | - |")
        self.out()
        self.out(
            f"Calls for one unchanged run of a layer with {many[0]} versions (module run directly): "
            f"{many[1][0]} Lambda + {many[1][1]} other requests (target: 2 Lambda)."
        )
        self.out()
        self.out(f"## Hashing a {hashing['megabytes']:.0f} MB file (warm page cache)")
        self.out()
        self.out("| tool | median s | MB/s | peak RSS of the process |")
        self.out("|---|---:|---:|---:|")
        self.out(
            f"| `sha256_of_file` (in-process time) | {hashing['ours_inner']:.3f} | {hashing['megabytes'] / hashing['ours_inner']:.0f} |"
            f" {hashing['rss_big']:.1f} MiB ({hashing['rss_small']:.1f} MiB on a {hashing['small_megabytes']:.0f} MB file) |"
        )
        self.out(f"| `sha256_of_file` (whole python process) | {hashing['ours_process']:.3f} | {hashing['megabytes'] / hashing['ours_process']:.0f} | |")
        self.out(
            f"| `sha256sum` | {hashing['sha256sum']:.3f} | {hashing['megabytes'] / hashing['sha256sum']:.0f} |"
            f" {hashing['sha256sum_rss']:.1f} MiB (at most: the measuring launcher's own floor is {hashing['launcher_floor']:.1f} MiB) |"
        )
        self.out()
        self.out(f"Throughput ours / sha256sum (per-round, in-process): {hashing['ratio']:.2f}x (target >= 0.9x).")
        self.out()
        rows, publish_rows, publish_ratio = memory
        self.out("## Peak memory of the module process (run directly, max RSS from wait4)")
        self.out()
        self.out("| run | what it does | peak RSS MiB | wall s | AWS requests |")
        self.out("|---|---|---:|---:|---|")
        for label, note, rss, wall, calls in rows:
            self.out(f"| {label} | {note} | {rss:.1f} | {wall:.2f} | {calls[0]} Lambda + {calls[1]} other |")
        for tool, module in (("ours", "layerwise.aws.lambda_layer_version"), ("theirs", "amazon.aws.lambda_layer")):
            rss, wall = publish_rows[tool]
            self.out(f"| publish a 45 MiB zip | `{module}` | {rss:.1f} | {wall:.2f} | |")
        self.out()
        self.out(f"Publish peak RSS ours / amazon.aws.lambda_layer (per-round): {publish_ratio:.2f} (target <= 1.00).")
        self.out()
        self.targets(hashing, memory, many)
        self.out("## lambda_layer_version_info detail reads (benchmarks/info_concurrency.py)")
        self.out()
        self.out("```")
        self.out(info_output)
        self.out("```")

    def targets(self, hashing, memory, many):
        rows, _publish_rows, publish_ratio = memory
        checks = [
            ("unchanged single layer no slower than amazon.aws.lambda_layer_info (wall ratio <= 1.00)", self.round_ratio("main", "ours-1", "info-1") <= 1.0),
            (
                "two Lambda read calls per unchanged layer, whatever its number of versions; in the bulk task one, after a ListLayers"
                " (moto answers it in one page)",
                self.calls["ours-1"] == {(2, 0)} and self.calls["ours-bulk-50"] == {(51, 0)} and many[1] == (2, 0),
            ),
            (
                "hashing at >= 0.9x sha256sum, memory not growing with the file (< 5 MiB more for a 10x larger file)",
                hashing["ratio"] >= 0.9 and hashing["rss_big"] - hashing["rss_small"] < 5,
            ),
            ("unchanged run's memory does not grow with the package (local 49 MiB zip within 5 MiB of the baseline)", rows[1][2] - rows[0][2] < 5),
            ("publish peak RSS no worse than amazon.aws.lambda_layer (ratio <= 1.02: RSS varies by a few MiB)", publish_ratio <= 1.02),
        ]
        if self.terraform:
            checks.insert(1, ("unchanged single layer under a fifth of terraform plan", self.round_ratio("main", "ours-1", "tf-1") < 0.2))
            bulk = self.round_ratio("main", "ours-bulk-50", "tf-50")
            checks.append((f"50 layers in one task under half of terraform plan (aim: a quarter; {bulk:.2f})", bulk < 0.5))
        write_targets(self.out, checks)

    def save(self):
        self.say(f"written to {save_results(self.lines, 'bench')}")

    def run(self):
        started = time.perf_counter()
        try:
            self.prepare()
            self.unchanged_runs()
            many = self.many_versions_calls()
            memory = self.memory()
        finally:
            self.endpoint.stop()
        hashing = self.hashing()
        self.say("benchmarks/info_concurrency.py")
        info_output = self.info_concurrency()
        self.report(hashing, memory, many, info_output, time.perf_counter() - started)
        self.save()
        if self.args.clean:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller files: a smoke run of the whole benchmark")
    parser.add_argument("--runs", type=int, help="rounds of the short runs (default 5; 3 with --quick)")
    parser.add_argument("--loop-runs", type=int, help="rounds of the loops of 50 tasks (default 3; 1 with --quick)")
    parser.add_argument("--mem-runs", type=int, help="runs of each module-memory case (default 3; 1 with --quick)")
    parser.add_argument("--hash-mb", type=int, help="size of the big file in MB (default 200; 50 with --quick)")
    parser.add_argument("--versions", type=int, help="versions of the many-versions layer (default 300; 100 with --quick)")
    parser.add_argument("--clean", action="store_true", help=f"remove {os.path.join(CACHE, 'bench')} (the big files) at the end")
    args = parser.parse_args()
    defaults = {"runs": (5, 3), "loop_runs": (3, 1), "mem_runs": (3, 1), "hash_mb": (200, 50), "versions": (300, 100)}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    Bench(args).run()


if __name__ == "__main__":
    main()
