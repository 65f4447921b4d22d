# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the documentation's examples against a local AWS endpoint, so that they cannot rot.

    python tests/examples/run_examples.py list                      every block and what is done with it
    python tests/examples/run_examples.py run [DOCUMENT...]         run the YAML examples (default: every document)
    python tests/examples/run_examples.py shell-script DOCUMENT     the document's `shell` blocks, as one bash script

Documents: README.md, docs/*.md (their ```yaml and ```sh blocks) and the EXAMPLES of
plugins/modules/*.py. Every YAML block runs, unless the line before it (blank lines
aside) is a visible marker saying why it cannot:

    <!-- example: not-runnable (it defines AWX job templates, and there is no AWX here) -->

In a module's EXAMPLES the marker is a YAML comment line `# example: not-runnable (REASON)`.
Every ```sh block needs a marker: `<!-- example: shell -->` (scripts/newcomer-test.sh runs
it verbatim in `make shell` after `make demo`) or `not-runnable (REASON)`. Other fences
(```text, ```json, ...) are not examples.

How a YAML block runs:
- a playbook (a list of plays) as it is;
- a task list in a play on localhost;
- a mapping of play keywords (module_defaults, vars, ...) as the keywords of a play on
  localhost whose one task reads through this collection's info module.

`run` starts its own local endpoint (moto, scripts/local_aws.py) and stops it at the end.
Each document runs as one ansible-playbook run (its blocks in document order, so a block
can use what an earlier one registered), on a reset endpoint, in a fresh working directory
holding the fixtures of tests/examples/fixtures.yml (files at the relative paths the
examples name, buckets, objects, earlier layer versions). The region is the fixtures'
`region`; credentials are dummies in a credentials file of the run (profile `default`
and the fixtures' `profiles`); AWS_ENDPOINT_URL sends every AWS client to the local
endpoint, and a proxy that does not exist catches any request that would go elsewhere.
The variable `aws_endpoint_url` holds the endpoint too.
"""

import argparse
import ast
import base64
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures.yml"

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")
HTML_MARKER = re.compile(r"^\s*<!--\s*example:\s*(?P<value>.*?)\s*-->\s*$")
YAML_MARKER = re.compile(r"^\s*#\s*example:\s*(?P<value>.*?)\s*$", re.MULTILINE)
NOT_RUNNABLE = re.compile(r"^not-runnable\s*\((?P<reason>.*\S.*)\)$")
LANGUAGES = {"yaml": "yaml", "yml": "yaml", "sh": "shell", "bash": "shell", "shell": "shell", "console": "shell"}

# Play keywords a YAML mapping may hold to be run as a play's keywords (not the play itself).
PLAY_KEYWORDS = frozenset(
    """any_errors_fatal become become_exe become_flags become_method become_user check_mode collections
    connection debugger diff environment force_handlers gather_facts ignore_errors module_defaults
    no_log remote_user run_once strategy throttle timeout vars""".split()
)
# The task a block of play keywords runs under them: a read through this collection.
KEYWORDS_PROBE = {
    "name": "Read through the play keywords of the example (module_defaults, vars, ...)",
    "layerwise.aws.lambda_layer_version_info": {"layer_name": "examples-probe"},
}

# Dummy credentials of every run; they never leave this machine (see run_document).
ACCESS_KEY = "AKIALAYERWISEEXAMPLES"
SECRET_KEY = "layerwise-examples-dummy-secret"
# Where no proxy listens: a request that is not for the local endpoint fails at once.
NOWHERE = "http://127.0.0.1:9"


class ExampleError(Exception):
    """A document whose examples cannot be run as they stand (the message names the block)."""


@dataclasses.dataclass
class Block:
    document: str  # path relative to the repository root
    line: int  # line of the document that holds the block's first line
    language: str  # "yaml", "shell", or the fence's info string for other blocks
    text: str
    marker: str = ""  # "", "shell" or "not-runnable"
    reason: str = ""  # why it is not runnable

    @property
    def where(self):
        return f"{self.document}, line {self.line}"

    @property
    def runnable_yaml(self):
        return self.language == "yaml" and self.marker != "not-runnable"


def parse_marker(value, where):
    """(marker, reason) from the text of an `example:` marker."""
    if value == "shell":
        return "shell", ""
    match = NOT_RUNNABLE.match(value)
    if match:
        return "not-runnable", match.group("reason").strip()
    raise ExampleError(f"{where}: unknown example marker {value!r}; use 'shell' or 'not-runnable (REASON)'")


def markdown_blocks(document, text):
    """The fenced code blocks of a Markdown document, with the marker before each."""
    lines = text.splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, info = opening.group("indent", "fence", "info")
        first = index + 1
        index += 1
        body = []
        while index < len(lines):
            stripped = lines[index].strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                break
            line = lines[index]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            index += 1
        else:
            raise ExampleError(f"{document}, line {first}: the code block opened here is never closed")
        index += 1
        block = Block(document, first + 1, LANGUAGES.get(info.lower(), info.lower()), "\n".join(body) + "\n")
        previous = first - 2
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        marker = HTML_MARKER.match(lines[previous]) if previous >= 0 else None
        if marker:
            block.marker, block.reason = parse_marker(marker.group("value"), block.where)
        blocks.append(block)
    return blocks


def module_blocks(document, source):
    """The EXAMPLES of a module file, as one block."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "EXAMPLES" for target in node.targets):
            block = Block(document, node.value.lineno, "yaml", node.value.value)
            marker = YAML_MARKER.search(block.text)
            if marker:
                block.marker, block.reason = parse_marker(marker.group("value"), block.where)
            return [block]
    return []


def documents(root=None):
    """Every document with examples, in the order they are reported."""
    root = root or ROOT
    paths = [root / "README.md"] + sorted((root / "docs").glob("*.md")) + sorted((root / "plugins" / "modules").glob("*.py"))
    return [path.relative_to(root).as_posix() for path in paths if path.is_file() and path.name != "__init__.py"]


def blocks_of(document, root=None):
    text = ((root or ROOT) / document).read_text(encoding="utf-8")
    blocks = module_blocks(document, text) if document.endswith(".py") else markdown_blocks(document, text)
    for block in blocks:
        check_block(block)
    return blocks


def check_block(block):
    """Fail on what would otherwise be skipped silently or run wrongly."""
    if block.language == "shell":
        if not block.marker:
            raise ExampleError(
                f"{block.where}: a shell block without a marker; put '<!-- example: shell -->' before it to run it "
                "in make shell after make demo, or '<!-- example: not-runnable (REASON) -->'"
            )
    elif block.language == "yaml":
        if block.marker == "shell":
            raise ExampleError(f"{block.where}: the 'shell' marker is for ```sh blocks")
        kind_of(block)  # every YAML block must parse, runnable or not
    elif block.marker:
        raise ExampleError(f"{block.where}: an example marker before a ```{block.language} block, which is never run")


def kind_of(block):
    """'playbook', 'tasks' or 'play-keywords' (raises for YAML that is none of them)."""
    try:
        data = yaml.safe_load(block.text)
    except yaml.YAMLError as error:
        raise ExampleError(f"{block.where}: not valid YAML: {error}") from error
    if block.marker == "not-runnable":
        return "not-runnable"
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        plays = ["hosts" in item or "import_playbook" in item or "ansible.builtin.import_playbook" in item for item in data]
        if all(plays):
            return "playbook"
        if not any(plays):
            return "tasks"
        raise ExampleError(f"{block.where}: a list that mixes plays and tasks")
    if isinstance(data, dict) and data and set(data) <= PLAY_KEYWORDS:
        return "play-keywords"
    raise ExampleError(
        f"{block.where}: neither a playbook, a task list nor play keywords; "
        "make it one, or put '<!-- example: not-runnable (REASON) -->' before it"
    )


# ---------------------------------------------------------------------------------------
# Fixtures


def load_fixtures(path=FIXTURES):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def fixtures_for(fixtures, document):
    """The fixtures of one document: the common ones, with the document's own added."""
    own = (fixtures.get("documents") or {}).get(document) or {}
    unknown = set(own) - {"files", "buckets", "layers", "vars"}
    if unknown:
        raise ExampleError(f"fixtures.yml, documents, {document}: unknown keys {sorted(unknown)}")
    return {
        "region": fixtures["region"],
        "profiles": list(fixtures.get("profiles") or []),
        "files": {**(fixtures.get("files") or {}), **(own.get("files") or {})},
        "buckets": {**(fixtures.get("buckets") or {}), **(own.get("buckets") or {})},
        "layers": dict(own.get("layers") or {}),
        "vars": dict(own.get("vars") or {}),
    }


def zip_bytes(entries):
    """A zip of {name: text}, the same bytes on every run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def make_files(workdir, files):
    """Each entry of `files`, keyed by its path relative to the working directory:
    {zip: {NAME: TEXT}}, {text: TEXT}, {sha256_of: PATH} (base64 SHA-256 of an earlier
    entry, as source_code_hash takes it) or {directory: {NAME: TEXT}}."""
    for relative, spec in files.items():
        target = workdir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not isinstance(spec, dict) or len(spec) != 1:
            raise ExampleError(f"fixtures.yml, files, {relative}: one of zip, text, sha256_of, directory")
        (kind, value), = spec.items()
        if kind == "zip":
            target.write_bytes(zip_bytes(value))
        elif kind == "text":
            target.write_text(value, encoding="utf-8")
        elif kind == "sha256_of":
            digest = hashlib.sha256((workdir / value).read_bytes()).digest()
            target.write_text(base64.b64encode(digest).decode("ascii"), encoding="ascii")
        elif kind == "directory":
            for name, content in value.items():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                (target / name).write_text(content, encoding="utf-8")
        else:
            raise ExampleError(f"fixtures.yml, files, {relative}: unknown kind {kind!r}")


def aws_client(service, endpoint, region):
    import boto3  # pylint: disable=import-outside-toplevel

    return boto3.client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    )


def make_buckets(workdir, buckets, endpoint, region):
    """{BUCKET: {versioning: BOOL, objects: {KEY: {file: PATH, checksum_sha256: BOOL}}}}."""
    s3 = aws_client("s3", endpoint, region)
    for bucket, spec in buckets.items():
        spec = spec or {}
        request = {"Bucket": bucket}
        if region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**request)
        if spec.get("versioning"):
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for key, source in (spec.get("objects") or {}).items():
            source = source if isinstance(source, dict) else {"file": source}
            request = {"Bucket": bucket, "Key": key, "Body": (workdir / source["file"]).read_bytes()}
            if source.get("checksum_sha256"):
                request["ChecksumAlgorithm"] = "SHA256"
            s3.put_object(**request)


def make_layers(layers, endpoint, region):
    """{LAYER: {versions: N, compatible_runtimes: [...], ...}}: N versions, each of other content."""
    client = aws_client("lambda", endpoint, region)
    for layer, spec in layers.items():
        spec = dict(spec or {})
        count = spec.pop("versions", 1)
        request = {"LayerName": layer}
        request.update({"".join(part.title() for part in name.split("_")): value for name, value in spec.items()})
        for number in range(1, count + 1):
            content = zip_bytes({"python/fixture.py": f"LAYER = {layer!r}\nNUMBER = {number}\n"})
            client.publish_layer_version(Content={"ZipFile": content}, **request)


def write_credentials(directory, profiles, region):
    """A credentials file and a config file holding dummy keys for `default` and each profile."""
    directory.mkdir(parents=True, exist_ok=True)
    credentials = directory / "credentials"
    config = directory / "config"
    names = ["default"] + [name for name in profiles if name != "default"]
    credentials.write_text(
        "".join(f"[{name}]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n" for name in names),
        encoding="ascii",
    )
    config.write_text(
        "".join(f"[{'default' if name == 'default' else 'profile ' + name}]\nregion = {region}\n" for name in names), encoding="ascii"
    )
    credentials.chmod(0o600)
    return credentials, config


# ---------------------------------------------------------------------------------------
# Running


def slug(document):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", document)


def write_playbook(workdir, blocks):
    """The document's runnable YAML blocks as one playbook; returns {file name: block}.

    Each block keeps its own file, verbatim where it can: a failing task's path
    (`file:line`) then points into the block, and so into the document."""
    files = {}
    main = []
    for block in blocks:
        kind = kind_of(block)
        name = f"{slug(block.document)}-line{block.line}"
        if kind == "playbook":
            (workdir / f"{name}.yml").write_text(block.text, encoding="utf-8")
        elif kind == "tasks":
            (workdir / f"{name}.tasks.yml").write_text(block.text, encoding="utf-8")
            files[f"{name}.tasks.yml"] = block
            play = {
                "name": f"Tasks of {block.where}",
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "tasks": [{"ansible.builtin.import_tasks": f"{name}.tasks.yml"}],
            }
            (workdir / f"{name}.yml").write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")
        else:
            play = {"name": f"Play keywords of {block.where}", "hosts": "localhost", "connection": "local", "gather_facts": False}
            play.update(yaml.safe_load(block.text))
            play["tasks"] = [KEYWORDS_PROBE]
            (workdir / f"{name}.yml").write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")
        files[f"{name}.yml"] = block
        main.append({"ansible.builtin.import_playbook": f"{name}.yml"})
    (workdir / "examples.yml").write_text(yaml.safe_dump(main, sort_keys=False), encoding="utf-8")
    return files


def locate_failure(output, workdir, files):
    """Where in the documents a failed run failed: from the failed task's path, else from
    the first file and line an error names (a YAML or syntax error)."""
    path = re.escape(str(workdir)) + r"/([^\s:'\"]+\.yml)"
    match = re.search(r"^task path: " + path + r":(\d+)", output, re.MULTILINE)
    match = match or re.search(path + r"(?::|'?: line )(\d+)", output)
    block = files.get(match.group(1)) if match else None
    if block is None:
        return None
    verbatim = match.group(1).endswith(".tasks.yml") or kind_of(block) == "playbook"
    line = block.line + int(match.group(2)) - 1 if verbatim else block.line
    return f"{block.document}, line {line} (in the block at line {block.line})"


def run_environment(endpoint, credentials, config, region, collections):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_") and "proxy" not in name.lower()}
    environment.update(
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_CONFIG_FILE=str(config),
        AWS_DEFAULT_REGION=region,
        AWS_ENDPOINT_URL=endpoint,
        HTTP_PROXY=NOWHERE,
        HTTPS_PROXY=NOWHERE,
        http_proxy=NOWHERE,
        https_proxy=NOWHERE,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_SHOW_TASK_PATH_ON_FAILURE="true",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_NOCOLOR="1",
    )
    environment.pop("ANSIBLE_FORCE_COLOR", None)
    return environment


def run_document(document, blocks, fixtures, endpoint, state_dir, collections, logs):
    """Run one document's runnable YAML blocks; returns (passed, message)."""
    import local_aws  # pylint: disable=import-outside-toplevel,import-error

    setup = fixtures_for(fixtures, document)
    base = pathlib.Path(tempfile.mkdtemp(prefix="layerwise-examples-"))
    try:
        workdir = base / "work"
        workdir.mkdir()
        local_aws.reset(state_dir)
        make_files(workdir, setup["files"])
        make_buckets(workdir, setup["buckets"], endpoint, setup["region"])
        make_layers(setup["layers"], endpoint, setup["region"])
        credentials, config = write_credentials(base / "aws", setup["profiles"], setup["region"])
        files = write_playbook(workdir, blocks)
        extra = {"aws_endpoint_url": endpoint, **setup["vars"]}
        (base / "vars.json").write_text(json.dumps(extra), encoding="utf-8")
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "examples.yml", "-e", f"@{base / 'vars.json'}"]
        started = time.monotonic()
        completed = subprocess.run(
            command,
            cwd=workdir,
            env=run_environment(endpoint, credentials, config, setup["region"], collections),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        log = logs / f"{slug(document)}.log"
        log.write_text(f"$ {shlex.join(command)}\n(in {workdir})\n\n{completed.stdout}", encoding="utf-8")
        if completed.returncode == 0:
            recap = re.search(r"^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)", completed.stdout, re.MULTILINE)
            tasks = f"{recap.group(1)} tasks ok, {recap.group(2)} changed" if recap else "no recap"
            return True, f"{len(blocks)} blocks, {tasks} ({elapsed:.1f} s)"
        place = locate_failure(completed.stdout, workdir, files) or f"one of the blocks at lines {[block.line for block in blocks]}"
        tail = "\n".join("    " + line for line in completed.stdout.rstrip().splitlines()[-40:])
        return False, f"FAILED at {place} (exit {completed.returncode}, log {log}):\n{tail}"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def command_list(args):
    for document in args.documents or documents():
        for block in blocks_of(document):
            if block.language == "yaml":
                what = "not runnable: " + block.reason if block.marker == "not-runnable" else "runs as " + kind_of(block)
            elif block.language == "shell":
                what = "not runnable: " + block.reason if block.marker == "not-runnable" else "runs in make shell (newcomer test)"
            else:
                what = f"```{block.language}: not an example"
            print(f"{block.where}: {what}")
    return 0


def command_run(args):
    sys.path.insert(0, str(ROOT / "scripts"))
    import local_aws  # pylint: disable=import-outside-toplevel,import-error

    fixtures = load_fixtures()
    cache = pathlib.Path(os.environ.get("CACHE") or ROOT / ".cache")
    collections = pathlib.Path(os.environ.get("COLLECTIONS") or cache / "collections")
    logs = cache / "examples"
    logs.mkdir(parents=True, exist_ok=True)
    state_dir = str(cache / "examples-aws")

    chosen = args.documents or documents()
    plan = [(document, blocks_of(document)) for document in chosen]  # every marker and block checked first
    passed = failed = skipped = 0
    endpoint = local_aws.start(state_dir)
    try:
        for document, blocks in plan:
            runnable = [block for block in blocks if block.runnable_yaml]
            for block in blocks:
                if block.language == "yaml" and not block.runnable_yaml:
                    skipped += 1
                    print(f"{block.where}: not runnable ({block.reason})")
            if not runnable:
                continue
            ok, message = run_document(document, runnable, fixtures, endpoint, state_dir, collections, logs)
            print(f"{document}: {'passed, ' if ok else ''}{message}", flush=True)
            if ok:
                passed += 1
            else:
                failed += 1
    finally:
        local_aws.stop(state_dir)
    print(f"examples: {passed} documents passed, {failed} failed, {skipped} blocks marked not runnable (logs in {logs})")
    print(f"examples: {passed} passed, {failed} failed")
    return 1 if failed else 0


def command_shell_script(args):
    blocks = [block for block in blocks_of(args.document) if block.language == "shell" and block.marker == "shell"]
    lines = [
        "# Generated by tests/examples/run_examples.py from " + args.document,
        "set -e",
        "example_line=0",
        f"trap 'echo \"{args.document}: the shell block at line $example_line failed (exit $?)\" >&2' ERR",
    ]
    for block in blocks:
        shown = "".join(f"echo {shlex.quote('$ ' + line)}\n" for line in block.text.splitlines() if line.strip())
        lines += [f"example_line={block.line}", f"echo {shlex.quote('--- ' + block.where)}", shown.rstrip("\n"), block.text.rstrip("\n")]
    lines.append(f"echo {shlex.quote(f'{args.document}: {len(blocks)} shell blocks ran')}")
    print("\n".join(lines))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="every block and what is done with it")
    listing.add_argument("documents", nargs="*")
    running = commands.add_parser("run", help="run the YAML examples against a local endpoint")
    running.add_argument("documents", nargs="*")
    script = commands.add_parser("shell-script", help="a document's shell blocks as one bash script")
    script.add_argument("document")
    args = parser.parse_args()
    os.chdir(ROOT)
    try:
        return {"list": command_list, "run": command_run, "shell-script": command_shell_script}[args.command](args)
    except ExampleError as error:
        print(f"examples: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
