# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""keep_versions, prune_in_use and include_usage: what is pruned, what is kept in use, and what it costs."""

import io
import json
import threading
import zipfile
from unittest.mock import MagicMock

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import BulkItem
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import combine
from ansible_collections.layerwise.aws.plugins.module_utils._layer_bulk import run_tasks
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_info import LayerVersionReader
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import PruningPlan
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import Retention
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import UsageScanner
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import add_usage
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import check_retention_options
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import function_arn
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import plan_pruning
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import retention_of
from ansible_collections.layerwise.aws.plugins.module_utils._layer_lifecycle import scan_usage
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import Progress
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import TRANSIENT_ATTEMPTS
from ansible_collections.layerwise.aws.plugins.module_utils._layer_outcome import failure_result
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import LocalZipSource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import build_desired
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerTask
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerVersionManager

REGION = "us-east-1"
ACCOUNT = "123456789012"
LAYER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:l1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"


def zip_bytes(payload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("python/mod.py", date_time=(2024, 1, 1, 0, 0, 0)), payload)
    return buffer.getvalue()


def package(tmp_path, payload):
    path = tmp_path / f"{payload}.zip"
    path.write_bytes(zip_bytes(payload))
    return LocalZipSource(str(path))


def facts(version):
    return {"version": version, "layer_name": "l1", "layer_arn": LAYER_ARN, "arn": f"{LAYER_ARN}:{version}"}


def listing(*numbers):
    client = MagicMock()
    client.list_layer_versions.return_value = {"LayerVersions": [{"Version": number} for number in sorted(numbers, reverse=True)]}
    client.get_paginator.return_value.paginate.side_effect = lambda **request: iter([client.list_layer_versions(**request)])
    return client


class RecordedScanner(UsageScanner):
    """A scanner over a fixed usage that counts its scans."""

    def __init__(self, usage=None):
        self.scans = 0

        def scan(_client):
            self.scans += 1
            return dict(usage or {})

        super().__init__(scan)


# --- which versions a run prunes ------------------------------------------------------------------


def test_an_unchanged_run_keeps_the_current_version_and_the_n_minus_1_below_it():
    plan = plan_pruning(listing(1, 2, 3, 4, 5, 6), RecordedScanner(), facts(6), Retention(3), publishing=False)
    assert plan.to_delete == (1, 2, 3)
    assert plan.kept_in_use == {}


def test_a_publish_counts_the_new_version_as_one_of_the_n():
    plan = plan_pruning(listing(1, 2, 3, 4, 5, 6), RecordedScanner(), facts(6), Retention(3), publishing=True)
    assert plan.to_delete == (1, 2, 3, 4)


def test_keep_1_with_a_publish_deletes_every_older_version_the_superseded_one_included():
    assert plan_pruning(listing(3, 5, 8), RecordedScanner(), facts(8), Retention(1), publishing=True).to_delete == (3, 5, 8)


def test_keep_2_with_a_publish_keeps_the_superseded_version():
    assert plan_pruning(listing(7, 8), RecordedScanner(), facts(8), Retention(2), publishing=True).to_delete == (7,)


def test_versions_newer_than_the_current_one_are_neither_deleted_nor_counted():
    plan = plan_pruning(listing(1, 2, 3, 4, 5), RecordedScanner(), facts(3), Retention(2), publishing=False)
    assert plan.to_delete == (1,)


def test_versions_another_step_deletes_are_not_counted_again():
    # In check mode _finish_superseded predicts deleting 5, which the list still shows.
    plan = plan_pruning(listing(1, 2, 3, 4, 5, 6), RecordedScanner(), facts(6), Retention(3), publishing=False, excluded=[5])
    assert plan.to_delete == (1, 2)


def test_nothing_to_prune_costs_no_usage_scan():
    scanner = RecordedScanner()
    plan = plan_pruning(listing(4, 5, 6), scanner, facts(6), Retention(3), publishing=False)
    assert plan.to_delete == ()
    assert scanner.scans == 0


def test_a_layer_without_versions_lists_nothing():
    client = listing()
    assert plan_pruning(client, RecordedScanner(), None, Retention(1), publishing=True).to_delete == ()
    client.get_paginator.assert_not_called()


def test_versions_in_use_are_kept_beyond_the_n_and_reported_with_their_functions():
    usage = {f"{LAYER_ARN}:2": [f"{FUNCTION_ARN}:orders", f"{FUNCTION_ARN}:orders:3"], "arn:aws:lambda:us-east-1:123456789012:layer:other:1": ["x"]}
    scanner = RecordedScanner(usage)
    plan = plan_pruning(listing(1, 2, 3, 4, 5), scanner, facts(5), Retention(2), publishing=False)
    assert plan.to_delete == (1, 3)
    assert plan.kept_in_use == {"2": [f"{FUNCTION_ARN}:orders", f"{FUNCTION_ARN}:orders:3"]}
    assert scanner.scans == 1


def test_prune_in_use_deletes_versions_in_use_without_listing_functions():
    scanner = RecordedScanner({f"{LAYER_ARN}:2": [f"{FUNCTION_ARN}:orders"]})
    plan = plan_pruning(listing(1, 2, 3), scanner, facts(3), Retention(1, prune_in_use=True), publishing=False)
    assert plan.to_delete == (1, 2)
    assert plan.kept_in_use == {}
    assert scanner.scans == 0


def test_the_remedy_says_a_rerun_finishes_the_pruning():
    plan = PruningPlan(2, (1, 2))
    assert "run the task again" in plan.remedy(5) and "newest 2" in plan.remedy(5)
    assert "from version 4, which carries the superseded marker" in plan.remedy(5, marked_version=4)


# --- checks before any AWS call --------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, option, words",
    [
        ({"state": "present", "keep_versions": 0}, "keep_versions", "1 or more"),
        ({"state": "present", "keep_versions": -3}, "keep_versions", "1 or more"),
        ({"state": "present", "keep_versions": True}, "keep_versions", "not a number of versions"),
        ({"state": "present", "keep_versions": 2, "skip_destroy": True}, "keep_versions", "conflicts with skip_destroy"),
        ({"state": "absent", "keep_versions": 2}, "keep_versions", "only valid with state=present"),
        ({"state": "present", "prune_in_use": True}, "prune_in_use", "needs keep_versions"),
    ],
)
def test_bad_retention_options_fail_naming_the_option(params, option, words):
    with pytest.raises(LayerInputError) as error:
        check_retention_options(params)
    assert str(error.value).startswith(f"{option}: ") and words in str(error.value)


def test_good_retention_options_pass():
    check_retention_options({"state": "present", "keep_versions": 1, "skip_destroy": False, "prune_in_use": True})
    check_retention_options({"state": "absent", "skip_destroy": True})
    assert retention_of({"keep_versions": 4, "prune_in_use": True}) == Retention(4, True)
    assert retention_of({"keep_versions": None, "prune_in_use": False}) is None


# --- which function configuration uses what ---------------------------------------------------------


@pytest.mark.parametrize(
    "configuration, expected",
    [
        ({"FunctionArn": f"{FUNCTION_ARN}:orders", "Version": "$LATEST"}, f"{FUNCTION_ARN}:orders"),  # AWS
        ({"FunctionArn": f"{FUNCTION_ARN}:orders:$LATEST", "Version": "$LATEST"}, f"{FUNCTION_ARN}:orders"),  # moto
        ({"FunctionArn": f"{FUNCTION_ARN}:orders:7", "Version": "7"}, f"{FUNCTION_ARN}:orders:7"),
        ({"FunctionArn": f"{FUNCTION_ARN}:orders", "Version": "7"}, f"{FUNCTION_ARN}:orders:7"),
    ],
)
def test_function_arns_are_qualified_only_for_published_versions(configuration, expected):
    assert function_arn(configuration) == expected


def function_page(functions, next_marker=None):
    page = {"Functions": functions}
    if next_marker:
        page["NextMarker"] = next_marker
    return page


def configuration(name, version, *layers):
    arn = f"{FUNCTION_ARN}:{name}" + ("" if version == "$LATEST" else f":{version}")
    return {"FunctionName": name, "FunctionArn": arn, "Version": version, "Layers": [{"Arn": layer, "CodeSize": 1} for layer in layers]}


def stubbed_client():
    client = boto3.client("lambda", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_the_usage_scan_reads_every_page_of_every_function_version():
    client, stubber = stubbed_client()
    stubber.add_response(
        "list_functions",
        function_page([configuration("orders", "$LATEST", f"{LAYER_ARN}:3"), configuration("orders", "1", f"{LAYER_ARN}:2")], "page-2"),
        {"FunctionVersion": "ALL"},
    )
    stubber.add_response(
        "list_functions",
        function_page(
            [configuration("billing", "$LATEST", f"{LAYER_ARN}:2", f"{LAYER_ARN}-other:1"), {"FunctionArn": f"{FUNCTION_ARN}:plain", "Version": "$LATEST"}]
        ),
        {"FunctionVersion": "ALL", "Marker": "page-2"},
    )
    with stubber:
        usage = scan_usage(client)
    stubber.assert_no_pending_responses()
    assert usage == {
        f"{LAYER_ARN}:3": [f"{FUNCTION_ARN}:orders"],
        f"{LAYER_ARN}:2": [f"{FUNCTION_ARN}:billing", f"{FUNCTION_ARN}:orders:1"],
        f"{LAYER_ARN}-other:1": [f"{FUNCTION_ARN}:billing"],
    }


def test_a_function_listing_that_is_not_the_documented_shape_is_an_error_not_no_usage():
    client, stubber = stubbed_client()
    for _attempt in range(TRANSIENT_ATTEMPTS):  # a malformed answer is transient: tried again, then reported
        stubber.add_response("list_functions", {}, {"FunctionVersion": "ALL"})  # an HTML page parses to {}
    with stubber, pytest.raises(AnsibleLambdaLayerError, match="Functions is missing"):
        scan_usage(client)


def test_a_refused_function_listing_fails_before_anything_is_deleted():
    client = listing(1, 2, 3)
    client.list_functions.side_effect = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListFunctions")
    client.get_paginator.return_value.paginate.side_effect = lambda **request: iter(
        [client.list_layer_versions(**request)] if "LayerName" in request else [client.list_functions(**request)]
    )
    with pytest.raises(AnsibleLambdaLayerError, match="list functions"):
        plan_pruning(client, UsageScanner(), facts(3), Retention(1), publishing=False)
    client.delete_layer_version.assert_not_called()


def test_the_scanner_scans_once_per_client_even_from_many_threads():
    scans = []
    gate = threading.Event()

    def scan(client):
        gate.wait(5)
        scans.append(client)
        return {"a": [client]}

    scanner = UsageScanner(scan)
    first, second = object(), object()
    results = []
    threads = [threading.Thread(target=lambda client=client: results.append(scanner.usage(client))) for client in [first] * 5 + [second] * 3]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
    assert sorted(map(id, scans)) == sorted([id(first), id(second)])
    assert len(results) == 8


def test_add_usage_scans_once_for_any_number_of_versions_and_none_for_no_version():
    scanner = RecordedScanner({f"{LAYER_ARN}:2": [f"{FUNCTION_ARN}:orders"]})
    items = add_usage([facts(3), facts(2), facts(1)], scanner, object())
    assert [item["used_by"] for item in items] == [[], [f"{FUNCTION_ARN}:orders"], []]
    assert scanner.scans == 1
    assert add_usage([], scanner, object()) == []
    assert scanner.scans == 1


# --- the whole run against an in-memory Lambda (moto) ---------------------------------------------


@pytest.fixture
def aws():
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        # moto checks that the role of a function exists in its IAM; any role does.
        role = iam.create_role(RoleName="lifecycle-test", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        client = boto3.client("lambda", region_name=REGION)
        client.role_arn = role["Role"]["Arn"]
        yield client


def publish(client, count):
    return [client.publish_layer_version(LayerName="l1", Content={"ZipFile": zip_bytes(f"old-{n}")})["Version"] for n in range(count)]


def versions(client):
    return sorted(summary["Version"] for summary in client.list_layer_versions(LayerName="l1")["LayerVersions"])


def make_function(client, name, layer_version, publish_version=False):
    client.create_function(
        FunctionName=name, Runtime="python3.12", Role=client.role_arn, Handler="h.h", Code={"ZipFile": zip_bytes(name)}, Layers=[f"{LAYER_ARN}:{layer_version}"]
    )
    if publish_version:
        return client.publish_version(FunctionName=name)["Version"]
    return None


def test_retention_over_a_sequence_of_publishes(aws, tmp_path):
    manager = LayerVersionManager(aws)
    retention = Retention(2)
    results = [manager.present(build_desired("l1"), package(tmp_path, f"p{n}"), retention=retention) for n in range(4)]
    assert [result["layer_version"]["version"] for result in results] == [1, 2, 3, 4]
    assert [result["deleted_versions"] for result in results] == [[], [], [1], [2]]
    assert all(result["kept_in_use"] == {} for result in results)
    assert versions(aws) == [3, 4]


def test_an_unchanged_run_prunes_a_grown_layer_and_check_mode_writes_nothing(aws, tmp_path):
    publish(aws, 5)
    source = package(tmp_path, "current")
    LayerVersionManager(aws).present(build_desired("l1"), source, skip_destroy=True)  # version 6, nothing deleted
    assert versions(aws) == [1, 2, 3, 4, 5, 6]

    checked = LayerVersionManager(aws, check_mode=True).present(build_desired("l1"), source, retention=Retention(3))
    assert checked["changed"] is True and checked["deleted_versions"] == [1, 2, 3]
    assert versions(aws) == [1, 2, 3, 4, 5, 6]

    pruned = LayerVersionManager(aws).present(build_desired("l1"), source, retention=Retention(3))
    assert pruned["changed"] is True and pruned["deleted_versions"] == [1, 2, 3]
    assert pruned["layer_version"]["version"] == 6
    assert versions(aws) == [4, 5, 6]

    again_checked = LayerVersionManager(aws, check_mode=True).present(build_desired("l1"), source, retention=Retention(3))
    again = LayerVersionManager(aws).present(build_desired("l1"), source, retention=Retention(3))
    assert again_checked["changed"] is False and again["changed"] is False
    assert again["deleted_versions"] == [] and again["kept_in_use"] == {}
    assert versions(aws) == [4, 5, 6]


def test_check_mode_of_a_publish_predicts_the_deletions_and_writes_nothing(aws, tmp_path):
    publish(aws, 3)
    result = LayerVersionManager(aws, check_mode=True).present(build_desired("l1"), package(tmp_path, "new"), retention=Retention(2))
    assert result["changed"] is True
    assert result["layer_version"]["version"] is None
    assert result["deleted_versions"] == [1, 2]
    assert versions(aws) == [1, 2, 3]


def test_versions_functions_use_are_kept_unless_prune_in_use(aws, tmp_path):
    publish(aws, 4)
    make_function(aws, "on-latest", 1)
    published = make_function(aws, "pinned", 2, publish_version=True)
    aws.update_function_configuration(FunctionName="pinned", Layers=[f"{LAYER_ARN}:4"])  # $LATEST moves on, version 1 keeps layer 2
    source = package(tmp_path, "new")

    checked = LayerVersionManager(aws, check_mode=True).present(build_desired("l1"), source, retention=Retention(1))
    result = LayerVersionManager(aws).present(build_desired("l1"), source, retention=Retention(1))
    expected_in_use = {"1": [f"{FUNCTION_ARN}:on-latest"], "2": [f"{FUNCTION_ARN}:pinned:{published}"], "4": [f"{FUNCTION_ARN}:pinned"]}
    assert checked["kept_in_use"] == expected_in_use and checked["deleted_versions"] == [3]
    assert result["kept_in_use"] == expected_in_use and result["deleted_versions"] == [3]
    assert versions(aws) == [1, 2, 4, 5]

    rerun = LayerVersionManager(aws).present(build_desired("l1"), source, retention=Retention(1))
    assert rerun["changed"] is False and rerun["kept_in_use"] == expected_in_use

    forced = LayerVersionManager(aws).present(build_desired("l1"), source, retention=Retention(1, prune_in_use=True))
    assert forced["changed"] is True and forced["deleted_versions"] == [1, 2, 4] and forced["kept_in_use"] == {}
    assert versions(aws) == [5]
    # A deleted version keeps working for the functions configured with it.
    assert aws.get_function_configuration(FunctionName="on-latest")["Layers"][0]["Arn"] == f"{LAYER_ARN}:1"


def test_include_usage_on_used_and_unused_versions(aws):
    publish(aws, 3)
    make_function(aws, "on-latest", 2)
    items = LayerVersionReader(aws, workers=1).versions("l1")
    with_usage = add_usage(items, UsageScanner(), aws)
    assert [(item["version"], item["used_by"]) for item in with_usage] == [(3, []), (2, [f"{FUNCTION_ARN}:on-latest"]), (1, [])]


def test_one_usage_scan_serves_every_layer_of_a_bulk_run(aws, tmp_path):
    for name in ("l1", "l2"):
        for n in range(3):
            aws.publish_layer_version(LayerName=name, Content={"ZipFile": zip_bytes(f"{name}-{n}")})
    scans = []

    def scan(client):
        scans.append(client)
        return {}

    manager = LayerVersionManager(aws, usage_scanner=UsageScanner(scan))
    tasks = []
    for name in ("l1", "l2"):
        params = {"state": "present", "layer_name": name, "source_code_hash": None, "skip_destroy": False, "copy_permissions": False,
                  "keep_versions": 1, "prune_in_use": False}
        tasks.append(LayerTask(params, name, None, build_desired(name), package(tmp_path, f"{name}-new")))
    items = [BulkItem(index, task.params, "us-east-1", task) for index, task in enumerate(tasks)]
    result = combine(items, run_tasks([(manager, task) for task in tasks], max_concurrency=2), with_diff=False)
    assert [item["deleted_versions"] for item in result["results"]] == [[1, 2, 3], [1, 2, 3]]
    assert [item["kept_in_use"] for item in result["results"]] == [{}, {}]
    assert len(scans) == 1


# --- failures mid-way ------------------------------------------------------------------------------


def test_a_failed_deletion_while_pruning_reports_what_was_deleted_and_a_rerun_finishes(aws, tmp_path, monkeypatch):
    publish(aws, 4)
    source = package(tmp_path, "new")
    real_delete = aws.delete_layer_version
    calls = []

    def delete(**request):
        calls.append(request["VersionNumber"])
        if request["VersionNumber"] == 3:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "DeleteLayerVersion")
        return real_delete(**request)

    monkeypatch.setattr(aws, "delete_layer_version", delete)
    progress = Progress()
    with pytest.raises(AnsibleLambdaLayerError) as error:
        LayerVersionManager(aws).present(build_desired("l1"), source, retention=Retention(1), progress=progress)
    result = failure_result(progress, error.value)
    assert result["changed"] is True
    assert result["layer_version"]["version"] == 5
    assert result["deleted_versions"] == [1, 2]
    assert result["undeleted_versions"] == [3, 4]
    assert result["kept_in_use"] == {}
    assert "Not done: delete version 3; delete version 4" in result["msg"]
    assert "To finish: run the task again" in result["msg"]
    assert versions(aws) == [3, 4, 5]

    monkeypatch.setattr(aws, "delete_layer_version", real_delete)
    rerun = LayerVersionManager(aws).present(build_desired("l1"), source, retention=Retention(1))
    assert rerun["changed"] is True and rerun["deleted_versions"] == [3, 4]
    assert versions(aws) == [5]


def test_copy_permissions_with_keep_versions_marks_only_a_version_it_deletes(aws, tmp_path):
    publish(aws, 2)
    aws.add_layer_version_permission(LayerName="l1", VersionNumber=2, StatementId="share", Action="lambda:GetLayerVersion", Principal="*")
    kept = LayerVersionManager(aws).present(build_desired("l1"), package(tmp_path, "a"), copy_permissions=True, retention=Retention(2))
    assert kept["deleted_versions"] == [1] and kept["copied_permissions"] == ["share"]
    assert versions(aws) == [2, 3]
    statements = json.loads(aws.get_layer_version_policy(LayerName="l1", VersionNumber=2)["Policy"])["Statement"]
    assert [statement["Sid"] for statement in statements] == ["share"]  # kept on purpose: no marker

    replaced = LayerVersionManager(aws).present(build_desired("l1"), package(tmp_path, "b"), copy_permissions=True, retention=Retention(1))
    assert replaced["deleted_versions"] == [2, 3] and replaced["copied_permissions"] == ["share"]
    assert versions(aws) == [4]


# --- the documentation says what the code returns -----------------------------------------------------


def test_every_key_of_a_keep_versions_result_is_documented(aws, tmp_path):
    import yaml  # pylint: disable=import-outside-toplevel

    from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_version  # pylint: disable=import-outside-toplevel
    from ansible_collections.layerwise.aws.plugins.modules import lambda_layer_versions  # pylint: disable=import-outside-toplevel

    publish(aws, 2)
    result = LayerVersionManager(aws).present(build_desired("l1"), package(tmp_path, "new"), retention=Retention(1), copy_permissions=True)
    documented = yaml.safe_load(lambda_layer_version.RETURN)
    assert "kept_in_use" in result
    assert set(result) - {"changed", "msg"} <= set(documented)  # changed and msg are common return values
    bulk_documented = yaml.safe_load(lambda_layer_versions.RETURN)["results"]["contains"]
    assert "kept_in_use" in bulk_documented


def test_msg_and_diff_say_what_pruning_did_and_kept(aws, tmp_path):
    publish(aws, 4)
    make_function(aws, "on-latest", 2)
    source = package(tmp_path, "current")
    LayerVersionManager(aws).present(build_desired("l1"), source, skip_destroy=True)  # version 5
    checked = LayerVersionManager(aws, check_mode=True).present(build_desired("l1"), source, retention=Retention(1))
    assert checked["msg"] == "version 5 is up to date; would delete versions 1, 3, 4; kept version 2 in use by functions (keep_versions=1)"
    assert checked["diff"]["before"]["versions"] == [4, 3, 1] and checked["diff"]["after"]["versions"] == []
    result = LayerVersionManager(aws).present(build_desired("l1"), source, retention=Retention(1))
    assert result["msg"] == "version 5 is up to date; deleted versions 1, 3, 4; kept version 2 in use by functions (keep_versions=1)"
    published = LayerVersionManager(aws).present(build_desired("l1"), package(tmp_path, "next"), retention=Retention(1))
    assert published["msg"] == "published version 6 (content changed); deleted version 5; kept version 2 in use by functions (keep_versions=1)"
    assert published["diff"]["before"]["versions"] == [5]
