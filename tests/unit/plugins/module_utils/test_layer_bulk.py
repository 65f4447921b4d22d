# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import threading
import time

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import combine
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import run_tasks
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerTask


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


def test_tasks_run_concurrently_within_the_bound_and_keep_their_order():
    tracker = Tracker()
    tasks = [FakeTask(f"l{n}", outcome={"changed": n % 2 == 0, "deleted_versions": []}, delay=0.03, tracker=tracker) for n in range(12)]
    outcomes = run_tasks(None, tasks, max_concurrency=4)
    assert [outcome["changed"] for outcome in outcomes] == [n % 2 == 0 for n in range(12)]
    assert 1 < tracker.peak <= 4


def test_a_failing_layer_does_not_stop_the_others():
    error = AnsibleLambdaLayerError(message="Failed to publish layer version")
    tasks = [FakeTask("ok1"), FakeTask("bad", error=error), FakeTask("ok2")]
    outcomes = run_tasks(None, tasks, max_concurrency=2)
    assert outcomes[0]["changed"] is False and outcomes[2]["changed"] is False
    assert outcomes[1] == {"failed": True, "changed": False, "msg": "Failed to publish layer version. Nothing was written."}


def test_any_exception_fails_its_layer_only_and_keeps_what_it_wrote():
    gone = FakeTask("gone", error=FileNotFoundError(2, "No such file or directory"))
    gone.wrote = True
    tasks = [FakeTask("ok1"), gone, FakeTask("ok2", error=KeyError("LayerVersionArn"))]
    outcomes = run_tasks(None, tasks, max_concurrency=3)
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
    result = combine(tasks, outcomes, with_diff=True, region="eu-west-1")
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
    result = combine([FakeTask("a")], [{"changed": False, "deleted_versions": [], "diff": {"before": {}, "after": {}}}], with_diff=False)
    assert "diff" not in result and "diff" not in result["results"][0]


def test_the_summary_counts_and_the_message_say_what_happened():
    tasks = [FakeTask("a"), FakeTask("b"), FakeTask("c")]
    outcomes = [{"changed": True, "deleted_versions": []}, {"changed": False, "deleted_versions": []}, {"failed": True, "changed": True, "msg": "x"}]
    result = combine(tasks, outcomes, with_diff=False, region="eu-west-1")
    assert result["summary"] == {"changed": 1, "unchanged": 1, "failed": 1}
    assert result["msg"] == "3 layers: 1 changed, 1 unchanged, 1 failed"
    assert combine(tasks[:1], outcomes[:1], with_diff=False, check_mode=True)["msg"] == "1 layer: 1 would change, 0 unchanged, 0 failed"
