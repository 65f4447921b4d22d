# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When an AWS call is tried again, and how a failure is classified.

PRIVATE to the collection: not a public API, may change without notice.

Built on amazon.aws's AWSRetry (jittered exponential backoff), extended to the
transport errors botocore raises outside ClientError. The clients the modules
make have botocore's own retries switched off (``client_config``), so these
rules are the only ones: botocore would otherwise resend a PublishLayerVersion
whose answer was lost, and publish twice.

Every retried call sleeps at most 1 + 2 + 4 + 8 + 16 = 31 seconds in all
(jittered: about half of that on average) before its error is reported.
"""

try:
    import botocore.config
    from botocore.exceptions import ClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
    from botocore.exceptions import HTTPClientError

    _TRANSPORT_ERRORS = (BotocoreConnectionError, HTTPClientError)
    _RETRY_BASE = (ClientError, BotocoreConnectionError, HTTPClientError)
except ImportError:  # AnsibleAWSModule reports a missing botocore.
    ClientError = HTTPClientError = _TRANSPORT_ERRORS = _RETRY_BASE = type(None)

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# AWS's answers that mean "refused before doing anything: slow down".
THROTTLING_CODES = (
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
)
# AWS's answers that mean "something went wrong on our side": the request may or may not have been applied.
SERVER_ERROR_CODES = ("ServiceException", "InternalFailure", "InternalError", "ServiceUnavailable", "Unavailable", "RequestTimeout")
# Pseudo codes for failures without an AWS answer.
SERVER_ERROR = "server-error"  # any other HTTP 5xx
NOT_SENT = "request-not-sent"  # no connection could be made: AWS never saw the request
NO_RESPONSE = "no-response"  # the connection broke or timed out after the request was sent

RETRIES = 6


def failure_kind(error):
    """The AWS error code of a ClientError, or one of the pseudo codes above."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code not in THROTTLING_CODES + SERVER_ERROR_CODES and status >= 500:
            return SERVER_ERROR
        return code
    if isinstance(error, _TRANSPORT_ERRORS) and not isinstance(error, HTTPClientError):
        return NOT_SENT
    return NO_RESPONSE


def outcome_unknown(error):
    """Whether a failed call may still have been carried out by AWS."""
    return failure_kind(error) in SERVER_ERROR_CODES + (SERVER_ERROR, NO_RESPONSE)


class LayerRetry(AWSRetry):
    """AWSRetry over ClientError and botocore's transport errors, retrying exactly the codes it is given."""

    base_class = _RETRY_BASE

    @staticmethod
    def status_code_from_exception(error):
        return failure_kind(error)

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        return response_code in (catch_extra_error_codes or ())


def _backoff(codes):
    return LayerRetry.jittered_backoff(retries=RETRIES, delay=1, backoff=2.0, max_delay=16, catch_extra_error_codes=codes)


# Reads and deletes are idempotent: every transient failure is tried again.
retry_idempotent = _backoff(THROTTLING_CODES + SERVER_ERROR_CODES + (SERVER_ERROR, NOT_SENT, NO_RESPONSE))
# A publish is not: only failures that prove AWS did nothing are tried again here;
# the others are resolved by looking for the version (see LayerVersionManager).
retry_refused = _backoff(THROTTLING_CODES + (NOT_SENT,))


def client_config(pool_size=10):
    """botocore settings for the modules' clients: no retries of botocore's own, bounded connects.

    ``pool_size``: how many connections threads sharing the client may hold at once.
    """
    return botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=120, max_pool_connections=max(10, pool_size))
