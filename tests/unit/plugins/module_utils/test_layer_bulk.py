# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import threading
import time
from unittest.mock import MagicMock

import boto3
from botocore.exceptions import ClientError

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_retry
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import BulkItem
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import combine
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import plan_newest_versions
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import run_tasks
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerTask

MODEL = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta.service_model


class FakeTask(LayerTask):
    """A task whose run is scripted: returns an outcome or raises."""

    def __init__(self, name, outcome=None, error=None, delay=0.0, tracker=None):
        super().__init__({"state": "present"}, name, None)
        self.outcome = outcome or {"changed": False, "layer_version": {"version": 1}, "deleted_versions": [], "diff": {"before": {}, "after": {}}}
        self.error = error
        self.delay = delay
        self.tracker = tracker
        self.wrote = False

    def run(self, manager, progress=None):
        if self.tracker:
            self.tracker.enter()
        time.sleep(self.delay)
        if self.tracker:
            self.tracker.leave()
        if self.error:
            if self.wrote and progress is not None:
                progress.wrote("published version 2", layer_version={"version": 2})
            raise self.error
        return dict(self.outcome)


class Tracker:
    def __init__(self):
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def enter(self):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)

    def leave(self):
        with self.lock:
            self.active -= 1


def items(tasks, region="us-east-1"):
    return [BulkItem(index, task.params, region, task) for index, task in enumerate(tasks)]


def test_tasks_run_concurrently_within_the_bound_and_keep_their_order():
    tracker = Tracker()
    tasks = [FakeTask(f"l{n}", outcome={"changed": n % 2 == 0, "deleted_versions": []}, delay=0.03, tracker=tracker) for n in range(12)]
    outcomes = run_tasks([(None, task) for task in tasks], max_concurrency=4)
    assert [outcome["changed"] for outcome in outcomes] == [n % 2 == 0 for n in range(12)]
    assert 1 < tracker.peak <= 4


def test_a_failing_layer_does_not_stop_the_others():
    error = AnsibleLambdaLayerError(message="Failed to publish layer version")
    tasks = [FakeTask("ok1"), FakeTask("bad", error=error), FakeTask("ok2")]
    outcomes = run_tasks([(None, task) for task in tasks], max_concurrency=2)
    assert outcomes[0]["changed"] is False and outcomes[2]["changed"] is False
    assert outcomes[1] == {"failed": True, "changed": False, "msg": "Failed to publish layer version. Nothing was written."}


def test_any_exception_fails_its_layer_only_and_keeps_what_it_wrote():
    gone = FakeTask("gone", error=FileNotFoundError(2, "No such file or directory"))
    gone.wrote = True
    tasks = [FakeTask("ok1"), gone, FakeTask("ok2", error=KeyError("LayerVersionArn"))]
    outcomes = run_tasks([(None, task) for task in tasks], max_concurrency=3)
    assert outcomes[0]["changed"] is False and "failed" not in outcomes[0]
    assert outcomes[1]["failed"] is True and outcomes[1]["changed"] is True
    assert outcomes[1]["layer_version"] == {"version": 2}
    assert outcomes[1]["msg"].startswith("FileNotFoundError: ") and "published version 2" in outcomes[1]["msg"]
    assert outcomes[2]["failed"] is True and outcomes[2]["changed"] is False
    assert outcomes[2]["msg"] == "KeyError: 'LayerVersionArn'. Nothing was written."


def test_combine_builds_per_layer_results_and_headed_diffs():
    tasks = [FakeTask("a"), FakeTask("b")]
    outcomes = [
        {"changed": True, "layer_version": {"version": 2}, "deleted_versions": [1], "diff": {"before": {"version": 1}, "after": {"version": 2}}},
        {"failed": True, "msg": "boom", "error": {"code": "ServiceException", "message": "boom"}},
    ]
    result = combine(items(tasks, "eu-west-1"), outcomes, with_diff=True)
    assert result["changed"] is True
    assert result["results"][0] == {
        "layer_name": "a",
        "region": "eu-west-1",
        "state": "present",
        "changed": True,
        "failed": False,
        "layer_version": {"version": 2},
        "deleted_versions": [1],
        "diff": {"before": {"version": 1}, "after": {"version": 2}},
    }
    assert result["results"][1] == {
        "layer_name": "b",
        "region": "eu-west-1",
        "state": "present",
        "changed": False,
        "failed": True,
        "msg": "boom",
        "error": {"code": "ServiceException", "message": "boom"},
        "error_code": "ServiceException",
        "deleted_versions": [],
    }
    assert result["diff"] == [{"before": {"version": 1}, "after": {"version": 2}, "before_header": "a", "after_header": "a"}]


def test_no_diff_outside_diff_mode():
    result = combine(items([FakeTask("a")]), [{"changed": False, "deleted_versions": [], "diff": {"before": {}, "after": {}}}], with_diff=False)
    assert "diff" not in result and "diff" not in result["results"][0]


def test_the_summary_counts_and_the_message_say_what_happened():
    tasks = [FakeTask("a"), FakeTask("b"), FakeTask("c")]
    outcomes = [{"changed": True, "deleted_versions": []}, {"changed": False, "deleted_versions": []}, {"failed": True, "changed": True, "msg": "x"}]
    result = combine(items(tasks, "eu-west-1"), outcomes, with_diff=False)
    assert result["summary"] == {"changed": 1, "unchanged": 1, "failed": 1}
    assert result["msg"] == "3 layers: 1 changed, 1 unchanged, 1 failed"
    assert combine(items(tasks[:1]), outcomes[:1], with_diff=False, check_mode=True)["msg"] == "1 layer: 1 would change, 0 unchanged, 0 failed"


# -- the read plan ---------------------------------------------------------------------------


def layers_page(names, versions=None, next_marker=None):
    page = {"Layers": [{"LayerName": name, "LayerArn": f"arn:aws:lambda:us-east-1:123456789012:layer:{name}"} for name in names]}
    for layer, version in zip(page["Layers"], versions or [3] * len(names)):
        if version is not None:
            layer["LatestMatchingVersion"] = {"Version": version, "LayerVersionArn": f"{layer['LayerArn']}:{version}"}
    if next_marker:
        page["NextMarker"] = next_marker
    return page


def paged_client(*pages):
    client = MagicMock()
    client.meta.service_model = MODEL
    client.list_layers.side_effect = list(pages)
    return client


def test_few_items_do_not_list_the_region():
    client = paged_client(layers_page(["a", "b", "c"]))
    assert plan_newest_versions(client, ["a", "b", "c"]) == ({}, 0)
    client.list_layers.assert_not_called()


def test_the_listing_names_the_newest_version_of_each_wanted_layer_unfiltered():
    client = paged_client(layers_page(["a", "b", "c", "d", "other"], [4, 1, 7, 2, 9]))
    hints, pages = plan_newest_versions(client, ["a", "b", "c", "d"])
    assert hints == {"a": 4, "b": 1, "c": 7, "d": 2}
    assert pages == 1
    # No CompatibleRuntime/CompatibleArchitecture: LatestMatchingVersion is then the newest version.
    client.list_layers.assert_called_once_with(MaxItems=50)


def test_listing_stops_once_every_wanted_layer_was_seen():
    names = [f"l{n}" for n in range(8)]
    client = paged_client(layers_page(names[:5], next_marker="m1"), layers_page(names[5:], next_marker="m2"), layers_page(["never-read"]))
    hints, pages = plan_newest_versions(client, names)
    assert set(hints) == set(names) and pages == 2
    assert [call.kwargs for call in client.list_layers.call_args_list] == [{"MaxItems": 50}, {"MaxItems": 50, "Marker": "m1"}]


def test_listing_reads_at_most_a_page_per_four_items():
    names = [f"l{n}" for n in range(8)]  # budget: 2 pages
    client = paged_client(*[layers_page([f"x{page}-{n}" for n in range(50)], next_marker=f"m{page}") for page in range(5)])
    hints, pages = plan_newest_versions(client, names)
    assert hints == {} and pages == 2
    assert client.list_layers.call_count == 2


def test_a_layer_missing_from_the_listing_gets_no_hint():
    client = paged_client(layers_page(["a", "b", "c", "d"], [4, None, 7, 2]))
    hints, pages = plan_newest_versions(client, ["a", "b", "c", "d", "new"])
    assert hints == {"a": 4, "c": 7, "d": 2} and pages == 1


def test_a_failed_listing_leaves_every_item_to_list_its_own_versions():
    client = MagicMock()
    client.list_layers.side_effect = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListLayers")
    assert plan_newest_versions(client, ["a", "b", "c", "d"]) == ({}, 0)


def test_a_page_still_malformed_after_its_retries_ends_the_listing_and_keeps_what_was_read(monkeypatch):
    monkeypatch.setattr(_layer_retry, "_sleep", lambda seconds: None)
    malformed = {"Layers": "<html>"}
    client = paged_client(layers_page(["a", "b"], next_marker="m1"), *[malformed] * _layer_retry.TRANSIENT_ATTEMPTS)
    hints, pages = plan_newest_versions(client, [f"l{n}" for n in range(6)] + ["a", "b"])
    assert hints == {"a": 3, "b": 3} and pages == 1
    assert client.list_layers.call_count == 1 + _layer_retry.TRANSIENT_ATTEMPTS
