#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_layer_version_permission
version_added: "1.0.0"
short_description: Share an AWS Lambda layer version with an account, an organization or everyone
description:
  - Manages one statement of a Lambda layer version's resource-based policy, idempotently, like Terraform's
    C(aws_lambda_layer_version_permission) resource.
  - The statement with O(statement_id) is read from the version's policy and compared with the task (action,
    principal, organization). A missing statement is added; a different one with the same id is replaced (removed,
    then added), using the policy's revision id so that a concurrent change to the policy fails the task instead of
    being lost.
  - Permissions belong to one version. To carry them over when M(layerwise.aws.lambda_layer_version) publishes a new
    version, use its O(layerwise.aws.lambda_layer_version#module:copy_permissions) option.
author:
  - layerwise.aws maintainers (@layerwise)
options:
  layer_name:
    description:
      - The name of the layer, or its layer ARN (in the module's region and the caller's account). Requires O(version).
      - Mutually exclusive with O(arn).
    type: str
    aliases: [name]
  version:
    description:
      - The version of the layer. Requires O(layer_name).
    type: int
  arn:
    description:
      - The layer version ARN, instead of O(layer_name) and O(version).
    type: str
  statement_id:
    description:
      - The id of the statement in the version's policy (1 to 100 of V(a-z), V(A-Z), V(0-9), V(-) and V(_)).
    type: str
    required: true
  action:
    description:
      - The action the statement allows.
    type: str
    choices: [lambda:GetLayerVersion]
    default: lambda:GetLayerVersion
  principal:
    description:
      - Who may use the version, an AWS account id (12 digits) or V(*) for everyone (or every account of
        O(organization_id)). An account root ARN (V(arn:aws:iam::123456789012:root)) is taken as its account id.
      - Required with O(state=present).
    type: str
  organization_id:
    description:
      - Only with O(principal=*), limits the statement to the accounts of this AWS Organizations organization.
    type: str
  state:
    description:
      - Whether the statement should exist.
    type: str
    choices: [present, absent]
    default: present
  skip_destroy:
    description:
      - With O(state=absent), keep the statement (as Terraform's C(skip_destroy) does); nothing is removed.
    type: bool
    default: false
notes:
  - A version that does not exist fails the task, naming O(version) (or O(arn)).
  - A statement that differs is replaced. It is removed (from the policy revision read), then added. If the add fails, the
    previous statement is put back and the task fails with C(changed=true), saying so; if even that fails, the task
    reports the statement removed (RV(statement) is V(null), RV(unrestored_permissions) names it) and the next run adds
    the statement as asked.
seealso:
  - module: layerwise.aws.lambda_layer_version
  - module: layerwise.aws.lambda_layer_version_info
    description: Its O(layerwise.aws.lambda_layer_version_info#module:include_policy) option returns every version's policy.
  - name: Terraform aws_lambda_layer_version_permission
    description: The Terraform resource this module follows.
    link: https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/lambda_layer_version_permission
extends_documentation_fragment:
  - layerwise.aws._attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Share version 4 of a layer with another account
  layerwise.aws.lambda_layer_version_permission:
    layer_name: shared-utils
    version: 4
    statement_id: share-with-prod
    principal: "210987654321"

- name: Share a version with every account of an organization
  layerwise.aws.lambda_layer_version_permission:
    arn: arn:aws:lambda:eu-west-1:123456789012:layer:shared-utils:4
    statement_id: share-with-org
    principal: "*"
    organization_id: o-a1b2c3d4e5

- name: Make a version public
  layerwise.aws.lambda_layer_version_permission:
    layer_name: shared-utils
    version: 4
    statement_id: public
    principal: "*"

- name: Stop sharing
  layerwise.aws.lambda_layer_version_permission:
    layer_name: shared-utils
    version: 4
    statement_id: share-with-prod
    state: absent
"""

RETURN = r"""
layer_name:
  description: The name of the layer.
  returned: always
  type: str
  sample: shared-utils
version:
  description: The version of the layer.
  returned: always
  type: int
  sample: 4
statement:
  description:
    - The statement after the task (predicted in check mode), in the module's terms; V(null) when it does not exist.
  returned: always
  type: dict
  contains:
    statement_id:
      description: The statement's id.
      type: str
      sample: share-with-prod
    action:
      description: The action allowed.
      type: str
      sample: lambda:GetLayerVersion
    principal:
      description: The account id, or V(*).
      type: str
      sample: "210987654321"
    organization_id:
      description: The organization the statement is limited to, if any.
      type: str
      sample: null
policy:
  description: The version's whole policy, parsed (as read after the task; before it in check mode). V(null) when none.
  returned: always
  type: dict
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
revision_id:
  description: The policy's revision id. V(null) when there is no policy.
  returned: always
  type: str
  sample: 4843f2f6-7c59-4fda-b484-afd0bc0e22b8
unrestored_permissions:
  description: When a replace failed and the previous statement could not be put back, its id.
  returned: on that failure
  type: list
  elements: str
  sample: [share-with-prod]
diff:
  description: The statement before and after (empty when absent).
  returned: in diff mode
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import DEFAULT_ACTION
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import run_permission_module


def main():
    argument_spec = dict(
        layer_name=dict(type="str", aliases=["name"]),
        version=dict(type="int"),
        arn=dict(type="str"),
        statement_id=dict(type="str", required=True),
        action=dict(type="str", choices=[DEFAULT_ACTION], default=DEFAULT_ACTION),
        principal=dict(type="str"),
        organization_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        skip_destroy=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["arn", "layer_name"], ["arn", "version"]],
        required_together=[["layer_name", "version"]],
        required_one_of=[["arn", "layer_name"]],
        supports_check_mode=True,
    )
    run_permission_module(module)


if __name__ == "__main__":
    main()
