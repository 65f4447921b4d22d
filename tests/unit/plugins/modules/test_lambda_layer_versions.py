# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lambda_layer_versions across regions, and its read plan, with a mock client per service and region."""

import base64
import hashlib
import zipfile
from unittest.mock import MagicMock
from unittest.mock import patch

import boto3
import pytest
from botocore.exceptions import ClientError

from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_versions

CONNECTION = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}
ACCOUNT = "123456789012"
WRITES = ("publish_layer_version", "delete_layer_version", "add_layer_version_permission", "remove_layer_version_permission")
LAMBDA_META = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta


class RegionalClients(dict):
    """The mock clients the module asked for, by (service, region); each Lambda client serves one region's layers."""

    def __init__(self, code_sha256):
        super().__init__()
        self.code_sha256 = code_sha256
        self.layers = {}  # (region, name) -> newest version number

    def make(self, service, region):
        client = MagicMock(name=f"{service}@{region}")
        if service == "sts":
            client.get_caller_identity.return_value = {"Account": ACCOUNT}
        if service != "lambda":
            return client
        client.meta = LAMBDA_META

        def arn(name):
            return f"arn:aws:lambda:{region}:{ACCOUNT}:layer:{name}"

        def versions(LayerName, MaxItems=None):  # noqa: N803  pylint: disable=invalid-name
            number = self.layers.get((region, LayerName))
            return {"LayerVersions": [{"Version": number, "LayerVersionArn": f"{arn(LayerName)}:{number}"}] if number else []}

        def get(LayerName, VersionNumber):  # noqa: N803  pylint: disable=invalid-name
            if self.layers.get((region, LayerName)) != VersionNumber:
                raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "GetLayerVersion")
            return {
                "LayerArn": arn(LayerName),
                "LayerVersionArn": f"{arn(LayerName)}:{VersionNumber}",
                "Version": VersionNumber,
                "CreatedDate": "2026-11-24T17:25:10.150+0000",
                "Content": {"CodeSha256": self.code_sha256, "CodeSize": 10},
            }

        def layers(MaxItems, Marker=None):  # noqa: N803  pylint: disable=invalid-name
            names = sorted(name for layer_region, name in self.layers if layer_region == region)
            return {
                "Layers": [
                    {"LayerName": name, "LayerArn": arn(name), "LatestMatchingVersion": {"Version": self.layers[(region, name)]}} for name in names
                ]
            }

        client.list_layer_versions.side_effect = versions
        client.get_layer_version.side_effect = get
        client.list_layers.side_effect = layers
        return client

    def of(self, service, region):
        return self[(service, region)]

    def writes(self):
        return [(key, call[0]) for key, client in self.items() for call in client.method_calls if call[0] in WRITES]

    def count(self, service, region, method):
        return getattr(self.of(service, region), method).call_count


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "layer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("python/mod.py", "x = 1\n")
    return str(path), base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


@pytest.fixture
def clients(package):
    made = RegionalClients(package[1])

    def client(module, service, **kwargs):
        region = kwargs.get("region") or module.region
        if (service, region) not in made:
            made[(service, region)] = made.make(service, region)
        return made[(service, region)]

    with patch("ansible_collections.amazon.aws.plugins.module_utils.modules.AnsibleAWSModule.client", client):
        yield made


def run(run_module, layers, **options):
    return run_module(lambda_layer_versions.main, dict(CONNECTION, layers=layers, **options))


def test_one_layer_in_three_regions_uses_one_client_per_region_and_names_each_region(run_module, clients, package):
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    for number, region in enumerate(regions, start=3):
        clients.layers[(region, "shared")] = number
    layers = [{"layer_name": "shared", "region": region, "filename": package[0]} for region in regions[1:]] + [{"layer_name": "shared", "filename": package[0]}]
    result = run(run_module, layers)
    assert result.get("failed") is not True, result
    assert [(item["region"], item["changed"], item["layer_version"]["version"]) for item in result["results"]] == [
        ("eu-west-1", False, 4),
        ("ap-southeast-2", False, 5),
        ("us-east-1", False, 3),
    ]
    assert sorted(region for service, region in clients if service == "lambda") == sorted(regions)
    for number, region in enumerate(regions, start=3):
        # One item per region: fewer than the read plan's minimum, so the single-layer reads.
        assert clients.of("lambda", region).get_layer_version.call_args_list[0].kwargs == {"LayerName": "shared", "VersionNumber": number}
        assert clients.count("lambda", region, "list_layer_versions") == 1
        assert clients.count("lambda", region, "list_layers") == 0


def test_check_mode_across_regions_writes_nothing(run_module, clients, package):
    regions = ["us-east-1", "eu-west-1", "eu-central-1", "sa-east-1"]
    clients.layers[("eu-west-1", "shared")] = 1
    clients.code_sha256 = "c29tZXRoaW5nIGVsc2U="  # the existing version differs: a publish (and a deletion) would be due
    layers = [{"layer_name": "shared", "region": region, "filename": package[0]} for region in regions]
    result = run(run_module, layers, _ansible_check_mode=True, _ansible_diff=True)
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert [(item["region"], item["changed"], item["deleted_versions"]) for item in result["results"]] == [
        ("us-east-1", True, []),
        ("eu-west-1", True, [1]),
        ("eu-central-1", True, []),
        ("sa-east-1", True, []),
    ]
    assert [diff["before_header"] for diff in result["diff"]] == [f"shared ({region})" for region in regions]
    assert clients.writes() == []


def test_an_unchanged_run_of_twenty_layers_lists_the_region_once_and_gets_each_layer(run_module, clients, package):
    names = [f"layer-{number:02d}" for number in range(20)]
    for number, name in enumerate(names, start=1):
        clients.layers[("us-east-1", name)] = number
    clients.layers[("us-east-1", "someone-elses")] = 9
    result = run(run_module, [{"layer_name": name, "filename": package[0]} for name in names])
    assert result.get("failed") is not True, result
    assert not result["changed"]
    assert [item["layer_version"]["version"] for item in result["results"]] == list(range(1, 21))
    assert clients.count("lambda", "us-east-1", "list_layers") == 1
    assert clients.count("lambda", "us-east-1", "get_layer_version") == 20
    assert clients.count("lambda", "us-east-1", "list_layer_versions") == 0


def test_the_read_plan_is_per_region(run_module, clients, package):
    """Five items in one region list it; one item in another region reads alone."""
    for number in range(5):
        clients.layers[("eu-west-1", f"l{number}")] = 2
    clients.layers[("us-west-2", "l0")] = 1
    layers = [{"layer_name": f"l{number}", "region": "eu-west-1", "filename": package[0]} for number in range(5)]
    layers.append({"layer_name": "l0", "region": "us-west-2", "filename": package[0]})
    result = run(run_module, layers)
    assert result.get("failed") is not True, result
    assert (clients.count("lambda", "eu-west-1", "list_layers"), clients.count("lambda", "eu-west-1", "list_layer_versions")) == (1, 0)
    assert (clients.count("lambda", "us-west-2", "list_layers"), clients.count("lambda", "us-west-2", "list_layer_versions")) == (0, 1)
    assert ("lambda", "us-east-1") not in clients  # the module's region has no item


def test_new_layers_and_items_that_need_two_versions_list_their_own(run_module, clients, package):
    for number in range(4):
        clients.layers[("us-east-1", f"l{number}")] = 1
    layers = [{"layer_name": f"l{number}", "filename": package[0]} for number in range(4)]
    layers.append({"layer_name": "brand-new", "filename": package[0]})
    layers.append({"layer_name": "l0-copy", "filename": package[0], "copy_permissions": True})
    clients.layers[("us-east-1", "l0-copy")] = 1
    result = run(run_module, layers, _ansible_check_mode=True)
    assert result.get("failed") is not True, result
    lambda_client = clients.of("lambda", "us-east-1")
    assert lambda_client.list_layers.call_count == 1
    assert sorted((call.kwargs["LayerName"], call.kwargs["MaxItems"]) for call in lambda_client.list_layer_versions.call_args_list) == [
        ("brand-new", 1),
        ("l0-copy", 2),
    ]


def test_the_same_layer_once_per_region_is_fine_twice_in_one_region_is_not(run_module, clients, package):
    layers = [
        {"layer_name": "twice", "filename": package[0]},
        {"layer_name": "twice", "region": "eu-west-1", "filename": package[0]},
        {"layer_name": "twice", "region": "eu-west-1", "filename": package[0]},
    ]
    result = run(run_module, layers, _ansible_check_mode=True)
    assert result["failed"] is True
    assert [item["failed"] for item in result["results"]] == [False, True, True]
    assert "layers[1] (twice): layer twice is given in layers[1], layers[2]; each layer may appear only once per region" in result["msg"]
    assert clients.count("lambda", "eu-west-1", "list_layer_versions") == 0


def test_a_bad_region_fails_its_item_only_before_any_call(run_module, clients, package):
    layers = [{"layer_name": "good", "filename": package[0]}, {"layer_name": "bad", "region": "Mars East", "filename": package[0]}]
    result = run(run_module, layers, _ansible_check_mode=True)
    assert result["failed"] is True
    good, bad = result["results"]
    assert good["failed"] is False and good["region"] == "us-east-1"
    assert bad["failed"] is True and bad["region"] == "Mars East"
    assert bad["msg"] == "layers[1] (bad): region: 'Mars East' is not an AWS region name (such as eu-west-1)"
    assert sorted(clients) == [("lambda", "us-east-1")]


def test_items_with_their_own_regions_need_no_module_region(run_module, clients, package):
    layers = [{"layer_name": "l", "region": "eu-west-1", "filename": package[0]}, {"layer_name": "m", "filename": package[0]}]
    result = run_module(lambda_layer_versions.main, {"layers": layers, "access_key": "testing", "secret_key": "testing", "_ansible_check_mode": True})
    first, second = result["results"]
    assert first["failed"] is False and first["region"] == "eu-west-1"
    assert second["failed"] is True and second["msg"] == "layers[1] (m): region: no region is given for this item nor for the module"


def test_a_layer_arn_must_name_its_items_region(run_module, clients, package):
    arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:named"
    clients.layers[("eu-west-1", "named")] = 2
    layers = [
        {"layer_name": arn, "region": "eu-west-1", "filename": package[0]},
        {"layer_name": arn, "filename": package[0]},  # the module's region, us-east-1
    ]
    result = run(run_module, layers)
    first, second = result["results"]
    assert (first["failed"], first["region"], first["layer_name"], first["layer_version"]["version"]) == (False, "eu-west-1", "named", 2)
    assert second["failed"] is True
    assert second["msg"].startswith("layers[1] (" + arn + "): layer_name: the ARN names region eu-west-1, but the item works in region us-east-1")
    assert clients.count("sts", "eu-west-1", "get_caller_identity") == 1
