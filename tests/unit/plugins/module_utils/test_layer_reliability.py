# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Retries, exactly-once publish, concurrent runs and a failed deletion, against an in-memory Lambda."""

import base64
import hashlib
import io
import zipfile

import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import EndpointConnectionError
from botocore.exceptions import ReadTimeoutError

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_retry
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import NO_RESPONSE
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import NOT_SENT
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import SERVER_ERROR
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import failure_kind
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import outcome_unknown
from ansible_collections.layerwise.aws.plugins.module_utils._layer_state import build_desired
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import PUBLISH_ATTEMPTS
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LayerVersionManager
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import LocalZipSource
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import SupersededNotDeleted

ARN = "arn:aws:lambda:us-east-1:123456789012:layer:l1"


def client_error(code, status, operation="PublishLayerVersion"):
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def lost_connection():
    return ConnectionClosedError(endpoint_url="https://lambda.us-east-1.amazonaws.com")


@pytest.fixture
def no_sleep(retry_clock):
    """Backoff sleeps (and rate limiter waits) are recorded, not slept: see tests/unit/plugins/conftest.py."""
    return retry_clock.slept


class FakeLambda:
    """Layer versions in memory, with scripted failures per operation.

    ``failures[op]`` is a list of (exception, applied) consumed one call at a time:
    ``applied`` says whether the call takes effect before the exception is raised,
    as when a response is lost after AWS did the work.
    """

    def __init__(self):
        self.versions = {}
        self.next_version = 1
        self.failures = {}
        self.calls = []

    def _maybe_fail(self, operation, action):
        self.calls.append(operation)
        queue = self.failures.get(operation) or []
        if queue:
            error, applied = queue.pop(0)
            if applied:
                action()
            raise error
        return action()

    def add_version(self, code_sha256, **fields):
        number = self.next_version
        self.next_version += 1
        self.versions[number] = dict(
            {"LayerArn": ARN, "LayerVersionArn": f"{ARN}:{number}", "Version": number, "Content": {"CodeSha256": code_sha256, "CodeSize": 1}}, **fields
        )
        return self.versions[number]

    def publish_layer_version(self, LayerName, Content, **fields):  # pylint: disable=invalid-name
        data = Content["ZipFile"]
        code_sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return self._maybe_fail("PublishLayerVersion", lambda: dict(self.add_version(code_sha256, **fields)))

    def list_layer_versions(self, LayerName, MaxItems=50):  # pylint: disable=invalid-name
        items = [{"Version": number} for number in sorted(self.versions, reverse=True)][:MaxItems]
        return self._maybe_fail("ListLayerVersions", lambda: {"LayerVersions": items})

    def get_layer_version(self, LayerName, VersionNumber):  # pylint: disable=invalid-name
        def read():
            if VersionNumber not in self.versions:
                raise client_error("ResourceNotFoundException", 404, "GetLayerVersion")
            return dict(self.versions[VersionNumber])

        return self._maybe_fail("GetLayerVersion", read)

    def delete_layer_version(self, LayerName, VersionNumber):  # pylint: disable=invalid-name
        return self._maybe_fail("DeleteLayerVersion", lambda: self.versions.pop(VersionNumber, None))


def zip_file(tmp_path, payload="v1"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/mod.py", payload)
    path = tmp_path / f"{payload}.zip"
    path.write_bytes(buffer.getvalue())
    return str(path), base64.b64encode(hashlib.sha256(buffer.getvalue()).digest()).decode()


@pytest.mark.parametrize(
    "error, kind, unknown",
    [
        (client_error("TooManyRequestsException", 429), "TooManyRequestsException", False),
        (client_error("ServiceException", 500), "ServiceException", True),
        (client_error("BadGateway", 502), SERVER_ERROR, True),
        (client_error("AccessDeniedException", 403), "AccessDeniedException", False),
        (EndpointConnectionError(endpoint_url="https://x"), NOT_SENT, False),
        (lost_connection(), NO_RESPONSE, True),
        (ReadTimeoutError(endpoint_url="https://x"), NO_RESPONSE, True),
    ],
)
def test_failures_are_classified(error, kind, unknown):
    assert failure_kind(error) == kind
    assert outcome_unknown(error) is unknown


def test_throttled_reads_are_retried_then_succeed(no_sleep):
    client = FakeLambda()
    client.add_version("h")
    client.failures["GetLayerVersion"] = [(client_error("TooManyRequestsException", 429, "GetLayerVersion"), False)] * 2
    assert get_layer_version(client, "l1", 1)["Version"] == 1
    assert client.calls == ["GetLayerVersion"] * 3
    assert len(no_sleep) == 2


@pytest.mark.parametrize("error", [client_error("ServiceException", 500), client_error("BadGateway", 503), EndpointConnectionError(endpoint_url="https://x")])
def test_transient_read_failures_are_retried(error):
    client = FakeLambda()
    client.add_version("h")
    client.failures["GetLayerVersion"] = [(error, False)]
    assert get_layer_version(client, "l1", 1)["Version"] == 1


def test_retries_are_bounded_in_count_and_time(no_sleep):
    client = FakeLambda()
    client.failures["GetLayerVersion"] = [(client_error("TooManyRequestsException", 429, "GetLayerVersion"), False)] * 100
    with pytest.raises(AnsibleLambdaLayerError) as error:
        get_layer_version(client, "l1", 1)
    assert error.value.exception.response["Error"]["Code"] == "TooManyRequestsException"
    assert len(client.calls) <= 13
    assert _layer_retry.WAIT_BUDGET - _layer_retry.MAX_BACKOFF <= sum(no_sleep) <= _layer_retry.WAIT_BUDGET + _layer_retry.MAX_TOKEN_WAIT
    assert error.value.exception.attempts == len(client.calls)


def test_transient_read_failures_are_bounded_to_three_attempts(no_sleep):
    client = FakeLambda()
    client.failures["GetLayerVersion"] = [(client_error("ServiceException", 500, "GetLayerVersion"), False)] * 10
    with pytest.raises(AnsibleLambdaLayerError):
        get_layer_version(client, "l1", 1)
    assert len(client.calls) == _layer_retry.TRANSIENT_ATTEMPTS == 3
    assert sum(no_sleep) <= 1 + 2


def test_errors_that_retrying_cannot_fix_fail_at_once(no_sleep):
    client = FakeLambda()
    client.failures["GetLayerVersion"] = [(client_error("AccessDeniedException", 403, "GetLayerVersion"), False)]
    with pytest.raises(AnsibleLambdaLayerError):
        get_layer_version(client, "l1", 1)
    assert client.calls == ["GetLayerVersion"]
    assert no_sleep == []


def test_throttled_publish_is_retried_and_publishes_once(tmp_path):
    path, _code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.failures["PublishLayerVersion"] = [(client_error("TooManyRequestsException", 429), False)] * 2
    result = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert result["changed"] and result["layer_version"]["version"] == 1
    assert client.calls.count("PublishLayerVersion") == 3
    assert sorted(client.versions) == [1]


@pytest.mark.parametrize("error", [lost_connection(), client_error("ServiceException", 500), ReadTimeoutError(endpoint_url="https://x")])
def test_a_lost_publish_answer_is_found_not_published_again(tmp_path, error):
    path, code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.add_version("old-hash")
    client.failures["PublishLayerVersion"] = [(error, True)]  # AWS created version 2, the answer was lost
    result = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert client.calls.count("PublishLayerVersion") == 1
    assert result["layer_version"]["version"] == 2
    assert result["layer_version"]["code_sha256"] == code_sha256
    assert result["deleted_versions"] == [1]
    assert sorted(client.versions) == [2]


def test_a_publish_lost_before_aws_did_it_is_sent_again(tmp_path):
    path, _code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.failures["PublishLayerVersion"] = [(lost_connection(), False)]
    result = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert client.calls.count("PublishLayerVersion") == 2
    assert result["layer_version"]["version"] == 1
    assert sorted(client.versions) == [1]


def test_an_older_identical_version_is_not_taken_for_the_lost_publish(tmp_path):
    path, code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.add_version(code_sha256, Description="old")  # same content, other metadata: superseded
    client.failures["PublishLayerVersion"] = [(lost_connection(), False)]
    result = LayerVersionManager(client).present(build_desired("l1", description="new"), LocalZipSource(path))
    assert client.calls.count("PublishLayerVersion") == 2
    assert result["layer_version"]["version"] == 2


def test_publish_gives_up_after_a_bounded_number_of_lost_answers(tmp_path):
    path, _code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.failures["PublishLayerVersion"] = [(client_error("ServiceException", 500), False)] * 10
    with pytest.raises(AnsibleLambdaLayerError):
        LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert client.calls.count("PublishLayerVersion") == PUBLISH_ATTEMPTS
    assert client.versions == {}


def test_a_refused_publish_fails_at_once_without_searching(tmp_path):
    path, _code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.failures["PublishLayerVersion"] = [(client_error("AccessDeniedException", 403), False)]
    with pytest.raises(AnsibleLambdaLayerError):
        LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert client.calls.count("PublishLayerVersion") == 1
    assert client.calls.count("ListLayerVersions") == 1  # the read of the current version only


def test_a_newer_identical_version_from_a_concurrent_run_wins(tmp_path):
    path, code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.add_version("old-hash")
    manager = LayerVersionManager(client)
    original_publish = client.publish_layer_version

    def publish_then_other_run_publishes(**request):
        ours = original_publish(**request)
        client.add_version(code_sha256)  # the other run's identical version, right after ours
        return ours

    client.publish_layer_version = publish_then_other_run_publishes
    result = manager.present(build_desired("l1"), LocalZipSource(path))
    assert result["layer_version"]["version"] == 3  # the other run's
    assert result["deleted_versions"] == [2, 1]  # our own duplicate, then the superseded version
    assert sorted(client.versions) == [3]


def test_an_older_identical_version_of_another_run_is_never_deleted(tmp_path):
    path, code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.add_version("old-hash")
    original_list = client.list_layer_versions
    reads = []

    def list_and_let_the_other_run_publish_first(**kwargs):
        reads.append(1)
        answer = original_list(**kwargs)
        if len(reads) == 1:
            client.add_version(code_sha256)  # the other run published version 2 after our read
        return answer

    client.list_layer_versions = list_and_let_the_other_run_publish_first
    result = LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert result["layer_version"]["version"] == 3
    assert 2 in client.versions  # the other run's version is left alone
    assert result["deleted_versions"] == [1]


def test_a_failed_deletion_after_publish_reports_the_new_version(tmp_path):
    path, _code_sha256 = zip_file(tmp_path)
    client = FakeLambda()
    client.add_version("old-hash")
    client.failures["DeleteLayerVersion"] = [(client_error("AccessDeniedException", 403, "DeleteLayerVersion"), False)]
    with pytest.raises(SupersededNotDeleted) as error:
        LayerVersionManager(client).present(build_desired("l1"), LocalZipSource(path))
    assert error.value.version == 1
    assert error.value.result["changed"] is True
    assert error.value.result["layer_version"]["version"] == 2
    assert error.value.result["deleted_versions"] == []
    message = error.value.message
    assert "Published version 2" in message and "could not delete version 1" in message and "AccessDeniedException" in message
    assert "state=absent and version=1" in message
    assert sorted(client.versions) == [1, 2]
