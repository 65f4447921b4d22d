# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import datetime

import boto3
import botocore.session
import pytest

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_input
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import MAX_LAYER_VERSION_NUMBER
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_arn_partition
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_region
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_runtimes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_version_number
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_version_option
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import known_runtimes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_arn
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_name
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import partition_of_region

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


# Strictness: whole matches, ASCII digits only.

ARABIC_ACCOUNT = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"


@pytest.mark.parametrize(
    "value",
    [
        "abc\n",
        "abc\r\n",
        "\nabc",
        "ab\u0663",  # an Arabic-Indic digit
        LAYER_ARN + "\n",
        "see " + LAYER_ARN,
        f"arn:aws:lambda:us-east-1:{ARABIC_ACCOUNT}:layer:x",
        "arn:aws:lambda:us-east-1:12345678901\u0662:layer:x",
        "arn:aws:lambda:us-east-1:123456789012:layer/x",
        "arn:aws:lambda:us-east-1:123456789012:layer:x:",
        "arn:aws:lambda:us-east-1:123456789012:layer:" + "x" * 141,
        "arn:aws:lambda:us-east-1:123456789012:layer:x\n:1",
        "arn:aws:lambda:us-east-1:123456789012:layer::x",
        "arn:aws:lambda:US-EAST-1:123456789012:layer:x",
        "arn:aws:lambda:us-east-1-:123456789012:layer:x",
        "arn:awsfoo:lambda:us-east-1:123456789012:layer:x",
        "arn:aws:lambda::123456789012:layer:x",
        "arn:aws:lambda:us-east-1::layer:x",
        "arn:aws:lambda:us-east-1:aws:layer:x",
        "arn:aws:lambda:us-east-1:123456789012:function:x",
        "arn:aws:iam::123456789012:layer:x",
        "arn:" + "a" * 5000,
    ],
)
def test_near_misses_are_no_layer_name_nor_arn(value):
    with pytest.raises(LayerInputError, match="^layer_name: .* is neither a layer name"):
        parse_layer_name(value)


@pytest.mark.parametrize("value", ["arn:aws:lambda:us-east-1:123456789012:layer:x:\u0663", "arn:aws:lambda:us-east-1:123456789012:layer:x:3\n"])
def test_a_version_of_non_ascii_digits_or_with_a_line_break_is_no_arn(value):
    assert parse_layer_arn(value) is None


@pytest.mark.parametrize("digits", ["0", "000", str(MAX_LAYER_VERSION_NUMBER + 1), "9" * 25, "9" * 5000])
def test_versions_out_of_range_inside_an_arn_name_the_option(digits):
    with pytest.raises(LayerInputError, match="^arn: the ARN's version .* is not a layer version number"):
        parse_layer_arn(f"arn:aws:lambda:us-east-1:123456789012:layer:x:{digits}"[:2048])


def test_the_largest_version_inside_an_arn_is_accepted():
    assert parse_layer_arn(f"{LAYER_ARN}:{MAX_LAYER_VERSION_NUMBER}")["version"] == MAX_LAYER_VERSION_NUMBER
    assert parse_layer_arn(f"{LAYER_ARN}:007")["version"] == 7


def test_an_arn_longer_than_lambda_allows_is_no_arn():
    assert parse_layer_arn(f"{LAYER_ARN}:{'0' * 2048}1") is None


@pytest.mark.parametrize("version", [0, -1, MAX_LAYER_VERSION_NUMBER + 1, 10**30, True, False])
def test_version_numbers_out_of_range_name_the_option(version):
    with pytest.raises(LayerInputError, match="^version: .* is not a layer version number"):
        check_version_number(version)


def test_version_number_bounds_are_accepted():
    check_version_number(1)
    check_version_number(MAX_LAYER_VERSION_NUMBER)


def test_version_number_bound_is_the_botocore_model_s():
    """If botocore's model ever bounds LayerVersionNumber, MAX_LAYER_VERSION_NUMBER must follow it."""
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    shape = client.meta.service_model.shape_for("LayerVersionNumber")
    assert shape.type_name == "long"
    assert "max" not in shape.metadata and "min" not in shape.metadata


# Partitions, from botocore's data.


@pytest.mark.parametrize(
    "region, partition",
    [
        ("us-east-1", "aws"),
        ("eu-west-1", "aws"),
        ("ap-southeast-2", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
    ],
)
def test_partition_of_known_regions(region, partition):
    assert partition_of_region(region) == partition


@pytest.mark.parametrize("region", ["xx-nowhere-1", "moonbase", "", None, "us-east-1\n", "us-east-\u0661", "US-EAST-1"])
def test_partition_of_an_unknown_or_malformed_region_is_none(region):
    assert partition_of_region(region) is None


def test_partition_lookup_agrees_with_botocore_s_session_for_every_region_it_knows():
    session = botocore.session.get_session()
    listed = [
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("lambda", partition_name=partition)
    ]
    assert len(listed) > 30
    for region in listed:
        assert partition_of_region(region) == session.get_partition_for_region(region), region


def test_when_botocore_has_no_partitions_data_nothing_is_checked(monkeypatch):
    monkeypatch.setattr(_layer_input, "_partitions", lambda: None)
    partition_of_region.cache_clear()
    try:
        assert partition_of_region("us-east-1") is None
        check_arn_partition(parse_layer_arn(LAYER_ARN), "cn-north-1")
    finally:
        partition_of_region.cache_clear()


def test_without_botocore_nothing_is_checked(monkeypatch):
    monkeypatch.setattr(_layer_input, "HAS_BOTOCORE", False)
    partition_of_region.cache_clear()
    try:
        assert partition_of_region("us-east-1") is None
        check_arn_partition(parse_layer_arn("arn:aws:lambda:us-east-1:123456789012:layer:x"), "cn-north-1")
    finally:
        partition_of_region.cache_clear()


def test_an_arn_in_another_partition_than_its_region_names_both():
    with pytest.raises(LayerInputError, match="^layer_name: the ARN is in partition aws-cn, but the region it names, us-east-1, is in partition aws$"):
        parse_layer_name("arn:aws-cn:lambda:us-east-1:123456789012:layer:x")
    with pytest.raises(LayerInputError, match="^arn: the ARN is in partition aws, but the region it names, us-gov-west-1, is in partition aws-us-gov$"):
        parse_layer_arn("arn:aws:lambda:us-gov-west-1:123456789012:layer:x:1")


def test_an_arn_in_another_partition_than_the_module_names_both():
    parts = parse_layer_arn("arn:aws-cn:lambda:cn-north-1:123456789012:layer:x:1")
    with pytest.raises(LayerInputError, match="^arn: the ARN is in partition aws-cn, but the module works in region us-east-1, which is in partition aws$"):
        check_arn_partition(parts, "us-east-1", "arn")
    check_arn_partition(parts, "cn-northwest-1", "arn")


def test_regions_botocore_does_not_know_are_not_checked():
    parts = parse_layer_arn("arn:aws-cn:lambda:xx-nowhere-1:123456789012:layer:x")
    assert parts["partition"] == "aws-cn"
    check_arn_partition(parts, "yy-elsewhere-2")
    check_arn_partition(parse_layer_arn(LAYER_ARN), "yy-elsewhere-2")


def test_region_check_names_the_partitions_before_the_regions():
    parts = parse_layer_arn("arn:aws-cn:lambda:cn-north-1:123456789012:layer:x")
    expected = "^layer_name: the ARN is in partition aws-cn, but the module works in region us-east-1, which is in partition aws$"
    with pytest.raises(LayerInputError, match=expected):
        check_layer_arn_region(parts, "us-east-1")
    with pytest.raises(LayerInputError, match="partition aws-cn.*partition aws"):
        check_layer_arn_location(parts, "us-east-1", "123456789012")
    with pytest.raises(LayerInputError, match="^layer_name: the ARN names region cn-north-1, but the module works in region cn-northwest-1$"):
        check_layer_arn_region(parts, "cn-northwest-1")
    check_layer_arn_location(parts, "cn-north-1", "123456789012")
