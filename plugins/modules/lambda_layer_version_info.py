#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_layer_version_info
version_added: "1.0.0"
short_description: Read AWS Lambda layer versions
description:
  - Reads Lambda layer versions and returns their facts, with the attribute names of Terraform's
    C(aws_lambda_layer_version) (the same facts M(layerwise.aws.lambda_layer_version) returns). Never writes.
  - By layer version ARN (O(arn)), by O(layer_name) and O(version), every version of a layer (O(layer_name) alone,
    newest first, every page read), only the newest matching version (O(latest=true), like Terraform's
    C(aws_lambda_layer_version) data source), or the newest version of every layer of the account and region
    (neither O(arn) nor O(layer_name)).
  - Every returned item has the full facts, RV(layer_versions[].code_sha256) and RV(layer_versions[].source_code_size)
    included, which list calls do not return; each version is therefore read with GetLayerVersion, up to 8 at a time.
  - A version or layer that does not exist gives an empty list, not a failure.
author:
  - layerwise.aws maintainers (@layerwise)
options:
  arn:
    description:
      - "A layer version ARN (V(arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)): read exactly that version."
      - A layer ARN without version means that layer, as if given in O(layer_name).
      - An ARN in another region is read in that region; another account's layer is read by its ARN
        (the caller needs permission to read it).
      - Mutually exclusive with O(layer_name).
    type: str
  layer_name:
    description:
      - The name or layer ARN of the layer to read.
    type: str
    aliases: [name]
  version:
    description:
      - With O(layer_name), read only this version.
      - The alias O(version_number) is the name M(amazon.aws.lambda_layer_info) uses.
    type: int
    aliases: [version_number]
  compatible_runtime:
    description:
      - Only versions compatible with this runtime. Passed to the API as its filter and checked again on the
        returned items.
    type: str
  compatible_architecture:
    description:
      - Only versions compatible with this architecture. Passed to the API as its filter and checked again on
        the returned items.
    type: str
    choices: [x86_64, arm64]
  latest:
    description:
      - With O(layer_name) (or a layer ARN in O(arn)), return only the newest version that matches the filters.
    type: bool
    default: false
  include_content_location:
    description:
      - Add RV(layer_versions[].content_location), the short-lived presigned URL to download each version's package.
      - Off by default, since the URL grants access to the package to whoever holds it.
    type: bool
    default: false
  include_policy:
    description:
      - Add RV(layer_versions[].policy), the version's resource-based policy (who it is shared with), parsed.
      - Costs one GetLayerVersionPolicy call per version, made with the other reads of that version.
    type: bool
    default: false
  include_usage:
    description:
      - Add RV(layer_versions[].used_by) to every returned version, the functions whose configuration references it.
      - The functions of the account in the region of the layer are listed once per run, whatever the number of versions
        returned (ListFunctions with C(FunctionVersion=ALL), every page; each call answers at most 50 function configurations,
        and every published version of a function is one configuration). Needs the C(lambda:ListFunctions) permission.
      - Only the caller's own functions are seen; functions in other accounts that use a shared version are not.
    type: bool
    default: false
    version_added: "1.1.0"
notes:
  - Lambda allows about 15 control plane requests per second in an account; throttled reads are retried with
    jittered backoff, so reading hundreds of versions takes some seconds on real AWS.
seealso:
  - module: layerwise.aws.lambda_layer_version
  - module: amazon.aws.lambda_layer_info
    description: Lists layer versions without their content hash and size.
extends_documentation_fragment:
  - layerwise.aws._attributes.INFO_MODULE
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read one version by its ARN
  layerwise.aws.lambda_layer_version_info:
    arn: arn:aws:lambda:eu-west-1:123456789012:layer:shared-utils:4
  register: by_arn

- name: Read version 3 of a layer by name
  layerwise.aws.lambda_layer_version_info:
    layer_name: shared-utils
    version: 3

- name: Read every version of a layer, newest first
  layerwise.aws.lambda_layer_version_info:
    layer_name: shared-utils
  register: all_versions

- name: The newest version compatible with Python 3.12 on arm64, like Terraform's data source
  layerwise.aws.lambda_layer_version_info:
    layer_name: shared-utils
    latest: true
    compatible_runtime: python3.12
    compatible_architecture: arm64
  register: newest

- name: The newest version of every layer in the region
  layerwise.aws.lambda_layer_version_info:
  register: every_layer

- name: See who each version is shared with
  layerwise.aws.lambda_layer_version_info:
    layer_name: shared-utils
    include_policy: true
  register: shared

- name: See which functions use each version of a layer, before deleting any
  layerwise.aws.lambda_layer_version_info:
    layer_name: shared-utils
    include_usage: true
  register: usage

- name: Show the versions no function uses
  ansible.builtin.debug:
    msg: "{{ usage.layer_versions | rejectattr('used_by') | map(attribute='version') | list }}"

- name: Get a download URL for the package of the newest version
  layerwise.aws.lambda_layer_version_info:
    layer_name: shared-utils
    latest: true
    include_content_location: true
  register: with_url
"""

RETURN = r"""
layer_versions:
  description:
    - The versions found, newest first for one layer; empty when the version or layer does not exist.
  returned: always
  type: list
  elements: dict
  contains:
    arn:
      description: The ARN of the layer version.
      type: str
      sample: arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:4
    layer_arn:
      description: The ARN of the layer, without version.
      type: str
      sample: arn:aws:lambda:us-east-1:123456789012:layer:shared-utils
    layer_name:
      description: The name of the layer.
      type: str
      sample: shared-utils
    version:
      description: The version number.
      type: int
      sample: 4
    description:
      description: The description of the version (empty when none).
      type: str
      sample: Shared helpers
    license_info:
      description: The licence of the version (empty when none).
      type: str
      sample: MIT
    compatible_runtimes:
      description: The compatible runtimes.
      type: list
      elements: str
      sample: [python3.12, python3.13]
    compatible_architectures:
      description: The compatible architectures.
      type: list
      elements: str
      sample: [arm64, x86_64]
    code_sha256:
      description: The base64-encoded SHA-256 of the package.
      type: str
      sample: pBL6unmrZYkcMDc+SJdbmVylPjEkmkY8Gn0aXzZr5T8=
    source_code_size:
      description: The size of the package in bytes.
      type: int
      sample: 110
    created_date:
      description: When the version was created, in ISO 8601 format.
      type: str
      sample: "2026-11-24T17:25:10.150+0000"
    signing_job_arn:
      description: The ARN of the signing job, if the package was signed.
      type: str
      sample: null
    signing_profile_version_arn:
      description: The ARN of the signing profile version, if the package was signed.
      type: str
      sample: null
    resolved_s3_object:
      description:
        - With O(layerwise.aws.lambda_layer_version#module:s3_object_storage_mode=REFERENCE), the S3 object the version's archive stays in (C(bucket), C(key),
          C(version_id)), as Lambda reports it in C(Content.ResolvedS3Object); V(null) for a version Lambda copied.
      type: dict
      sample: null
    policy:
      description: The version's policy, parsed; V(null) when the version has none.
      type: dict
      returned: when O(include_policy=true)
      sample:
        Version: "2012-10-17"
        Id: default
        Statement:
          - Sid: share-with-prod
            Effect: Allow
            Principal:
              AWS: arn:aws:iam::210987654321:root
            Action: lambda:GetLayerVersion
            Resource: arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:4
    used_by:
      description:
        - The ARNs of the functions whose configuration references this version, sorted; empty when none does.
        - An unqualified ARN stands for the function's V($LATEST); a published function version has its number
          appended (V(arn:aws:lambda:REGION:ACCOUNT:function:NAME:3)).
      type: list
      elements: str
      returned: when O(include_usage=true)
      version_added: "1.1.0"
      sample:
        - arn:aws:lambda:us-east-1:123456789012:function:orders
        - arn:aws:lambda:us-east-1:123456789012:function:orders:7
    content_location:
      description: A presigned URL to download the package, valid for about ten minutes.
      type: str
      returned: when O(include_content_location=true)
      sample: https://awslambda-us-east-1-layers.s3.us-east-1.amazonaws.com/snapshots/123456789012/shared-utils-abc
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.layerwise.aws.plugins.module_utils._layer_info import run_info_module


def main():
    argument_spec = dict(
        arn=dict(type="str"),
        layer_name=dict(type="str", aliases=["name"]),
        version=dict(type="int", aliases=["version_number"]),
        compatible_runtime=dict(type="str"),
        compatible_architecture=dict(type="str", choices=["x86_64", "arm64"]),
        latest=dict(type="bool", default=False),
        include_content_location=dict(type="bool", default=False),
        include_policy=dict(type="bool", default=False),
        include_usage=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["arn", "layer_name"], ["version", "latest"]],
        supports_check_mode=True,
    )
    run_info_module(module)


if __name__ == "__main__":
    main()
