# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What ``lambda_layer_versions`` does: many layers in one module run, concurrently.

PRIVATE to the collection: not a public API, may change without notice.

Each layer goes through exactly the single-layer path (``prepare_task`` and
``LayerVersionManager``); only the loop is different. Every item is checked
before the first AWS call, then the layers run in a bounded pool of threads
sharing one Lambda client (and one S3 client). A layer's failure of any kind
(bad input, an AWS error, a malformed answer, a file gone, a bug) fails that
layer only, with its own record of what it wrote; the module fails at the end,
with every layer's result.
"""

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.warnings import warn

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import aws_client
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_caller_account_id
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_region
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Progress
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import failure_result
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import module_boundary
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerVersionManager
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import PublishClients
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import prepare_task


class _LazyClient:
    """Makes a client on first use; used before the threads start, so no lock is needed."""

    def __init__(self, module, service):
        self.module = module
        self.service = service
        self.client = None

    def __call__(self):
        if self.client is None:
            self.client = aws_client(self.module, self.service)
        return self.client


def _label(index, item):
    return f"layers[{index}] ({item['layer_name']})"


class _RejectedTask:
    """An item that failed its checks: it fails alone, before anything is read or written for it."""

    def __init__(self, item, error):
        self.params = item
        self.layer_name = item["layer_name"]
        self.error = error

    def run(self, _manager, progress=None):
        raise self.error


def prepare_tasks(module, items, lambda_model, workdir):
    """Check every item before the first AWS call; a bad item is rejected on its own.

    ``workdir``: the run's temporary directory; each item packages its ``source_dir`` in a folder of its own there.
    """
    s3_client = _LazyClient(module, "s3")
    tasks = []
    for index, item in enumerate(items):
        label = _label(index, item)
        item_dir = os.path.join(workdir, str(index))
        os.mkdir(item_dir)
        try:
            task = prepare_task(
                item, lambda_model, s3_client, warn_function=lambda message, label=label: warn(f"{label}: {message}"), workdir=item_dir
            )
        except Exception as e:  # pylint: disable=broad-exception-caught
            task = _RejectedTask(item, LayerInputError(f"{label}: {e}") if isinstance(e, LayerInputError) else e)
        tasks.append(task)
    indexes = {}
    for index, task in enumerate(tasks):
        indexes.setdefault(task.layer_name, []).append(index)
    for name, places in indexes.items():
        if len(places) > 1:
            where = ", ".join(f"layers[{index}]" for index in places)
            for index in places:
                error = LayerInputError(f"{_label(index, items[index])}: layer {name} is given in {where}; each layer may appear only once in layers")
                tasks[index] = _RejectedTask(items[index], error)
    arn_tasks = []
    for index, task in enumerate(tasks):
        if getattr(task, "arn_parts", None) is None:
            continue
        try:  # region and partition first: a wrong one fails with no AWS call at all
            check_layer_arn_region(task.arn_parts, module.region)
        except LayerInputError as e:
            tasks[index] = _RejectedTask(items[index], LayerInputError(f"{_label(index, items[index])}: {e}"))
            continue
        arn_tasks.append((index, task))
    if arn_tasks:
        try:
            account_id = get_caller_account_id(aws_client(module, "sts"))
        except AnsibleLambdaLayerError as e:
            for index, task in arn_tasks:
                tasks[index] = _RejectedTask(items[index], e)
            return tasks
        for index, task in arn_tasks:
            try:
                check_layer_arn_location(task.arn_parts, module.region, account_id)
            except LayerInputError as e:
                tasks[index] = _RejectedTask(items[index], LayerInputError(f"{_label(index, items[index])}: {e}"))
    return tasks


def _run_one(manager, task):
    """One layer's outcome; whatever ends it, the outcome says what it wrote."""
    progress = Progress()
    try:
        return task.run(manager, progress)
    except Exception as e:  # pylint: disable=broad-exception-caught
        return dict(failure_result(progress, e), failed=True)


def run_tasks(manager, tasks, max_concurrency):
    """Run every task, at most ``max_concurrency`` at a time; outcomes in the tasks' order."""
    if len(tasks) <= 1 or max_concurrency <= 1:
        return [_run_one(manager, task) for task in tasks]
    with ThreadPoolExecutor(max_workers=min(max_concurrency, len(tasks))) as pool:
        return list(pool.map(lambda task: _run_one(manager, task), tasks))


RESULT_KEYS = (
    "layer_version",
    "deleted_versions",
    "undeleted_versions",
    "copied_permissions",
    "uncopied_permissions",
    "finished_superseded_version",
    "kept_in_use",
    "package",
    "msg",
    "error",
)


def combine(tasks, outcomes, with_diff, region=None, check_mode=False):
    """The module's result: per-layer results in order, one diff per layer (headed by its name)."""
    results = []
    diffs = []
    for task, outcome in zip(tasks, outcomes):
        item = {
            "layer_name": task.layer_name,
            "region": region,
            "state": task.params.get("state") or "present",
            "changed": bool(outcome.get("changed")),
            "failed": bool(outcome.get("failed")),
        }
        for key in RESULT_KEYS:
            if key in outcome:
                item[key] = outcome[key]
        code = (outcome.get("error") or {}).get("code")
        if code:
            item["error_code"] = code
        item.setdefault("deleted_versions", [])
        if with_diff and "diff" in outcome:
            item["diff"] = outcome["diff"]
            diffs.append(dict(outcome["diff"], before_header=task.layer_name, after_header=task.layer_name))
        results.append(item)
    summary = {
        "changed": sum(1 for item in results if item["changed"] and not item["failed"]),
        "unchanged": sum(1 for item in results if not item["changed"] and not item["failed"]),
        "failed": sum(1 for item in results if item["failed"]),
    }
    would = "would change" if check_mode else "changed"
    layers = f"{len(results)} layer{'' if len(results) == 1 else 's'}"
    message = f"{layers}: {summary['changed']} {would}, {summary['unchanged']} unchanged, {summary['failed']} failed"
    combined = {"changed": any(item["changed"] for item in results), "results": results, "summary": summary, "msg": message}
    if with_diff:
        combined["diff"] = diffs
    return combined


def run_bulk_module(module):
    """Run ``lambda_layer_versions`` for an AnsibleAWSModule and exit."""

    def work(_progress):
        lambda_client = aws_client(module, "lambda", pool_size=module.params["max_concurrency"])
        with tempfile.TemporaryDirectory(prefix="layerwise-") as workdir:
            tasks = prepare_tasks(module, module.params["layers"], lambda_client.meta.service_model, workdir)
            manager = LayerVersionManager(lambda_client, check_mode=module.check_mode, warn=warn, publish_client_for=PublishClients(module))
            outcomes = run_tasks(manager, tasks, module.params["max_concurrency"])
        result = combine(tasks, outcomes, module._diff, region=module.region, check_mode=module.check_mode)
        failed = [item for item in result["results"] if item["failed"]]
        if failed:
            details = "; ".join(f"{item['layer_name']}: {item['msg']}" for item in failed)
            result.update(failed=True, msg=f"{len(failed)} of {len(tasks)} layers failed (the others were handled): {details}")
        return result

    module_boundary(module, work)
