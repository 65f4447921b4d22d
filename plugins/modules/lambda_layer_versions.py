#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_layer_versions
version_added: "1.0.0"
short_description: Manage many AWS Lambda layer versions in one task, concurrently
description:
  - Manages a list of Lambda layers in one module run. Each item of O(layers) takes the options of
    M(layerwise.aws.lambda_layer_version) and is handled exactly as that module handles it (comparison, publish,
    deletion of the superseded version, check mode, diff mode); only the loop differs.
  - Use it instead of a loop over M(layerwise.aws.lambda_layer_version) when there are many layers, or one layer in
    many regions. A loop pays Ansible's per-task cost and a module start for every item; this module starts once,
    makes one Lambda client per region, and handles up to O(max_concurrency) layers at the same time.
  - "Many regions in one task: each item may name its own O(layers[].region) (else the module's region is used), so one
    task can publish, read back (and, with O(layers[].copy_permissions), keep sharing) the same layer in every region,
    with the module's credentials. Each item's result names its region. The same layer may appear once per region."
  - "Reads near the quota floor: an unchanged layer costs a GetLayerVersion (its newest version's hash) and, to know
    which version is the newest, a ListLayerVersions. When at least 4 items of a region read their newest version that
    way, the module first lists the region's layers (ListLayers, 50 per page, unfiltered), which names the newest
    version of every layer, and then skips the ListLayerVersions of every item whose layer it saw. It stops listing once
    it saw all of them, or after as many pages as a quarter of those items, so that in an account with many more layers
    than the task the listing costs at most a quarter more than what it saves. Items not seen (new layers), items with
    O(layers[].state=absent) and items with O(layers[].copy_permissions=true) (they read the two newest versions) read
    their own versions as M(layerwise.aws.lambda_layer_version) does. An unchanged run of N layers in a region then costs
    N GetLayerVersion and about N / 50 ListLayers requests."
  - Every item is checked before the first AWS call. A layer's failure of any kind (bad input, which fails that item
    before anything is read or written for it, an AWS error, a malformed answer, a file that disappears) fails that
    layer only; the other layers are handled. The task then fails at the end, with a message naming every failed layer
    and the results of all of them in RV(results); C(changed) is true if any layer wrote anything.
author:
  - layerwise.aws maintainers (@layerwise)
options:
  layers:
    description:
      - The layers to manage. Each layer may appear only once.
    type: list
    elements: dict
    required: true
    suboptions:
      layer_name:
        description:
          - The layer's name or layer ARN (in the item's region and the caller's account).
        type: str
        required: true
        aliases: [name]
      region:
        description:
          - The AWS region of this item, such as V(eu-west-1). Defaults to the module's region.
          - Items of several regions run in the same pool of threads, with one Lambda client per region.
        type: str
        version_added: "1.1.0"
      state:
        description:
          - V(present) publishes a new version when the newest one differs; V(absent) deletes O(layers[].version) or every version.
        type: str
        choices: [present, absent]
        default: present
      filename:
        description:
          - Local zip file (at most 50 MiB unless staged through S3 with O(layers[].s3_bucket)).
        type: path
      source_dir:
        description:
          - A directory packaged reproducibly, as O(layerwise.aws.lambda_layer_version#module:source_dir) describes.
        type: path
        version_added: "1.1.0"
      excludes:
        description:
          - With O(layers[].source_dir), glob patterns of paths left out of the package.
        type: list
        elements: str
        version_added: "1.1.0"
      s3_bucket:
        description:
          - S3 bucket of the zip (with O(layers[].s3_key)), or to stage O(layers[].filename) or O(layers[].source_dir) through.
        type: str
      s3_key:
        description:
          - S3 key of the zip, or the key to stage O(layers[].filename) to.
        type: str
      s3_object_version:
        description:
          - S3 object version of the zip.
        type: str
      s3_object_storage_mode:
        description:
          - How Lambda keeps an S3 package, as O(layerwise.aws.lambda_layer_version#module:s3_object_storage_mode) describes.
        type: str
        choices: [COPY, REFERENCE]
        version_added: "1.1.0"
      description:
        description:
          - Description of the version. Unset equals empty.
        type: str
      license_info:
        description:
          - Licence of the layer. Unset equals empty.
        type: str
      compatible_runtimes:
        description:
          - Compatible runtimes (at most 15, known to the installed botocore), compared as a set.
        type: list
        elements: str
      compatible_architectures:
        description:
          - Compatible architectures, compared as a set.
        type: list
        elements: str
        choices: [x86_64, arm64]
      source_code_hash:
        description:
          - Base64-encoded SHA-256 of the package; stands for its content in the comparison.
        type: str
      skip_destroy:
        description:
          - Keep the superseded version (V(present)); delete nothing (V(absent)).
        type: bool
        default: false
      copy_permissions:
        description:
          - Copy the superseded version's policy statements to a new version.
        type: bool
        default: false
      keep_versions:
        description:
          - Keep the newest N versions (the current one included) and delete the older ones that no function uses, on
            every run; replaces the deletion of the superseded version. At least 1; conflicts with
            O(layers[].skip_destroy=true); only with O(layers[].state=present).
          - The functions are listed once per task and region, for every layer that has a version to delete; see
            O(layerwise.aws.lambda_layer_version#module:keep_versions).
        type: int
        version_added: "1.1.0"
      prune_in_use:
        description:
          - With O(layers[].keep_versions), delete the versions beyond the newest N even when functions use them.
        type: bool
        default: false
        version_added: "1.1.0"
      version:
        description:
          - Only with O(layers[].state=absent), the version to delete.
        type: int
      content:
        description:
          - Not used; giving it fails with a hint (it is M(amazon.aws.lambda_layer)'s option).
        type: raw
        version_added: "1.1.0"
  max_concurrency:
    description:
      - How many layers are handled at the same time (threads sharing one client per region), from 1 to 64, over all
        regions together.
    type: int
    default: 8
notes:
  - Warnings about an item (such as a deprecated runtime) start with the item's position and layer name.
  - Listing the layers needs the C(lambda:ListLayers) permission (on resource V(*)). Without it, or if the listing
    fails for any other reason, every item reads its own newest version; the run is the same, one request per item
    dearer.
  - A version number read by the listing is as fresh as the listing, at the start of the run; a version deleted since
    is noticed (GetLayerVersion then says it does not exist, and the item lists its versions again).
  - Check mode writes nothing, in any region.
  - To share a layer in every region, register the result and loop M(layerwise.aws.lambda_layer_version_permission)
    over RV(results) with C(region) and C(arn) taken from each item (see the examples); O(layers[].copy_permissions)
    then carries the statements over to every later version, in each region.
seealso:
  - module: layerwise.aws.lambda_layer_version
    description: The same for one layer, with the full description of every option.
extends_documentation_fragment:
  - layerwise.aws._attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Manage several layers at once
  layerwise.aws.lambda_layer_versions:
    layers:
      - layer_name: shared-utils
        filename: build/shared-utils.zip
        compatible_runtimes: [python3.12, python3.13]
      - layer_name: numpy-layer
        s3_bucket: my-artifacts
        s3_key: layers/numpy.zip
        skip_destroy: true
      - layer_name: retired-layer
        state: absent
  register: layers

- name: Keep the newest 2 versions of each layer (the functions are listed once, for every layer)
  layerwise.aws.lambda_layer_versions:
    layers:
      - layer_name: shared-utils
        filename: build/shared-utils.zip
        compatible_runtimes: [python3.12, python3.13]
        keep_versions: 2
      - layer_name: numpy-layer
        s3_bucket: my-artifacts
        s3_key: layers/numpy.zip
        keep_versions: 2

- name: Show each layer's version ARN
  ansible.builtin.debug:
    msg: "{{ item.layer_name }}: {{ item.layer_version.arn | default('deleted') }}"
  loop: "{{ layers.results }}"
  loop_control:
    label: "{{ item.layer_name }}"

- name: Publish one layer in three regions, concurrently, in one task
  layerwise.aws.lambda_layer_versions:
    layers:
      - layer_name: shared-utils
        region: us-east-1
        filename: build/shared-utils.zip
        copy_permissions: true
      - layer_name: shared-utils
        region: eu-west-1
        filename: build/shared-utils.zip
        copy_permissions: true
      - layer_name: shared-utils
        region: ap-southeast-2
        filename: build/shared-utils.zip
        copy_permissions: true
  register: published

- name: Share the version of each region with another account
  layerwise.aws.lambda_layer_version_permission:
    region: "{{ item.region }}"
    arn: "{{ item.layer_version.arn }}"
    statement_id: share-with-prod
    principal: "210987654321"
  loop: "{{ published.results }}"
  loop_control:
    label: "{{ item.region }}"

- name: Dry run over every layer, with a diff per layer
  layerwise.aws.lambda_layer_versions:
    layers: "{{ my_layers }}"
  vars:
    my_layers:  # usually from the inventory or a vars file
      - layer_name: shared-utils
        filename: build/shared-utils.zip
        compatible_runtimes: [python3.12, python3.13]
      - layer_name: numpy-layer
        s3_bucket: my-artifacts
        s3_key: layers/numpy.zip
        skip_destroy: true
  check_mode: true
  diff: true
"""

RETURN = r"""
results:
  description: One result per item of O(layers), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    layer_name:
      description: The layer's name.
      type: str
      sample: shared-utils
    region:
      description: The region the layer was handled in (the item's O(layers[].region), else the module's).
      type: str
      sample: eu-west-1
    state:
      description: The item's O(layers[].state).
      type: str
      sample: present
    changed:
      description: Whether this layer changed (or would, in check mode).
      type: bool
      sample: false
    failed:
      description: Whether this layer failed (its input, its AWS calls, or anything else).
      type: bool
      sample: false
    msg:
      description: Why this layer failed, what it had done before and how to finish.
      type: str
      returned: when failed
      sample: "Failed to publish layer version: An error occurred (TooManyRequestsException). Nothing was written."
    error:
      description: The AWS error (C(code) and C(message)) of the failure.
      type: dict
      returned: when failed on an AWS error
      sample: {code: TooManyRequestsException, message: Rate exceeded}
    error_code:
      description: The AWS error code of the failure.
      type: str
      returned: when failed on an AWS error
      sample: TooManyRequestsException
    layer_version:
      description:
        - The facts of the resulting version, as RV(layerwise.aws.lambda_layer_version#module:layer_version) of
          M(layerwise.aws.lambda_layer_version) (V(null) for what AWS has not assigned yet, in check mode).
      type: dict
      returned: when the item's state is present and it did not fail
      sample:
        arn: arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:4
        layer_arn: arn:aws:lambda:us-east-1:123456789012:layer:shared-utils
        layer_name: shared-utils
        version: 4
        description: ""
        license_info: ""
        compatible_runtimes: [python3.12, python3.13]
        compatible_architectures: []
        code_sha256: pBL6unmrZYkcMDc+SJdbmVylPjEkmkY8Gn0aXzZr5T8=
        source_code_size: 110
        created_date: "2026-11-24T17:25:10.150+0000"
        signing_job_arn: null
        signing_profile_version_arn: null
        resolved_s3_object: null
    package:
      description: The local package, as RV(layerwise.aws.lambda_layer_version#module:package) describes it.
      type: dict
      returned: with O(layers[].filename) or O(layers[].source_dir) and O(layers[].state=present)
    deleted_versions:
      description: The version numbers deleted for this layer (or that would be, in check mode).
      type: list
      elements: int
      sample: [3]
    copied_permissions:
      description: The ids of the statements copied to the new version.
      type: list
      elements: str
      returned: when the item's O(layers[].copy_permissions=true)
      sample: [share-with-prod]
    undeleted_versions:
      description: The versions this layer meant to delete and did not (the item then failed after writing).
      type: list
      elements: int
      returned: on a failure after a write
      sample: [3]
    uncopied_permissions:
      description: The ids of the statements not copied to the new version (the item then failed after publishing).
      type: list
      elements: str
      returned: on a failure after a publish, with O(layers[].copy_permissions=true)
      sample: [share-with-prod]
    kept_in_use:
      description: As RV(layerwise.aws.lambda_layer_version#module:kept_in_use).
      type: dict
      returned: when the item's O(layers[].keep_versions) is given and it did not fail before reading the layer's versions
      version_added: "1.1.0"
      sample: {"2": ["arn:aws:lambda:us-east-1:123456789012:function:orders"]}
    finished_superseded_version:
      description: As RV(layerwise.aws.lambda_layer_version#module:finished_superseded_version).
      type: int
      returned: when an unchanged run finished an earlier run's work
      sample: 3
    diff:
      description: This layer's diff, as M(layerwise.aws.lambda_layer_version) returns it.
      type: dict
      returned: in diff mode, when the item did not fail
diff:
  description:
    - One diff per layer that did not fail, each with C(before), C(after) and the layer's name as C(before_header)
      and C(after_header) (followed by its region in parentheses when the items span several regions), so that
      C(--diff) output shows which layer each change belongs to.
  returned: in diff mode
  type: list
  elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.layerwise.aws.plugins.module_utils._layer_argspec import layer_version_option_rules
from ansible_collections.layerwise.aws.plugins.module_utils._layer_argspec import layer_version_options
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import run_bulk_module


MAX_CONCURRENCY = 64


def main():
    item_options = dict(layer_version_options(), region=dict(type="str"))
    argument_spec = dict(
        layers=dict(type="list", elements="dict", required=True, options=item_options, **layer_version_option_rules()),
        max_concurrency=dict(type="int", default=8),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not 1 <= module.params["max_concurrency"] <= MAX_CONCURRENCY:
        module.fail_json(msg=f"max_concurrency: {module.params['max_concurrency']} is not between 1 and {MAX_CONCURRENCY}")
    run_bulk_module(module)


if __name__ == "__main__":
    main()
