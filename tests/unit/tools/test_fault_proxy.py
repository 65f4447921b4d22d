# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault-injection proxy (setup_fault_proxy/files/fault_proxy.py) with real boto3 clients, against moto in-process and a stub upstream."""

import hashlib
import http.client
import http.server
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile

import pytest

boto3 = pytest.importorskip("boto3")

import botocore.session  # noqa: E402 pylint: disable=wrong-import-position
from botocore.config import Config  # noqa: E402 pylint: disable=wrong-import-position
from botocore.exceptions import ClientError, ConnectionClosedError  # noqa: E402 pylint: disable=wrong-import-position

SCRIPT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration", "targets", "setup_fault_proxy", "files", "fault_proxy.py"
)
_spec = importlib.util.spec_from_file_location("fault_proxy", SCRIPT)
fault_proxy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fault_proxy)

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
NO_RETRIES = Config(retries={"total_max_attempts": 1})
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def layer_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/layer_module.py", "VALUE = 1\n")
    return buffer.getvalue()


def start_proxy(upstream):
    server = fault_proxy.ProxyServer(("127.0.0.1", 0), upstream)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_address[1]}"


def control(url, method, what, data=None, expect=200):
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(f"{url}/__faults__{what}", data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with OPENER.open(request, timeout=10) as response:
            status, payload = response.status, json.load(response)
    except urllib.error.HTTPError as error:
        status, payload = error.code, json.load(error)
    assert status == expect, payload
    return payload


@pytest.fixture(scope="module")
def moto_url():
    # moto[server] (flask, werkzeug): in the project's .venv; tests/unit/requirements.txt has plain moto,
    # so under ansible-test units only the tests with the stub upstream run.
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def proxy_server(moto_url):
    server, thread, url = start_proxy(moto_url)
    yield url
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def proxy(proxy_server, moto_url):
    """The proxy URL, with no rules, an empty log and an empty moto."""
    with OPENER.open(urllib.request.Request(moto_url + "/moto-api/reset", method="POST"), timeout=10):
        pass
    control(proxy_server, "POST", "/reset")
    return proxy_server


def client(service, url):
    return boto3.client(service, endpoint_url=url, config=NO_RETRIES, **CREDENTIALS)


def operations(url):
    return [(entry["operation"], entry["action"]) for entry in control(url, "GET", "/log")]


# --- operation names --------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, target, expected",
    [
        ("GET", "/2018-10-31/layers", "ListLayers"),
        ("GET", "/2018-10-31/layers?find=LayerVersion&Arn=arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Alayer%3Ax%3A1", "GetLayerVersionByArn"),
        ("GET", "/2018-10-31/layers/x/versions", "ListLayerVersions"),
        ("POST", "/2018-10-31/layers/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Alayer%3Ax/versions", "PublishLayerVersion"),
        ("GET", "/2018-10-31/layers/x/versions/3", "GetLayerVersion"),
        ("DELETE", "/2018-10-31/layers/x/versions/3", "DeleteLayerVersion"),
        ("GET", "/2018-10-31/layers/x/versions/3/policy", "GetLayerVersionPolicy"),
        ("POST", "/2018-10-31/layers/x/versions/3/policy", "AddLayerVersionPermission"),
        ("DELETE", "/2018-10-31/layers/x/versions/3/policy/sid-1", "RemoveLayerVersionPermission"),
        ("GET", "/2015-03-31/functions/", "Lambda:GET"),
        ("GET", "/", "ListBuckets"),
        ("PUT", "/bucket", "CreateBucket"),
        ("HEAD", "/bucket", "HeadBucket"),
        ("DELETE", "/bucket", "DeleteBucket"),
        ("GET", "/bucket?list-type=2&prefix=a", "ListObjectsV2"),
        ("GET", "/bucket", "ListObjects"),
        ("GET", "/bucket?versioning", "S3:GET"),
        ("PUT", "/bucket/dir/key.zip", "PutObject"),
        ("GET", "/bucket/key", "GetObject"),
        ("HEAD", "/bucket/key", "HeadObject"),
        ("DELETE", "/bucket/key", "DeleteObject"),
        ("GET", "/bucket/key?tagging", "GetObjectTagging"),
        ("POST", "/bucket/key?uploads", "CreateMultipartUpload"),
        ("PUT", "/bucket/key?partNumber=1&uploadId=u", "UploadPart"),
    ],
)
def test_operation_names(method, target, expected):
    path, _sep, query = target.partition("?")
    parsed = fault_proxy.urllib.parse.parse_qs(query, keep_blank_values=True)
    assert fault_proxy.detect_operation(method, path, parsed, {})[1] == expected


def test_operation_names_from_botocore_model():
    """Every layer operation's requestUri in botocore's Lambda model maps to its own name."""
    service = botocore.session.get_session().get_service_model("lambda")
    checked = 0
    for name in service.operation_names:
        if "Layer" not in name:
            continue
        binding = service.operation_model(name).http
        uri = binding["requestUri"]
        for label in ("{LayerName}", "{VersionNumber}", "{StatementId}"):
            uri = uri.replace(label, "x1")
        path, _sep, query = uri.partition("?")
        parsed = fault_proxy.urllib.parse.parse_qs(query, keep_blank_values=True)
        assert fault_proxy.detect_operation(binding["method"], path, parsed, {})[1] == name
        checked += 1
    assert checked == 9


# --- forwarding ----------------------------------------------------------------------------


def test_lambda_layers_forwarded(proxy):
    lam = client("lambda", proxy)
    published = lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()}, CompatibleRuntimes=["python3.12"])
    assert published["Version"] == 1
    assert [layer["LayerName"] for layer in lam.list_layers()["Layers"]] == ["fp-layer"]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="fp-layer")["LayerVersions"]] == [1]
    assert lam.get_layer_version(LayerName="fp-layer", VersionNumber=1)["LayerVersionArn"] == published["LayerVersionArn"]
    lam.add_layer_version_permission(LayerName="fp-layer", VersionNumber=1, StatementId="s1", Action="lambda:GetLayerVersion", Principal="*")
    assert "s1" in lam.get_layer_version_policy(LayerName="fp-layer", VersionNumber=1)["Policy"]
    lam.remove_layer_version_permission(LayerName="fp-layer", VersionNumber=1, StatementId="s1")
    lam.delete_layer_version(LayerName="fp-layer", VersionNumber=1)  # 204, no body
    assert lam.list_layer_versions(LayerName="fp-layer")["LayerVersions"] == []
    assert operations(proxy) == [
        ("PublishLayerVersion", "forwarded"),
        ("ListLayers", "forwarded"),
        ("ListLayerVersions", "forwarded"),
        ("GetLayerVersion", "forwarded"),
        ("AddLayerVersionPermission", "forwarded"),
        ("GetLayerVersionPolicy", "forwarded"),
        ("RemoveLayerVersionPermission", "forwarded"),
        ("DeleteLayerVersion", "forwarded"),
        ("ListLayerVersions", "forwarded"),
    ]


def test_s3_and_sts_forwarded(proxy):
    s3 = client("s3", proxy)
    s3.create_bucket(Bucket="fp-bucket")
    s3.put_object(Bucket="fp-bucket", Key="plain", Body=b"hello")
    s3.put_object(Bucket="fp-bucket", Key="sha", Body=b"hello", ChecksumAlgorithm="SHA256")
    head = s3.head_object(Bucket="fp-bucket", Key="sha", ChecksumMode="ENABLED")
    assert head["ContentLength"] == 5
    assert head["ChecksumSHA256"] == "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
    assert s3.get_object(Bucket="fp-bucket", Key="plain")["Body"].read() == b"hello"

    big = os.urandom(50 * 1024 * 1024)  # boto3 sends Content-Length and Expect: 100-continue
    s3.put_object(Bucket="fp-bucket", Key="big", Body=big)
    digest = hashlib.sha256()
    body = s3.get_object(Bucket="fp-bucket", Key="big")["Body"]
    for chunk in body.iter_chunks(1024 * 1024):
        digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(big).hexdigest()
    assert s3.head_object(Bucket="fp-bucket", Key="big")["ContentLength"] == len(big)

    assert client("sts", proxy).get_caller_identity()["Account"] == "123456789012"
    assert operations(proxy) == [
        ("CreateBucket", "forwarded"),
        ("PutObject", "forwarded"),
        ("PutObject", "forwarded"),
        ("HeadObject", "forwarded"),
        ("GetObject", "forwarded"),
        ("PutObject", "forwarded"),
        ("GetObject", "forwarded"),
        ("HeadObject", "forwarded"),
        ("GetCallerIdentity", "forwarded"),
    ]


# --- faults ----------------------------------------------------------------------------------


def test_status_429_twice_then_forwarded(proxy):
    rule = control(
        proxy,
        "POST",
        "/rules",
        {"operation": "PublishLayerVersion", "action": "status", "status": 429, "code": "TooManyRequestsException", "message": "Rate exceeded", "count": 2},
        expect=201,
    )
    assert rule["id"] and rule["remaining"] == 2
    lam = client("lambda", proxy)
    for _attempt in range(2):
        with pytest.raises(ClientError) as caught:
            lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})
        assert caught.value.response["Error"] == {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert isinstance(caught.value, lam.exceptions.TooManyRequestsException)
    assert control(proxy, "GET", "/rules")[0]["remaining"] == 0
    assert lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})["Version"] == 1
    assert operations(proxy) == [("PublishLayerVersion", "status")] * 2 + [("PublishLayerVersion", "forwarded")]


def test_status_500_in_each_service_format(proxy):
    control(proxy, "POST", "/rules", {"operation": "*", "action": "status", "status": 500, "count": -1}, expect=201)
    lam, s3, sts = client("lambda", proxy), client("s3", proxy), client("sts", proxy)
    calls = [
        (lam.list_layers, "ServiceException"),
        (lambda: s3.get_object(Bucket="b", Key="k"), "InternalError"),
        (lambda: s3.head_object(Bucket="b", Key="k"), "500"),  # HEAD: no body, botocore uses the status
        (sts.get_caller_identity, "InternalFailure"),
    ]
    for call, code in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == code
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert control(proxy, "GET", "/rules")[0]["remaining"] == -1
    assert [entry[1] for entry in operations(proxy)] == ["status"] * 4


def test_drop_after_forward_loses_the_answer_but_not_the_work(proxy, moto_url):
    control(proxy, "POST", "/rules", {"operation": "PublishLayerVersion", "action": "drop_after_forward"}, expect=201)
    lam = client("lambda", proxy)
    with pytest.raises(ConnectionClosedError):
        lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})
    direct = client("lambda", moto_url)
    assert [v["Version"] for v in direct.list_layer_versions(LayerName="fp-layer")["LayerVersions"]] == [1]
    # The same client (and its connection pool) keeps working afterwards.
    assert lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})["Version"] == 2
    assert operations(proxy) == [("PublishLayerVersion", "drop_after_forward"), ("PublishLayerVersion", "forwarded")]


def test_drop_does_not_forward(proxy, moto_url):
    control(proxy, "POST", "/rules", {"operation": "PublishLayerVersion", "action": "drop"}, expect=201)
    with pytest.raises(ConnectionClosedError):
        client("lambda", proxy).publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})
    assert client("lambda", moto_url).list_layers()["Layers"] == []
    control(proxy, "POST", "/rules", {"operation": "PutObject", "action": "drop"}, expect=201)
    s3 = client("s3", proxy)
    s3.create_bucket(Bucket="fp-bucket")
    with pytest.raises(ConnectionClosedError):
        s3.put_object(Bucket="fp-bucket", Key="k", Body=b"x" * (2 * 1024 * 1024))
    assert s3.list_objects_v2(Bucket="fp-bucket")["KeyCount"] == 0


def test_delay_then_forward(proxy):
    control(proxy, "POST", "/rules", {"operation": "ListLayers", "action": "delay", "seconds": 0.6}, expect=201)
    lam = client("lambda", proxy)
    started = time.monotonic()
    assert lam.list_layers()["Layers"] == []
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    lam.list_layers()
    assert time.monotonic() - started < 0.6
    assert operations(proxy) == [("ListLayers", "delay"), ("ListLayers", "forwarded")]


def test_rules_api(proxy):
    first = control(proxy, "POST", "/rules", {"operation": "GetCallerIdentity", "action": "status", "status": 403, "code": "AccessDenied"}, expect=201)
    second = control(proxy, "POST", "/rules", {"operation": "*", "action": "status", "status": 503, "count": -1}, expect=201)
    assert second["id"] > first["id"]
    sts = client("sts", proxy)
    with pytest.raises(ClientError) as caught:  # the first matching rule with a remaining count
        sts.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert [(rule["id"], rule["remaining"]) for rule in control(proxy, "GET", "/rules")] == [(first["id"], 0), (second["id"], -1)]
    assert control(proxy, "DELETE", f"/rules/{second['id']}") == {"removed": 1}
    assert control(proxy, "DELETE", "/rules") == {"removed": 1}
    assert control(proxy, "GET", "/rules") == []
    assert sts.get_caller_identity()["Account"] == "123456789012"
    for bad in (
        {"operation": "ListLayers", "action": "explode"},
        {"action": "drop"},
        {"operation": "ListLayers", "action": "drop", "count": 0},
        {"operation": "ListLayers", "action": "status", "status": 200},
        {"operation": "ListLayers", "action": "delay", "seconds": "soon"},
        {"operation": "ListLayers", "action": "drop", "seconds": 1},
        ["not", "an", "object"],
    ):
        assert "error" in control(proxy, "POST", "/rules", bad, expect=400)
    control(proxy, "GET", "/nothing", expect=404)
    control(proxy, "PUT", "/rules", expect=405)
    assert len(control(proxy, "GET", "/log")) == 3
    assert control(proxy, "DELETE", "/log") == {"removed": 3}
    assert control(proxy, "GET", "/log") == []


def test_log_has_no_secrets(proxy):
    s3 = client("s3", proxy)
    s3.create_bucket(Bucket="fp-bucket")
    s3.put_object(Bucket="fp-bucket", Key="k", Body=b"package-bytes")
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "fp-bucket", "Key": "k"})
    with OPENER.open(presigned, timeout=10) as response:
        assert response.read() == b"package-bytes"
    log = control(proxy, "GET", "/log")
    assert all(set(entry) == {"operation", "method", "path", "action"} for entry in log)
    text = json.dumps(log)
    for secret in ("testing", "X-Amz", "Signature", "package-bytes", "?"):
        assert secret not in text


# --- framing, with a stub upstream -----------------------------------------------------------


class StubUpstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = []

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def do_PUT(self):  # pylint: disable=invalid-name
        body = b""
        if self.headers.get("Transfer-Encoding") == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    trailers = []
                    while True:
                        line = self.rfile.readline()
                        if line == b"\r\n":
                            break
                        trailers.append(line.strip())
                    self.received.append(("trailers", trailers))
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.command, dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def do_GET(self):  # pylint: disable=invalid-name
        # A chunked answer, as an upstream without Content-Length sends it.
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Multi", "a")
        self.send_header("X-Multi", "b")
        self.end_headers()
        for part in (b"one-", b"two-", b"three"):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def do_HEAD(self):  # pylint: disable=invalid-name
        self.send_response(200)
        self.send_header("Content-Length", "12345")
        self.end_headers()


@pytest.fixture
def stub_proxy():
    StubUpstream.received = []
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubUpstream)
    upstream_thread = threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    upstream_thread.start()
    server, thread, url = start_proxy(f"http://127.0.0.1:{upstream.server_address[1]}")
    yield url
    server.shutdown()
    server.server_close()
    upstream.shutdown()
    upstream.server_close()
    thread.join(5)
    upstream_thread.join(5)


def test_chunked_request_head_204_and_chunked_answer(stub_proxy):
    port = int(stub_proxy.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    parts = [b"a" * 70000, b"b" * 3, b"c"]
    connection.putrequest("PUT", "/bucket/key", skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", "signed-host.example:1234")
    connection.putheader("Authorization", "AWS4-HMAC-SHA256 Credential=testing/...")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Trailer", "x-amz-checksum-crc32")
    connection.endheaders()
    for part in parts:
        connection.send(b"%x\r\n%s\r\n" % (len(part), part))
    connection.send(b"0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n")
    response = connection.getresponse()
    assert (response.status, response.read()) == (204, b"")
    # The same keep-alive connection: a chunked answer, duplicate headers kept.
    connection.request("GET", "/bucket/key")
    response = connection.getresponse()
    assert response.status == 200
    assert response.read() == b"one-two-three"
    assert response.msg.get_all("X-Multi") == ["a", "b"]
    connection.request("HEAD", "/bucket/key")
    response = connection.getresponse()
    assert (response.status, response.getheader("Content-Length"), response.read()) == (200, "12345", b"")
    connection.close()
    trailers, (method, headers, body) = StubUpstream.received
    assert trailers == ("trailers", [b"x-amz-checksum-crc32: AAAAAA=="])
    assert method == "PUT" and body == b"".join(parts)
    assert headers["Host"] == "signed-host.example:1234"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256")
    assert operations(stub_proxy) == [("PutObject", "forwarded"), ("GetObject", "forwarded"), ("HeadObject", "forwarded")]


def test_upstream_down_is_502():
    server, thread, url = start_proxy("http://127.0.0.1:9")  # discard port: nothing listens
    try:
        with pytest.raises(ClientError) as caught:
            client("lambda", url).list_layers()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- command line ------------------------------------------------------------------------------


def test_start_url_reset_stop(tmp_path, stub_proxy):
    upstream = control(stub_proxy, "GET", "")["upstream"]
    state_dir = str(tmp_path / "state")
    url = fault_proxy.start(state_dir, upstream)
    try:
        assert fault_proxy.start(state_dir, upstream) == url  # already running
        assert fault_proxy.url_of(state_dir) == url
        assert open(os.path.join(state_dir, "port"), encoding="ascii").read() == url.rsplit(":", 1)[1]
        control(url, "POST", "/rules", {"operation": "*", "action": "drop"}, expect=201)
        command = [sys.executable, SCRIPT, "reset", "--state-dir", state_dir]
        subprocess.run(command, check=True, timeout=30)
        assert control(url, "GET", "/rules") == []
        pid = int(open(os.path.join(state_dir, "pid"), encoding="ascii").read())
    finally:
        fault_proxy.stop(state_dir)
    assert not fault_proxy.alive(pid)
    assert not os.path.exists(os.path.join(state_dir, "pid"))
    assert "fault proxy stopped" in open(os.path.join(state_dir, "proxy.log"), encoding="utf-8").read()


def test_serve_exits_cleanly_on_sigterm(stub_proxy):
    upstream = control(stub_proxy, "GET", "")["upstream"]
    port = fault_proxy.free_port()
    with subprocess.Popen([sys.executable, SCRIPT, "serve", "--upstream", upstream, "--port", str(port)], stderr=subprocess.PIPE) as process:
        deadline = time.monotonic() + 10
        while not fault_proxy.answers(f"http://127.0.0.1:{port}") and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert b"fault proxy stopped" in err
