# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import json
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import PermissionManager
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import check_permission_options
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import add_statement
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import desired_statement
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import normalise_statement
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import read_policy
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import remove_statement
from ansible_collections.layerwise.aws.plugins.module_utils._layer_permission import statements_of
from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version_permission

RESOURCE = "arn:aws:lambda:us-east-1:123456789012:layer:l1:1"
AWS_ACCOUNT_STATEMENT = {
    "Sid": "acct",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
    "Action": "lambda:GetLayerVersion",
    "Resource": RESOURCE,
}
AWS_ORG_STATEMENT = {
    "Sid": "org",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "lambda:GetLayerVersion",
    "Resource": RESOURCE,
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
}
MOTO_ORG_STATEMENT = {"Sid": "org", "Effect": "Allow", "Principal": "*", "OrganizationId": "o-abcdefghij", "Action": "lambda:GetLayerVersion"}


def error(code, status=400, operation="RemoveLayerVersionPermission"):
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def policy_response(*statements, revision="rev-1"):
    return {"Policy": json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}), "RevisionId": revision}


def client_with_policy(*statements, revision="rev-1"):
    client = MagicMock()
    client.add_layer_version_permission.return_value = {"Statement": "{}", "RevisionId": "rev-2"}
    if statements:
        client.get_layer_version_policy.return_value = policy_response(*statements, revision=revision)
    else:
        client.get_layer_version_policy.side_effect = error("ResourceNotFoundException", 404, "GetLayerVersionPolicy")
    return client


def test_aws_and_moto_spellings_normalise_alike():
    assert normalise_statement(AWS_ACCOUNT_STATEMENT) == {
        "statement_id": "acct",
        "action": "lambda:GetLayerVersion",
        "principal": "210987654321",
        "organization_id": None,
    }
    assert normalise_statement(AWS_ORG_STATEMENT) == normalise_statement(MOTO_ORG_STATEMENT)
    assert normalise_statement({"Sid": "s", "Principal": "210987654321", "Action": ["lambda:GetLayerVersion"]})["action"] == "lambda:GetLayerVersion"


def test_an_account_root_arn_is_taken_as_the_account():
    assert desired_statement("s", "lambda:GetLayerVersion", "arn:aws:iam::210987654321:root", None)["principal"] == "210987654321"


@pytest.mark.parametrize(
    "statement_id, principal, organization_id, message",
    [
        ("bad id!", "*", None, "^statement_id: "),
        ("x" * 101, "*", None, "^statement_id: "),
        ("s", None, None, "^principal: required"),
        ("s", "12345", None, "^principal: '12345' is not an AWS account id"),
        ("s", "arn:aws:iam::210987654321:user/bob", None, "^principal: "),
        ("s", "210987654321", "o-abcdefghij", "^organization_id: only valid with principal='\\*'"),
        ("s", "*", "org-1", "^organization_id: 'org-1' is not an organization id"),
    ],
)
def test_bad_permission_options(statement_id, principal, organization_id, message):
    with pytest.raises(LayerInputError, match=message):
        check_permission_options(statement_id, principal, organization_id, "present")


def test_absent_needs_no_principal():
    check_permission_options("s", None, None, "absent")


def test_missing_statement_is_added():
    client = client_with_policy()
    desired = desired_statement("acct", "lambda:GetLayerVersion", "210987654321", None)
    result = PermissionManager(client).present("l1", 1, desired)
    assert result["changed"] is True
    client.add_layer_version_permission.assert_called_once_with(
        LayerName="l1", VersionNumber=1, StatementId="acct", Action="lambda:GetLayerVersion", Principal="210987654321"
    )
    client.remove_layer_version_permission.assert_not_called()
    assert result["diff"]["before"] == {}


def test_equal_statement_changes_nothing():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT)
    desired = desired_statement("acct", "lambda:GetLayerVersion", "210987654321", None)
    result = PermissionManager(client).present("l1", 1, desired)
    assert result["changed"] is False
    assert result["statement"] == desired
    assert result["policy"]["Statement"] == [AWS_ACCOUNT_STATEMENT]
    assert result["revision_id"] == "rev-1"
    client.add_layer_version_permission.assert_not_called()
    client.remove_layer_version_permission.assert_not_called()


def test_different_statement_is_replaced_from_the_revision_read():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT, revision="rev-7")
    desired = desired_statement("acct", "lambda:GetLayerVersion", "*", "o-abcdefghij")
    result = PermissionManager(client).present("l1", 1, desired)
    assert result["changed"] is True
    client.remove_layer_version_permission.assert_called_once_with(LayerName="l1", VersionNumber=1, StatementId="acct", RevisionId="rev-7")
    request = client.add_layer_version_permission.call_args.kwargs
    assert request["Principal"] == "*" and request["OrganizationId"] == "o-abcdefghij"


def test_check_mode_predicts_and_writes_nothing():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT)
    desired = desired_statement("acct", "lambda:GetLayerVersion", "*", None)
    result = PermissionManager(client, check_mode=True).present("l1", 1, desired)
    assert result["changed"] is True and result["statement"] == desired
    assert result["diff"]["before"]["principal"] == "210987654321" and result["diff"]["after"]["principal"] == "*"
    client.add_layer_version_permission.assert_not_called()
    client.remove_layer_version_permission.assert_not_called()
    result = PermissionManager(client, check_mode=True).absent("l1", 1, "acct")
    assert result["changed"] is True and result["statement"] is None
    client.remove_layer_version_permission.assert_not_called()


def test_absent_removes_and_skip_destroy_keeps():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT)
    assert PermissionManager(client).absent("l1", 1, "acct", skip_destroy=True)["changed"] is False
    client.remove_layer_version_permission.assert_not_called()
    assert PermissionManager(client).absent("l1", 1, "acct")["changed"] is True
    client.remove_layer_version_permission.assert_called_once()
    assert PermissionManager(client_with_policy()).absent("l1", 1, "acct")["changed"] is False


def test_a_concurrent_policy_change_is_not_overwritten():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT, revision="rev-2")
    client.remove_layer_version_permission.side_effect = error("PreconditionFailedException", 412)
    # The policy read again has another revision: someone changed it; the refusal stands.
    client.get_layer_version_policy.side_effect = [policy_response(AWS_ACCOUNT_STATEMENT, revision="rev-3")]
    with pytest.raises(AnsibleLambdaLayerError):
        remove_statement(client, "l1", 1, "acct", "rev-2")
    assert client.remove_layer_version_permission.call_count == 1


def test_an_endpoint_refusing_the_current_revision_is_worked_around():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT, revision="rev-2")
    client.remove_layer_version_permission.side_effect = [error("PreconditionFailedException", 412), None]
    remove_statement(client, "l1", 1, "acct", "rev-2")
    assert client.remove_layer_version_permission.call_args_list[1].kwargs == {"LayerName": "l1", "VersionNumber": 1, "StatementId": "acct"}


def copy_to(client, from_version, to_version):
    """What copy_permissions does: read one version's statements, add each to another version."""
    statements = statements_of(read_policy(client, "l1", from_version)[0])
    for statement in statements:
        add_statement(client, "l1", to_version, statement)
    return [statement["statement_id"] for statement in statements]


def test_statements_are_added_to_the_new_version_as_read():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT, AWS_ORG_STATEMENT)
    assert copy_to(client, 1, 2) == ["acct", "org"]
    calls = [call.kwargs for call in client.add_layer_version_permission.call_args_list]
    assert [call["VersionNumber"] for call in calls] == [2, 2]
    assert calls[1]["OrganizationId"] == "o-abcdefghij"


def test_a_statement_already_copied_by_another_run_is_success():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT)
    client.add_layer_version_permission.side_effect = error("ResourceConflictException", 409, "AddLayerVersionPermission")
    assert copy_to(client, 1, 1) == ["acct"]


def test_a_conflicting_different_statement_is_not_success():
    client = client_with_policy(AWS_ACCOUNT_STATEMENT)
    client.add_layer_version_permission.side_effect = error("ResourceConflictException", 409, "AddLayerVersionPermission")
    other = desired_statement("acct", "lambda:GetLayerVersion", "*", None)
    with pytest.raises(AnsibleLambdaLayerError):
        add_statement(client, "l1", 1, other)


def test_return_documentation_matches():
    import yaml  # pylint: disable=import-outside-toplevel

    documented = yaml.safe_load(lambda_layer_version_permission.RETURN)
    assert set(documented["statement"]["contains"]) == set(desired_statement("s", "a", "*", None))
    assert {"layer_name", "version", "statement", "policy", "revision_id", "diff"} | set(PENDING_KEYS_OF_PERMISSIONS) == set(documented)


# What a failed replace can leave undone (see _layer_outcome.PENDING_KEYS): only a statement not put back.
PENDING_KEYS_OF_PERMISSIONS = ("unrestored_permissions",)
