# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import yaml

from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import FACT_KEYS
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import layer_version_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_facts import predicted_layer_version_facts
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import build_desired
from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version

PUBLISH_RESPONSE = {
    "Content": {"Location": "https://example/presigned", "CodeSha256": "abc=", "CodeSize": 110, "SigningJobArn": "job"},
    "LayerArn": "arn:aws:lambda:us-east-1:123456789012:layer:l1",
    "LayerVersionArn": "arn:aws:lambda:us-east-1:123456789012:layer:l1:2",
    "Description": "desc",
    "CreatedDate": "2026-11-24T17:25:10.150+0000",
    "Version": 2,
    "CompatibleRuntimes": ["python3.12"],
    "LicenseInfo": "MIT",
    "CompatibleArchitectures": ["arm64"],
}


def test_facts_use_terraform_names():
    assert layer_version_facts(PUBLISH_RESPONSE) == {
        "arn": "arn:aws:lambda:us-east-1:123456789012:layer:l1:2",
        "layer_arn": "arn:aws:lambda:us-east-1:123456789012:layer:l1",
        "layer_name": "l1",
        "version": 2,
        "description": "desc",
        "license_info": "MIT",
        "compatible_runtimes": ["python3.12"],
        "compatible_architectures": ["arm64"],
        "code_sha256": "abc=",
        "source_code_size": 110,
        "created_date": "2026-11-24T17:25:10.150+0000",
        "signing_job_arn": "job",
        "signing_profile_version_arn": None,
        "resolved_s3_object": None,
    }


def test_presigned_location_is_never_in_the_facts():
    assert "https://example/presigned" not in repr(layer_version_facts(PUBLISH_RESPONSE))


def test_missing_optional_fields_become_empty():
    facts = layer_version_facts({"LayerVersionArn": "arn:aws:lambda:us-east-1:123456789012:layer:l1:1", "Version": 1, "Content": {}})
    assert facts["layer_arn"] == "arn:aws:lambda:us-east-1:123456789012:layer:l1"
    assert facts["description"] == ""
    assert facts["license_info"] == ""
    assert facts["compatible_runtimes"] == []
    assert facts["compatible_architectures"] == []


def test_predicted_facts_leave_unknowns_null():
    desired = build_desired("l1", description="d", compatible_runtimes=["python3.12"]).with_content("abc=")
    facts = predicted_layer_version_facts(desired, layer_arn="arn:aws:lambda:us-east-1:123456789012:layer:l1", source_code_size=5)
    assert set(facts) == set(FACT_KEYS)
    assert facts["arn"] is None and facts["version"] is None and facts["created_date"] is None
    assert facts["code_sha256"] == "abc=" and facts["source_code_size"] == 5 and facts["description"] == "d"


def test_return_documentation_matches_the_facts():
    documented = yaml.safe_load(lambda_layer_version.RETURN)
    assert set(documented["layer_version"]["contains"]) == set(FACT_KEYS)
    assert set(layer_version_facts(PUBLISH_RESPONSE)) == set(FACT_KEYS)
