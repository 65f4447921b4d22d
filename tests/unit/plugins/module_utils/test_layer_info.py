# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import threading
import time
from unittest.mock import MagicMock

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import FACT_KEYS
from ansible_collections.layerwise.aws.plugins.module_utils._layer_info import LayerVersionReader
from ansible_collections.layerwise.aws.plugins.module_utils._layer_info import _check_info_params
from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version_info

ARN = "arn:aws:lambda:us-east-1:123456789012:layer:l1"


def response(version, runtimes=None, architectures=None, layer_arn=ARN):
    return {
        "LayerArn": layer_arn,
        "LayerVersionArn": f"{layer_arn}:{version}",
        "Version": version,
        "CreatedDate": "2026-11-24T17:25:10.150+0000",
        "CompatibleRuntimes": runtimes or [],
        "CompatibleArchitectures": architectures or [],
        "Content": {"CodeSha256": f"hash-{version}", "CodeSize": version * 10, "Location": f"https://presigned/{version}"},
    }


def params(**overrides):
    values = dict(
        arn=None, layer_name=None, version=None, compatible_runtime=None, compatible_architecture=None, latest=False, include_content_location=False,
        include_policy=False,
    )
    values.update(overrides)
    return values


class SlowClient:
    """GetLayerVersion that takes a while and records how many calls overlap."""

    def __init__(self, delay=0.05):
        self.delay = delay
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.calls = []

    def get_layer_version(self, LayerName, VersionNumber):  # pylint: disable=invalid-name
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.calls.append(VersionNumber)
        time.sleep(self.delay)
        with self.lock:
            self.active -= 1
        return response(VersionNumber)


def test_details_are_read_concurrently_in_a_bounded_pool_and_keep_their_order():
    client = SlowClient()
    items = LayerVersionReader(client, workers=4).details([("l1", number) for number in range(20, 0, -1)])
    assert [item["version"] for item in items] == list(range(20, 0, -1))
    assert sorted(client.calls) == list(range(1, 21))
    assert 1 < client.peak <= 4


def test_one_worker_reads_sequentially():
    client = SlowClient(delay=0.001)
    LayerVersionReader(client, workers=1).details([("l1", number) for number in range(1, 6)])
    assert client.peak == 1


def test_every_item_has_full_facts_and_no_location_unless_asked():
    client = MagicMock()
    client.get_layer_version.side_effect = lambda LayerName, VersionNumber: response(VersionNumber)
    client.get_paginator.return_value.paginate.return_value = [{"LayerVersions": [{"Version": 1}, {"Version": 2}]}]
    items = LayerVersionReader(client).versions("l1")
    assert [item["version"] for item in items] == [2, 1]
    assert all(set(item) == set(FACT_KEYS) for item in items)
    assert items[0]["code_sha256"] == "hash-2" and items[0]["source_code_size"] == 20
    assert "presigned" not in repr(items)
    with_location = LayerVersionReader(client, include_content_location=True).versions("l1")
    assert with_location[0]["content_location"] == "https://presigned/2"


def test_filters_go_to_the_api_and_are_checked_again():
    client = MagicMock()
    by_version = {
        3: response(3, ["python3.13"], ["arm64"]),
        2: response(2, ["python3.12"], ["arm64"]),
        1: response(1, ["python3.12"], ["x86_64"]),
    }
    client.get_layer_version.side_effect = lambda LayerName, VersionNumber: by_version[VersionNumber]
    paginate = client.get_paginator.return_value.paginate
    # An endpoint that ignores the filters (as moto does) returns everything.
    paginate.return_value = [{
        "LayerVersions": [
            {"Version": number, "CompatibleRuntimes": item["CompatibleRuntimes"], "CompatibleArchitectures": item["CompatibleArchitectures"]}
            for number, item in by_version.items()
        ]
    }]
    items = LayerVersionReader(client).versions("l1", runtime="python3.12", architecture="arm64")
    paginate.assert_called_with(LayerName="l1", CompatibleRuntime="python3.12", CompatibleArchitecture="arm64")
    assert [item["version"] for item in items] == [2]


def test_latest_reads_only_the_newest_matching_version():
    client = MagicMock()
    client.get_layer_version.side_effect = lambda LayerName, VersionNumber: response(VersionNumber, ["python3.12"])
    client.get_paginator.return_value.paginate.return_value = [{
        "LayerVersions": [
            {"Version": 5, "CompatibleRuntimes": ["python3.13"]},
            {"Version": 4, "CompatibleRuntimes": ["python3.12"]},
            {"Version": 3, "CompatibleRuntimes": ["python3.12"]},
        ]
    }]
    items = LayerVersionReader(client).versions("l1", runtime="python3.12", latest=True)
    assert [item["version"] for item in items] == [4]
    client.get_layer_version.assert_called_once_with(LayerName="l1", VersionNumber=4)


def test_every_layer_reads_each_newest_version():
    client = MagicMock()
    other = "arn:aws:lambda:us-east-1:123456789012:layer:l2"
    client.get_layer_version.side_effect = lambda LayerName, VersionNumber: response(VersionNumber, layer_arn=LayerName)
    client.get_paginator.return_value.paginate.return_value = [{
        "Layers": [
            {"LayerArn": ARN, "LayerName": "l1", "LatestMatchingVersion": {"Version": 7}},
            {"LayerArn": other, "LayerName": "l2", "LatestMatchingVersion": {"Version": 2}},
        ]
    }]
    items = LayerVersionReader(client).every_layer()
    assert [(item["layer_name"], item["version"]) for item in items] == [("l1", 7), ("l2", 2)]


def test_missing_version_gives_an_empty_list():
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_layer_version", "ResourceNotFoundException", http_status_code=404)
        assert LayerVersionReader(client).version("l1", 9) == []


def test_every_page_is_read():
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response("list_layer_versions", {"LayerVersions": [{"Version": n} for n in range(60, 10, -1)], "NextMarker": "m1"}, {"LayerName": "l1"})
        stubber.add_response("list_layer_versions", {"LayerVersions": [{"Version": n} for n in range(10, 0, -1)]}, {"LayerName": "l1", "Marker": "m1"})
        reader = LayerVersionReader(client)
        reader.details = lambda refs: [{"version": number} for _ref, number in refs]
        assert [item["version"] for item in reader.versions("l1")] == list(range(60, 0, -1))
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}, "^arn: .* is not a layer version ARN"),
        ({"arn": "not-an-arn"}, "^arn: "),
        ({"layer_name": "l1", "version": 0}, "^version: 0 is not a layer version number"),
        ({"version": 3}, "^version: needs layer_name"),
        ({"latest": True}, "^latest: needs layer_name"),
        ({"layer_name": "bad name"}, "^layer_name: "),
        ({"layer_name": ARN + ":3"}, "^layer_name: .*layer version ARN"),
    ],
)
def test_bad_arguments_name_the_option(overrides, message):
    with pytest.raises(LayerInputError, match=message):
        _check_info_params(params(**overrides))


def test_arguments_that_parse():
    assert _check_info_params(params(arn=ARN + ":3"))["version"] == 3
    assert _check_info_params(params(arn=ARN))["version"] is None
    assert _check_info_params(params(layer_name="l1")) is None
    assert _check_info_params(params()) is None


def test_return_documentation_matches_the_facts():
    documented = yaml.safe_load(lambda_layer_version_info.RETURN)
    assert set(documented["layer_versions"]["contains"]) == set(FACT_KEYS) | {"content_location", "policy", "used_by"}
