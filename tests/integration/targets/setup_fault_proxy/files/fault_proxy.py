# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault-injecting HTTP proxy between boto3/botocore clients and the local AWS endpoint.

    python fault_proxy.py start --upstream URL [--state-dir DIR] [LIMITS]   # prints the proxy URL
    python fault_proxy.py url   [--state-dir DIR]
    python fault_proxy.py reset [--state-dir DIR]               # drop every rule, clear the log and stats
    python fault_proxy.py stop  [--state-dir DIR]
    python fault_proxy.py rule  [--state-dir DIR] '{"operation": ..., "action": ...}'   # prints the rule
    python fault_proxy.py limits [--state-dir DIR] ['{"rate": 15, ...}' | LIMITS | --clear]  # prints them
    python fault_proxy.py stats [--state-dir DIR]               # prints the counters (JSON)
    python fault_proxy.py log   [--state-dir DIR]               # prints the request log (JSON)
    python fault_proxy.py log-bodies [--state-dir DIR] ['["PublishLayerVersion"]']   # sets/prints them
    python fault_proxy.py bodies [--state-dir DIR]              # prints the request bodies kept (JSON)
    python fault_proxy.py serve --upstream URL --port N [LIMITS]   # foreground (used by start)

    LIMITS: --rate R [--burst B] [--latency-ms MS] [--scope SERVICE] [--page-size N]   (see "Limits" below)

Clients use the proxy URL as their endpoint_url. Every request is forwarded to the upstream
unchanged, except requests under /__faults__ (the control API, never forwarded), requests that
match a fault rule, and requests the rate limiter refuses:

    POST   /__faults__/rules        add a rule (JSON), answers the rule with its id
    GET    /__faults__/rules        list the rules with their remaining counts
    DELETE /__faults__/rules        remove every rule
    DELETE /__faults__/rules/ID     remove one rule
    GET    /__faults__/log          every proxied request since the last clear:
                                    [{"operation", "method", "path", "action", "region"}, ...]
    DELETE /__faults__/log          clear the log and the stats
    GET    /__faults__/stats        counters since the last clear (see "Stats" below)
    POST   /__faults__/log_bodies   {"operations": [NAME, ...]}: keep the request bodies of these
                                    operations ([] for none, the default); answers the setting
    GET    /__faults__/log_bodies   the setting
    GET    /__faults__/bodies       the bodies kept since the last clear (see "Request bodies")
    POST   /__faults__/limits       set the proxy-wide limits (JSON, see "Limits"), answers them
    GET    /__faults__/limits       the limits, or null
    DELETE /__faults__/limits       remove the limits
    POST   /__faults__/reset        remove every rule, clear the log and the stats, refill the
                                    limiter's buckets (the limits themselves stay)
    GET    /__faults__              status: upstream URL, number of rules and log entries, limits

A rule: {"operation": "PublishLayerVersion" or "*", "action": ACTION, "count": 1 (default; -1 for
every matching request), ...}. It may also match on the request itself (all given must match):
    "method"       "GET", "POST", ... (any case)
    "path_prefix"  the path (without query, percent-decoded: an ARN appears as arn:aws:...)
                   starts with this, e.g. "/2018-10-31/layers/NAME/versions/3"
    "path_regex"   a Python regular expression searched (re.search) in that same path,
                   e.g. "^/2018-10-31/layers/NAME/versions/2/policy$"
"operation" may then be left out (it defaults to "*"). ACTION is one of
    "status"              answer {"status": 500, "code": ..., "message": ...} as an AWS error
                          in the service's format instead of forwarding (Lambda: the code in
                          x-amzn-ErrorType, {"Type", "message"} in the body; S3: <Error><Code>;
                          STS: <ErrorResponse>). Default codes by status, e.g. Lambda 404
                          ResourceNotFoundException, 403 AccessDeniedException, 429
                          TooManyRequestsException, other 5xx ServiceException.
    "drop"                close the connection without forwarding (the request body is read first)
    "drop_after_forward"  forward, read the whole upstream answer, then close the connection
                          without answering (the upstream did the work, the client sees an error)
    "delay"               wait {"seconds": 1.5}, then forward
    "garbage"             answer {"status": 200 (any 2xx)} with {"body": ...} instead of the real
                          answer. "body": a string (default a captive portal's
                          <html><body>Login required</body></html>, "content_type" default
                          text/html), or any JSON value such as {} (sent as JSON, "content_type"
                          default application/json); a truncated JSON document is a string body
                          with "content_type": "application/json". "forward": false (default):
                          nothing reaches the upstream; true: forward, read the upstream answer
                          fully, then answer the garbage (the upstream did the work). With
                          "forward": true, "truncate": N (instead of "body") answers the first
                          N bytes of the upstream's own body (its content type unless given).
    "late"                late completion: read the whole request, answer an AWS error at once
                          ({"status": 504 (default; 500 to 599), "code", "message"} as for
                          "status"), and forward the request {"seconds": 4} (default) later in a
                          background thread, its answer discarded: the work appears upstream
                          after the client saw the error. Requests still waiting when the proxy
                          stops are never forwarded. The body is held in memory until then.
    "hang"                read the whole request, then never answer: wait until the client
                          disconnects or {"seconds": 600} (default cap) have passed, then close the
                          connection. Other connections are served meanwhile (one thread each);
                          stopping the proxy ends the wait.
The first rule that matches and has a remaining count applies.

Limits (proxy-wide, not per request): {"rate": 15, "burst": 15, "latency_ms": 25, "scope": "lambda"}
    "rate"        requests per second each bucket refills (a float > 0); leave out for latency only
    "burst"       bucket size (default: rate rounded up); buckets start full
    "latency_ms"  added before forwarding each request the limiter lets through (default 0)
    "scope"       "*" (default), a service ("lambda", "s3", "sts") or a list of them
    "page_size"   answer ListLayers and ListLayerVersions in pages of at most this many items (and
                  at most the request's MaxItems), with a NextMarker, as AWS does, for an upstream
                  that ignores MaxItems and Marker (moto answers every item at once): the upstream's
                  whole answer is read and the page asked for is cut from it. Each page is a
                  request like any other (limited, logged). Whatever the scope; may be given alone.
There is one token bucket per service and region; the region comes from the credential scope
of the request's Authorization header (Credential=AKID/DATE/REGION/SERVICE/aws4_request) or of
a presigned URL's X-Amz-Credential, else "unknown". Rules come first: a request that matches a
rule is handled by the rule alone (no token taken, no latency added, also for "delay" and the
forwarding actions). The limiter then applies to the other requests in scope: with no token
left the request is answered without being forwarded and logged with the action "throttled":
Lambda 429 TooManyRequestsException (Reason CallerRateLimitExceeded, Retry-After: 1), S3 503
SlowDown, STS 400 Throttling, in the service's error format.

Stats: {"received": N, "forwarded": N, "throttled": N, "ruled": N, "by_action": {ACTION: N},
"by_operation": {OPERATION: COUNTS}, "by_region": {REGION: COUNTS}, "late": {"pending": N,
"forwarded": N, "failed": N, "statuses": {"201": N}}, "hanging": N, "limits": LIMITS or null},
with COUNTS = {"received", "forwarded", "throttled", "ruled"}. received = forwarded (no rule,
let through) + throttled + ruled (matched a rule, whatever its action), at all times.
"late" counts the late forwards (their upstream answer statuses); "late.pending" and "hanging"
are what is waiting right now and are never cleared.

Request bodies: off by default. For the operations named in log_bodies (by name, no "*"), the
request body is kept in a separate list (never in the log above), as
{"operation", "method", "path", "body", "size"}: "body" is the text (UTF-8, undecodable bytes
replaced) of a body of at most 64 KiB with a Content-Length, else null; "size" its length in
bytes (null when chunked). It is for checking what a client sent (a PublishLayerVersion's
Content, say), so name only operations whose bodies hold no secret. reset and a clear of the
log empty the list; the setting stays, like the limits.

Only the method, path (without query), operation name and region of a request are ever kept:
never a header value otherwise, a query string or a body (but for the bodies asked for above).
Loopback only, dummy credentials only.
"""

import argparse
import collections
import functools
import http.client
import http.server
import itertools
import json
import math
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from xml.sax.saxutils import escape as xml_escape

DEFAULT_STATE_DIR = os.path.join(
    os.environ.get("CACHE") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache"), "fault-proxy"
)
CONTROL_PREFIX = "/__faults__"
ACTIONS = ("status", "drop", "drop_after_forward", "delay", "garbage", "late", "hang")
MATCH_KEYS = ("operation", "action", "count", "method", "path_prefix", "path_regex")
ACTION_KEYS = {
    "status": ("status", "code", "message"),
    "drop": (),
    "drop_after_forward": (),
    "delay": ("seconds",),
    "garbage": ("status", "body", "content_type", "forward", "truncate"),
    "late": ("status", "code", "message", "seconds"),
    "hang": ("seconds",),
}
DEFAULT_GARBAGE = "<html><body>Login required</body></html>"
SERVICES = ("lambda", "s3", "sts", "json")
LIMIT_KEYS = ("rate", "burst", "latency_ms", "scope", "page_size")
# The paginated list calls the proxy can cut into pages (limits' page_size), and the key of their items.
PAGED_OPERATIONS = {"ListLayers": "Layers", "ListLayerVersions": "LayerVersions"}
PAGE_MARKER = re.compile(r"^fault-proxy-page-([0-9]{1,9})$")
# Credential scope of SigV4: Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request (header or presigned query).
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]*/\d{8}/([a-z0-9-]{1,40})/")
BLOCK = 64 * 1024
MAX_CONTROL_BODY = 1024 * 1024
MAX_FORM_BODY = 1024 * 1024
MAX_LOG_ENTRIES = 100000
MAX_LOGGED_BODY = 64 * 1024
MAX_LOGGED_BODIES = 1000
UPSTREAM_TIMEOUT = 300
# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded; Expect is answered by the proxy itself.
# Transfer-Encoding is handled separately: a chunked request body is relayed chunk by chunk.
HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "upgrade", "expect"))
LAMBDA_LAYERS = "/2018-10-31/layers"
S3_OBJECT_SUBRESOURCES = {
    "tagging": "ObjectTagging",
    "acl": "ObjectAcl",
    "retention": "ObjectRetention",
    "legal-hold": "ObjectLegalHold",
    "attributes": "ObjectAttributes",
}
S3_BUCKET_SUBRESOURCES = (
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "tagging",
    "versioning",
    "website",
)
DEFAULT_CODES = {
    "lambda": {
        429: "TooManyRequestsException",
        400: "InvalidParameterValueException",
        403: "AccessDeniedException",
        404: "ResourceNotFoundException",
        409: "ResourceConflictException",
    },
    "s3": {503: "SlowDown", 500: "InternalError", 400: "InvalidRequest", 403: "AccessDenied", 404: "NoSuchKey", 429: "SlowDown"},
    "sts": {400: "Throttling", 403: "AccessDenied", 429: "Throttling", 500: "InternalFailure", 503: "ServiceUnavailable"},
}


# --- operation names ------------------------------------------------------------------------


def service_of(path):
    """'lambda', 'sts' (decided later from the body) or 's3', from the path alone."""
    if path == LAMBDA_LAYERS or path.startswith(LAMBDA_LAYERS + "/"):
        return "lambda"
    segments = path.split("/")
    if len(segments) > 1 and len(segments[1]) == 10 and segments[1][4:5] == "-" and segments[1][:4].isdigit():
        return "lambda"  # another REST-JSON API version prefix such as /2015-03-31/functions
    return "s3"


def lambda_operation(method, path, query):
    if not (path == LAMBDA_LAYERS or path.startswith(LAMBDA_LAYERS + "/")):
        return f"Lambda:{method}"
    parts = [part for part in path[len(LAMBDA_LAYERS):].split("/") if part]
    # parts: [], [name, "versions"], [name, "versions", n], [name, "versions", n, "policy"], [..., "policy", sid]
    if not parts:
        if method == "GET":
            return "GetLayerVersionByArn" if query.get("find") == ["LayerVersion"] else "ListLayers"
    elif len(parts) == 2 and parts[1] == "versions":
        if method == "GET":
            return "ListLayerVersions"
        if method == "POST":
            return "PublishLayerVersion"
    elif len(parts) == 3 and parts[1] == "versions":
        if method == "GET":
            return "GetLayerVersion"
        if method == "DELETE":
            return "DeleteLayerVersion"
    elif len(parts) == 4 and parts[1] == "versions" and parts[3] == "policy":
        if method == "GET":
            return "GetLayerVersionPolicy"
        if method == "POST":
            return "AddLayerVersionPermission"
    elif len(parts) == 5 and parts[1] == "versions" and parts[3] == "policy":
        if method == "DELETE":
            return "RemoveLayerVersionPermission"
    return f"Lambda:{method}"


def s3_operation(method, path, query, headers):
    # Path-style addressing only (what botocore uses with an IP-address endpoint such as 127.0.0.1).
    bucket, _sep, key = path.lstrip("/").partition("/")
    copy = "x-amz-copy-source" in headers
    if not bucket:
        return "ListBuckets" if method == "GET" else f"S3:{method}"
    if not key:
        for subresource in S3_BUCKET_SUBRESOURCES:
            if subresource in query:
                return f"S3:{method}"
        if method == "HEAD":
            return "HeadBucket"
        if method == "PUT":
            return "CreateBucket"
        if method == "DELETE":
            return "DeleteBucket"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if method == "GET":
            if "uploads" in query:
                return "ListMultipartUploads"
            if "versions" in query:
                return "ListObjectVersions"
            if query.get("list-type") == ["2"]:
                return "ListObjectsV2"
            return "ListObjects"
        return f"S3:{method}"
    for subresource, name in S3_OBJECT_SUBRESOURCES.items():
        if subresource in query:
            prefix = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
            return f"{prefix}{name}" if prefix else f"S3:{method}"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return f"S3:{method}"
    if "uploadId" in query:
        if method == "PUT":
            return "UploadPartCopy" if copy else "UploadPart"
        if method == "GET":
            return "ListParts"
        if method == "DELETE":
            return "AbortMultipartUpload"
        return f"S3:{method}"
    return {"HEAD": "HeadObject", "GET": "GetObject", "PUT": "CopyObject" if copy else "PutObject", "DELETE": "DeleteObject"}.get(method, f"S3:{method}")


def detect_operation(method, path, query, headers, form_action=None):
    """(service, operation) of a request; headers: a mapping with lower-case names."""
    target = headers.get("x-amz-target")
    if target:  # JSON-1.0/1.1 protocols: POST / with X-Amz-Target: Service.Operation
        return ("sts" if target.startswith("AWSSecurityTokenService") else "json"), target.rpartition(".")[2]
    if form_action is not None:
        return "sts", form_action
    service = service_of(path)
    if service == "lambda":
        return service, lambda_operation(method, path, query)
    return service, s3_operation(method, path, query, headers)


# --- fault rules and request log ---------------------------------------------------------


class RuleError(ValueError):
    pass


def _number(data, name, default, low, high, what):
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise RuleError(f"{name}: {what}")
    return value


def _status(data, default, low, high, what):
    status = data.get("status", default)
    if isinstance(status, bool) or not isinstance(status, int) or not low <= status <= high:
        raise RuleError(f"status: {what}, {low} to {high}")
    return status


def validate_rule(data):
    if not isinstance(data, dict):
        raise RuleError("a rule is a JSON object")
    known = set(MATCH_KEYS).union(*ACTION_KEYS.values())
    unknown = set(data) - known
    if unknown:
        raise RuleError(f"unknown rule keys: {sorted(unknown)}")
    by_path = "path_prefix" in data or "path_regex" in data
    operation = data.get("operation", "*" if by_path else None)
    if not isinstance(operation, str) or not operation:
        raise RuleError("operation: an operation name such as PublishLayerVersion, or '*' (needed unless path_prefix or path_regex is given)")
    action = data.get("action")
    if action not in ACTIONS:
        raise RuleError(f"action: one of {list(ACTIONS)}")
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or (count < 1 and count != -1):
        raise RuleError("count: a positive integer, or -1 for every matching request")
    rule = {"operation": operation, "action": action, "count": count}
    if "method" in data:
        method = data["method"]
        if not isinstance(method, str) or not method.isalpha():
            raise RuleError("method: an HTTP method such as GET or POST")
        rule["method"] = method.upper()
    if "path_prefix" in data:
        if not isinstance(data["path_prefix"], str) or not data["path_prefix"].startswith("/"):
            raise RuleError("path_prefix: a path starting with /")
        rule["path_prefix"] = data["path_prefix"]
    if "path_regex" in data:
        if not isinstance(data["path_regex"], str) or not data["path_regex"]:
            raise RuleError("path_regex: a regular expression (a non-empty string)")
        try:
            re.compile(data["path_regex"])
        except re.error as error:
            raise RuleError(f"path_regex: not a regular expression: {error}") from None
        rule["path_regex"] = data["path_regex"]

    inapplicable = sorted(set(data) - set(MATCH_KEYS) - set(ACTION_KEYS[action]))
    if inapplicable:
        raise RuleError(f"{inapplicable[0]} does not apply to action {action}")
    if action in ("status", "late"):
        if action == "status":
            rule["status"] = _status(data, 500, 400, 599, "an HTTP error status")
        else:
            rule["status"] = _status(data, 504, 500, 599, "an HTTP server error status")
            rule["seconds"] = _number(data, "seconds", 4.0, 0, 3600, "a number of seconds, 0 to 3600")
        for name in ("code", "message"):
            if name in data:
                if not isinstance(data[name], str) or not data[name]:
                    raise RuleError(f"{name}: a non-empty string")
                rule[name] = data[name]
    elif action == "delay":
        rule["seconds"] = _number(data, "seconds", 1.0, 0, 3600, "a number of seconds, 0 to 3600")
    elif action == "hang":
        rule["seconds"] = _number(data, "seconds", 600, 0, 86400, "a number of seconds (the cap), 0 to 86400")
    elif action == "garbage":
        rule.update(validate_garbage(data))
    return rule


def validate_garbage(data):
    rule = {"status": _status(data, 200, 200, 299, "an HTTP success status")}
    forward = data.get("forward", False)
    if not isinstance(forward, bool):
        raise RuleError("forward: true or false")
    rule["forward"] = forward
    if "truncate" in data:
        truncate = data["truncate"]
        if isinstance(truncate, bool) or not isinstance(truncate, int) or truncate < 0:
            raise RuleError("truncate: a number of bytes, 0 or more")
        if not forward:
            raise RuleError("truncate needs forward: true (it cuts the upstream's own answer)")
        if "body" in data:
            raise RuleError("truncate and body are mutually exclusive")
        rule["truncate"] = truncate
    else:
        body = data.get("body", DEFAULT_GARBAGE)
        rule["body"] = body
        if not isinstance(body, str):
            try:
                json.dumps(body)
            except (TypeError, ValueError):
                raise RuleError("body: a string or a JSON value") from None
    if "content_type" in data:
        if not isinstance(data["content_type"], str) or not data["content_type"] or "\n" in data["content_type"]:
            raise RuleError("content_type: a media type such as application/json")
        rule["content_type"] = data["content_type"]
    elif "body" in rule:
        rule["content_type"] = "text/html" if isinstance(rule["body"], str) else "application/json"
    return rule


def validate_limits(data):
    if not isinstance(data, dict):
        raise RuleError("limits are a JSON object")
    unknown = set(data) - set(LIMIT_KEYS)
    if unknown:
        raise RuleError(f"unknown limits keys: {sorted(unknown)}")
    limits = {"rate": None, "burst": None}
    if data.get("rate") is not None:
        limits["rate"] = _number(data, "rate", None, 0, 1000000, "requests per second, a number above 0")
        if limits["rate"] == 0:
            raise RuleError("rate: requests per second, a number above 0")
        burst = data.get("burst", max(1, math.ceil(limits["rate"])))
        if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= 1000000:
            raise RuleError("burst: the bucket size, an integer of at least 1")
        limits["burst"] = burst
    elif data.get("burst") is not None:
        raise RuleError("burst needs rate")
    limits["latency_ms"] = _number(data, "latency_ms", 0, 0, 600000, "milliseconds added before forwarding, 0 to 600000")
    if data.get("page_size") is not None:
        page_size = data["page_size"]
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 10000:
            raise RuleError("page_size: items per page of ListLayers and ListLayerVersions, an integer from 1 to 10000")
        limits["page_size"] = page_size
    if limits["rate"] is None and not limits["latency_ms"] and not limits.get("page_size"):
        raise RuleError("limits: give rate, latency_ms, page_size or several (DELETE the limits to remove them)")
    scope = data.get("scope", "*")
    scope = [scope] if isinstance(scope, str) else scope
    if not isinstance(scope, list) or not scope or any(name not in SERVICES + ("*",) for name in scope):
        raise RuleError(f"scope: '*' or a service among {list(SERVICES[:3])}, or a list of them")
    limits["scope"] = sorted(set(scope))
    return limits


def region_of(headers, query):
    """The region of a request's SigV4 credential scope (never any other part of it), or 'unknown'."""
    credential = headers.get("authorization", "")
    if not credential and query.get("X-Amz-Credential"):
        credential = "Credential=" + query["X-Amz-Credential"][0]
    found = CREDENTIAL_SCOPE.search(credential)
    return found.group(1) if found else "unknown"


class TokenBucket:
    """Starts full with ``burst`` tokens and refills ``rate`` tokens a second; one token a request."""

    def __init__(self, rate, burst):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def empty_counts():
    return {"received": 0, "forwarded": 0, "throttled": 0, "ruled": 0}


class FaultState:
    """Rules, limits, request log and stats, shared by the handler threads."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.rules = []
        self.ids = itertools.count(1)
        self.log = collections.deque(maxlen=MAX_LOG_ENTRIES)
        self.body_operations = frozenset()
        self.bodies = collections.deque(maxlen=MAX_LOGGED_BODIES)
        self.limits = None
        self.buckets = {}
        self.stats = self.empty_stats()
        self.late_pending = 0
        self.hanging = 0

    @staticmethod
    def empty_stats():
        return dict(empty_counts(), by_action={}, by_operation={}, by_region={}, late={"forwarded": 0, "failed": 0, "statuses": {}})

    def add_rule(self, data):
        rule = validate_rule(data)
        with self.lock:
            rule = dict(rule, id=next(self.ids), remaining=rule["count"])
            self.rules.append(rule)
            return dict(rule)

    def list_rules(self):
        with self.lock:
            return [dict(rule) for rule in self.rules]

    def remove_rules(self, rule_id=None):
        with self.lock:
            before = len(self.rules)
            self.rules = [rule for rule in self.rules if rule_id is not None and rule["id"] != rule_id]
            return before - len(self.rules)

    @staticmethod
    def matches(rule, operation, method, path):
        return (
            rule["operation"] in ("*", operation)
            and rule.get("method", method) == method
            and path.startswith(rule.get("path_prefix", ""))
            and ("path_regex" not in rule or re.search(rule["path_regex"], path) is not None)
        )

    def take(self, operation, method="GET", path="/"):
        """The first matching rule with a remaining count (consumed by one), or None."""
        with self.lock:
            for rule in self.rules:
                if rule["remaining"] != 0 and self.matches(rule, operation, method, path):
                    if rule["remaining"] > 0:
                        rule["remaining"] -= 1
                    return dict(rule)
        return None

    # -- limits

    def set_limits(self, data):
        limits = validate_limits(data)
        with self.lock:
            self.limits = limits
            self.buckets = {}
        return dict(limits)

    def get_limits(self):
        with self.lock:
            return dict(self.limits) if self.limits else None

    def clear_limits(self):
        with self.lock:
            removed, self.limits, self.buckets = self.limits is not None, None, {}
        return removed

    def page_size(self):
        """The limits' page_size, or None."""
        with self.lock:
            return (self.limits or {}).get("page_size")

    def admit(self, service, region):
        """(let through, seconds to wait before forwarding) for a request that matched no rule."""
        with self.lock:
            limits = self.limits
            if not limits or ("*" not in limits["scope"] and service not in limits["scope"]):
                return True, 0
            latency = limits["latency_ms"] / 1000.0
            if limits["rate"] is None:
                return True, latency
            bucket = self.buckets.get((service, region))
            if bucket is None:
                bucket = self.buckets[(service, region)] = TokenBucket(limits["rate"], limits["burst"])
            if bucket.take():
                return True, latency
            return False, 0

    # -- log and stats

    def record(self, operation, method, path, action, region="unknown"):
        outcome = action if action in ("forwarded", "throttled") else "ruled"
        with self.lock:
            self.log.append({"operation": operation, "method": method, "path": path, "action": action, "region": region})
            stats = self.stats
            stats["by_action"][action] = stats["by_action"].get(action, 0) + 1
            for counts in (stats, stats["by_operation"].setdefault(operation, empty_counts()), stats["by_region"].setdefault(region, empty_counts())):
                counts["received"] += 1
                counts[outcome] += 1

    def entries(self):
        with self.lock:
            return list(self.log)

    def set_log_bodies(self, data):
        """Keep the request bodies of the operations named in ``{"operations": [...]}``."""
        operations = data.get("operations") if isinstance(data, dict) and set(data) == {"operations"} else None
        if not isinstance(operations, list) or not all(isinstance(name, str) and name and name != "*" for name in operations):
            raise RuleError('log_bodies: {"operations": [NAME, ...]}, operation names such as PublishLayerVersion ([] for none)')
        with self.lock:
            self.body_operations = frozenset(operations)
            return {"operations": sorted(self.body_operations)}

    def get_log_bodies(self):
        with self.lock:
            return {"operations": sorted(self.body_operations)}

    def keeps_body(self, operation):
        with self.lock:
            return operation in self.body_operations

    def record_body(self, operation, method, path, body, size):
        """``body``: the bytes of the request body, or None when not read (too large, chunked)."""
        text = None if body is None else body.decode("utf-8", "replace")
        with self.lock:
            self.bodies.append({"operation": operation, "method": method, "path": path, "body": text, "size": size})

    def kept_bodies(self):
        with self.lock:
            return list(self.bodies)

    def clear_log(self):
        """Clear the log, the kept bodies and the stats; the number of log entries removed."""
        with self.lock:
            count = len(self.log)
            self.log.clear()
            self.bodies.clear()
            self.stats = self.empty_stats()
            return count

    def refill(self):
        with self.lock:
            self.buckets = {}

    def get_stats(self):
        with self.lock:
            stats = json.loads(json.dumps(self.stats))  # a deep copy
            stats["late"]["pending"] = self.late_pending
            stats["hanging"] = self.hanging
            stats["limits"] = dict(self.limits) if self.limits else None
            return stats

    def late_started(self):
        with self.lock:
            self.late_pending += 1

    def late_done(self, status=None):
        """A late forward ended: with the upstream's answer status, or None when it failed or was abandoned."""
        with self.lock:
            self.late_pending -= 1
            late = self.stats["late"]
            if status is None:
                late["failed"] += 1
            else:
                late["forwarded"] += 1
                late["statuses"][str(status)] = late["statuses"].get(str(status), 0) + 1

    def hang_started(self):
        with self.lock:
            self.hanging += 1

    def hang_done(self):
        with self.lock:
            self.hanging -= 1


# --- AWS-style error answers ------------------------------------------------------------


def error_response(service, rule, method, extra=None):
    """(status, headers, body) of an injected AWS error in the service's wire format.

    extra: more members of a Lambda (REST-JSON) error body, such as {"Reason": ...}.
    """
    status = rule["status"]
    code = rule.get("code") or DEFAULT_CODES.get(service, {}).get(status) or ("ServiceException" if service in ("lambda", "json") else "InternalError")
    message = rule.get("message") or "Injected fault"
    request_id = str(uuid.uuid4())
    if service in ("lambda", "json"):
        # REST-JSON (Lambda): botocore takes the code from x-amzn-ErrorType, the message from the body.
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
        body = json.dumps(dict({"Type": "User" if status < 500 else "Service", "message": message}, **(extra or {}))).encode()
        if service == "json":
            body = json.dumps({"__type": code, "message": message}).encode()
            headers[0] = ("Content-Type", "application/x-amz-json-1.0")
    elif service == "sts":
        # Query protocol: ErrorResponse/Error/Code.
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type>"
            f"<Code>{xml_escape(code)}</Code><Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    else:
        # REST-XML (S3): Error/Code; a HEAD answer has no body, botocore then uses the status as the code.
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id[:16].replace("-", "").upper())]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{xml_escape(code)}</Code><Message>{xml_escape(message)}</Message>"
            f"<RequestId>{headers[1][1]}</RequestId><HostId>fault-proxy</HostId></Error>"
        ).encode()
    if method == "HEAD":
        body = b""
    return status, headers, body


THROTTLES = {
    "lambda": {"status": 429, "code": "TooManyRequestsException", "message": "Rate exceeded"},
    "json": {"status": 400, "code": "ThrottlingException", "message": "Rate exceeded"},
    "sts": {"status": 400, "code": "Throttling", "message": "Rate exceeded"},
    "s3": {"status": 503, "code": "SlowDown", "message": "Please reduce your request rate."},
}


def throttle_response(service, method):
    """(status, headers, body) of the service's own answer to a request over its rate."""
    if service == "lambda":
        status, headers, body = error_response(service, THROTTLES[service], method, extra={"Reason": "CallerRateLimitExceeded"})
        return status, headers + [("Retry-After", "1")], body
    return error_response(service, THROTTLES.get(service, THROTTLES["s3"]), method)


def garbage_response(rule, method, upstream_body=None, upstream_type=None):
    """(status, headers, body) of a "garbage" answer; upstream_*: the upstream's answer, for truncate."""
    if "truncate" in rule:
        body = (upstream_body or b"")[: rule["truncate"]]
        content_type = rule.get("content_type") or upstream_type or "application/octet-stream"
    else:
        body = rule["body"]
        body = (body if isinstance(body, str) else json.dumps(body)).encode()
        content_type = rule["content_type"]
    headers = [("Content-Type", content_type), ("x-amzn-RequestId", str(uuid.uuid4()))]
    return rule["status"], headers, b"" if method == "HEAD" else body


# --- the proxy --------------------------------------------------------------------------


class DropConnection(Exception):
    """Close the client connection without an answer."""


class UpstreamError(Exception):
    """The upstream could not be reached, or failed before its answer began."""


def send_bytes(data, sink):
    sink(data)


def note(text):
    sys.stderr.write(f"{time.strftime('%d/%b/%Y %H:%M:%S')} {text}\n")


def upstream_connection(upstream):
    return http.client.HTTPConnection(upstream.hostname, upstream.port or 80, timeout=UPSTREAM_TIMEOUT)


def send_upstream(connection, upstream, method, target, header_items, framing, relay_body):
    """Send a request (its headers as received, less hop-by-hop ones) on ``connection``; the response.

    UpstreamError when the upstream fails; errors reading the client's body propagate as they are.
    """

    def send(data):
        try:
            connection.send(data)
        except OSError as error:
            raise UpstreamError(error) from error

    try:
        connection.putrequest(method, upstream.path.rstrip("/") + target, skip_host=True, skip_accept_encoding=True)
        connection_tokens = set()
        for name, value in header_items:
            if name.lower() == "connection":
                connection_tokens.update(token.strip().lower() for token in value.split(","))
        for name, value in header_items:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in connection_tokens:
                continue
            if lower == "content-length" and framing == "chunked":
                continue
            connection.putheader(name, value)
        connection.endheaders()
    except (OSError, http.client.HTTPException) as error:
        raise UpstreamError(error) from error
    relay_body(send)
    try:
        return connection.getresponse()
    except (OSError, http.client.HTTPException) as error:
        raise UpstreamError(error) from error


def late_forward(state, seconds, method, target, header_items, framing, body):
    """The "late" action's second half: after ``seconds``, send the captured request; discard the answer."""
    path = target.partition("?")[0]
    if state.stopping.wait(seconds):
        note(f"{method} {path}: late forward abandoned: the proxy stops")
        state.late_done()
        return
    connection = upstream_connection(state.upstream)
    status = None
    try:
        response = send_upstream(connection, state.upstream, method, target, header_items, framing, functools.partial(send_bytes, body))
        while response.read(BLOCK):
            pass
        status = response.status
        note(f"{method} {path}: late forward answered {status}")
    except (UpstreamError, OSError, http.client.HTTPException) as error:
        note(f"{method} {path}: late forward failed: {type(getattr(error, '__cause__', None) or error).__name__}")
    finally:
        connection.close()
        state.late_done(status)


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = UPSTREAM_TIMEOUT  # idle keep-alive connections end after this
    server_version = "fault-proxy"

    # One method for all: BaseHTTPRequestHandler looks up do_<METHOD>.
    def do_GET(self):  # pylint: disable=invalid-name
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    @property
    def state(self):
        return self.server.state

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        # The default would log the request line with its query string (presigned URLs carry credentials there).
        pass

    def note(self, text):
        note(text)

    def dispatch(self):
        target = self.path
        if "://" in target.split("?", 1)[0]:  # absolute-form request target
            parts = urllib.parse.urlsplit(target)
            target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        path, _sep, query_string = target.partition("?")
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self.control(path[len(CONTROL_PREFIX):].strip("/"))
            return
        try:
            self.proxy(target, path, query_string)
        except DropConnection:
            self.close_connection = True
        except (ConnectionError, socket.timeout, ValueError) as error:
            # The client went away or sent a malformed body: nothing sensible to answer.
            self.note(f"{self.command} {path}: client connection failed: {type(error).__name__}")
            self.close_connection = True

    # -- control API

    def send_json(self, status, data):
        body = json.dumps(data, indent=1).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_control_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_CONTROL_BODY or "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise RuleError("control requests need a Content-Length of at most 1 MiB")
        return self.rfile.read(length) if length else b""

    def control(self, what):
        method = self.command
        try:
            body = self.read_control_body()
            if what == "rules" and method == "POST":
                try:
                    data = json.loads(body or b"null")
                except ValueError as error:
                    raise RuleError(f"not JSON: {error}") from None
                rule = self.state.add_rule(data)
                self.note(f"rule {rule['id']} added: {rule['operation']} {rule['action']} count {rule['count']}")
                self.send_json(201, rule)
            elif what == "rules" and method == "GET":
                self.send_json(200, self.state.list_rules())
            elif what == "rules" and method == "DELETE":
                self.send_json(200, {"removed": self.state.remove_rules()})
            elif what.startswith("rules/") and method == "DELETE":
                try:
                    rule_id = int(what[len("rules/"):])
                except ValueError:
                    rule_id = -1
                removed = self.state.remove_rules(rule_id)
                self.send_json(200 if removed else 404, {"removed": removed})
            elif what == "log" and method == "GET":
                self.send_json(200, self.state.entries())
            elif what == "log" and method == "DELETE":
                self.send_json(200, {"removed": self.state.clear_log()})
            elif what == "log_bodies" and method == "POST":
                try:
                    data = json.loads(body or b"null")
                except ValueError as error:
                    raise RuleError(f"not JSON: {error}") from None
                setting = self.state.set_log_bodies(data)
                self.note(f"request bodies kept for: {', '.join(setting['operations']) or 'none'}")
                self.send_json(200, setting)
            elif what == "log_bodies" and method == "GET":
                self.send_json(200, self.state.get_log_bodies())
            elif what == "bodies" and method == "GET":
                self.send_json(200, self.state.kept_bodies())
            elif what == "stats" and method == "GET":
                self.send_json(200, self.state.get_stats())
            elif what == "limits" and method == "POST":
                try:
                    data = json.loads(body or b"null")
                except ValueError as error:
                    raise RuleError(f"not JSON: {error}") from None
                limits = self.state.set_limits(data)
                self.note(f"limits set: {json.dumps(limits)}")
                self.send_json(200, limits)
            elif what == "limits" and method == "GET":
                self.send_json(200, self.state.get_limits())
            elif what == "limits" and method == "DELETE":
                self.send_json(200, {"removed": int(self.state.clear_limits())})
            elif what == "reset" and method == "POST":
                self.state.refill()
                self.send_json(200, {"removed_rules": self.state.remove_rules(), "removed_log_entries": self.state.clear_log()})
            elif what == "" and method in ("GET", "HEAD"):
                self.send_json(
                    200,
                    {
                        "upstream": self.state.upstream.geturl(),
                        "rules": len(self.state.list_rules()),
                        "log": len(self.state.entries()),
                        "limits": self.state.get_limits(),
                    },
                )
            elif what in ("", "rules", "log", "reset", "stats", "limits", "log_bodies", "bodies") or what.startswith("rules/"):
                self.send_json(405, {"error": f"{method} not allowed on {CONTROL_PREFIX}/{what}"})
            else:
                self.send_json(404, {"error": f"unknown control path {CONTROL_PREFIX}/{what}"})
        except RuleError as error:
            self.send_json(400, {"error": str(error)})

    # -- forwarding

    def request_body_reader(self):
        """A function that passes the request body, as received, to a sink; and its framing."""
        encoding = self.headers.get("Transfer-Encoding", "").lower()
        if encoding:
            if encoding.replace(" ", "").split(",")[-1] != "chunked":
                raise ValueError("unsupported Transfer-Encoding")
            return "chunked", self.relay_chunked
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")

        def relay_fixed(sink):
            self.relay_exactly(length, sink, "request body")

        return length, relay_fixed

    def relay_exactly(self, count, sink, what):
        """Pass exactly ``count`` bytes of the request on, block by block."""
        remaining = count
        while remaining:
            data = self.rfile.read(min(remaining, BLOCK))
            if not data:
                raise ConnectionError(f"{what} ended early")
            sink(data)
            remaining -= len(data)

    def relay_chunked(self, sink):
        """Pass a chunked body on with its framing (chunk sizes, extensions, trailers) unchanged."""
        while True:
            line = self.rfile.readline(BLOCK + 1)
            if not line.endswith(b"\n"):
                raise ValueError("bad chunk size line")
            sink(line)
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailer fields, then an empty line
                    line = self.rfile.readline(BLOCK + 1)
                    if not line.endswith(b"\n"):
                        raise ValueError("bad chunked trailer")
                    sink(line)
                    if line in (b"\r\n", b"\n"):
                        return
            self.relay_exactly(size, sink, "chunked body")
            line = self.rfile.readline(3)
            if line not in (b"\r\n", b"\n"):
                raise ValueError("bad chunk end")
            sink(line)

    def proxy(self, target, path, query_string):
        method = self.command
        query = urllib.parse.parse_qs(query_string, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        framing, relay_body = self.request_body_reader()

        # STS (query protocol): POST / with a form body; read it (small) to name the operation.
        buffered = None
        form_action = None
        if (
            method == "POST"
            and path == "/"
            and framing != "chunked"
            and framing <= MAX_FORM_BODY
            and headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        ):
            chunks = []
            relay_body(chunks.append)
            buffered = b"".join(chunks)
            actions = urllib.parse.parse_qs(buffered.decode("latin-1")).get("Action")
            form_action = actions[0] if actions else "STS:POST"
            relay_body = functools.partial(send_bytes, buffered)

        service, operation = detect_operation(method, path, query, headers, form_action)
        if self.state.keeps_body(operation):
            relay_body, buffered = self.keep_body(operation, method, path, framing, relay_body, buffered)
        region = region_of(headers, query)
        rule = self.state.take(operation, method, urllib.parse.unquote(path))
        latency = 0
        if rule:
            action = rule["action"]
        else:
            admitted, latency = self.state.admit(service, region)
            action = "forwarded" if admitted else "throttled"
        self.state.record(operation, method, path, action, region)
        self.note(f"{method} {path} {operation} -> {action}")

        if action == "late":
            # Capture the whole request before answering; forward it later from another thread.
            chunks = []
            relay_body(chunks.append)
            self.send_answer(*error_response(service, rule, method))
            self.state.late_started()
            thread = threading.Thread(
                target=late_forward,
                args=(self.state, rule["seconds"], method, target, list(self.headers.items()), framing, b"".join(chunks)),
                name=f"late {operation}",
                daemon=True,
            )
            thread.start()
            return
        if action in ("status", "drop", "hang", "throttled") or (action == "garbage" and not rule["forward"]):
            relay_body(lambda data: None)  # read the whole request first, as the upstream would
            if action == "drop":
                raise DropConnection()
            if action == "hang":
                self.hang(rule["seconds"])
            elif action == "garbage":
                self.send_answer(*garbage_response(rule, method))
            elif action == "throttled":
                self.send_answer(*throttle_response(service, method))
            else:
                self.send_answer(*error_response(service, rule, method))
            return
        if action == "delay":
            time.sleep(rule["seconds"])
        elif latency:
            time.sleep(latency)
        answer = self.relay_response
        if action == "drop_after_forward":
            answer = self.drop_answer
        elif action == "garbage":
            answer = functools.partial(self.replace_answer, rule)
        elif action == "forwarded" and operation in PAGED_OPERATIONS and self.state.page_size():
            answer = functools.partial(self.page_answer, PAGED_OPERATIONS[operation], query, self.state.page_size())
        self.forward(target, framing, relay_body, answer)

    def keep_body(self, operation, method, path, framing, relay_body, buffered):
        """Record the request body (read into memory when small enough); the relay to use from now on."""
        if buffered is None and framing != "chunked" and framing <= MAX_LOGGED_BODY:
            chunks = []
            relay_body(chunks.append)
            buffered = b"".join(chunks)
            relay_body = functools.partial(send_bytes, buffered)
        self.state.record_body(operation, method, path, buffered, None if framing == "chunked" else framing)
        return relay_body, buffered

    def send_answer(self, status, headers, body):
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def page_answer(self, key, query, page_size, response):
        """Answer the page the request asks for (Marker, MaxItems), cut from the upstream's whole list."""
        body = response.read()
        headers = [(name, value) for name, value in response.getheaders() if name.lower() in ("content-type", "x-amzn-requestid")]
        try:
            document = json.loads(body) if response.status == 200 else None
        except ValueError:
            document = None
        if not isinstance(document, dict) or not isinstance(document.get(key), list):
            self.send_answer(response.status, headers, body)  # an error, or not a list: as it came
            return
        marker = PAGE_MARKER.match((query.get("Marker") or [""])[0])
        start = int(marker.group(1)) if marker else 0
        try:
            asked = int((query.get("MaxItems") or [page_size])[0])
        except ValueError:
            asked = page_size
        size = max(1, min(page_size, asked))
        items = document[key]
        document[key] = items[start:start + size]
        document.pop("NextMarker", None)
        if start + size < len(items):
            document["NextMarker"] = f"fault-proxy-page-{start + size}"
        self.send_answer(200, headers or [("Content-Type", "application/json")], json.dumps(document).encode())

    def drop_answer(self, response):
        """Read the upstream's whole answer, then close the client connection without answering."""
        while response.read(BLOCK):
            pass
        raise DropConnection()

    def replace_answer(self, rule, response):
        """Read the upstream's whole answer, then answer the rule's garbage instead."""
        kept = []
        size = 0
        while True:
            data = response.read(BLOCK)
            if not data:
                break
            if size < rule.get("truncate", 0):
                kept.append(data[: rule["truncate"] - size])
                size += len(kept[-1])
        self.send_answer(*garbage_response(rule, self.command, b"".join(kept), response.getheader("Content-Type")))

    def hang(self, seconds):
        """Answer nothing until the client disconnects, the cap passes or the proxy stops; then close."""
        deadline = time.monotonic() + seconds
        self.wfile.flush()
        self.state.hang_started()
        ended = "the cap passed"
        try:
            while not self.state.stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                readable, _writable, _failed = select.select([self.connection], [], [], min(0.2, left))
                if readable:
                    try:
                        peeked = self.connection.recv(1, socket.MSG_PEEK)
                    except OSError:
                        peeked = b""
                    if not peeked:
                        ended = "the client disconnected"
                        break
                    self.state.stopping.wait(min(0.2, left))  # the client sent more: still no answer
            else:
                ended = "the proxy stops"
        finally:
            self.state.hang_done()
        self.note(f"{self.command} {self.path.partition('?')[0]}: hang ended: {ended}")
        raise DropConnection()

    def forward(self, target, framing, relay_body, answer):
        upstream = self.state.upstream
        connection = upstream_connection(upstream)
        try:
            response = send_upstream(connection, upstream, self.command, target, list(self.headers.items()), framing, relay_body)
            answer(response)
        except UpstreamError as error:
            cause = type(error.__cause__).__name__
            self.note(f"{self.command} {target.partition('?')[0]}: upstream failed: {cause}")
            self.close_connection = True  # the rest of the request body may be unread
            body = json.dumps({"message": f"fault proxy: upstream {upstream.geturl()} failed: {cause}"}).encode()
            self.send_response_only(502)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        finally:
            connection.close()

    def relay_response(self, response):
        has_body = self.command != "HEAD" and response.status not in (204, 304) and not 100 <= response.status < 200
        length = response.getheader("Content-Length")
        # Without a length: re-chunk for an HTTP/1.1 client, else end the body by closing.
        rechunk = has_body and length is None and self.request_version == "HTTP/1.1"
        close = has_body and length is None and not rechunk
        self.send_response_only(response.status, response.reason)
        connection_tokens = {token.strip().lower() for token in (response.getheader("Connection") or "").split(",")}
        for name, value in response.getheaders():
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in connection_tokens or lower in ("transfer-encoding", "trailer"):
                continue
            self.send_header(name, value)
        if rechunk:
            self.send_header("Transfer-Encoding", "chunked")
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if not has_body:
            return
        sent = 0
        try:
            while True:
                data = response.read1(BLOCK)
                if not data:
                    break
                sent += len(data)
                if rechunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
        except (OSError, http.client.HTTPException) as error:
            if isinstance(error, ConnectionError):
                raise  # the client went away
            self.note(f"{self.command}: upstream answer broke off: {type(error).__name__}")
            self.close_connection = True
            return
        if rechunk:
            self.wfile.write(b"0\r\n\r\n")
        elif length is not None and sent != int(length):
            # The upstream sent less than it announced: the client can only see a short body.
            self.close_connection = True


class ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, upstream, limits=None):
        super().__init__(address, ProxyHandler)
        self.state = FaultState(parse_upstream(upstream))
        if limits:
            self.state.set_limits(limits)

    def shutdown(self):
        self.state.stopping.set()  # ends the hanging requests and the late forwards still waiting
        super().shutdown()

    def server_close(self):
        self.state.stopping.set()
        super().server_close()


def parse_upstream(upstream):
    parsed = urllib.parse.urlsplit(upstream)
    if parsed.scheme != "http" or not parsed.hostname:
        raise SystemExit(f"--upstream must be an http:// URL, not {upstream!r}")
    return parsed


def serve(upstream, port, host="127.0.0.1", limits=None):
    try:
        server = ProxyServer((host, port), upstream, limits)
    except RuleError as error:
        raise SystemExit(f"fault proxy: {error}") from None

    def terminate(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    sys.stderr.write(f"fault proxy on http://{host}:{server.server_address[1]} -> {upstream}\n")
    if limits:
        sys.stderr.write(f"limits: {json.dumps(server.state.get_limits())}\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stderr.write("fault proxy stopped\n")


# --- start / stop in the background (like scripts/local_aws.py) ---------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def control_request(url, what, method="GET", data=None, timeout=5):
    """The JSON answer of the control API; SystemExit with the proxy's message when it refuses."""
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(f"{url}{CONTROL_PREFIX}{what}", data=body, method=method, headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via an HTTP proxy
    try:
        with opener.open(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        try:
            message = json.load(error).get("error")
        except (ValueError, AttributeError):
            message = None
        raise SystemExit(f"fault proxy: {method} {CONTROL_PREFIX}{what}: {message or error}") from None


def answers(url, upstream=None):
    try:
        status = control_request(url, "", timeout=2)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return upstream is None or status.get("upstream") == parse_upstream(upstream).geturl()


def read_state(state_dir):
    try:
        with open(os.path.join(state_dir, "pid"), encoding="ascii") as pid_file:
            pid = int(pid_file.read())
        with open(os.path.join(state_dir, "port"), encoding="ascii") as port_file:
            port = int(port_file.read())
    except (OSError, ValueError):
        return None, None
    return pid, port


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def limits_argv(limits):
    """serve's command-line options for validated limits (or None)."""
    argv = []
    if not limits:
        return argv
    if limits.get("rate") is not None:
        argv += ["--rate", str(limits["rate"]), "--burst", str(limits["burst"])]
    argv += ["--latency-ms", str(limits["latency_ms"])]
    for service in limits["scope"]:
        argv += ["--scope", service]
    if limits.get("page_size"):
        argv += ["--page-size", str(limits["page_size"])]
    return argv


def start(state_dir, upstream, limits=None):
    """The URL of the proxy for ``upstream``, started unless running; ``limits`` (a dict) are set either way."""
    parse_upstream(upstream)
    if limits:
        try:
            limits = validate_limits(limits)
        except RuleError as error:
            raise SystemExit(f"fault proxy: {error}") from None
    pid, port = read_state(state_dir)
    if pid and alive(pid):
        if answers(f"http://127.0.0.1:{port}", upstream):
            if limits:
                control_request(f"http://127.0.0.1:{port}", "/limits", method="POST", data=limits)
            return f"http://127.0.0.1:{port}"
        stop(state_dir)  # running for another upstream
    os.makedirs(state_dir, exist_ok=True)
    for _attempt in range(5):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(os.path.join(state_dir, "proxy.log"), "ab") as log:
            process = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, os.path.abspath(__file__), "serve", "--upstream", upstream, "--port", str(port)] + limits_argv(limits),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and process.poll() is None:
            if answers(url, upstream):
                with open(os.path.join(state_dir, "pid"), "w", encoding="ascii") as pid_file:
                    pid_file.write(str(process.pid))
                with open(os.path.join(state_dir, "port"), "w", encoding="ascii") as port_file:
                    port_file.write(str(port))
                return url
            time.sleep(0.1)
        # Lost the port to another process, or too slow: stop it and try another port.
        if process.poll() is None:
            process.terminate()
            process.wait(10)
    raise SystemExit(f"fault proxy did not start; see {os.path.join(state_dir, 'proxy.log')}")


def stop(state_dir):
    pid, _port = read_state(state_dir)
    if pid and alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    for name in ("pid", "port"):
        try:
            os.remove(os.path.join(state_dir, name))
        except FileNotFoundError:
            pass


def url_of(state_dir):
    pid, port = read_state(state_dir)
    if not (pid and alive(pid)):
        raise SystemExit("fault proxy is not running")
    return f"http://127.0.0.1:{port}"


def limits_from_args(args):
    """The limits the options give (a dict, validated later), or None."""
    if args.rate is None and args.latency_ms is None and args.burst is None and not args.scope and args.page_size is None:
        return None
    limits = {"rate": args.rate, "latency_ms": args.latency_ms or 0}
    if args.burst is not None:
        limits["burst"] = args.burst
    if args.scope:
        limits["scope"] = args.scope
    if args.page_size is not None:
        limits["page_size"] = args.page_size
    return limits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "url", "reset", "serve", "rule", "limits", "stats", "log", "log-bodies", "bodies"])
    parser.add_argument("json", nargs="?", help="rule: the rule; limits: the limits; log-bodies: a list of operation names (JSON)")
    parser.add_argument("--state-dir", default=os.environ.get("FAULT_PROXY_STATE_DIR", DEFAULT_STATE_DIR))
    parser.add_argument("--upstream", help="the endpoint to forward to, e.g. the URL printed by scripts/local_aws.py start")
    parser.add_argument("--port", type=int, default=0, help="serve: the port on 127.0.0.1 (0: any free port)")
    group = parser.add_argument_group("limits (start, serve, limits)")
    group.add_argument("--rate", type=float, help="requests per second per service and region")
    group.add_argument("--burst", type=int, help="token bucket size (default: the rate rounded up)")
    group.add_argument("--latency-ms", type=float, help="milliseconds added before forwarding")
    group.add_argument("--scope", action="append", choices=SERVICES + ("*",), help="a service the limits apply to (repeatable; default all)")
    group.add_argument("--page-size", type=int, help="answer ListLayers and ListLayerVersions in pages of at most N items, as AWS does")
    group.add_argument("--clear", action="store_true", help="limits: remove the limits")
    args = parser.parse_args()
    if args.action in ("start", "serve") and not args.upstream:
        parser.error(f"{args.action} needs --upstream")
    if args.json is not None and args.action not in ("rule", "limits", "log-bodies"):
        parser.error(f"{args.action} takes no JSON argument")
    if args.action == "rule" and args.json is None:
        parser.error("rule needs the rule as JSON")
    data = None
    if args.json is not None:
        try:
            data = json.loads(args.json)
        except ValueError as error:
            parser.error(f"not JSON: {error}")
    limits = limits_from_args(args)
    if limits and args.action not in ("start", "serve", "limits"):
        parser.error(f"{args.action} takes no limits options")
    if args.action == "limits" and sum((data is not None, limits is not None, args.clear)) > 1:
        parser.error("limits: give the JSON, the options or --clear, not several")

    if args.action == "start":
        print(start(args.state_dir, args.upstream, limits))
    elif args.action == "serve":
        serve(args.upstream, args.port, limits=limits)
    elif args.action == "stop":
        stop(args.state_dir)
    elif args.action == "url":
        print(url_of(args.state_dir))
    elif args.action == "reset":
        control_request(url_of(args.state_dir), "/reset", method="POST")
    elif args.action == "rule":
        print(json.dumps(control_request(url_of(args.state_dir), "/rules", method="POST", data=data), indent=1))
    elif args.action == "limits":
        url = url_of(args.state_dir)
        if args.clear:
            control_request(url, "/limits", method="DELETE")
        elif data is not None or limits is not None:
            control_request(url, "/limits", method="POST", data=data if data is not None else limits)
        print(json.dumps(control_request(url, "/limits"), indent=1))
    elif args.action == "log-bodies":
        url = url_of(args.state_dir)
        if data is not None:
            control_request(url, "/log_bodies", method="POST", data={"operations": data})
        print(json.dumps(control_request(url, "/log_bodies"), indent=1))
    else:
        print(json.dumps(control_request(url_of(args.state_dir), f"/{args.action}"), indent=1))


if __name__ == "__main__":
    main()
