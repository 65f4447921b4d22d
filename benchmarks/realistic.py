# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""layerwise.aws at AWS's limits: unchanged runs through Lambda's quota, against terraform plan and amazon.aws.

    bash benchmarks/run.sh realistic [--rounds 3] [--large-rounds 2] [--large-loop-rounds 1]
                                     [--sizes 1,50,500] [--regions 17] [--memory-sizes 50,500,2000]
                                     [--baseline GIT-REF] [--quick] [--clean]

Starts its own local endpoint (moto on loopback, dummy credentials) and puts the fault
proxy (tests/integration/targets/setup_fault_proxy) in front of it with Lambda's limits:
15 requests per second per region (a token bucket of 15; beyond it 429
TooManyRequestsException, which every tool retries), 25 ms added to every Lambda request
(a region's round trip), and list answers cut into pages of 50 as AWS does (moto answers
every layer in one page). Every tool reaches the endpoint only through the proxy.

Each case lives in a region of its own, which then holds exactly the case's layers: 1 layer
in us-east-1, 50 in us-east-2, 500 in us-west-2, and one layer in each of 17 other regions.
The layers are created with `terraform apply` (past the proxy), so that every plan is "no
changes"; the Ansible runs manage or read the very same layers with the same files.

Then, interleaved (each round runs every command once, in an order rotated round by round),
unchanged runs of:
- one `layerwise.aws.lambda_layer_versions` task (ours-bulk);
- a loop of `layerwise.aws.lambda_layer_version` (ours-loop; one task for 1 layer);
- a loop of `amazon.aws.lambda_layer_info` reading the same layers (info-loop);
- `terraform plan` (its default parallelism of 10), one provider alias per region for the
  17-region case;
- with --baseline REF, also ours at that git commit (the single-layer task), to show what a
  change did, side by side in the same rounds.

For each: wall time, the Lambda requests the proxy let through, the requests it throttled,
and the quota floor: the most requests let through in one region divided by 15 per second
(the least time those requests can take at the quota). The proxy's stats and log are reset
(its buckets refilled) before every run.

Finally (item 4 of issue 15) the bulk module alone, run directly (no ansible-playbook) against
moto on loopback without the proxy, and with the collection's rate limiter lifted (loopback has
no quota), on 50, 500 and 2,000 unchanged layers: its peak RSS (wait4) and wall time.

Prints Markdown tables and writes them to benchmarks/results/. Not a test: nothing here
asserts a time. About 25 minutes with the defaults (the loops over 500 layers take most).
"""

import argparse
import datetime
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compare  # noqa: E402  pylint: disable=wrong-import-position
from compare import COLLECTIONS, ROOT, TF_PLUGINS, Endpoint, check, measure, save_results, small_zip  # noqa: E402  pylint: disable=wrong-import-position
from compare import write_targets  # noqa: E402  pylint: disable=wrong-import-position

import boto3  # noqa: E402  pylint: disable=wrong-import-position

CACHE = compare.CACHE
PROXY_SCRIPT = os.path.join(ROOT, "tests", "integration", "targets", "setup_fault_proxy", "files", "fault_proxy.py")
QUOTA = 15.0
LATENCY_MS = 25
PAGE_SIZE = 50
CASE_REGIONS = {1: "us-east-1", 50: "us-east-2", 500: "us-west-2"}
# The memory runs' own layers, where the cases above do not already hold as many.
MEMORY_REGIONS = {50: "eu-central-2", 200: "eu-south-2", 500: "ap-southeast-3", 2000: "ca-central-1"}
# One layer in each: 17 regions apart from the ones above.
MANY_REGIONS = [
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
    "us-west-1",
    "af-south-1",
    "me-south-1",
    "ap-east-1",
]
LAMBDA_OPERATIONS = {
    "ListLayers",
    "ListLayerVersions",
    "GetLayerVersion",
    "GetLayerVersionByArn",
    "PublishLayerVersion",
    "DeleteLayerVersion",
    "GetLayerVersionPolicy",
    "AddLayerVersionPermission",
    "RemoveLayerVersionPermission",
}


# Runs a module with the collection's rate limiter lifted: loopback has no quota, and what is
# measured here is the module's own time and memory, not the quota's.
UNPACED_MODULE = """
import runpy, sys
from ansible_collections.layerwise.aws.plugins.module_utils import _layer_retry


class Unlimited:
    def acquire(self):
        return 0.0

    def throttled(self):
        pass

    def answered(self):
        pass


_layer_retry.rate_limiter = lambda client: Unlimited()
module = sys.argv[1]
sys.argv = [sys.argv[0], sys.argv[2]]
runpy.run_module("ansible_collections." + module, run_name="__main__")
"""


def is_lambda(operation):
    return operation in LAMBDA_OPERATIONS or operation.startswith("Lambda:")


class Proxy:
    """The fault proxy in front of the endpoint, started by its own CLI, and its control API."""

    def __init__(self, python, state_dir):
        self.python = python
        self.state_dir = state_dir
        self.url = None
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self, upstream):
        command = [self.python, PROXY_SCRIPT, "start", "--upstream", upstream, "--state-dir", self.state_dir]
        command += ["--rate", str(QUOTA), "--burst", str(int(QUOTA)), "--latency-ms", str(LATENCY_MS), "--scope", "lambda", "--page-size", str(PAGE_SIZE)]
        self.url = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
        return self.url

    def stop(self):
        subprocess.run([self.python, PROXY_SCRIPT, "stop", "--state-dir", self.state_dir], check=False, capture_output=True)

    def control(self, what, method="GET"):
        request = urllib.request.Request(f"{self.url}/__faults__{what}", method=method, data=b"" if method == "POST" else None)
        with self.opener.open(request, timeout=30) as response:
            return json.load(response)

    def reset(self):
        self.control("/reset", "POST")

    def counts(self):
        """(Lambda requests let through, Lambda requests throttled, {region: let through}, {operation: let through})."""
        forwarded = throttled = 0
        by_region = {}
        by_operation = {}
        for entry in self.control("/log"):
            if not is_lambda(entry["operation"]):
                continue
            if entry["action"] == "throttled":
                throttled += 1
            elif entry["action"] == "forwarded":
                forwarded += 1
                by_region[entry["region"]] = by_region.get(entry["region"], 0) + 1
                by_operation[entry["operation"]] = by_operation.get(entry["operation"], 0) + 1
        return forwarded, throttled, by_region, by_operation


class Case:
    """One set of layers: its name, its layers (each with its region), and what runs on it."""

    def __init__(self, name, layers):
        self.name = name
        self.layers = layers

    @property
    def regions(self):
        return sorted({layer["region"] for layer in self.layers})


class Realistic:  # pylint: disable=too-many-instance-attributes
    def __init__(self, args):
        self.args = args
        self.python = os.path.join(os.environ.get("VENV") or os.path.join(ROOT, ".venv"), "bin", "python")
        self.bin = os.path.dirname(self.python)
        self.work = os.path.join(CACHE, "bench-realistic")
        self.run_dir = os.path.join(self.work, "run")
        self.endpoint = Endpoint(self.python, os.path.join(self.work, "aws"))
        self.proxy = Proxy(self.python, os.path.join(self.work, "proxy"))
        self.terraform = shutil.which("terraform") if os.path.isdir(TF_PLUGINS) else None
        self.helper = compare.Bench(argparse.Namespace())  # its environments
        self.helper.work = self.work
        self.helper.run_dir = self.run_dir
        self.cases = {}
        self.samples = {}  # (case, label) -> [(seconds, forwarded, throttled, floor seconds, by_operation)]
        self.rounds = {}  # case -> [{label: seconds}]
        self.memory_rows = []
        self.breakdown = {}  # label -> [(wall, CPU) seconds of the module process alone]
        self.breakdown_sizes = {}
        self.baseline_collections = None
        self.lines = []

    def say(self, message):
        print(f"[realistic] {message}", file=sys.stderr, flush=True)

    # -- preparation -------------------------------------------------------------------------

    def layer(self, name, region, number):
        return {
            "layer_name": name,
            "region": region,
            "filename": small_zip(os.path.join(self.run_dir, "zips", f"{name}.zip"), f"NUMBER = {number}\n"),
            "description": f"realistic benchmark layer {number}",
            "compatible_runtimes": compare.RUNTIMES,
            "compatible_architectures": compare.ARCHITECTURES,
        }

    def prepare(self):
        shutil.rmtree(self.run_dir, ignore_errors=True)
        os.makedirs(os.path.join(self.run_dir, "zips"))
        self.say(f"starting the local endpoint ({self.endpoint.start()})")
        self.say(f"starting the fault proxy ({self.proxy.start(self.endpoint.url)}): {QUOTA:g} requests/s per region, {LATENCY_MS} ms, pages of {PAGE_SIZE}")
        for size in self.args.sizes:
            region = CASE_REGIONS[size]
            self.cases[str(size)] = Case(str(size), [self.layer(f"rl-{size}-{number:04d}", region, number) for number in range(size)])
        if self.args.regions:
            regions = MANY_REGIONS[: self.args.regions]
            self.cases["regions"] = Case("regions", [self.layer("rl-everywhere", region, 0) for region in regions])
        for case in self.cases.values():
            self.create(case)
            self.write_playbooks(case)
        if self.args.baseline:
            self.baseline_collections = self.baseline_tree(self.args.baseline)

    def create(self, case):
        if self.terraform:
            self.say(f"creating the {len(case.layers)} layers of case {case.name} with terraform apply (past the proxy)")
            self.terraform_dir(case, self.endpoint.url)
            env = self.helper.terraform_env()
            directory = os.path.join(self.run_dir, f"tf-{case.name}")
            check(measure([self.terraform, "init", "-input=false", "-no-color"], env, directory), f"terraform init ({case.name})")
            check(measure([self.terraform, "apply", "-auto-approve", "-input=false", "-no-color"], env, directory), f"terraform apply ({case.name})")
            self.terraform_dir(case, self.proxy.url)  # from now on, through the proxy
        else:
            self.say(f"creating the {len(case.layers)} layers of case {case.name} with boto3 (no terraform here)")
            self.publish(case.layers)

    def publish(self, layers):
        clients = {}
        for layer in layers:
            if layer["region"] not in clients:
                clients[layer["region"]] = boto3.client(
                    "lambda", region_name=layer["region"], endpoint_url=self.endpoint.url, aws_access_key_id="testing", aws_secret_access_key="testing"
                )
            with open(layer["filename"], "rb") as package:
                clients[layer["region"]].publish_layer_version(
                    LayerName=layer["layer_name"],
                    Content={"ZipFile": package.read()},
                    Description=layer["description"],
                    CompatibleRuntimes=layer["compatible_runtimes"],
                    CompatibleArchitectures=layer["compatible_architectures"],
                )

    def terraform_dir(self, case, url):
        """main.tf and terraform.tfvars.json of a case: one provider (alias) per region, one resource block per region."""
        with open(os.path.join(self.run_dir, "terraform.rc"), "w", encoding="utf-8") as rc_file:
            rc_file.write(
                "provider_installation {\n"
                f'  filesystem_mirror {{\n    path    = "{TF_PLUGINS}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
                "}\n"
            )
        directory = os.path.join(self.run_dir, f"tf-{case.name}")
        os.makedirs(directory, exist_ok=True)
        parts = ['terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n']
        parts.append(
            "variable \"layers\" {\n  type = map(map(object({ filename = string, description = string,"
            " compatible_runtimes = list(string), compatible_architectures = list(string) })))\n}\n"
        )
        for region in case.regions:
            alias = region.replace("-", "_")
            parts.append(
                f"""
provider "aws" {{
  alias                       = "{alias}"
  region                      = "{region}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {{
    lambda = "{url}"
    s3     = "{url}"
    sts    = "{url}"
  }}
}}

resource "aws_lambda_layer_version" "{alias}" {{
  provider                 = aws.{alias}
  for_each                 = var.layers["{region}"]
  layer_name               = each.key
  filename                 = each.value.filename
  source_code_hash         = filebase64sha256(each.value.filename)
  description              = each.value.description
  compatible_runtimes      = each.value.compatible_runtimes
  compatible_architectures = each.value.compatible_architectures
}}
"""
            )
        with open(os.path.join(directory, "main.tf"), "w", encoding="utf-8") as main_tf:
            main_tf.write("".join(parts))
        variables = {region: {} for region in case.regions}
        for layer in case.layers:
            variables[layer["region"]][layer["layer_name"]] = {key: value for key, value in layer.items() if key not in ("layer_name", "region")}
        with open(os.path.join(directory, "terraform.tfvars.json"), "w", encoding="utf-8") as tfvars:
            json.dump({"layers": variables}, tfvars, indent=1)

    def write_playbooks(self, case):
        defaults = {
            "group/layerwise.aws.aws": {"endpoint_url": self.proxy.url, "region": case.regions[0], "access_key": "testing", "secret_key": "testing"}
        }

        def play(tasks):
            return [{"name": "Benchmark", "hosts": "localhost", "connection": "local", "gather_facts": False, "module_defaults": defaults, "tasks": tasks}]

        several = len(case.regions) > 1
        bulk_items = [{key: value for key, value in layer.items() if several or key != "region"} for layer in case.layers]
        loop_item = {key: f"{{{{ item.{key} }}}}" for key in case.layers[0]}
        playbooks = {
            "ours-bulk": [{"name": "Layers", "layerwise.aws.lambda_layer_versions": {"layers": bulk_items}}],
            "ours-loop": [
                {"name": "Layer", "layerwise.aws.lambda_layer_version": loop_item, "loop": case.layers, "loop_control": {"label": "{{ item.layer_name }}"}}
            ],
            "info-loop": [
                {
                    "name": "Read",
                    "amazon.aws.lambda_layer_info": {"name": "{{ item.layer_name }}", "region": "{{ item.region }}"},
                    "loop": case.layers,
                    "loop_control": {"label": "{{ item.layer_name }}"},
                }
            ],
        }
        if len(case.layers) == 1:  # one task, not a loop
            playbooks["ours-loop"] = [{"name": "Layer", "layerwise.aws.lambda_layer_version": dict(case.layers[0])}]
            read = {"name": case.layers[0]["layer_name"], "region": case.layers[0]["region"]}
            playbooks["info-loop"] = [{"name": "Read", "amazon.aws.lambda_layer_info": read}]
        for label, tasks in playbooks.items():
            with open(os.path.join(self.run_dir, f"{case.name}-{label}.yml"), "w", encoding="utf-8") as playbook:
                json.dump(play(tasks), playbook, indent=1)

    def baseline_tree(self, ref):
        """A collections tree holding layerwise.aws as it was at git ``ref`` (and today's amazon.aws)."""
        tree = os.path.join(self.work, "baseline")
        shutil.rmtree(tree, ignore_errors=True)
        target = os.path.join(tree, "ansible_collections", "layerwise", "aws")
        os.makedirs(target)
        archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", ref], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        os.symlink(os.path.join(COLLECTIONS, "ansible_collections", "amazon"), os.path.join(tree, "ansible_collections", "amazon"))
        self.say(f"baseline: layerwise.aws at {ref} in {tree}")
        return tree

    # -- measured runs -----------------------------------------------------------------------

    def command_of(self, case, label):
        if label == "tf":
            plan = [self.terraform, "plan", "-input=false", "-lock=false", "-detailed-exitcode", "-no-color"]
            return plan, self.helper.terraform_env(), os.path.join(self.run_dir, f"tf-{case.name}")
        env = self.helper.ansible_env()
        playbook = label
        if label == "ours-before":
            env["ANSIBLE_COLLECTIONS_PATH"] = self.baseline_collections
            playbook = "ours-loop"
        return [os.path.join(self.bin, "ansible-playbook"), os.path.join(self.run_dir, f"{case.name}-{playbook}.yml")], env, self.run_dir

    def timed(self, case, label):
        command, env, cwd = self.command_of(case, label)
        self.proxy.reset()
        result = measure(command, env, cwd)
        if label == "tf":
            if result.returncode != 0:
                raise SystemExit(f"terraform plan ({case.name}) did not report 'no changes' (exit {result.returncode}):\n{result.output[-3000:]}")
        else:
            recap = compare._RECAP.search(result.output)  # pylint: disable=protected-access
            if result.returncode != 0 or not recap or recap.group(2) != "0" or recap.group(4) != "0":
                raise SystemExit(f"{case.name} {label}: not an unchanged, successful run:\n{result.output[-3000:]}")
        time.sleep(0.2)  # the proxy logs a request once it has answered it
        forwarded, throttled, by_region, by_operation = self.proxy.counts()
        floor = max(by_region.values(), default=0) / QUOTA
        self.samples.setdefault((case.name, label), []).append((result.seconds, forwarded, throttled, floor, by_operation))
        return result.seconds

    def labels(self, case):
        labels = ["ours-bulk", "ours-loop", "info-loop"]
        if self.terraform:
            labels.append("tf")
        if self.baseline_collections and case.name == "1":
            labels.append("ours-before")
        return labels

    def run_case(self, case, rounds, loop_rounds):
        labels = self.labels(case)
        self.say(f"case {case.name}: warm-up (not counted)")
        for label in labels:
            if not label.endswith("-loop") or len(case.layers) == 1:  # a loop of many tasks warms itself up
                self.timed(case, label)
        for key in [key for key in self.samples if key[0] == case.name]:
            del self.samples[key]
        self.rounds[case.name] = []
        for number in range(rounds):
            in_round = [label for label in labels if number < loop_rounds or not label.endswith("-loop")]
            order = in_round[number % len(in_round):] + in_round[: number % len(in_round)]
            self.say(f"case {case.name} round {number + 1}/{rounds}: {', '.join(order)}")
            self.rounds[case.name].append({label: self.timed(case, label) for label in order})

    # -- the single-layer task: where its time goes -------------------------------------------

    def single_breakdown(self):
        """The module process alone (the AnsiballZ file ansible-playbook ran, kept and run again): ours, before and info.

        The AnsiballZ file holds the module and its module_utils in a zip imported with
        zipimport (compiled from source on every run, as on any target) and the task's
        arguments; run directly, it is the target side of the task without the controller's.
        """
        case = self.cases["1"]
        labels = [label for label in ("ours-loop", "info-loop", "ours-before") if label in self.labels(case)]
        scripts = {}
        for label in labels:
            keep = os.path.join(self.work, "kept", label)
            shutil.rmtree(keep, ignore_errors=True)
            command, env, cwd = self.command_of(case, label)
            env.update(ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=keep)
            check(measure(command, env, cwd), f"keeping the AnsiballZ file of {label}")
            found = [os.path.join(root, name) for root, _dirs, names in os.walk(keep) for name in names if name.startswith("AnsiballZ_")]
            if len(found) != 1:
                raise SystemExit(f"{label}: expected one AnsiballZ file under {keep}, found {found}")
            scripts[label] = found[0]
        sizes = {label: os.path.getsize(path) for label, path in scripts.items()}
        for number in range(self.args.breakdown_runs):
            order = labels[number % len(labels):] + labels[: number % len(labels)]
            for label in order:
                self.proxy.reset()
                result = measure([self.python, scripts[label]], self.helper.base_env(), self.run_dir)
                answer = json.loads(result.output[result.output.index("{"):])
                if answer.get("failed") or answer.get("changed"):
                    raise SystemExit(f"{label} (AnsiballZ run directly): not an unchanged, successful run: {answer.get('msg')}")
                self.breakdown.setdefault(label, []).append((result.seconds, result.cpu))
        self.breakdown_sizes.update(sizes)

    # -- the bulk module alone: memory and time with the number of layers ----------------------

    def memory(self):
        self.say("memory: preparing")
        sizes = self.args.memory_sizes
        layers_by_size = {}
        for size in sizes:
            if str(size) in self.cases:
                layers_by_size[size] = self.cases[str(size)].layers
            else:
                region = MEMORY_REGIONS[size]
                layers = [self.layer(f"rl-mem-{size}-{number:04d}", region, number) for number in range(size)]
                self.say(f"memory: publishing {size} layers in {region} with boto3")
                self.publish(layers)
                layers_by_size[size] = layers
        module = "layerwise.aws.plugins.modules.lambda_layer_versions"
        for size in sizes:
            layers = layers_by_size[size]
            params = {"layers": [{key: value for key, value in layer.items() if key != "region"} for layer in layers]}
            samples = []
            for number in range(self.args.memory_runs):
                self.say(f"memory: {size} layers, run {number + 1}/{self.args.memory_runs}")
                connection = {"endpoint_url": self.endpoint.url, "region": layers[0]["region"], "access_key": "testing", "secret_key": "testing"}
                args_path = os.path.join(self.run_dir, f"args-memory-{size}.json")
                with open(args_path, "w", encoding="utf-8") as args_file:
                    json.dump({"ANSIBLE_MODULE_ARGS": dict(connection, **params)}, args_file)
                offset = self.endpoint.log_offset()
                result = measure([self.python, "-c", UNPACED_MODULE, module, args_path], self.helper.module_env(), peak_rss=True)
                calls = self.endpoint.requests_since(offset)
                answer = json.loads(result.output[result.output.index("{"):])
                if answer.get("failed") or answer.get("changed"):
                    raise SystemExit(f"memory {size}: not an unchanged, successful run: {answer.get('msg')}")
                samples.append((result.max_rss_mib, result.seconds, result.cpu, calls[0]))
            self.memory_rows.append(
                (
                    size,
                    statistics.median(sample[0] for sample in samples),
                    statistics.median(sample[1] for sample in samples),
                    statistics.median(sample[2] for sample in samples),
                    samples[-1][3],
                )
            )

    # -- report ------------------------------------------------------------------------------

    def out(self, line=""):
        self.lines.append(line)
        print(line, flush=True)

    def describe(self, case, label):
        layers = len(case.layers)
        several = len(case.regions) > 1
        where = f"{layers} layer{'s' if layers > 1 else ''}" + (f", one in each of {len(case.regions)} regions" if several else "")
        return {
            "ours-bulk": f"one `layerwise.aws.lambda_layer_versions` task ({where})",
            "ours-loop": (f"loop of {layers} `layerwise.aws.lambda_layer_version`" if layers > 1 else "one `layerwise.aws.lambda_layer_version` task")
            + (" (one region each)" if several else ""),
            "info-loop": (f"loop of {layers} `amazon.aws.lambda_layer_info`" if layers > 1 else "one `amazon.aws.lambda_layer_info` task"),
            "tf": "`terraform plan`" + (f", one provider alias per region ({len(case.regions)})" if several else "") + ", parallelism 10",
            "ours-before": f"one `layerwise.aws.lambda_layer_version` task, the collection at {self.args.baseline}",
        }[label]

    def ratio(self, case, numerator, denominator):
        pairs = [one[numerator] / one[denominator] for one in self.rounds.get(case, []) if numerator in one and denominator in one]
        return statistics.median(pairs) if pairs else None

    def report(self, seconds):  # pylint: disable=too-many-locals,too-many-branches
        self.out(f"# layerwise.aws at AWS's limits, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}")
        self.out()
        self.out(
            f"moto on loopback behind the fault proxy: {QUOTA:g} Lambda requests/s per region (bucket of {int(QUOTA)}, 429 beyond, retried),"
            f" {LATENCY_MS} ms added to each Lambda request, list answers in pages of {PAGE_SIZE}. {os.cpu_count()} cores, load average"
            f" {os.getloadavg()[0]:.1f} at the end; rounds interleaved, {self.args.rounds} for 1 and 50 layers and the regions,"
            f" {self.args.large_rounds} for 500 ({self.args.large_loop_rounds} for its loops); total {seconds / 60:.1f} min."
        )
        if not self.terraform:
            self.out("terraform (or /opt/tf-plugins) is absent here: its rows are missing.")
        self.out()
        self.out(
            "| case | command | wall s (median) | min-max | Lambda requests | throttled (429) | quota floor s | wall / floor"
            " | wall beyond the 1-layer bulk task, / floor |"
        )
        self.out("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        base = self.samples.get(("1", "ours-bulk"))
        base_wall = statistics.median(sample[0] for sample in base) if base else None
        for case in self.cases.values():
            for label in self.labels(case):
                samples = self.samples.get((case.name, label))
                if not samples:
                    continue
                walls = [sample[0] for sample in samples]
                wall = statistics.median(walls)
                forwarded = statistics.median(sample[1] for sample in samples)
                throttled = statistics.median(sample[2] for sample in samples)
                floor = statistics.median(sample[3] for sample in samples)
                beyond = f"{(wall - base_wall) / floor:.2f}" if base_wall and label == "ours-bulk" and len(case.layers) > 1 and floor else ""
                self.out(
                    f"| {case.name if len(case.regions) == 1 else f'1 x {len(case.regions)} regions'} | {self.describe(case, label)} | {wall:.2f} |"
                    f" {min(walls):.2f}-{max(walls):.2f} | {forwarded:.0f} | {throttled:.0f} | {floor:.2f} | {wall / floor if floor else 0:.2f} | {beyond} |"
                )
        self.out()
        self.out("Requests by operation (one run of each):")
        self.out()
        for case in self.cases.values():
            for label in self.labels(case):
                samples = self.samples.get((case.name, label))
                if samples:
                    operations = ", ".join(f"{name} {count}" for name, count in sorted(samples[-1][4].items()))
                    self.out(f"- {case.name} {label}: {operations or 'none'}")
        self.out()
        self.out("## Ratios (median of the per-round ratios; < 1: the first is faster)")
        self.out()
        self.out("| case | ratio | wall |")
        self.out("|---|---|---:|")
        for case in self.cases.values():
            pairs = (("ours-bulk", "tf"), ("ours-bulk", "ours-loop"), ("ours-loop", "info-loop"), ("ours-before", "info-loop"), ("ours-loop", "ours-before"))
            for numerator, denominator in pairs:
                value = self.ratio(case.name, numerator, denominator)
                if value is not None:
                    self.out(f"| {case.name} | {numerator} / {denominator} | {value:.2f} |")
        if self.breakdown:
            self.out()
            self.out("## The single-layer task's module process alone (its kept AnsiballZ file, run directly)")
            self.out()
            self.out("| task | AnsiballZ file KiB | wall s (median) | CPU s (median) | runs |")
            self.out("|---|---:|---:|---:|---:|")
            case = self.cases["1"]
            for label, samples in self.breakdown.items():
                self.out(
                    f"| {self.describe(case, label)} | {self.breakdown_sizes[label] / 1024:.0f} | {statistics.median(sample[0] for sample in samples):.3f} |"
                    f" {statistics.median(sample[1] for sample in samples):.3f} | {len(samples)} |"
                )
            if "info-loop" in self.breakdown:
                info = statistics.median(sample[0] for sample in self.breakdown["info-loop"])
                for label in ("ours-loop", "ours-before"):
                    if label in self.breakdown:
                        ours = statistics.median(sample[0] for sample in self.breakdown[label])
                        self.out(f"\n{label} / info-loop, module process alone: {ours / info:.2f} ({1000 * (ours - info):+.0f} ms)")
        if self.memory_rows:
            self.out()
            self.out("## The bulk module alone: unchanged, loopback, rate limiter lifted (run directly, peak RSS from wait4)")
            self.out()
            self.out("| layers | peak RSS MiB | wall s | CPU s | Lambda requests | wall per layer ms |")
            self.out("|---:|---:|---:|---:|---:|---:|")
            for size, rss, wall, cpu, calls in self.memory_rows:
                self.out(f"| {size} | {rss:.1f} | {wall:.2f} | {cpu:.2f} | {calls} | {1000 * wall / size:.2f} |")
        self.out()
        self.targets()

    def targets(self):
        checks = []
        for size in ("50", "500"):
            samples = self.samples.get((size, "ours-bulk"))
            if not samples:
                continue
            per_layer = statistics.median(sample[1] for sample in samples) / int(size)
            checks.append((f"{size} layers: at most 1.1 Lambda requests per unchanged layer ({per_layer:.2f})", per_layer <= 1.1))
            floor_ratio = statistics.median(sample[0] / sample[3] for sample in samples)
            checks.append((f"{size} layers: bulk task within 1.2x of its quota floor ({floor_ratio:.2f})", floor_ratio <= 1.2))
            versus = self.ratio(size, "ours-bulk", "tf")
            if versus is not None:
                checks.append((f"{size} layers: bulk task faster than terraform plan ({versus:.2f})", versus < 1))
        single = self.ratio("1", "ours-loop", "info-loop")
        if single is not None:
            checks.append((f"1 layer: single-layer task no slower than amazon.aws.lambda_layer_info ({single:.2f})", single <= 1))
        write_targets(self.out, checks)

    def save(self):
        self.say(f"written to {save_results(self.lines, 'realistic')}")

    def run(self):
        started = time.perf_counter()
        try:
            self.prepare()
            for name, case in self.cases.items():
                large = len(case.layers) > 50
                self.run_case(
                    case,
                    self.args.large_rounds if large else self.args.rounds,
                    self.args.large_loop_rounds if large else self.args.rounds,
                )
            if "1" in self.cases and self.args.breakdown_runs:
                self.say("single-layer breakdown")
                self.single_breakdown()
            if self.args.memory_sizes:
                self.memory()
        finally:
            self.proxy.stop()
            self.endpoint.stop()
        self.report(time.perf_counter() - started)
        self.save()
        if self.args.clean:
            shutil.rmtree(self.work, ignore_errors=True)


def int_list(text):
    return [int(part) for part in text.split(",") if part.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds for 1 and 50 layers and for the regions (default 3)")
    parser.add_argument("--large-rounds", type=int, default=2, help="rounds for 500 layers (default 2)")
    parser.add_argument("--large-loop-rounds", type=int, default=1, help="of those, rounds that also run the loops over 500 layers (default 1)")
    parser.add_argument("--sizes", type=int_list, default=[1, 50, 500], help="layers per case, among 1, 50, 500 (default 1,50,500)")
    parser.add_argument("--regions", type=int, default=17, help="regions of the one-layer-everywhere case (0 to skip; default 17)")
    parser.add_argument("--memory-sizes", type=int_list, default=[50, 500, 2000], help="layers of the bulk module's memory runs (default 50,500,2000)")
    parser.add_argument("--memory-runs", type=int, default=2, help="runs of each memory size (default 2)")
    parser.add_argument("--baseline", help="also run the single-layer task with layerwise.aws as it was at this git commit")
    parser.add_argument("--breakdown-runs", type=int, default=12, help="runs of each single-layer module process alone (default 12; 0 to skip)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 and 50 layers, 3 regions, 1 round, memory at 50 and 200")
    parser.add_argument("--clean", action="store_true", help="remove the benchmark's work directory at the end")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.large_rounds, args.large_loop_rounds, args.sizes, args.regions = 1, 1, 1, [1, 50], 3
        args.memory_sizes, args.memory_runs, args.breakdown_runs = [50, 200], 1, 3
    unknown = [size for size in args.sizes if size not in CASE_REGIONS]
    if unknown:
        parser.error(f"--sizes: {unknown} not among {sorted(CASE_REGIONS)}")
    unknown = [size for size in args.memory_sizes if size not in MEMORY_REGIONS]
    if unknown:
        parser.error(f"--memory-sizes: {unknown} not among {sorted(MEMORY_REGIONS)}")
    if not 0 <= args.regions <= len(MANY_REGIONS):
        parser.error(f"--regions: 0 to {len(MANY_REGIONS)}")
    Realistic(args).run()


if __name__ == "__main__":
    main()
