# -*- coding: utf-8 -*-
# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run examples/ee/layer_job.yml the way AWX runs a job template: through ansible-runner.

Each job gets a private data directory of its own, as AWX writes it:

    project/layer_job.yml   the job template's playbook (AWX: the project checkout)
    inventory/hosts         localhost, as AWX's demo inventory has it
    env/envvars             the AWS credential, as AWX's "Amazon Web Services" type injects it
    env/extravars           the survey answers
    env/cmdline             "--check --diff" for a Check job template with Show Changes on
    env/settings            the job timeout

ansible-runner runs with no AWS variable, profile or config file of its own (HOME is an
empty folder), so the credentials can only come from env/envvars; the instance metadata
service is switched off, so a job without credentials fails instead of looking elsewhere.
The assertions read the job events (artifacts/<ident>/job_events/*.json), which is what
AWX stores and shows. Dummy credentials only: ansible-runner writes the whole environment
into artifacts/<ident>/command in plain text.

Run by scripts/awx-runner-test.sh, which starts the local endpoint and sets:
LW_AWS_ENDPOINT, LW_COLLECTIONS, LW_WORK and LW_RUNNER (the ansible-runner executable).
"""

import glob
import io
import json
import os
import shutil
import subprocess
import uuid
import zipfile

import boto3
import pytest
import yaml

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK = os.path.join(REPO_ROOT, "examples", "ee", "layer_job.yml")
PUBLISH_TASK = "Publish the layer version (a new one only when something changed)"
REGION = "us-east-1"
# What AWX's credential type injects (AWS_SECURITY_TOKEN and AWS_SESSION_TOKEN both hold
# the session token). Dummy values, distinctive so that a leak into the job output is found.
AWX_AWS_CREDENTIAL = {
    "AWS_ACCESS_KEY_ID": "AKIADUMMYAWXRUNNER01",
    "AWS_SECRET_ACCESS_KEY": "dummy-secret-awx-4f1c9e",
    "AWS_SECURITY_TOKEN": "dummy-token-awx-7b2d5a",
    "AWS_SESSION_TOKEN": "dummy-token-awx-7b2d5a",
}


def setting(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this through scripts/awx-runner-test.sh")
    return value


@pytest.fixture(scope="module", name="aws")
def aws_fixture():
    """A boto3 session on the local endpoint, for seeding packages and for looking at what exists."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    endpoint = setting("LW_AWS_ENDPOINT")
    return {
        "endpoint": endpoint,
        "s3": session.client("s3", endpoint_url=endpoint),
        "lambda": session.client("lambda", endpoint_url=endpoint),
    }


@pytest.fixture(name="layer")
def layer_fixture(aws):
    """A fresh layer name and a bucket with two package versions of it."""
    name = f"awx-{uuid.uuid4().hex[:10]}"
    bucket = f"{name}-packages"
    aws["s3"].create_bucket(Bucket=bucket)
    for version, body in (("1.0.0", "def greet(): return 'hello'\n"), ("1.1.0", "def greet(): return 'hello, world'\n")):
        aws["s3"].put_object(Bucket=bucket, Key=f"layers/{name}/{version}.zip", Body=make_zip(body))
    yield {"name": name, "bucket": bucket}
    for summary in aws["lambda"].list_layer_versions(LayerName=name).get("LayerVersions", []):
        aws["lambda"].delete_layer_version(LayerName=name, VersionNumber=summary["Version"])


def make_zip(body):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("python/awx_helpers.py", date_time=(2026, 1, 1, 0, 0, 0)), body)
    return buffer.getvalue()


def published_versions(aws, layer):
    return sorted(item["Version"] for item in aws["lambda"].list_layer_versions(LayerName=layer["name"])["LayerVersions"])


def write_yaml(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle)


def run_job(aws, layer, package_version, job_type="run", show_changes=False, credential=None):
    """One AWX job: a fresh private data directory, ansible-runner, and its job events."""
    ident = f"{job_type}-{uuid.uuid4().hex[:8]}"
    private_data_dir = os.path.join(setting("LW_WORK"), ident)
    os.makedirs(os.path.join(private_data_dir, "project"))
    shutil.copy(PLAYBOOK, os.path.join(private_data_dir, "project", "layer_job.yml"))
    os.makedirs(os.path.join(private_data_dir, "inventory"))
    with open(os.path.join(private_data_dir, "inventory", "hosts"), "w", encoding="utf-8") as hosts:
        hosts.write("localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'\n")
    write_yaml(os.path.join(private_data_dir, "env", "envvars"), AWX_AWS_CREDENTIAL if credential is None else credential)
    write_yaml(
        os.path.join(private_data_dir, "env", "extravars"),
        {
            "layer_name": layer["name"],
            "layer_package_version": package_version,
            "layer_bucket": layer["bucket"],
            "aws_region": REGION,
            "aws_endpoint_url": aws["endpoint"],
        },
    )
    write_yaml(os.path.join(private_data_dir, "env", "settings"), {"job_timeout": 120, "idle_timeout": 60})
    options = (["--check"] if job_type == "check" else []) + (["--diff"] if show_changes else [])
    if options:
        with open(os.path.join(private_data_dir, "env", "cmdline"), "w", encoding="utf-8") as cmdline:
            cmdline.write(" ".join(options))

    home = os.path.join(private_data_dir, "home")
    os.makedirs(home)
    # Nothing AWS-related but the switch-off of the metadata service; the collections
    # path stands for the execution environment's /usr/share/ansible/collections.
    environment = {
        "PATH": os.pathsep.join([os.path.dirname(setting("LW_RUNNER")), "/usr/bin", "/bin"]),
        "HOME": home,
        "LANG": "C.UTF-8",
        "ANSIBLE_COLLECTIONS_PATH": setting("LW_COLLECTIONS"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    completed = subprocess.run(
        [setting("LW_RUNNER"), "run", private_data_dir, "--playbook", "layer_job.yml", "--ident", ident],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    artifacts = os.path.join(private_data_dir, "artifacts", ident)
    events = []
    for path in glob.glob(os.path.join(artifacts, "job_events", "*.json")):
        with open(path, encoding="utf-8") as handle:
            events.append(json.load(handle))
    events.sort(key=lambda event: event["counter"])
    with open(os.path.join(artifacts, "status"), encoding="utf-8") as handle:
        status = handle.read().strip()
    print(completed.stdout)
    return {"rc": completed.returncode, "status": status, "events": events, "stdout": completed.stdout}


def task_events(job, event_name, task=PUBLISH_TASK):
    return [event for event in job["events"] if event["event"] == event_name and event["event_data"].get("task") == task]


def only_ok_result(job):
    assert job["status"] == "successful", job["stdout"]
    assert job["rc"] == 0
    oks = task_events(job, "runner_on_ok")
    assert len(oks) == 1, job["stdout"]
    return oks[0]["event_data"]["res"]


def assert_no_secret_in_events(job):
    text = json.dumps(job["events"])
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert AWX_AWS_CREDENTIAL[name] not in text, f"{name} leaked into the job events"


def test_apply_job_publishes_once_then_reports_ok(aws, layer):
    first = run_job(aws, layer, "1.0.0")
    result = only_ok_result(first)
    assert result["changed"] is True
    assert result["layer_version"]["version"] == 1
    assert result["layer_version"]["description"] == f"{layer['name']} 1.0.0"
    assert f":{REGION}:" in result["layer_version"]["arn"]
    assert "diff" not in result, "no diff without Show Changes"
    assert first["events"][-1]["event"] == "playbook_on_stats"
    assert first["events"][-1]["event_data"]["changed"] == {"localhost": 1}
    assert_no_secret_in_events(first)

    again = run_job(aws, layer, "1.0.0")
    assert only_ok_result(again)["changed"] is False
    assert again["events"][-1]["event_data"]["changed"] == {}
    assert published_versions(aws, layer) == [1]


def test_check_job_with_show_changes_reports_the_change_and_writes_nothing(aws, layer):
    only_ok_result(run_job(aws, layer, "1.0.0"))

    dry_run = run_job(aws, layer, "1.1.0", job_type="check", show_changes=True)
    result = only_ok_result(dry_run)
    assert result["changed"] is True
    assert result["layer_version"]["version"] is None, "check mode does not know the new version"
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["version"] == 1
    assert after["version"] is None
    assert before["description"] == f"{layer['name']} 1.0.0"
    assert after["description"] == f"{layer['name']} 1.1.0"
    assert before["code_sha256"] != after["code_sha256"]
    # The diff as AWX shows it in the job output: a runner_on_file_diff event after the task.
    diffs = task_events(dry_run, "runner_on_file_diff")
    assert len(diffs) == 1
    assert f"-    \"description\": \"{layer['name']} 1.0.0\"" in diffs[0]["stdout"]
    assert f"+    \"description\": \"{layer['name']} 1.1.0\"" in diffs[0]["stdout"]
    assert dry_run["events"][-1]["event_data"]["changed"] == {"localhost": 1}
    assert published_versions(aws, layer) == [1], "a check job published a version"
    assert_no_secret_in_events(dry_run)

    unchanged = run_job(aws, layer, "1.0.0", job_type="check", show_changes=True)
    result = only_ok_result(unchanged)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]
    assert not task_events(unchanged, "runner_on_file_diff") or "@@" not in task_events(unchanged, "runner_on_file_diff")[0]["stdout"]

    applied = run_job(aws, layer, "1.1.0")
    result = only_ok_result(applied)
    assert result["changed"] is True
    assert result["layer_version"]["version"] == 2
    assert published_versions(aws, layer) == [2], "the superseded version is deleted (skip_destroy: false)"


def test_credentials_come_only_from_envvars(aws, layer):
    job = run_job(aws, layer, "1.0.0", credential={})
    assert job["status"] == "failed"
    assert job["rc"] != 0
    failures = task_events(job, "runner_on_failed")
    assert len(failures) == 1, job["stdout"]
    assert "credentials" in failures[0]["event_data"]["res"]["msg"].lower()
    assert published_versions(aws, layer) == []
