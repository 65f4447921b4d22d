# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Retries per call, their bounds, the rate limiter and the clients' configuration.

Sleeps and the clock are the fake ones of tests/unit/plugins/conftest.py (``retry_clock``):
nothing here waits for a backoff, and no assertion reads the wall clock.
"""

import json
import random
import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import EndpointConnectionError
from botocore.exceptions import ReadTimeoutError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_retry
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import AnsibleLambdaLayerError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import aws_client
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import get_newest_layer_version_summary
from ansible_collections.layerwise.aws.plugins.module_utils._layer_api import publish_layer_version
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import MalformedResponse
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import MALFORMED
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import NO_RESPONSE
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import TokenBucket
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import failure_kind
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import outcome_unknown
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import publish_read_timeout
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import rate_limiter
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import retry_idempotent
from ansible_collections.layerwise.aws.plugins.module_utils._layer_retry import retry_refused

# The documented bounds, derived from the constants as the module docstring derives them.
MAX_WAITING = _layer_retry.WAIT_BUDGET + _layer_retry.MAX_TOKEN_WAIT  # 100 s
MAX_ATTEMPTS = 13
HANGING_READ_BOUND = 3 * _layer_retry.READ_TIMEOUT + 1 + 2  # 48 s


def throttled(operation="GetLayerVersion", botocore_gave_up=True):
    """A throttling ClientError as botocore raises it with its retries off: "(reached max retries: 0)"."""
    metadata = {"HTTPStatusCode": 429, "RetryAttempts": 0}
    if botocore_gave_up:
        metadata["MaxAttemptsReached"] = True
    return ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}, "ResponseMetadata": metadata}, operation)


def client_error(code, status, operation="GetLayerVersion"):
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def fail(error):
    raise error


class ScriptedClient:
    """A client whose every call runs ``behaviour(attempt_number)``: raise to fail, return to answer."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.calls = 0
        self.lock = threading.Lock()

    def call(self):
        with self.lock:
            self.calls += 1
            attempt = self.calls
        return self.behaviour(attempt)


@retry_idempotent
def read(client):
    return client.call()


@retry_refused
def write(client):
    return client.call()


class _NoLimit:
    @staticmethod
    def acquire():
        return 0.0

    @staticmethod
    def throttled():
        pass

    @staticmethod
    def answered():
        pass


def equal_jitter_range(failed_attempts):
    ceiling = min(_layer_retry.MAX_BACKOFF, _layer_retry.FIRST_BACKOFF * 2 ** (failed_attempts - 1))
    return ceiling / 2, ceiling


# Backoff per call


def test_each_call_backs_off_on_its_own_under_eight_threads(retry_clock, monkeypatch):
    """amazon.aws's shared BackoffIterator let one thread sleep the delays of others; here each call has its own."""
    monkeypatch.setattr(_layer_retry, "rate_limiter", lambda client: _NoLimit())
    threads_count, failures = 8, 5
    barrier = threading.Barrier(threads_count, timeout=30)

    def throttle_in_lockstep(attempt):
        barrier.wait()  # every thread makes its n-th attempt together, so their retries interleave
        if attempt <= failures:
            raise throttled()
        return "answer"

    results = {}

    def run():
        results[threading.get_ident()] = read(ScriptedClient(throttle_in_lockstep))

    threads = [threading.Thread(target=run) for _round in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results.values()) == ["answer"] * threads_count
    for thread_id in results:
        sleeps = retry_clock.slept_by(thread_id)
        assert len(sleeps) == failures
        for failed_attempts, seconds in enumerate(sleeps, start=1):
            low, high = equal_jitter_range(failed_attempts)
            assert low <= seconds <= high
        assert sum(sleeps) <= 1 + 2 + 4 + 8 + 16


def test_eight_threads_throttled_for_good_each_wait_within_the_bound(retry_clock):
    """With the shared rate limiter in the way, every call still waits at most 100 s and says how long it did."""
    errors = {}
    barrier = threading.Barrier(8, timeout=30)

    def run():
        barrier.wait()  # all alive together: no thread id is reused while the sleeps are recorded
        try:
            read(ScriptedClient(lambda attempt: fail(throttled())))
        except ClientError as e:
            errors[threading.get_ident()] = e

    threads = [threading.Thread(target=run) for _round in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(errors) == 8
    for thread_id, error in errors.items():
        waited = sum(retry_clock.slept_by(thread_id))
        assert waited <= MAX_WAITING
        assert error.waited == pytest.approx(waited)
        assert _layer_retry.WAIT_BUDGET - _layer_retry.MAX_BACKOFF < error.waited
        assert error.attempts <= MAX_ATTEMPTS


# Throttling


@pytest.mark.parametrize("seed", range(20))
def test_sixty_seconds_of_throttling_are_ridden_out(retry_clock, seed):
    random.seed(seed)
    start = retry_clock.now
    sent_at = []

    def throttled_for_a_minute(_attempt):
        sent_at.append(retry_clock.now - start)
        if retry_clock.now - start < 60:
            raise throttled()
        return "answer"

    assert read(ScriptedClient(throttled_for_a_minute)) == "answer"
    assert sent_at[-1] >= 60 and sent_at[-2] < 60
    assert len(sent_at) <= MAX_ATTEMPTS
    assert sent_at[-1] <= MAX_WAITING


def test_any_http_429_is_throttling_and_any_throttling_code_is_retried(retry_clock):
    odd = ClientError({"Error": {"Code": "SomethingNew", "Message": "slow down"}, "ResponseMetadata": {"HTTPStatusCode": 429}}, "ListLayers")
    script = [odd, client_error("ThrottlingException", 400), client_error("SlowDown", 503)]
    client = ScriptedClient(lambda attempt: fail(script[attempt - 1]) if attempt <= len(script) else "answer")
    assert read(client) == "answer"
    assert client.calls == 4


@pytest.mark.parametrize("seed", range(10))
def test_giving_up_on_throttling_says_how_many_attempts_and_how_long(retry_clock, seed):
    random.seed(seed)
    assert "reached max retries: 0" in str(throttled())  # what botocore would have said
    client = ScriptedClient(lambda attempt: fail(throttled()))
    with pytest.raises(ClientError) as raised:
        read(client)
    error = raised.value
    assert error.attempts == client.calls <= MAX_ATTEMPTS
    assert error.waited == pytest.approx(sum(retry_clock.slept))
    assert _layer_retry.WAIT_BUDGET - _layer_retry.MAX_BACKOFF < error.waited <= MAX_WAITING
    message = str(error)
    assert "reached max retries" not in message
    assert f"gave up after {client.calls} attempts and {error.waited:.1f} s of waiting" in message
    assert message.startswith("An error occurred (TooManyRequestsException) when calling the GetLayerVersion operation (gave up")
    assert message.endswith(": Rate exceeded")
    assert error.response["Error"]["Code"] == "TooManyRequestsException"
    assert error.response["ResponseMetadata"]["RetryAttempts"] == client.calls - 1
    assert "MaxAttemptsReached" not in error.response["ResponseMetadata"]


def test_the_collections_error_wraps_the_truthful_error(retry_clock):
    class Lambda:
        calls = 0

        def get_layer_version(self, **_request):
            self.calls += 1
            raise throttled()

    client = Lambda()
    with pytest.raises(AnsibleLambdaLayerError) as raised:
        get_layer_version(client, "l1", 1)
    assert raised.value.exception.attempts == client.calls
    assert f"gave up after {client.calls} attempts" in str(raised.value)
    assert "reached max retries" not in str(raised.value)


def test_a_single_refusal_loses_only_botocores_misleading_words():
    metadata = {"HTTPStatusCode": 403, "MaxAttemptsReached": True, "RetryAttempts": 0}
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}, "ResponseMetadata": metadata}, "PublishLayerVersion")
    client = ScriptedClient(lambda attempt: fail(denied))
    with pytest.raises(ClientError) as raised:
        write(client)
    assert client.calls == 1
    assert str(raised.value) == "An error occurred (AccessDeniedException) when calling the PublishLayerVersion operation: no"
    assert raised.value.attempts == 1


# Transient failures and hanging endpoints


@pytest.mark.parametrize(
    "error",
    [
        client_error("ServiceException", 500),
        client_error("BadGateway", 502),
        ConnectionClosedError(endpoint_url="https://x"),
        ReadTimeoutError(endpoint_url="https://x"),
        EndpointConnectionError(endpoint_url="https://x"),
        MalformedResponse("GetLayerVersion", "https://x", "an HTML page"),
    ],
)
def test_reads_try_a_transient_failure_three_times_in_all(retry_clock, error):
    client = ScriptedClient(lambda attempt: fail(error))
    with pytest.raises(type(error)) as raised:
        read(client)
    assert client.calls == _layer_retry.TRANSIENT_ATTEMPTS == 3
    assert len(retry_clock.slept) == 2 and sum(retry_clock.slept) <= 1 + 2
    assert "gave up after 3 attempts" in str(raised.value)


def test_throttling_does_not_use_up_the_transient_attempts(retry_clock):
    script = [client_error("ServiceException", 500), throttled(), throttled(), client_error("ServiceException", 500), throttled()]
    client = ScriptedClient(lambda attempt: fail(script[attempt - 1]) if attempt <= len(script) else "answer")
    assert read(client) == "answer"
    assert client.calls == 6


def test_a_hanging_read_gives_up_after_three_attempts_within_the_documented_bound(retry_clock):
    start = retry_clock.now

    def hang(_attempt):
        retry_clock.advance(_layer_retry.READ_TIMEOUT)  # the endpoint said nothing for READ_TIMEOUT seconds
        raise ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com")

    client = ScriptedClient(hang)
    with pytest.raises(ReadTimeoutError) as raised:
        read(client)
    assert client.calls == 3
    assert failure_kind(raised.value) == NO_RESPONSE
    assert retry_clock.now - start <= HANGING_READ_BOUND == 48


def test_errors_retrying_cannot_fix_and_other_exceptions_go_through_at_once(retry_clock):
    for error in (client_error("AccessDeniedException", 403), client_error("ResourceNotFoundException", 404), KeyError("LayerVersions")):
        client = ScriptedClient(lambda attempt, error=error: fail(error))
        with pytest.raises(type(error)) as raised:
            read(client)
        assert client.calls == 1
        assert getattr(raised.value, "attempts", 1) == 1 and "gave up" not in str(raised.value)
    assert retry_clock.slept == []


# The publish decorator


@pytest.mark.parametrize(
    "error",
    [
        client_error("ServiceException", 500, "PublishLayerVersion"),
        client_error("BadGateway", 502, "PublishLayerVersion"),
        ConnectionClosedError(endpoint_url="https://x"),
        ReadTimeoutError(endpoint_url="https://x"),
        MalformedResponse("PublishLayerVersion", "https://x", "no LayerVersionArn"),
    ],
)
def test_the_publish_decorator_never_retries_an_outcome_unknown_failure(retry_clock, error):
    assert outcome_unknown(error)
    client = ScriptedClient(lambda attempt: fail(error))
    with pytest.raises(type(error)):
        write(client)
    assert client.calls == 1
    assert retry_clock.slept == []


def test_publish_layer_version_is_sent_once_when_its_answer_is_lost(retry_clock):
    class Lambda:
        calls = 0

        def publish_layer_version(self, **_request):
            self.calls += 1
            raise ReadTimeoutError(endpoint_url="https://x")

    client = Lambda()
    with pytest.raises(AnsibleLambdaLayerError) as raised:
        publish_layer_version(client, LayerName="l1", Content={"ZipFile": b"z"})
    assert client.calls == 1
    assert outcome_unknown(raised.value.exception)


@pytest.mark.parametrize("error", [throttled("PublishLayerVersion"), EndpointConnectionError(endpoint_url="https://x")])
def test_the_publish_decorator_retries_what_proves_aws_did_nothing(retry_clock, error):
    client = ScriptedClient(lambda attempt: fail(error) if attempt <= 2 else "published")
    assert write(client) == "published"
    assert client.calls == 3


def test_a_publish_that_never_connects_gives_up_after_three_attempts(retry_clock):
    client = ScriptedClient(lambda attempt: fail(EndpointConnectionError(endpoint_url="https://x")))
    with pytest.raises(EndpointConnectionError):
        write(client)
    assert client.calls == 3


# MalformedResponse


def test_a_malformed_response_is_its_own_kind_and_its_outcome_is_unknown():
    error = MalformedResponse("PublishLayerVersion", "https://x", "truncated JSON")
    assert failure_kind(error) == MALFORMED == "malformed-response"
    assert outcome_unknown(error) is True


def test_a_malformed_read_is_retried_and_a_good_answer_then_wins(retry_clock):
    def malformed_once(attempt):
        if attempt == 1:
            raise MalformedResponse("ListLayerVersions", "https://x", "an HTML page")
        return "answer"

    client = ScriptedClient(malformed_once)
    assert read(client) == "answer"
    assert client.calls == 2


# Timeouts


def test_the_publish_read_timeout_grows_with_the_package_and_is_capped():
    assert publish_read_timeout(0) == 30
    assert publish_read_timeout(1) == 31
    assert publish_read_timeout(50 * 1024 * 1024) == 80
    assert publish_read_timeout(10 * 1024 * 1024 * 1024) == _layer_retry.PUBLISH_READ_TIMEOUT_MAX == 300


# The clients' configuration


class ModuleStub:
    """Just enough of an AnsibleAWSModule for amazon.aws's own ``client()`` (and its merge of ``aws_config``) to run."""

    client = AnsibleAWSModule.client

    def __init__(self, **params):
        self.params = dict(
            access_key="AKIDEXAMPLE",
            secret_key="secret",
            session_token=None,
            profile=None,
            region="us-east-1",
            endpoint_url=None,
            validate_certs=True,
            aws_ca_bundle=None,
            aws_config=None,
        )
        self.params.update(params)
        self._name = "layerwise.aws.test"

    def fail_json(self, **result):
        raise AssertionError(result)


USER_AWS_CONFIG = {
    "retries": {"mode": "standard", "max_attempts": 10},
    "connect_timeout": 300,
    "read_timeout": 900,
    "user_agent_extra": "my-platform/1.0",
    "signature_version": "v4",
    "s3": {"addressing_style": "path"},
    "proxies": {"https": "http://proxy.example:3128"},
}


def test_aws_config_cannot_re_enable_retries_nor_change_the_timeouts(monkeypatch):
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "7")
    client = aws_client(ModuleStub(aws_config=USER_AWS_CONFIG), "lambda")
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert config.connect_timeout == _layer_retry.CONNECT_TIMEOUT == 5
    assert config.read_timeout == _layer_retry.READ_TIMEOUT == 15
    # The user's other settings still apply.
    assert config.user_agent_extra == "my-platform/1.0"
    assert config.signature_version == "v4"
    assert config.s3 == {"addressing_style": "path"}
    assert config.proxies == {"https": "http://proxy.example:3128"}


def test_a_publish_client_gets_its_own_read_timeout_and_the_pool_grows_with_threads():
    module = ModuleStub(aws_config={"max_pool_connections": 20})
    publish = aws_client(module, "lambda", read_timeout=publish_read_timeout(50 * 1024 * 1024))
    assert publish.meta.config.read_timeout == 80
    assert publish.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert publish.meta.config.max_pool_connections == 20
    assert aws_client(module, "lambda", pool_size=64).meta.config.max_pool_connections == 64
    assert aws_client(ModuleStub(), "s3", region="eu-west-1").meta.region_name == "eu-west-1"


def test_a_bad_aws_config_fails_naming_the_option():
    with pytest.raises(AssertionError) as raised:
        aws_client(ModuleStub(aws_config={"retries": {"max_attempts": 2}, "no_such_setting": 1}), "lambda")
    assert raised.value.args[0]["msg"].startswith("aws_config: ")


class ScriptedEndpoint:
    """A local HTTP endpoint: answers each request as ``script`` says (by arrival order), counting them."""

    def __init__(self, script):
        self.script = script
        self.requests = 0
        self.released = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # pylint: disable=invalid-name
                with lock:
                    endpoint.requests += 1
                    action = endpoint.script(endpoint.requests)
                if action == "hang":
                    endpoint.released.wait(30)  # accept, read the request, never answer
                    return
                status, headers, body = action
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


THROTTLING_ANSWER = (429, {"x-amzn-ErrorType": "TooManyRequestsException:"}, {"Type": "User", "message": "Rate exceeded"})
NO_VERSIONS = (200, {}, {"LayerVersions": []})


def test_a_real_client_with_the_users_retries_sends_once_per_attempt_and_tells_the_truth(retry_clock):
    """botocore with the user's ``retries`` would re-send; the endpoint must see exactly our attempts."""
    with ScriptedEndpoint(lambda number: THROTTLING_ANSWER) as endpoint:
        client = aws_client(ModuleStub(endpoint_url=endpoint.url, aws_config=USER_AWS_CONFIG), "lambda")
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}  # else botocore would sleep for real
        with pytest.raises(AnsibleLambdaLayerError) as raised:
            get_newest_layer_version_summary(client, "l1")
    error = raised.value.exception
    assert endpoint.requests == error.attempts <= MAX_ATTEMPTS
    assert error.response["Error"]["Code"] == "TooManyRequestsException"
    assert "reached max retries" not in str(raised.value)
    assert f"gave up after {error.attempts} attempts and {error.waited:.1f} s of waiting" in str(raised.value)
    assert _layer_retry.WAIT_BUDGET - _layer_retry.MAX_BACKOFF < error.waited <= MAX_WAITING


def test_a_real_client_against_an_endpoint_that_never_answers_gives_up_after_three_attempts(retry_clock):
    with ScriptedEndpoint(lambda number: "hang") as endpoint:
        # A short read timeout, so the test takes under a second of real time.
        client = aws_client(ModuleStub(endpoint_url=endpoint.url), "lambda", read_timeout=0.2)
        with pytest.raises(AnsibleLambdaLayerError) as raised:
            get_newest_layer_version_summary(client, "l1")
    assert endpoint.requests == 3
    assert isinstance(raised.value.exception, ReadTimeoutError)
    assert failure_kind(raised.value.exception) == NO_RESPONSE
    assert "gave up after 3 attempts" in str(raised.value)
    assert len(retry_clock.slept) == 2


def test_a_real_client_rides_out_throttling_then_reads(retry_clock):
    with ScriptedEndpoint(lambda number: THROTTLING_ANSWER if number <= 4 else NO_VERSIONS) as endpoint:
        client = aws_client(ModuleStub(endpoint_url=endpoint.url), "lambda")
        assert get_newest_layer_version_summary(client, "l1") is None
    assert endpoint.requests == 5
    assert rate_limiter(client).rate < _layer_retry.START_RATE  # the throttling slowed this endpoint's bucket down


# The rate limiter


def test_the_rate_halves_on_throttling_at_most_once_a_second_and_comes_back_slowly(retry_clock):
    bucket = TokenBucket()
    assert bucket.rate == _layer_retry.START_RATE == 15
    bucket.throttled()
    assert bucket.rate == 7.5
    bucket.throttled()  # the same overload, answered to several requests at once
    assert bucket.rate == 7.5
    for _round in range(10):
        retry_clock.advance(1.0)
        bucket.throttled()
    assert bucket.rate == _layer_retry.MIN_RATE == 1.0
    bucket.answered()
    assert bucket.rate == 2.0  # + 1/rate per answer: about 1 request/s more per second of traffic
    answers = 1
    while bucket.rate < _layer_retry.START_RATE:
        bucket.answered()
        answers += 1
    assert 90 < answers < 120  # slowly: about (15**2 - 1**2) / 2 answers
    for _round in range(100):
        bucket.answered()
    assert bucket.rate == _layer_retry.START_RATE  # never above the quota


def test_a_throttled_call_slows_its_endpoints_bucket_only(retry_clock):
    class Meta:
        def __init__(self, region):
            self.region_name = region
            self.endpoint_url = f"https://lambda.{region}.amazonaws.com"
            self.service_model = type("ServiceModel", (), {"service_name": "lambda"})()

    east = ScriptedClient(lambda attempt: fail(throttled()) if attempt == 1 else "answer")
    east.meta = Meta("us-east-1")
    west = ScriptedClient(lambda attempt: "answer")
    west.meta = Meta("us-west-2")
    same_as_east = ScriptedClient(lambda attempt: "answer")
    same_as_east.meta = Meta("us-east-1")
    assert read(east) == "answer" and read(west) == "answer"
    assert rate_limiter(east) is rate_limiter(same_as_east)
    assert rate_limiter(east).rate < _layer_retry.START_RATE
    assert rate_limiter(west).rate == _layer_retry.START_RATE


def test_concurrent_threads_never_exceed_the_bucket(monkeypatch):
    """The clock stands still: every request is sent at now + its wait, and the sends must fit the bucket."""
    waits = []
    monkeypatch.setattr(_layer_retry, "_sleep", waits.append)
    monkeypatch.setattr(_layer_retry, "_clock", lambda: 0.0)
    client = ScriptedClient(lambda attempt: "answer")
    barrier = threading.Barrier(8, timeout=30)

    def run():
        barrier.wait()
        for _round in range(10):
            read(client)

    threads = [threading.Thread(target=run) for _round in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert client.calls == 80
    sends = sorted([0.0] * (80 - len(waits)) + waits)
    assert len(sends) == 80
    # A token bucket's promise: in any interval of length T, at most BURST + rate * T requests.
    for first in range(len(sends)):
        for last in range(first, len(sends)):
            assert last - first + 1 <= _layer_retry.BURST + _layer_retry.START_RATE * (sends[last] - sends[first]) + 1e-6
    assert max(sends) == pytest.approx((80 - _layer_retry.BURST) / _layer_retry.START_RATE)


def test_no_request_waits_longer_than_the_cap_for_its_token(monkeypatch):
    waits = []
    monkeypatch.setattr(_layer_retry, "_sleep", waits.append)
    monkeypatch.setattr(_layer_retry, "_clock", lambda: 0.0)
    bucket = TokenBucket()
    bucket.rate = _layer_retry.MIN_RATE
    for _round in range(500):
        bucket.acquire()
    assert max(waits) == _layer_retry.MAX_TOKEN_WAIT == 10
