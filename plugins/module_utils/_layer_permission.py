# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Layer version permissions: policies read, statements compared, added and removed.

PRIVATE to the collection: not a public API, may change without notice.

A statement is compared in a normal form, whichever way the endpoint spells it:
AWS writes an account as ``{"AWS": "arn:aws:iam::ACCOUNT:root"}`` and an
organization as a ``aws:PrincipalOrgID`` condition; some endpoints (moto) keep
the plain account id and an ``OrganizationId`` key.
"""

import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import add_layer_version_permission
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import aws_client
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_caller_account_id
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_layer_version_policy
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import remove_layer_version_permission
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_location
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_layer_arn_region
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import check_version_number
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_arn
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import parse_layer_name
from ansible_collections.layerwise.aws.plugins.module_utils._layer_input import partition_of_region
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Progress
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Step
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import module_boundary
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import failure_kind
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import outcome_unknown

DEFAULT_ACTION = "lambda:GetLayerVersion"
# \A and \Z (not ^ and $, which let a trailing line break through) so that every
# match is whole; explicit [0-9], since \d matches any Unicode digit.
_ACCOUNT = re.compile(r"\A[0-9]{12}\Z")
_ACCOUNT_ROOT = re.compile(r"\Aarn:aws(?:-[a-z]+)*:iam::([0-9]{12}):root\Z")
_ORGANIZATION = re.compile(r"\Ao-[a-z0-9]{10,32}\Z")
_STATEMENT_ID = re.compile(r"\A[a-zA-Z0-9_-]{1,100}\Z")


def check_permission_options(statement_id, principal, organization_id, state, region=None):
    """The permission options that the argument spec cannot check; messages name the option.

    ``region``: the module's region; an account root ARN in ``principal`` must be in its partition.
    """
    if not isinstance(statement_id, str) or not _STATEMENT_ID.fullmatch(statement_id):
        raise LayerInputError(f"statement_id: {statement_id!r} must be 1 to 100 of a-z, A-Z, 0-9, '-' and '_'")
    if state == "absent":
        return
    if principal is None:
        raise LayerInputError("principal: required with state=present (an account id, or '*' for everyone)")
    root = _ACCOUNT_ROOT.fullmatch(principal)
    if principal != "*" and not _ACCOUNT.fullmatch(principal) and not root:
        raise LayerInputError(f"principal: {principal!r} is not an AWS account id (12 digits), an account root ARN, or '*'")
    if root and region:
        partition, own = parse_aws_arn(principal)["partition"], partition_of_region(region)
        if own is not None and own != partition:
            raise LayerInputError(
                f"principal: the account root ARN is in partition {partition}, but the module works in region {region}, which is in partition {own}"
            )
    if organization_id is not None:
        if principal != "*":
            raise LayerInputError("organization_id: only valid with principal='*' (it limits everyone to the organization's accounts)")
        if not _ORGANIZATION.fullmatch(organization_id):
            raise LayerInputError(f"organization_id: {organization_id!r} is not an organization id (o- and 10 to 32 of a-z, 0-9)")


def _principal_of(statement):
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    if isinstance(principal, list) and len(principal) == 1:
        principal = principal[0]
    if isinstance(principal, str):
        match = _ACCOUNT_ROOT.match(principal)
        if match:
            return match.group(1)
    return principal


def _organization_of(statement):
    condition = (statement.get("Condition") or {}).get("StringEquals") or {}
    return condition.get("aws:PrincipalOrgID") or statement.get("OrganizationId")


def normalise_statement(statement):
    """A statement of a layer version policy as the module's options spell it."""
    action = statement.get("Action")
    if isinstance(action, list) and len(action) == 1:
        action = action[0]
    return {
        "statement_id": statement.get("Sid"),
        "action": action,
        "principal": _principal_of(statement),
        "organization_id": _organization_of(statement),
    }


def desired_statement(statement_id, action, principal, organization_id):
    match = _ACCOUNT_ROOT.match(principal or "")
    return {"statement_id": statement_id, "action": action, "principal": match.group(1) if match else principal, "organization_id": organization_id}


def read_policy(client, layer_name, version):
    """``(policy dict or None, revision id or None)``."""
    response = get_layer_version_policy(client, layer_name, version)
    if not response:
        return None, None
    return json.loads(response["Policy"]), response.get("RevisionId")


def statements_of(policy):
    return [normalise_statement(statement) for statement in (policy or {}).get("Statement", [])]


def find_statement(policy, statement_id):
    for statement in statements_of(policy):
        if statement["statement_id"] == statement_id:
            return statement
    return None


def _add_request(layer_name, version, statement, revision_id=None):
    request = {
        "LayerName": layer_name,
        "VersionNumber": version,
        "StatementId": statement["statement_id"],
        "Action": statement["action"],
        "Principal": statement["principal"],
    }
    if statement.get("organization_id"):
        request["OrganizationId"] = statement["organization_id"]
    if revision_id:
        request["RevisionId"] = revision_id
    return request


def add_statement(client, layer_name, version, statement, revision_id=None):
    """Add one statement.

    When the answer is lost, or the id is taken already (another run copying the
    same statements), the policy is read: the same statement there is success.
    """
    try:
        add_layer_version_permission(client, **_add_request(layer_name, version, statement, revision_id))
    except AnsibleLambdaLayerError as e:
        if not (outcome_unknown(e.exception) or failure_kind(e.exception) == "ResourceConflictException"):
            raise
        policy, _revision = read_policy(client, layer_name, version)
        if find_statement(policy, statement["statement_id"]) != statement:
            raise


def remove_statement(client, layer_name, version, statement_id, revision_id=None):
    """Remove one statement, only from the policy revision that was read (no lost update)."""
    request = {"LayerName": layer_name, "VersionNumber": version, "StatementId": statement_id}
    if revision_id:
        request["RevisionId"] = revision_id
    try:
        remove_layer_version_permission(client, **request)
    except AnsibleLambdaLayerError as e:
        if not (revision_id and failure_kind(e.exception) == "PreconditionFailedException"):
            raise
        # AWS says the policy changed since it was read. Some endpoints (moto 5.x reads
        # the RevisionId query parameter as a list) refuse even the current revision:
        # when the policy still has the revision that was read, nobody changed it, and
        # the removal is sent without it; otherwise the refusal stands.
        if read_policy(client, layer_name, version)[1] != revision_id:
            raise
        request.pop("RevisionId")
        remove_layer_version_permission(client, **request)


class PermissionManager:
    """One statement of one layer version's policy, present or absent; check mode predicts."""

    def __init__(self, client, check_mode=False):
        self.client = client
        self.check_mode = check_mode

    def present(self, layer_name, version, desired, progress=None):
        progress = progress if progress is not None else Progress()
        policy, revision_id = read_policy(self.client, layer_name, version)
        current = find_statement(policy, desired["statement_id"])
        progress.facts.update(statement=current, policy=policy, revision_id=revision_id)
        sid = desired["statement_id"]
        if current == desired:
            return self._result(False, current, current, policy, revision_id, f"statement {sid} of version {version} is up to date")
        verb = "replace" if current is not None else "add"
        if self.check_mode:
            return self._result(True, current, desired, policy, revision_id, f"would {verb} statement {sid} of version {version}")
        if current is not None:
            # Replace: remove, then add; the revision id makes a concurrent change fail instead of being lost.
            remove_statement(self.client, layer_name, version, desired["statement_id"], revision_id)
            progress.wrote(f"removed statement {current['statement_id']} of version {version} to replace it", statement=None)
            revision_id = None
        try:
            add_statement(self.client, layer_name, version, desired, revision_id)
        except Exception:
            if current is not None:
                self._put_back(layer_name, version, current, progress)
            raise
        progress.wrote(f"added statement {desired['statement_id']} to version {version}")
        policy, revision_id = read_policy(self.client, layer_name, version)
        done = "replaced" if current is not None else "added"
        return self._result(True, current, find_statement(policy, sid), policy, revision_id, f"{done} statement {sid} of version {version}")

    def _put_back(self, layer_name, version, previous, progress):
        """The replacing statement could not be added: the previous one goes back, so nothing is lost."""
        step = Step("restore", previous["statement_id"], f"put the previous statement {previous['statement_id']} back")
        progress.plan([step], f"run the task again once the cause is fixed: it adds statement {previous['statement_id']} as asked")
        try:
            add_statement(self.client, layer_name, version, previous)
        except Exception:  # pylint: disable=broad-exception-caught
            return  # reported: the statement is removed (unrestored_permissions), the first error says why
        progress.done(step)
        progress.wrote(f"put the previous statement {previous['statement_id']} back", statement=previous)

    def absent(self, layer_name, version, statement_id, skip_destroy=False, progress=None):
        progress = progress if progress is not None else Progress()
        policy, revision_id = read_policy(self.client, layer_name, version)
        current = find_statement(policy, statement_id)
        progress.facts.update(statement=current, policy=policy, revision_id=revision_id)
        if current is None:
            return self._result(False, None, None, policy, revision_id, f"statement {statement_id} of version {version} does not exist: nothing to remove")
        if skip_destroy:
            return self._result(False, current, current, policy, revision_id, f"skip_destroy: statement {statement_id} of version {version} kept")
        if self.check_mode:
            return self._result(True, current, None, policy, revision_id, f"would remove statement {statement_id} of version {version}")
        remove_statement(self.client, layer_name, version, statement_id, revision_id)
        progress.wrote(f"removed statement {statement_id} of version {version}", statement=None)
        policy, revision_id = read_policy(self.client, layer_name, version)
        return self._result(True, current, None, policy, revision_id, f"removed statement {statement_id} of version {version}")

    @staticmethod
    def _result(changed, before, after, policy, revision_id, msg):
        return {
            "changed": changed,
            "msg": msg,
            "statement": after,
            "policy": policy,
            "revision_id": revision_id,
            "diff": {"before": before or {}, "after": after or {}},
        }


def _target_version(module):
    """``(layer name, version, arn parts)`` from ``arn`` or ``layer_name`` and ``version``."""
    params = module.params
    if params["arn"] is not None:
        parts = parse_layer_arn(params["arn"])
        if parts is None or parts["version"] is None:
            raise LayerInputError(f"arn: {params['arn']!r} is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)")
        return parts["layer_name"], parts["version"], parts, "arn"
    layer_name, parts = parse_layer_name(params["layer_name"])
    check_version_number(params["version"])
    return layer_name, params["version"], parts, "version"


def run_permission_module(module):
    """Run ``lambda_layer_version_permission`` for an AnsibleAWSModule and exit."""
    params = module.params

    def work(progress):
        layer_name, version, arn_parts, version_option = _target_version(module)
        progress.facts.update(layer_name=layer_name, version=version)
        check_permission_options(params["statement_id"], params["principal"], params["organization_id"], params["state"], region=module.region)
        client = aws_client(module, "lambda")
        if arn_parts is not None:
            option = "arn" if version_option == "arn" else "layer_name"
            check_layer_arn_region(arn_parts, module.region, option=option)  # before the STS call
            check_layer_arn_location(arn_parts, module.region, get_caller_account_id(aws_client(module, "sts")), option=option)
        if get_layer_version(client, layer_name, version) is None:
            raise LayerInputError(f"{version_option}: version {version} of layer {layer_name} does not exist")
        manager = PermissionManager(client, check_mode=module.check_mode)
        if params["state"] == "present":
            desired = desired_statement(params["statement_id"], params["action"], params["principal"], params["organization_id"])
            result = manager.present(layer_name, version, desired, progress)
        else:
            result = manager.absent(layer_name, version, params["statement_id"], params["skip_destroy"], progress)
        return dict(result, layer_name=layer_name, version=version)

    module_boundary(module, work)
