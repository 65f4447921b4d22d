# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault-injecting HTTP proxy between boto3/botocore clients and the local AWS endpoint.

    python fault_proxy.py start --upstream URL [--state-dir DIR]   # prints the proxy URL
    python fault_proxy.py url   [--state-dir DIR]
    python fault_proxy.py reset [--state-dir DIR]                  # drop every rule, clear the log
    python fault_proxy.py stop  [--state-dir DIR]
    python fault_proxy.py serve --upstream URL --port N            # foreground (used by start)

Clients use the proxy URL as their endpoint_url. Every request is forwarded to the upstream
unchanged, except requests under /__faults__ (the control API, never forwarded) and requests
that match a fault rule:

    POST   /__faults__/rules        add a rule (JSON), answers the rule with its id
    GET    /__faults__/rules        list the rules with their remaining counts
    DELETE /__faults__/rules        remove every rule
    DELETE /__faults__/rules/ID     remove one rule
    GET    /__faults__/log          every proxied request since the last clear:
                                    [{"operation", "method", "path", "action"}, ...]
    DELETE /__faults__/log          clear the log
    POST   /__faults__/reset        remove every rule and clear the log
    GET    /__faults__              status: upstream URL, number of rules and log entries

A rule: {"operation": "PublishLayerVersion" or "*", "action": ACTION, "count": 1 (default; -1 for
every matching request), ...} where ACTION is
    "status"              answer {"status": 500, "code": ..., "message": ...} as an AWS error
                          in the service's format instead of forwarding
    "drop"                close the connection without forwarding (the request body is read first)
    "drop_after_forward"  forward, read the whole upstream answer, then close the connection
                          without answering (the upstream did the work, the client sees an error)
    "delay"               wait {"seconds": 1.5}, then forward
The first rule that matches and has a remaining count applies.

Only the method, path (without query) and operation name of a request are ever logged: never a
header value, a query string or a body. Loopback only, dummy credentials only.
"""

import argparse
import collections
import functools
import http.client
import http.server
import itertools
import json
import os
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
ACTIONS = ("status", "drop", "drop_after_forward", "delay")
BLOCK = 64 * 1024
MAX_CONTROL_BODY = 1024 * 1024
MAX_FORM_BODY = 1024 * 1024
MAX_LOG_ENTRIES = 100000
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
    "lambda": {429: "TooManyRequestsException", 400: "InvalidParameterValueException", 404: "ResourceNotFoundException", 409: "ResourceConflictException"},
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


def validate_rule(data):
    if not isinstance(data, dict):
        raise RuleError("a rule is a JSON object")
    unknown = set(data) - {"operation", "action", "status", "code", "message", "count", "seconds"}
    if unknown:
        raise RuleError(f"unknown rule keys: {sorted(unknown)}")
    operation = data.get("operation")
    if not isinstance(operation, str) or not operation:
        raise RuleError("operation: an operation name such as PublishLayerVersion, or '*'")
    action = data.get("action")
    if action not in ACTIONS:
        raise RuleError(f"action: one of {list(ACTIONS)}")
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or (count < 1 and count != -1):
        raise RuleError("count: a positive integer, or -1 for every matching request")
    rule = {"operation": operation, "action": action, "count": count}
    if action == "status":
        status = data.get("status", 500)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise RuleError("status: an HTTP error status, 400 to 599")
        rule["status"] = status
        for name in ("code", "message"):
            if name in data:
                if not isinstance(data[name], str) or not data[name]:
                    raise RuleError(f"{name}: a non-empty string")
                rule[name] = data[name]
    elif action == "delay":
        seconds = data.get("seconds", 1.0)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 3600:
            raise RuleError("seconds: a number of seconds, 0 to 3600")
        rule["seconds"] = seconds
    for name in ("status", "code", "message", "seconds"):
        if name in data and name not in rule:
            raise RuleError(f"{name} does not apply to action {action}")
    return rule


class FaultState:
    """Rules and request log, shared by the handler threads."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.rules = []
        self.ids = itertools.count(1)
        self.log = collections.deque(maxlen=MAX_LOG_ENTRIES)

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

    def take(self, operation):
        """The first matching rule with a remaining count (consumed by one), or None."""
        with self.lock:
            for rule in self.rules:
                if rule["remaining"] != 0 and rule["operation"] in ("*", operation):
                    if rule["remaining"] > 0:
                        rule["remaining"] -= 1
                    return dict(rule)
        return None

    def record(self, operation, method, path, action):
        with self.lock:
            self.log.append({"operation": operation, "method": method, "path": path, "action": action})

    def entries(self):
        with self.lock:
            return list(self.log)

    def clear_log(self):
        with self.lock:
            count = len(self.log)
            self.log.clear()
            return count


# --- AWS-style error answers ------------------------------------------------------------


def error_response(service, rule, method):
    """(status, headers, body) of an injected AWS error in the service's wire format."""
    status = rule["status"]
    code = rule.get("code") or DEFAULT_CODES.get(service, {}).get(status) or ("ServiceException" if service in ("lambda", "json") else "InternalError")
    message = rule.get("message") or "Injected fault"
    request_id = str(uuid.uuid4())
    if service in ("lambda", "json"):
        # REST-JSON (Lambda): botocore takes the code from x-amzn-ErrorType, the message from the body.
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
        body = json.dumps({"Type": "User" if status < 500 else "Service", "message": message}).encode()
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


# --- the proxy --------------------------------------------------------------------------


class DropConnection(Exception):
    """Close the client connection without an answer."""


class UpstreamError(Exception):
    """The upstream could not be reached, or failed before its answer began."""


def send_bytes(data, sink):
    sink(data)


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
        sys.stderr.write(f"{self.log_date_time_string()} {text}\n")

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
            elif what == "reset" and method == "POST":
                self.send_json(200, {"removed_rules": self.state.remove_rules(), "removed_log_entries": self.state.clear_log()})
            elif what == "" and method in ("GET", "HEAD"):
                self.send_json(200, {"upstream": self.state.upstream.geturl(), "rules": len(self.state.list_rules()), "log": len(self.state.entries())})
            elif what in ("", "rules", "log", "reset") or what.startswith("rules/"):
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
        rule = self.state.take(operation)
        action = rule["action"] if rule else "forwarded"
        self.state.record(operation, method, path, action)
        self.note(f"{method} {path} {operation} -> {action}")

        if action in ("status", "drop"):
            relay_body(lambda data: None)  # read the whole request first, as the upstream would
            if action == "drop":
                raise DropConnection()
            status, error_headers, body = error_response(service, rule, method)
            self.send_response_only(status)
            for name, value in error_headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if action == "delay":
            time.sleep(rule["seconds"])
        self.forward(target, framing, relay_body, drop_answer=action == "drop_after_forward")

    def forward(self, target, framing, relay_body, drop_answer):
        upstream = self.state.upstream
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port or 80, timeout=UPSTREAM_TIMEOUT)

        def send_upstream(data):
            try:
                connection.send(data)
            except OSError as error:
                raise UpstreamError(error) from error

        try:
            try:
                connection.putrequest(self.command, upstream.path.rstrip("/") + target, skip_host=True, skip_accept_encoding=True)
                connection_tokens = {token.strip().lower() for token in self.headers.get("Connection", "").split(",")}
                for name, value in self.headers.items():
                    lower = name.lower()
                    if lower in HOP_BY_HOP or lower in connection_tokens:
                        continue
                    if lower == "content-length" and framing == "chunked":
                        continue
                    connection.putheader(name, value)
                connection.endheaders()
            except (OSError, http.client.HTTPException) as error:
                raise UpstreamError(error) from error
            relay_body(send_upstream)  # errors reading the client propagate as they are
            try:
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as error:
                raise UpstreamError(error) from error
            if drop_answer:
                while response.read(BLOCK):
                    pass
                raise DropConnection()
            self.relay_response(response)
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

    def __init__(self, address, upstream):
        super().__init__(address, ProxyHandler)
        self.state = FaultState(parse_upstream(upstream))


def parse_upstream(upstream):
    parsed = urllib.parse.urlsplit(upstream)
    if parsed.scheme != "http" or not parsed.hostname:
        raise SystemExit(f"--upstream must be an http:// URL, not {upstream!r}")
    return parsed


def serve(upstream, port, host="127.0.0.1"):
    server = ProxyServer((host, port), upstream)

    def terminate(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    sys.stderr.write(f"fault proxy on http://{host}:{server.server_address[1]} -> {upstream}\n")
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


def control_request(url, what, method="GET", timeout=5):
    request = urllib.request.Request(f"{url}{CONTROL_PREFIX}{what}", method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via an HTTP proxy
    with opener.open(request, timeout=timeout) as response:
        return json.load(response)


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


def start(state_dir, upstream):
    parse_upstream(upstream)
    pid, port = read_state(state_dir)
    if pid and alive(pid):
        if answers(f"http://127.0.0.1:{port}", upstream):
            return f"http://127.0.0.1:{port}"
        stop(state_dir)  # running for another upstream
    os.makedirs(state_dir, exist_ok=True)
    for _attempt in range(5):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(os.path.join(state_dir, "proxy.log"), "ab") as log:
            process = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, os.path.abspath(__file__), "serve", "--upstream", upstream, "--port", str(port)],
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "url", "reset", "serve"])
    parser.add_argument("--state-dir", default=os.environ.get("FAULT_PROXY_STATE_DIR", DEFAULT_STATE_DIR))
    parser.add_argument("--upstream", help="the endpoint to forward to, e.g. the URL printed by scripts/local_aws.py start")
    parser.add_argument("--port", type=int, default=0, help="serve: the port on 127.0.0.1 (0: any free port)")
    args = parser.parse_args()
    if args.action in ("start", "serve") and not args.upstream:
        parser.error(f"{args.action} needs --upstream")
    if args.action == "start":
        print(start(args.state_dir, args.upstream))
    elif args.action == "serve":
        serve(args.upstream, args.port)
    elif args.action == "stop":
        stop(args.state_dir)
    elif args.action == "url":
        print(url_of(args.state_dir))
    else:
        control_request(url_of(args.state_dir), "/reset", method="POST")


if __name__ == "__main__":
    main()
