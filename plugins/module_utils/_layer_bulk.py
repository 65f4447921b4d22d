# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What ``lambda_layer_versions`` does: many layers in one module run, in one or many regions, concurrently.

PRIVATE to the collection: not a public API, may change without notice.

Each layer goes through exactly the single-layer path (``prepare_task`` and
``LayerVersionManager``); only the loop is different. Every item is checked
before the first AWS call; then one Lambda client is made per region (each
item's own ``region``, else the module's), all before the threads start; then,
per region, the read plan (see ``plan_newest_versions``) may list the region's
layers once instead of once per item; then the layers run in a bounded pool of
threads, each with its region's client; the collection's rate limiter paces each
region's requests to its quota (see ``_layer_retry``). A layer's failure of any
kind (bad input, an AWS error, a malformed answer, a file gone, a bug) fails
that layer only, with its own record of what it wrote; the module fails at the
end, with every layer's result.
"""

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.warnings import warn

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import aws_client
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_caller_account_id
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_layers_page
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_arn_partition
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Progress
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import failure_result
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import module_boundary
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerVersionManager
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import PublishClients
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import prepare_task

# The read plan. An unchanged layer costs a ListLayerVersions (its newest version's number)
# and a GetLayerVersion (that version's hash). One ListLayers page names the newest version
# of up to 50 layers of the region, so with enough items in a region the module lists the
# region's layers first and spends only the GetLayerVersion per item. Pages come in no
# useful order, and how many layers the region holds is unknown before listing, so:
# - a region is listed only when at least LIST_LAYERS_MIN_ITEMS of its items can use it;
# - listing stops as soon as every such item's layer was seen, or after as many pages as a
#   quarter of those items (LIST_LAYERS_PAGES_PER_ITEM): in an account with many more layers
#   than the task, the listing then costs at most a quarter more than the ListLayerVersions
#   calls it was meant to save;
# - an item whose layer was not seen (a new layer, or paging stopped) lists its own versions.
LIST_LAYERS_MIN_ITEMS = 4
LIST_LAYERS_PAGES_PER_ITEM = 0.25
# The shape of an AWS region name (us-east-1, us-gov-west-1, eu-central-2, ...). A name the
# installed botocore does not know yet is accepted; botocore itself would refuse other shapes.
_REGION = re.compile(r"^[a-z]{2,}(?:-[a-z0-9]+)*-[0-9]{1,2}$")


class _LazyClient:
    """Makes a client on first use; used before the threads start, so no lock is needed."""

    def __init__(self, module, service, region=None):
        self.module = module
        self.service = service
        self.region = region
        self.client = None

    def __call__(self):
        if self.client is None:
            extra = {"region": self.region} if self.region else {}
            self.client = aws_client(self.module, self.service, **extra)
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


class BulkItem:
    """One item of ``layers``: its position, its region and its checked task (or a _RejectedTask)."""

    def __init__(self, index, params, region, task):
        self.index = index
        self.params = params
        self.region = region
        self.task = task

    @property
    def label(self):
        return _label(self.index, self.params)

    @property
    def layer_name(self):
        return self.task.layer_name

    def reject(self, error):
        self.task = _RejectedTask(self.params, error)

    @property
    def rejected(self):
        return isinstance(self.task, _RejectedTask)


def item_regions(items, module_region):
    """Each item's region (its own ``region``, else the module's), or the LayerInputError that rejects it."""
    regions = []
    for index, item in enumerate(items):
        region = item.get("region") or module_region
        if not region:
            regions.append(LayerInputError(f"{_label(index, item)}: region: no region is given for this item nor for the module"))
        elif item.get("region") and region != module_region and not _REGION.match(region):
            regions.append(LayerInputError(f"{_label(index, item)}: region: {region!r} is not an AWS region name (such as eu-west-1)"))
        else:
            regions.append(region)
    return regions


def prepare_items(items, regions, lambda_model, s3_client_factories, workdir):
    """Check every item before the first AWS call; a bad item is rejected on its own.

    ``regions``: as ``item_regions`` gives them; ``s3_client_factories``: region -> factory
    of that region's S3 client (made only if an S3 source needs it); ``workdir``: the run's
    temporary directory, where each item packages its ``source_dir`` in a folder of its own.
    """
    prepared = []
    for index, (item, region) in enumerate(zip(items, regions)):
        if isinstance(region, LayerInputError):
            # Its result names the region it was given, if any.
            prepared.append(BulkItem(index, item, item.get("region"), _RejectedTask(item, region)))
            continue
        label = _label(index, item)
        item_dir = os.path.join(workdir, str(index))
        os.mkdir(item_dir)
        try:
            task = prepare_task(
                item, lambda_model, s3_client_factories[region], warn_function=lambda message, label=label: warn(f"{label}: {message}"), workdir=item_dir
            )
        except Exception as e:  # pylint: disable=broad-exception-caught
            task = _RejectedTask(item, LayerInputError(f"{label}: {e}") if isinstance(e, LayerInputError) else e)
        prepared.append(BulkItem(index, item, region, task))
    places = {}
    for bulk_item in prepared:
        places.setdefault((bulk_item.region, bulk_item.layer_name), []).append(bulk_item)
    for (region, name), same in places.items():
        if len(same) > 1:
            where = ", ".join(f"layers[{bulk_item.index}]" for bulk_item in same)
            for bulk_item in same:
                bulk_item.reject(
                    LayerInputError(f"{bulk_item.label}: layer {name} is given in {where}; each layer may appear only once per region in layers")
                )
    return prepared


def check_arns(prepared, sts_client_factory):
    """A layer ARN must name its item's region (in its partition) and the caller's account (one STS call, only if an ARN is given)."""
    with_arn = [bulk_item for bulk_item in prepared if not bulk_item.rejected and getattr(bulk_item.task, "arn_parts", None) is not None]
    for bulk_item in list(with_arn):
        arn_region = bulk_item.task.arn_parts["region"]
        try:  # partition and region first: a wrong one fails with no AWS call at all
            check_arn_partition(bulk_item.task.arn_parts, bulk_item.region)
            if arn_region != bulk_item.region:
                raise LayerInputError(
                    f"layer_name: the ARN names region {arn_region}, but the item works in region {bulk_item.region} (its region, else the module's)"
                )
        except LayerInputError as e:
            bulk_item.reject(LayerInputError(f"{bulk_item.label}: {e}"))
            with_arn.remove(bulk_item)
    if not with_arn:
        return
    try:
        account_id = get_caller_account_id(sts_client_factory(with_arn[0].region))
    except AnsibleLambdaLayerError as e:
        for bulk_item in with_arn:
            bulk_item.reject(e)
        return
    for bulk_item in with_arn:
        try:
            check_layer_arn_location(bulk_item.task.arn_parts, bulk_item.region, account_id)
        except LayerInputError as e:
            bulk_item.reject(LayerInputError(f"{bulk_item.label}: {e}"))


def _can_use_hint(task):
    """Whether the task reads the newest version with _read_newest(count=1), the read a hint replaces.

    ``present`` with copy_permissions (and not skip_destroy) reads the two newest versions, and
    ``absent`` lists them all: a hint saves them nothing.
    """
    params = task.params
    if (params.get("state") or "present") != "present":
        return False
    return not (params.get("copy_permissions") and not params.get("skip_destroy"))


def plan_newest_versions(client, layer_names):
    """``({layer name: newest version number}, ListLayers pages read)`` for one region (see LIST_LAYERS_MIN_ITEMS).

    Unfiltered, so each layer's LatestMatchingVersion is its newest version. A layer
    missing from the answer gets no hint (its item lists its own versions), and so do
    all when listing fails (no lambda:ListLayers permission, say): the plan only saves
    requests, it never decides anything alone. A number read here can be stale by the
    time its item runs: a version deleted since is read again by listing (see
    LayerVersionManager._read_newest); a version published since by someone else is
    not seen, as with any read followed by a write.
    """
    wanted = set(layer_names)
    if len(wanted) < LIST_LAYERS_MIN_ITEMS:
        return {}, 0
    budget = max(1, int(len(wanted) * LIST_LAYERS_PAGES_PER_ITEM))
    hints = {}
    pages = 0
    marker = None
    while pages < budget and len(hints) < len(wanted):
        try:
            layers, marker = list_layers_page(client, marker)
        except AnsibleLambdaLayerError:
            break
        pages += 1
        for layer in layers:
            version = (layer.get("LatestMatchingVersion") or {}).get("Version")
            if layer["LayerName"] in wanted and isinstance(version, int) and not isinstance(version, bool):
                hints[layer["LayerName"]] = version
        if not marker:
            break
    return hints, pages


def _run_one(manager, task):
    """One layer's outcome; whatever ends it, the outcome says what it wrote."""
    progress = Progress()
    try:
        return task.run(manager, progress)
    except Exception as e:  # pylint: disable=broad-exception-caught
        return dict(failure_result(progress, e), failed=True)


def run_tasks(jobs, max_concurrency):
    """Run every ``(manager, task)`` job, at most ``max_concurrency`` at a time; outcomes in the jobs' order."""
    if len(jobs) <= 1 or max_concurrency <= 1:
        return [_run_one(manager, task) for manager, task in jobs]
    with ThreadPoolExecutor(max_workers=min(max_concurrency, len(jobs))) as pool:
        return list(pool.map(lambda job: _run_one(*job), jobs))


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


def combine(items, outcomes, with_diff, module_region=None, check_mode=False):
    """The module's result: per-layer results in order, one diff per layer (headed by its name, and region if several)."""
    several_regions = len({bulk_item.region for bulk_item in items if bulk_item.region}) > 1
    results = []
    diffs = []
    for bulk_item, outcome in zip(items, outcomes):
        task = bulk_item.task
        item = {
            "layer_name": task.layer_name,
            "region": bulk_item.region or module_region,
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
            header = f"{task.layer_name} ({item['region']})" if several_regions else task.layer_name
            item["diff"] = outcome["diff"]
            diffs.append(dict(outcome["diff"], before_header=header, after_header=header))
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


def with_failures(combined):
    """The combined result, failed with a message naming every failed layer (and its region, if several) when any failed."""
    results = combined["results"]
    failed = [item for item in results if item["failed"]]
    if not failed:
        return combined
    several_regions = len({item["region"] for item in results}) > 1
    details = "; ".join(f"{item['layer_name']}{' (' + str(item['region']) + ')' if several_regions else ''}: {item['msg']}" for item in failed)
    return dict(combined, failed=True, msg=f"{len(failed)} of {len(results)} layers failed (the others were handled): {details}")


class RegionalLambda:
    """One region's Lambda clients, made before the threads start, and the read plan's numbers for it."""

    def __init__(self, region, client, publish_client_for):
        self.region = region
        self.client = client
        self.publish_client_for = publish_client_for
        self.hints = {}
        self.list_layers_pages = 0

    def plan(self, tasks):
        names = [task.layer_name for task in tasks if _can_use_hint(task)]
        self.hints, self.list_layers_pages = plan_newest_versions(self.client, names)


def regional_clients(module, regions, pool_size):
    """{region: RegionalLambda}, one Lambda client per region.

    The collection's rate limiter (``_layer_retry``) keeps one bucket per service, region
    and endpoint: each region's requests are paced to its own quota.
    """
    clients = {}
    for region in regions:
        if region in clients:
            continue
        client = aws_client(module, "lambda", pool_size=pool_size, region=region)
        clients[region] = RegionalLambda(region, client, PublishClients(module, pool_size=pool_size, region=region))
    return clients


def run_bulk_module(module):
    """Run ``lambda_layer_versions`` for an AnsibleAWSModule and exit."""

    def work(_progress):
        params = module.params
        items = params["layers"]
        regions = item_regions(items, module.region)
        valid_regions = [region for region in regions if isinstance(region, str)]
        lambdas = regional_clients(module, valid_regions, params["max_concurrency"])
        with tempfile.TemporaryDirectory(prefix="layerwise-") as workdir:
            if lambdas:
                lambda_model = next(iter(lambdas.values())).client.meta.service_model
                s3_factories = {region: _LazyClient(module, "s3", region) for region in lambdas}
                prepared = prepare_items(items, regions, lambda_model, s3_factories, workdir)
                check_arns(prepared, lambda region: aws_client(module, "sts", region=region))
            else:
                prepared = prepare_items(items, regions, None, {}, workdir)
            managers = {}
            for region, regional in lambdas.items():
                regional.plan([bulk_item.task for bulk_item in prepared if bulk_item.region == region and not bulk_item.rejected])
                managers[region] = LayerVersionManager(
                    regional.client, check_mode=module.check_mode, warn=warn, publish_client_for=regional.publish_client_for, newest_hints=regional.hints
                )
            outcomes = run_tasks([(managers.get(bulk_item.region), bulk_item.task) for bulk_item in prepared], params["max_concurrency"])
        return with_failures(combine(prepared, outcomes, module._diff, module_region=module.region, check_mode=module.check_mode))

    module_boundary(module, work)
