# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When an AWS call is tried again, how long anything waits, and how a failure is classified.

PRIVATE to the collection: not a public API, may change without notice.

The clients the modules make have botocore's own retries switched off
(``client_config``: one attempt, standard mode, whatever the user's
``aws_config`` says), so the rules below are the only ones: botocore would
otherwise re-send a PublishLayerVersion whose answer was lost, and publish
twice.

Why not amazon.aws's ``AWSRetry``: its decorator keeps one backoff iterator per
decorated function, shared by every call of it and reset by each caller, so
under the bulk module's threads one call slept the delays of the others (51-65 s
where 31 s was the bound). Here every call has its own attempt count, backoff
and waiting total, held in local variables.

Attempts. Before every attempt a call takes a token from the rate limiter
(below). Then:

* throttling (``THROTTLING_CODES`` or HTTP 429): tried again, as long as the
  call's waiting fits ``WAIT_BUDGET``;
* a transient failure (``SERVER_ERROR_CODES`` and any other 5xx, no response,
  no connection, ``MalformedResponse``): tried again, at most
  ``TRANSIENT_ATTEMPTS`` (3) attempts ending so in all. ``retry_idempotent``
  (reads, deletes) retries all of them; ``retry_refused`` (publish, add
  permission) only ``NOT_SENT``, the failure that proves AWS never saw the
  request: every other one may have been carried out (``outcome_unknown``) and
  is left to the caller, who looks before sending again;
* anything else fails at once.

Backoff. The sleep after the n-th failed attempt is drawn from
[d/2, d], d = min(``MAX_BACKOFF``, ``FIRST_BACKOFF`` * 2 ** (n - 1)) ("equal
jitter": 0.5-1, 1-2, 2-4, 4-8, 8-16, then 10-20 s). A call sleeps only if its
waiting so far (backoff sleeps and token waits) plus that sleep stays within
``WAIT_BUDGET`` (90 s).

Bounds of one decorated call:

* waiting (backoff sleeps and token waits) at most ``WAIT_BUDGET`` +
  ``MAX_TOKEN_WAIT`` = 100 s;
* at most 13 attempts: every backoff sleep is at least half of its d, and
  0.5 + 1 + 2 + 4 + 8 + 10 * 7 = 85.5 s is the most 12 sleeps can fit in 90 s;
* sustained throttling is ridden out for at least ``WAIT_BUDGET`` -
  ``MAX_BACKOFF`` = 70 s: a call gives up on throttling only when its next
  sleep (at most 20 s) would take its waiting past 90 s;
* transient failures alone: 3 attempts, at most 1 + 2 = 3 s of backoff;
* each HTTP request: ``CONNECT_TIMEOUT`` (5 s) to connect (per address the
  endpoint's name resolves to) and without progress while sending, then
  ``READ_TIMEOUT`` (15 s) of silence from the endpoint before the answer, or
  ``publish_read_timeout(package_bytes)`` (30 s + 1 s per MiB, at most 300 s)
  on the publish client. An attempt is one request, except a paginated read:
  one attempt for all its pages (one token, one request per page);
* in all, one call lasts at most 100 s + 13 * (5 + 15) s = 360 s on the read
  client; in practice a throttling answer comes in well under a second, so a
  call throttled for good gives up after 70-100 s;
* an endpoint that accepts the connection and never answers: a read call gives
  up after 3 attempts, 3 * 15 + 3 = 48 s (plus token waits: none in a
  single-layer run, at most 10 s per attempt under many threads). The first
  read of a run fails that way, so a single-layer run against such an endpoint
  fails within about 50 s. A publish that is never answered fails after one
  attempt of its read timeout (never re-sent here: the outcome is unknown).

When a call gives up, its exception says so: a ClientError is rebuilt with the
message "(gave up after N attempts and S s of waiting)" in place of botocore's
"(reached max retries: 0)", its ``ResponseMetadata.RetryAttempts`` is N - 1,
and the exception carries ``attempts`` and ``waited`` (seconds); other
exceptions get the same words appended and the same attributes.

Rate limiter. Every attempt of every decorated call first takes a token from
a bucket shared by all threads of the module process, one bucket per (service,
region, endpoint URL) of the client (the first positional argument of the
decorated function). A bucket starts at ``START_RATE`` (15 requests/s,
Lambda's control-plane quota) with ``BURST`` (5) tokens; a throttling answer
halves its rate (at most once per ``DECREASE_INTERVAL``, down to ``MIN_RATE``
= 1 request/s), every success or plain refusal (not a 5xx) raises it by 1/rate
(about 1 request/s per second of traffic, up to ``START_RATE`` again). It
only delays requests, it never re-sends one. One attempt waits at most ``MAX_TOKEN_WAIT`` (10 s) for its token: when more
requests are queued than the rate clears in 10 s, the excess goes without one
(a bounded wait matters more than a strict rate). No lock is held while
sleeping. All sleeps go through ``_sleep`` and all times through ``_clock``,
so tests can replace both.
"""

import functools
import math
import random
import threading
import time

try:
    import botocore.config
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
    from botocore.exceptions import HTTPClientError

    _TRANSPORT_ERRORS = (BotocoreConnectionError, HTTPClientError)
except ImportError:  # AnsibleAWSModule reports a missing botocore.
    BotoCoreError = ClientError = HTTPClientError = type(None)
    _TRANSPORT_ERRORS = ()

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import MalformedResponse

# AWS's answers that mean "refused before doing anything: slow down" (any HTTP 429 too).
THROTTLING_CODES = (
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
)
# AWS's answers that mean "something went wrong on our side": the request may or may not have been applied.
SERVER_ERROR_CODES = ("ServiceException", "InternalFailure", "InternalError", "ServiceUnavailable", "Unavailable", "RequestTimeout")
# Pseudo codes for failures without an AWS error code.
SERVER_ERROR = "server-error"  # any other HTTP 5xx
NOT_SENT = "request-not-sent"  # no connection could be made: AWS never saw the request
NO_RESPONSE = "no-response"  # the connection broke or timed out after the request was sent
MALFORMED = "malformed-response"  # a 2xx whose body is not the documented shape (MalformedResponse)

# Timeouts of every client (seconds).
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
# The publish's read timeout: the time AWS may take to answer once the package is sent grows with its size.
PUBLISH_READ_TIMEOUT_BASE = 30
PUBLISH_READ_SECONDS_PER_MIB = 1
PUBLISH_READ_TIMEOUT_MAX = 300

# Retries of one call.
TRANSIENT_ATTEMPTS = 3
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 20.0
WAIT_BUDGET = 90.0

# The rate limiter.
START_RATE = 15.0
BURST = 5.0
MIN_RATE = 1.0
RATE_DECREASE = 0.5
DECREASE_INTERVAL = 1.0
MAX_TOKEN_WAIT = 10.0

_TRANSIENT = SERVER_ERROR_CODES + (SERVER_ERROR, NOT_SENT, NO_RESPONSE, MALFORMED)
# What the decorators look at; anything else (a bug, a parameter botocore refuses) goes through at once.
_RETRY_CANDIDATES = (ClientError, MalformedResponse) + _TRANSPORT_ERRORS


def _sleep(seconds):
    time.sleep(seconds)


def _clock():
    return time.monotonic()


def failure_kind(error):
    """The AWS error code of a ClientError, or one of the pseudo codes above."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        status = _http_status(error)
        if code not in THROTTLING_CODES + SERVER_ERROR_CODES and status >= 500:
            return SERVER_ERROR
        return code
    if isinstance(error, MalformedResponse):
        return MALFORMED
    if isinstance(error, _TRANSPORT_ERRORS) and not isinstance(error, HTTPClientError):
        return NOT_SENT
    return NO_RESPONSE


def outcome_unknown(error):
    """Whether a failed call may still have been carried out by AWS."""
    return failure_kind(error) in SERVER_ERROR_CODES + (SERVER_ERROR, NO_RESPONSE, MALFORMED)


def is_throttling(error):
    """Whether AWS refused the request to slow the caller down."""
    return isinstance(error, ClientError) and (failure_kind(error) in THROTTLING_CODES or _http_status(error) == 429)


def _http_status(error):
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0


def backoff_delay(failed_attempts):
    """The sleep after the ``failed_attempts``-th failed attempt: equal jitter over capped exponential growth."""
    ceiling = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (failed_attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class TokenBucket:
    """A rate limiter shared by threads: AIMD over a token bucket; it only ever delays."""

    def __init__(self, rate=START_RATE):
        self._lock = threading.Lock()
        self.rate = rate
        self._tokens = self._capacity()
        self._stamp = _clock()
        self._last_decrease = None

    def _capacity(self):
        return max(1.0, min(BURST, self.rate))

    def _refill(self, now):
        self._tokens = min(self._capacity(), self._tokens + max(0.0, now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self):
        """Take a token; return the seconds the caller must wait before sending (at most MAX_TOKEN_WAIT).

        A token not there yet is taken on credit (the count goes below zero), so
        the callers queue in the order they came without waiting on a lock.
        """
        with self._lock:
            self._refill(_clock())
            wait = min(MAX_TOKEN_WAIT, max(0.0, (1.0 - self._tokens) / self.rate))
            self._tokens = max(self._tokens - 1.0, -self.rate * MAX_TOKEN_WAIT)
            return wait

    def acquire(self):
        """Wait for a token (the lock released); return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            _sleep(wait)
        return wait

    def throttled(self):
        """AWS throttled a request: halve the rate, once per DECREASE_INTERVAL (a burst of refusals answers one overload)."""
        with self._lock:
            now = _clock()
            if self._last_decrease is not None and now - self._last_decrease < DECREASE_INTERVAL:
                return
            self._refill(now)
            self.rate = max(MIN_RATE, self.rate * RATE_DECREASE)
            self._tokens = min(self._tokens, self._capacity())
            self._last_decrease = now

    def answered(self):
        """AWS answered, neither throttling nor failing: raise the rate by 1/rate, about 1 request/s per second of traffic."""
        with self._lock:
            if self.rate < START_RATE:
                self._refill(_clock())
                self.rate = min(START_RATE, self.rate + 1.0 / self.rate)


_BUCKETS = {}
_BUCKETS_LOCK = threading.Lock()


def _bucket_key(client):
    meta = getattr(client, "meta", None)
    service_model = getattr(meta, "service_model", None)
    return (getattr(service_model, "service_name", None), getattr(meta, "region_name", None), getattr(meta, "endpoint_url", None))


def rate_limiter(client):
    """The TokenBucket of a client's (service, region, endpoint URL), shared by every thread of the process."""
    key = _bucket_key(client)
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(key)
        if bucket is None:
            bucket = _BUCKETS[key] = TokenBucket()
        return bucket


def _gave_up(error, attempts, waited):
    """The error to raise once a call stops: what botocore says about retries replaced by what happened."""
    words = f"gave up after {attempts} attempts and {waited:.1f} s of waiting"
    metadata = dict(error.response.get("ResponseMetadata") or {}) if isinstance(error, ClientError) else {}
    if isinstance(error, ClientError) and (attempts > 1 or metadata.get("MaxAttemptsReached")):
        metadata.pop("MaxAttemptsReached", None)
        metadata["RetryAttempts"] = attempts - 1
        response = dict(error.response, ResponseMetadata=metadata)
        try:
            rebuilt = type(error)(response, error.operation_name)
        except TypeError:  # a subclass with another signature
            rebuilt = ClientError(response, error.operation_name)
        if attempts > 1:
            details = response.get("Error", {})
            rebuilt.args = (
                ClientError.MSG_TEMPLATE.format(
                    error_code=details.get("Code", "Unknown"),
                    operation_name=error.operation_name,
                    retry_info=f" ({words})",
                    error_message=details.get("Message", "Unknown"),
                ),
            )
        error = rebuilt
    elif attempts > 1 and error.args:
        error.args = (f"{error.args[0]} ({words})",) + tuple(error.args[1:])
    error.attempts = attempts
    error.waited = waited
    return error


def _should_retry(error, retry_unknown, transient_failures):
    if is_throttling(error):
        return True
    kind = failure_kind(error)
    if kind not in _TRANSIENT or not (retry_unknown or kind == NOT_SENT):
        return False
    return transient_failures < TRANSIENT_ATTEMPTS


def _retrying(retry_unknown):
    def decorator(func):
        @functools.wraps(func)
        def call(*args, **kwargs):
            bucket = rate_limiter(args[0] if args else None)
            attempts = transient_failures = 0
            waited = 0.0
            while True:
                waited += bucket.acquire()
                attempts += 1
                try:
                    result = func(*args, **kwargs)
                except _RETRY_CANDIDATES as error:
                    if is_throttling(error):
                        bucket.throttled()
                    elif failure_kind(error) in _TRANSIENT:
                        transient_failures += 1
                    elif isinstance(error, ClientError):
                        bucket.answered()  # a plain refusal: AWS is not overloaded
                    delay = backoff_delay(attempts)
                    if not _should_retry(error, retry_unknown, transient_failures) or waited + delay > WAIT_BUDGET:
                        failure = _gave_up(error, attempts, waited)
                        if failure is error:
                            raise
                        raise failure from error
                    _sleep(delay)
                    waited += delay
                else:
                    bucket.answered()
                    return result

        return call

    return decorator


# Reads and deletes are idempotent: throttling and every transient failure are tried again.
retry_idempotent = _retrying(retry_unknown=True)
# A publish is not: only failures that prove AWS did nothing are tried again here;
# the others are resolved by looking for the version (see LayerVersionManager).
retry_refused = _retrying(retry_unknown=False)


def publish_read_timeout(package_bytes):
    """The read timeout for a PublishLayerVersion of a package of ``package_bytes``: 30 s + 1 s per MiB, at most 300 s."""
    seconds = PUBLISH_READ_TIMEOUT_BASE + PUBLISH_READ_SECONDS_PER_MIB * (package_bytes or 0) / (1024 * 1024)
    return min(PUBLISH_READ_TIMEOUT_MAX, math.ceil(seconds))


def client_config(pool_size=10, read_timeout=None, user_config=None):
    """botocore settings for the modules' clients: no retries of botocore's own, bounded connects and reads.

    ``pool_size``: how many connections threads sharing the client may hold at once.
    ``read_timeout``: seconds of silence before a request is given up (``READ_TIMEOUT`` by default).
    ``user_config``: the user's ``aws_config`` (a dict or a Config): every setting of it applies
    except ``retries`` and the timeouts, which are the collection's; ``max_pool_connections``
    is the larger of the two. ValueError when it is not a valid botocore configuration.
    """
    if user_config is not None and not isinstance(user_config, botocore.config.Config):
        try:
            user_config = botocore.config.Config(**user_config)
        except (TypeError, BotoCoreError) as e:
            raise ValueError(str(e)) from e
    user_pool = (getattr(user_config, "max_pool_connections", None) if user_config is not None else None) or 0
    ours = botocore.config.Config(
        # Standard mode, named so that AWS_RETRY_MODE=adaptive cannot add botocore's own waits.
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=read_timeout or READ_TIMEOUT,
        max_pool_connections=max(10, pool_size, user_pool),
    )
    return ours if user_config is None else user_config.merge(ours)
