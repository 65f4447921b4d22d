# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What ``lambda_layer_version_info`` does: read layer versions, never write.

PRIVATE to the collection: not a public API, may change without notice.

List calls do not return a version's CodeSha256 and size, so every returned
version is read with GetLayerVersion; those reads run concurrently in a bounded
pool of threads sharing one boto3 client (boto3 clients are thread-safe).
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import aws_client
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_caller_account_id
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_layer_versions
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import list_layers
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import layer_version_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_arn_partition
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_version_number
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_arn
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_name
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import UsageScanner
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import add_usage
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import module_boundary
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import read_policy

# Lambda's control plane allows about 15 requests per second for most calls in an
# account; a few more threads than that only buy throttling (which is retried).
DETAIL_WORKERS = 8


def _matches(item, runtime=None, architecture=None):
    """Whether a summary or facts dict fits the filters (the API's own filtering is re-checked)."""
    runtimes = item.get("CompatibleRuntimes", item.get("compatible_runtimes")) or []
    architectures = item.get("CompatibleArchitectures", item.get("compatible_architectures")) or []
    return (runtime is None or runtime in runtimes) and (architecture is None or architecture in architectures)


def _api_filters(runtime=None, architecture=None):
    filters = {}
    if runtime:
        filters["CompatibleRuntime"] = runtime
    if architecture:
        filters["CompatibleArchitecture"] = architecture
    return filters


class LayerVersionReader:
    def __init__(self, client, include_content_location=False, workers=DETAIL_WORKERS, include_policy=False):
        self.client = client
        self.include_content_location = include_content_location
        self.include_policy = include_policy
        self.workers = workers

    def _read(self, ref):
        """Facts of one ``(layer_ref, version)``, or None when it does not exist."""
        layer_ref, number = ref
        response = get_layer_version(self.client, layer_ref, number)
        if not response:
            return None
        facts = layer_version_facts(response)
        if self.include_content_location:
            facts["content_location"] = (response.get("Content") or {}).get("Location")
        if self.include_policy:
            facts["policy"] = read_policy(self.client, layer_ref, number)[0]
        return facts

    def version(self, layer_ref, version_number):
        """``[facts]`` of one version, or ``[]`` when it does not exist."""
        return self.details([(layer_ref, version_number)])

    def details(self, refs):
        """Facts of every ``(layer_ref, version)`` in order, read concurrently.

        A version deleted between the list and the read is left out.
        """
        if len(refs) <= 1 or self.workers <= 1:
            items = [self._read(ref) for ref in refs]
        else:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(refs))) as pool:
                items = list(pool.map(self._read, refs))
        return [item for item in items if item]

    def versions(self, layer_ref, runtime=None, architecture=None, latest=False):
        """Every version of a layer, newest first (or only the newest), matching the filters."""
        summaries = [
            summary
            for summary in list_layer_versions(self.client, layer_ref, **_api_filters(runtime, architecture))
            if _matches(summary, runtime, architecture)
        ]
        if latest:
            summaries = summaries[:1]
        items = self.details([(layer_ref, summary["Version"]) for summary in summaries])
        return [item for item in items if _matches(item, runtime, architecture)]

    def every_layer(self, runtime=None, architecture=None):
        """The newest (matching) version of every layer of the account and region."""
        refs = []
        for layer in list_layers(self.client, **_api_filters(runtime, architecture)):
            newest = layer.get("LatestMatchingVersion") or {}
            if newest and _matches(newest, runtime, architecture):
                refs.append((layer["LayerArn"], newest["Version"]))
        items = self.details(refs)
        return [item for item in items if _matches(item, runtime, architecture)]


def _check_info_params(params, region=None):
    """The ARN parts of ``arn`` or ``layer_name`` (None for a plain name or neither), all checked.

    ``region``: the module's region. An ARN in another region is read there, but only
    in the module's partition: its credentials are valid nowhere else.
    """
    if params["version"] is not None:
        check_version_number(params["version"])
        if not params["layer_name"]:
            raise LayerInputError("version: needs layer_name (or give a layer version ARN in arn)")
    if params["latest"] and not (params["layer_name"] or params["arn"]):
        raise LayerInputError("latest: needs layer_name or a layer ARN in arn (without either, every layer's newest version is returned)")
    if params["arn"] is not None:
        option, parts = "arn", parse_layer_arn(params["arn"], option="arn")
        if parts is None:
            raise LayerInputError(
                f"arn: {params['arn']!r} is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION) or layer ARN"
            )
    elif params["layer_name"] is not None:
        option, parts = "layer_name", parse_layer_name(params["layer_name"])[1]
    else:
        return None
    if parts is not None:
        check_arn_partition(parts, region, option)
    return parts


def _layer_ref(module, arn_parts):
    """What to call a layer given by ARN, and the client for its region.

    The caller's own layers are called by name (some endpoints mistake an ARN for a
    new name in list calls); another account's shared layer only has its ARN.
    """
    layer_arn = f"arn:{arn_parts['partition']}:lambda:{arn_parts['region']}:{arn_parts['account_id']}:layer:{arn_parts['layer_name']}"
    if arn_parts["region"] != module.region:
        return layer_arn, aws_client(module, "lambda", region=arn_parts["region"])
    if arn_parts["version"] is None and get_caller_account_id(aws_client(module, "sts")) == arn_parts["account_id"]:
        return arn_parts["layer_name"], aws_client(module, "lambda")
    return layer_arn, aws_client(module, "lambda")


def run_info_module(module):
    """Run ``lambda_layer_version_info`` for an AnsibleAWSModule and exit."""
    params = module.params
    filters = {"runtime": params["compatible_runtime"], "architecture": params["compatible_architecture"]}

    def work(_progress):
        arn_parts = _check_info_params(params, module.region)
        if arn_parts is not None:
            layer_ref, client = _layer_ref(module, arn_parts)
        else:
            layer_ref, client = params["layer_name"], aws_client(module, "lambda")
        reader = LayerVersionReader(client, include_content_location=params["include_content_location"], include_policy=params["include_policy"])
        version = arn_parts["version"] if arn_parts and arn_parts["version"] is not None else params["version"]
        if layer_ref is None:
            items = reader.every_layer(**filters)
        elif version is not None:
            items = [item for item in reader.version(layer_ref, version) if _matches(item, **filters)]
        else:
            items = reader.versions(layer_ref, latest=params["latest"], **filters)
        if params["include_usage"]:
            items = add_usage(items, UsageScanner(), client)
        found = f"found {len(items)} layer version{'' if len(items) == 1 else 's'}"
        return {"changed": False, "layer_versions": items, "msg": found}

    module_boundary(module, work)
