# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LayerVersionManager with ``newest_hints``: the newest version's number known from ListLayers."""

import base64
import hashlib
import io
import zipfile
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import LocalZipSource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import build_desired
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import READ_ATTEMPTS
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerVersionManager

ARN = "arn:aws:lambda:us-east-1:123456789012:layer:l1"


@pytest.fixture
def package(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/mod.py", "v1")
    path = tmp_path / "layer.zip"
    path.write_bytes(buffer.getvalue())
    return str(path), base64.b64encode(hashlib.sha256(buffer.getvalue()).digest()).decode()


def version_response(version, code_sha256):
    return {
        "LayerArn": ARN,
        "LayerVersionArn": f"{ARN}:{version}",
        "Version": version,
        "CreatedDate": "2026-11-24T17:25:10.150+0000",
        "Content": {"CodeSha256": code_sha256, "CodeSize": 10},
    }


def not_found():
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}}, "GetLayerVersion")


def test_a_hint_replaces_the_list_call(package):
    path, code_sha256 = package
    client = MagicMock()
    client.get_layer_version.return_value = version_response(7, code_sha256)
    result = LayerVersionManager(client, newest_hints={"l1": 7}).present(build_desired("l1"), LocalZipSource(path))
    assert result["changed"] is False and result["layer_version"]["version"] == 7
    client.get_layer_version.assert_called_once_with(LayerName="l1", VersionNumber=7)
    client.list_layer_versions.assert_not_called()


def test_a_hint_of_another_layer_is_not_used(package):
    path, code_sha256 = package
    client = MagicMock()
    client.list_layer_versions.return_value = {"LayerVersions": [{"Version": 2}]}
    client.get_layer_version.return_value = version_response(2, code_sha256)
    LayerVersionManager(client, newest_hints={"other": 7}).present(build_desired("l1"), LocalZipSource(path))
    client.list_layer_versions.assert_called_once_with(LayerName="l1", MaxItems=1)
    client.get_layer_version.assert_called_once_with(LayerName="l1", VersionNumber=2)


def test_a_stale_hint_falls_back_to_listing(package):
    """The hinted version was deleted since the listing: the newest is listed, as without a hint."""
    path, code_sha256 = package
    client = MagicMock()
    client.list_layer_versions.return_value = {"LayerVersions": [{"Version": 5}]}
    client.get_layer_version.side_effect = [not_found(), version_response(5, code_sha256)]
    result = LayerVersionManager(client, newest_hints={"l1": 7}).present(build_desired("l1"), LocalZipSource(path))
    assert result["changed"] is False and result["layer_version"]["version"] == 5
    assert [call.kwargs["VersionNumber"] for call in client.get_layer_version.call_args_list] == [7, 5]
    client.list_layer_versions.assert_called_once_with(LayerName="l1", MaxItems=1)


def test_a_stale_hint_of_a_layer_deleted_since_means_no_version(package):
    path, _code_sha256 = package
    client = MagicMock()
    client.list_layer_versions.return_value = {"LayerVersions": []}
    client.get_layer_version.side_effect = not_found()
    result = LayerVersionManager(client, newest_hints={"l1": 7}, check_mode=True).present(build_desired("l1"), LocalZipSource(path))
    assert result["changed"] is True and result["layer_version"]["version"] is None
    client.publish_layer_version.assert_not_called()


def test_reading_with_a_stale_hint_stays_bounded():
    client = MagicMock()
    client.list_layer_versions.return_value = {"LayerVersions": [{"Version": 5}]}
    client.get_layer_version.side_effect = not_found()
    with pytest.raises(AnsibleLambdaLayerError, match="3 times"):
        LayerVersionManager(client, newest_hints={"l1": 7}).read_newest("l1")
    assert client.get_layer_version.call_count == READ_ATTEMPTS
    assert client.list_layer_versions.call_count == READ_ATTEMPTS - 1


def test_copy_permissions_lists_the_two_newest_versions_despite_a_hint(package):
    """Finishing an earlier run's work needs the version below the newest, which a hint does not name."""
    path, code_sha256 = package
    client = MagicMock()
    client.list_layer_versions.return_value = {"LayerVersions": [{"Version": 7}, {"Version": 6}]}
    client.get_layer_version.return_value = version_response(7, code_sha256)
    client.get_layer_version_policy.side_effect = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "none"}}, "GetLayerVersionPolicy")
    manager = LayerVersionManager(client, newest_hints={"l1": 7})
    result = manager.present(build_desired("l1"), LocalZipSource(path), copy_permissions=True)
    assert result["changed"] is False
    client.list_layer_versions.assert_called_once_with(LayerName="l1", MaxItems=2)
