# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import datetime

import boto3
import pytest

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_runtimes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_version_option
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import known_runtimes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_arn
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_name

LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:my-layer"
KNOWN = ["python3.8", "python3.12", "python3.13", "nodejs22.x", "java21"] + [f"custom{n}" for n in range(20)]


@pytest.mark.parametrize("name", ["a", "my-layer", "My_Layer-2", "x" * 140])
def test_plain_names_are_accepted(name):
    assert parse_layer_name(name) == (name, None)


def test_layer_arn_is_reduced_to_its_name():
    name, parts = parse_layer_name(LAYER_ARN)
    assert name == "my-layer"
    assert parts == {"partition": "aws", "region": "us-east-1", "account_id": "123456789012", "layer_name": "my-layer", "version": None}


def test_other_partitions_parse():
    parts = parse_layer_arn("arn:aws-cn:lambda:cn-north-1:123456789012:layer:l:7")
    assert parts["partition"] == "aws-cn"
    assert parts["version"] == 7


@pytest.mark.parametrize("value", ["", "x" * 141, "has space", "semi;colon", "arn:aws:lambda:us-east-1:1234:layer:x", "arn:aws:s3:::bucket"])
def test_bad_names_name_the_option(value):
    with pytest.raises(LayerInputError, match="^layer_name: "):
        parse_layer_name(value)


def test_layer_version_arn_is_refused_with_a_hint():
    with pytest.raises(LayerInputError, match="layer_name: .*layer version ARN.*'version'"):
        parse_layer_name(LAYER_ARN + ":3")


def test_arn_location_checks():
    _name, parts = parse_layer_name(LAYER_ARN)
    check_layer_arn_location(parts, "us-east-1", "123456789012")
    with pytest.raises(LayerInputError, match="layer_name: the ARN names region us-east-1, but the module works in region eu-west-1"):
        check_layer_arn_location(parts, "eu-west-1", "123456789012")
    with pytest.raises(LayerInputError, match="layer_name: the ARN names account 123456789012, but the credentials belong to account 210987654321"):
        check_layer_arn_location(parts, "us-east-1", "210987654321")


def test_known_runtimes_come_from_the_botocore_model():
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    runtimes = known_runtimes(client.meta.service_model)
    assert runtimes == client.meta.service_model.shape_for("Runtime").enum
    assert "python3.12" in runtimes
    assert "cobol85" not in runtimes


def test_runtimes_are_deduplicated_and_sorted():
    runtimes, warnings = check_runtimes(["python3.13", "python3.12", "python3.13"], KNOWN, today=datetime.date(2026, 1, 1))
    assert runtimes == ["python3.12", "python3.13"]
    assert warnings == []


def test_unset_runtimes_are_empty():
    assert check_runtimes(None, KNOWN) == ([], [])


def test_unknown_runtime_is_named_and_points_at_botocore():
    with pytest.raises(LayerInputError) as error:
        check_runtimes(["python3.12", "cobol85"], KNOWN)
    message = str(error.value)
    assert message.startswith("compatible_runtimes: unknown runtime(s) cobol85")
    assert "newer botocore" in message


def test_more_than_fifteen_runtimes_fail():
    with pytest.raises(LayerInputError, match="compatible_runtimes: 16 distinct runtimes given, AWS allows at most 15"):
        check_runtimes([f"custom{n}" for n in range(16)], KNOWN)


def test_fifteen_runtimes_pass_and_duplicates_do_not_count():
    runtimes, _warnings = check_runtimes([f"custom{n}" for n in range(15)] * 2, KNOWN)
    assert len(runtimes) == 15


def test_deprecated_runtime_warns_with_its_date_once_passed():
    _runtimes, warnings = check_runtimes(["python3.8"], KNOWN, today=datetime.date(2026, 11, 26))
    assert len(warnings) == 1
    assert "python3.8 is deprecated by AWS Lambda since 2024-10-14" in warnings[0]
    _runtimes, warnings = check_runtimes(["python3.8"], KNOWN, today=datetime.date(2024, 10, 13))
    assert warnings == []


def test_version_option():
    check_version_option("absent", 3)
    check_version_option("present", None)
    with pytest.raises(LayerInputError, match="^version: only valid with state=absent"):
        check_version_option("present", 3)
    with pytest.raises(LayerInputError, match="^version: 0 is not a layer version number"):
        check_version_option("absent", 0)
