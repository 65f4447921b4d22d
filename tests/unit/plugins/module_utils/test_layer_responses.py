# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Answers are checked against the botocore model before they are trusted."""

from unittest.mock import MagicMock

import boto3
import pytest
from botocore.parsers import ResponseParserError

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import SUMMARY_MEMBERS
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import VERSION_MEMBERS
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import MalformedResponse
from ansible_collections.layerwise.aws.plugins.module_utils._layer_responses import check_answer
from ansible_collections.layerwise.aws.plugins.module_utils._layer_responses import checked_call

ARN = "arn:aws:lambda:us-east-1:123456789012:layer:l1"
VERSION = {"LayerVersionArn": f"{ARN}:2", "Version": 2, "Content": {"CodeSha256": "h", "CodeSize": 10}, "ResponseMetadata": {"HTTPStatusCode": 201}}


@pytest.fixture
def client():
    real = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x", endpoint_url="http://127.0.0.1:9")
    fake = MagicMock()
    fake.meta = real.meta
    return fake


def test_a_fitting_answer_is_returned_without_its_metadata(client):
    expected = {key: VERSION[key] for key in ("LayerVersionArn", "Version", "Content")}
    assert check_answer(client, "PublishLayerVersion", dict(VERSION), VERSION_MEMBERS) == expected
    assert check_answer(client, "ListLayerVersions", {"LayerVersions": []}, SUMMARY_MEMBERS) == {"LayerVersions": []}


@pytest.mark.parametrize(
    "operation, answer, required, words",
    [
        ("ListLayerVersions", {}, SUMMARY_MEMBERS, "LayerVersions is missing"),
        ("ListLayerVersions", {"LayerVersions": [{}]}, SUMMARY_MEMBERS, "LayerVersions[].Version is missing"),
        ("ListLayerVersions", {"LayerVersions": "<html>"}, SUMMARY_MEMBERS, "LayerVersions is str, the model says list"),
        ("ListLayerVersions", {"LayerVersions": [{"Version": "3"}]}, SUMMARY_MEMBERS, "LayerVersions[0].Version is str, the model says long"),
        ("ListLayerVersions", {"LayerVersions": [{"Version": True}]}, SUMMARY_MEMBERS, "LayerVersions[0].Version is bool"),
        ("PublishLayerVersion", {}, VERSION_MEMBERS, "LayerVersionArn is missing"),
        ("PublishLayerVersion", dict(VERSION, Content={"CodeSize": 1}), VERSION_MEMBERS, "Content.CodeSha256 is missing"),
        ("PublishLayerVersion", dict(VERSION, Content=None), VERSION_MEMBERS, "Content.CodeSha256 is missing"),
        ("GetLayerVersion", "<html></html>", VERSION_MEMBERS, "the answer is a str"),
    ],
)
def test_an_answer_that_does_not_fit_is_malformed_naming_the_call_and_endpoint(client, operation, answer, required, words):
    with pytest.raises(MalformedResponse) as error:
        check_answer(client, operation, answer, required)
    assert words in str(error.value)
    assert f"{operation} on http://127.0.0.1:9 answered" in str(error.value)


def test_a_body_botocore_cannot_parse_is_malformed(client):
    client.get_caller_identity.side_effect = ResponseParserError("Unable to parse response (syntax error), invalid XML received")
    with pytest.raises(MalformedResponse, match="GetCallerIdentity on http://127.0.0.1:9 .* the body does not parse"):
        checked_call(client, "GetCallerIdentity", ("Account",))
