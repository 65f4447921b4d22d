# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault-injection proxy (setup_fault_proxy/files/fault_proxy.py) with real boto3 clients, against moto in-process and a stub upstream."""

import collections
import concurrent.futures
import hashlib
import http.client
import http.server
import importlib.util
import io
import json
import math
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
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError  # noqa: E402 pylint: disable=wrong-import-position

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
    """The proxy URL, with no rules, no limits, an empty log and an empty moto."""
    with OPENER.open(urllib.request.Request(moto_url + "/moto-api/reset", method="POST"), timeout=10):
        pass
    control(proxy_server, "POST", "/reset")
    control(proxy_server, "DELETE", "/limits")  # reset keeps them
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
    assert all(set(entry) == {"operation", "method", "path", "action", "region"} for entry in log)
    text = json.dumps(log)
    for secret in ("testing", "X-Amz", "Signature", "package-bytes", "?"):
        assert secret not in text


def test_request_bodies_only_of_the_operations_named(proxy):
    assert control(proxy, "GET", "/log_bodies") == {"operations": []}  # off by default
    lam = client("lambda", proxy)
    lam.publish_layer_version(LayerName="fp-before", Content={"ZipFile": layer_zip()})
    assert control(proxy, "GET", "/bodies") == []

    setting = {"operations": ["PublishLayerVersion", "CreateBucket"]}
    assert control(proxy, "POST", "/log_bodies", setting) == {"operations": ["CreateBucket", "PublishLayerVersion"]}
    s3 = client("s3", proxy)
    s3.create_bucket(Bucket="fp-bodies")
    s3.put_object(Bucket="fp-bodies", Key="k.zip", Body=layer_zip())  # not named: not kept
    content = {"S3Bucket": "fp-bodies", "S3Key": "k.zip", "S3ObjectStorageMode": "REFERENCE"}
    published = lam.publish_layer_version(LayerName="fp-layer", Content=content, Description="kept")
    assert published["Version"] == 1  # forwarded whole after being read
    big = os.urandom(fault_proxy.MAX_LOGGED_BODY)  # base64 in JSON: over the limit, forwarded, not kept
    assert lam.publish_layer_version(LayerName="fp-big", Content={"ZipFile": big})["Version"] == 1

    kept = control(proxy, "GET", "/bodies")
    assert [(entry["operation"], entry["method"], entry["path"]) for entry in kept] == [
        ("CreateBucket", "PUT", "/fp-bodies"),
        ("PublishLayerVersion", "POST", "/2018-10-31/layers/fp-layer/versions"),
        ("PublishLayerVersion", "POST", "/2018-10-31/layers/fp-big/versions"),
    ]
    assert kept[0]["body"] == "" and kept[0]["size"] == 0
    assert json.loads(kept[1]["body"]) == {"Content": content, "Description": "kept"}  # LayerName is in the path
    assert kept[1]["size"] == len(kept[1]["body"])
    assert kept[2]["body"] is None and kept[2]["size"] > fault_proxy.MAX_LOGGED_BODY
    # The log itself never holds a body, and no entry holds a header.
    assert all(set(entry) == {"operation", "method", "path", "action", "region"} for entry in control(proxy, "GET", "/log"))
    assert "testing" not in json.dumps(kept) and "Authorization" not in json.dumps(kept)

    control(proxy, "POST", "/reset")
    assert control(proxy, "GET", "/bodies") == []
    assert control(proxy, "GET", "/log_bodies") == {"operations": ["CreateBucket", "PublishLayerVersion"]}  # the setting stays
    for bad in ({"operations": "PublishLayerVersion"}, {"operations": ["*"]}, {"operations": [""]}, ["PublishLayerVersion"], {"ops": []}):
        control(proxy, "POST", "/log_bodies", bad, expect=400)
    assert control(proxy, "POST", "/log_bodies", {"operations": []}) == {"operations": []}


# --- matching on method and path ------------------------------------------------------------


def test_rule_matching_on_method_and_path():
    state = fault_proxy.FaultState(fault_proxy.parse_upstream("http://127.0.0.1:9"))
    state.add_rule({"path_regex": "/versions/2/policy$", "method": "post", "action": "status", "status": 403, "count": -1})
    state.add_rule({"operation": "GetLayerVersion", "path_prefix": "/2018-10-31/layers/l1/versions/3", "action": "drop", "count": -1})
    assert state.take("AddLayerVersionPermission", "POST", "/2018-10-31/layers/l1/versions/2/policy")["status"] == 403
    assert state.take("AddLayerVersionPermission", "POST", "/2018-10-31/layers/l1/versions/12/policy") is None
    assert state.take("GetLayerVersionPolicy", "GET", "/2018-10-31/layers/l1/versions/2/policy") is None  # another method
    assert state.take("GetLayerVersion", "GET", "/2018-10-31/layers/l1/versions/3")["action"] == "drop"
    assert state.take("DeleteLayerVersion", "DELETE", "/2018-10-31/layers/l1/versions/3") is None  # another operation
    assert state.take("GetLayerVersion", "GET", "/2018-10-31/layers/l2/versions/3") is None
    assert [rule["operation"] for rule in state.list_rules()] == ["*", "GetLayerVersion"]  # "*" without operation


def test_status_on_a_path(proxy):
    lam = client("lambda", proxy)
    for _version in (1, 2):
        lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})
    control(
        proxy,
        "POST",
        "/rules",
        {"operation": "AddLayerVersionPermission", "path_regex": "^/2018-10-31/layers/fp-layer/versions/2/policy$", "action": "status", "status": 403,
         "count": -1},
        expect=201,
    )
    control(proxy, "POST", "/rules", {"method": "GET", "path_prefix": "/2018-10-31/layers/fp-layer/versions/1", "action": "status", "status": 404}, expect=201)
    permission = {"StatementId": "s1", "Action": "lambda:GetLayerVersion", "Principal": "*"}
    lam.add_layer_version_permission(LayerName="fp-layer", VersionNumber=1, **permission)
    with pytest.raises(ClientError) as caught:
        lam.add_layer_version_permission(LayerName="fp-layer", VersionNumber=2, **permission)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
        lam.get_layer_version(LayerName="fp-layer", VersionNumber=1)
    assert caught.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": "Injected fault"}
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert lam.get_layer_version(LayerName="fp-layer", VersionNumber=1)["Version"] == 1  # count 1: used up
    # An ARN as LayerName: matched percent-decoded.
    arn = lam.get_layer_version(LayerName="fp-layer", VersionNumber=2)["LayerArn"]
    control(proxy, "POST", "/rules", {"path_prefix": f"/2018-10-31/layers/{arn}/versions/2", "action": "status", "status": 404}, expect=201)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName=arn, VersionNumber=2)
    assert operations(proxy) == [
        ("PublishLayerVersion", "forwarded"),
        ("PublishLayerVersion", "forwarded"),
        ("AddLayerVersionPermission", "forwarded"),
        ("AddLayerVersionPermission", "status"),
        ("GetLayerVersion", "status"),
        ("GetLayerVersion", "forwarded"),
        ("GetLayerVersion", "forwarded"),
        ("GetLayerVersion", "status"),
    ]
    assert "s1" in client("lambda", proxy).get_layer_version_policy(LayerName="fp-layer", VersionNumber=1)["Policy"]


# --- garbage, late, hang ---------------------------------------------------------------------


def test_garbage_without_forwarding(proxy, moto_url):
    lam = client("lambda", proxy)
    control(proxy, "POST", "/rules", {"operation": "PublishLayerVersion", "action": "garbage"}, expect=201)
    control(proxy, "POST", "/rules", {"operation": "ListLayers", "action": "garbage", "body": {}}, expect=201)
    truncated = '{"Layers": [{"LayerName": "fp-layer", "LayerArn": "arn:aws:lam'
    control(proxy, "POST", "/rules", {"operation": "ListLayers", "action": "garbage", "body": truncated, "content_type": "application/json"}, expect=201)
    # botocore reads each of these 200 answers as a success without any of the expected members.
    published = lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})
    assert published["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/html"
    assert set(published) == {"ResponseMetadata"}
    assert set(lam.list_layers()) == {"ResponseMetadata"}
    assert set(lam.list_layers()) == {"ResponseMetadata"}
    # Nothing reached the upstream.
    assert client("lambda", moto_url).list_layers()["Layers"] == []
    assert operations(proxy) == [("PublishLayerVersion", "garbage"), ("ListLayers", "garbage"), ("ListLayers", "garbage")]
    # The exact bytes, as a client without botocore sees them.
    control(proxy, "POST", "/rules", {"path_prefix": "/2018-10-31/layers", "action": "garbage", "status": 202, "count": 2}, expect=201)
    with OPENER.open(f"{proxy}/2018-10-31/layers", timeout=10) as response:
        assert (response.status, response.headers["Content-Type"], response.read()) == (202, "text/html", b"<html><body>Login required</body></html>")
    request = urllib.request.Request(f"{proxy}/2018-10-31/layers", method="HEAD")
    with OPENER.open(request, timeout=10) as response:
        assert (response.status, response.read()) == (202, b"")
    assert operations(proxy)[3:] == [("ListLayers", "garbage"), ("Lambda:HEAD", "garbage")]


def test_garbage_after_forwarding(proxy, moto_url):
    lam = client("lambda", proxy)
    control(proxy, "POST", "/rules", {"operation": "PublishLayerVersion", "action": "garbage", "forward": True, "body": {}}, expect=201)
    published = lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})
    assert set(published) == {"ResponseMetadata"}
    assert published["ResponseMetadata"]["HTTPStatusCode"] == 200  # moto answered 201
    assert published["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
    direct = client("lambda", moto_url)
    assert [v["Version"] for v in direct.list_layer_versions(LayerName="fp-layer")["LayerVersions"]] == [1]  # the upstream did the work
    # truncate: the upstream's own answer, cut short.
    control(proxy, "POST", "/rules", {"operation": "GetLayerVersion", "action": "garbage", "forward": True, "truncate": 25}, expect=201)
    whole, cut = [], []
    direct.meta.events.register("after-call.lambda.GetLayerVersion", lambda http_response, **kwargs: whole.append(http_response))
    lam.meta.events.register("after-call.lambda.GetLayerVersion", lambda http_response, **kwargs: cut.append(http_response))
    direct.get_layer_version(LayerName="fp-layer", VersionNumber=1)
    assert set(lam.get_layer_version(LayerName="fp-layer", VersionNumber=1)) == {"ResponseMetadata"}
    assert cut[0].status_code == 200
    assert cut[0].headers["Content-Type"] == whole[0].headers["Content-Type"]
    assert cut[0].content == whole[0].content[:25] and len(whole[0].content) > 25
    assert lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()})["Version"] == 2  # the same connection pool still works
    assert operations(proxy) == [("PublishLayerVersion", "garbage"), ("GetLayerVersion", "garbage"), ("PublishLayerVersion", "forwarded")]


def wait_for(condition, what, timeout=30):
    """Poll until condition() is true; fails after a generous timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def test_late_completion(proxy, moto_url):
    control(proxy, "POST", "/rules", {"operation": "PublishLayerVersion", "action": "late", "seconds": 3}, expect=201)
    lam, direct = client("lambda", proxy), client("lambda", moto_url)
    assert direct.list_layers()["Layers"] == []  # moto loads its Lambda backend on the first call: not in the window below
    with pytest.raises(ClientError) as caught:
        lam.publish_layer_version(LayerName="fp-layer", Content={"ZipFile": layer_zip()}, Description="late")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 504
    assert caught.value.response["Error"]["Code"] == "ServiceException"
    assert direct.list_layers()["Layers"] == []  # right after the 504: not yet upstream
    assert control(proxy, "GET", "/stats")["late"]["pending"] == 1
    wait_for(lambda: control(proxy, "GET", "/stats")["late"]["pending"] == 0, "the late forward")
    versions = direct.list_layer_versions(LayerName="fp-layer")["LayerVersions"]
    assert [(v["Version"], v["Description"]) for v in versions] == [(1, "late")]  # the captured body, whole
    stats = control(proxy, "GET", "/stats")
    assert stats["late"] == {"pending": 0, "forwarded": 1, "failed": 0, "statuses": {"201": 1}}
    assert stats["by_action"] == {"late": 1}
    # Options: another status and code, in S3's format; the late PUT lands too.
    s3 = client("s3", proxy)
    s3.create_bucket(Bucket="fp-bucket")
    control(proxy, "POST", "/rules", {"operation": "PutObject", "action": "late", "seconds": 0, "status": 503, "code": "SlowDown"}, expect=201)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket="fp-bucket", Key="k", Body=b"x" * (3 * 1024 * 1024))
    assert (caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("SlowDown", 503)
    wait_for(lambda: control(proxy, "GET", "/stats")["late"]["pending"] == 0, "the late forward")
    assert client("s3", moto_url).head_object(Bucket="fp-bucket", Key="k")["ContentLength"] == 3 * 1024 * 1024
    assert operations(proxy) == [("PublishLayerVersion", "late"), ("CreateBucket", "forwarded"), ("PutObject", "late")]


def raw_request(url, method, path):
    """An http.client connection that has sent a request (not yet answered)."""
    connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=30)
    connection.request(method, path, headers={"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/eu-west-1/lambda/aws4_request"})
    return connection


def test_hang_until_the_client_goes_away(proxy):
    control(proxy, "POST", "/rules", {"operation": "ListLayers", "action": "hang", "count": -1}, expect=201)
    hanging = raw_request(proxy, "GET", "/2018-10-31/layers")
    wait_for(lambda: control(proxy, "GET", "/stats")["hanging"] == 1, "the request to hang")
    # Other connections are served meanwhile.
    lam = client("lambda", proxy)
    assert lam.list_layer_versions(LayerName="fp-layer")["LayerVersions"] == []
    hanging.close()  # the client gives up: the proxy notices
    wait_for(lambda: control(proxy, "GET", "/stats")["hanging"] == 0, "the proxy to notice the client left")
    # botocore's read timeout is what a module sees.
    impatient = boto3.client("lambda", endpoint_url=proxy, config=Config(retries={"total_max_attempts": 1}, read_timeout=1), **CREDENTIALS)
    with pytest.raises(ReadTimeoutError):
        impatient.list_layers()
    assert operations(proxy) == [("ListLayers", "hang"), ("ListLayerVersions", "forwarded"), ("ListLayers", "hang")]
    assert control(proxy, "GET", "/stats")["by_region"]["eu-west-1"]["ruled"] == 1


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


def test_hang_ends_at_its_cap_and_when_the_proxy_stops(stub_proxy):
    control(stub_proxy, "POST", "/rules", {"operation": "GetObject", "action": "hang", "seconds": 0.3}, expect=201)
    capped = raw_request(stub_proxy, "GET", "/bucket/key")
    with pytest.raises(http.client.RemoteDisconnected):  # closed without an answer
        capped.getresponse()
    capped.close()
    # A proxy of its own, to stop while a request hangs with the default cap (600 s).
    server, thread, url = start_proxy(control(stub_proxy, "GET", "")["upstream"])
    control(url, "POST", "/rules", {"operation": "GetObject", "action": "hang"}, expect=201)
    assert control(url, "GET", "/rules")[0]["seconds"] == 600
    hanging = raw_request(url, "GET", "/bucket/key")
    wait_for(lambda: server.state.hanging == 1, "the request to hang")
    server.shutdown()
    server.server_close()
    thread.join(10)
    wait_for(lambda: server.state.hanging == 0, "the hang to end with the proxy")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        hanging.getresponse()
    hanging.close()


def test_late_forwards_a_chunked_body_whole(stub_proxy):
    control(stub_proxy, "POST", "/rules", {"operation": "PutObject", "action": "late", "seconds": 0.2}, expect=201)
    port = int(stub_proxy.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("PUT", "/bucket/key", skip_accept_encoding=True)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    parts = [b"a" * 70000, b"b" * 5]
    for part in parts:
        connection.send(b"%x\r\n%s\r\n" % (len(part), part))
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 504 and b"<Code>InternalError</Code>" in response.read()
    connection.close()
    wait_for(lambda: control(stub_proxy, "GET", "/stats")["late"]["pending"] == 0, "the late forward")
    assert control(stub_proxy, "GET", "/stats")["late"]["statuses"] == {"204": 1}
    (_trailers, (method, headers, body)) = StubUpstream.received
    assert (method, headers["Transfer-Encoding"], body) == ("PUT", "chunked", b"".join(parts))


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


# --- limits and stats ------------------------------------------------------------------------


class LambdaStub(http.server.BaseHTTPRequestHandler):
    """Answers every GET with an empty ListLayers page, at once; counts what it received."""

    protocol_version = "HTTP/1.1"
    received = []

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def do_GET(self):  # pylint: disable=invalid-name
        self.received.append(self.path)
        body = b'{"Layers": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def lambda_stub_proxy():
    LambdaStub.received = []
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), LambdaStub)
    upstream.daemon_threads = True
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


def test_rate_limit_like_lambda(lambda_stub_proxy):
    url = lambda_stub_proxy
    limits = control(url, "POST", "/limits", {"rate": 15, "burst": 15, "latency_ms": 25, "scope": "lambda"})
    assert limits == {"rate": 15, "burst": 15, "latency_ms": 25, "scope": ["lambda"]}
    lam = boto3.client("lambda", endpoint_url=url, config=Config(retries={"total_max_attempts": 1}, max_pool_connections=8), **CREDENTIALS)

    def call(_index):
        try:
            lam.list_layers()
            return "ok"
        except lam.exceptions.TooManyRequestsException as error:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert error.response["Error"] == {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}
            assert error.response["Reason"] == "CallerRateLimitExceeded"
            assert error.response["retryAfterSeconds"] == "1"
            return "throttled"

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(call, range(40)))
    elapsed = time.monotonic() - started
    forwarded = outcomes.count("ok")
    # The bucket lets through its 15 tokens, plus 15 a second for as long as the requests lasted.
    assert 15 <= forwarded <= 15 + math.ceil(15 * elapsed) + 1, (forwarded, elapsed)
    assert outcomes.count("throttled") == 40 - forwarded
    assert len(LambdaStub.received) == forwarded
    stats = control(url, "GET", "/stats")
    assert (stats["received"], stats["forwarded"], stats["throttled"], stats["ruled"]) == (40, forwarded, 40 - forwarded, 0)
    assert stats["by_operation"] == {"ListLayers": {"received": 40, "forwarded": forwarded, "throttled": 40 - forwarded, "ruled": 0}}
    assert stats["by_region"] == {"us-east-1": stats["by_operation"]["ListLayers"]}
    assert stats["limits"] == limits
    assert sorted(entry["action"] for entry in control(url, "GET", "/log")) == ["forwarded"] * forwarded + ["throttled"] * (40 - forwarded)


def test_rate_limit_buckets_scope_and_rules(proxy):
    # One token per 100 s: what passes is exactly the burst.
    control(proxy, "POST", "/limits", {"rate": 0.01, "burst": 3, "scope": "lambda"})
    lam, s3 = client("lambda", proxy), client("s3", proxy)
    lam_eu = boto3.client("lambda", endpoint_url=proxy, config=NO_RETRIES, **dict(CREDENTIALS, region_name="eu-west-1"))
    control(proxy, "POST", "/rules", {"operation": "GetLayerVersion", "action": "status", "status": 404, "count": -1}, expect=201)
    outcomes = []
    for _index in range(5):
        with pytest.raises(ClientError) as caught:  # rules first: no token taken
            lam.get_layer_version(LayerName="fp-layer", VersionNumber=1)
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
        try:
            lam.list_layers()
            outcomes.append("ok")
        except lam.exceptions.TooManyRequestsException:
            outcomes.append("throttled")
    assert outcomes == ["ok"] * 3 + ["throttled"] * 2
    assert lam_eu.list_layers()["Layers"] == []  # another region: another bucket
    for _index in range(5):  # out of scope
        s3.list_buckets()
    stats = control(proxy, "GET", "/stats")
    assert (stats["received"], stats["forwarded"], stats["throttled"], stats["ruled"]) == (16, 9, 2, 5)
    assert stats["by_region"] == {
        "us-east-1": {"received": 15, "forwarded": 8, "throttled": 2, "ruled": 5},
        "eu-west-1": {"received": 1, "forwarded": 1, "throttled": 0, "ruled": 0},
    }
    assert stats["by_operation"]["ListLayers"] == {"received": 6, "forwarded": 4, "throttled": 2, "ruled": 0}
    assert stats["by_action"] == {"status": 5, "forwarded": 9, "throttled": 2}
    regions = collections.Counter((entry["region"], entry["operation"]) for entry in control(proxy, "GET", "/log"))
    assert regions == {("us-east-1", "GetLayerVersion"): 5, ("us-east-1", "ListLayers"): 5, ("eu-west-1", "ListLayers"): 1, ("us-east-1", "ListBuckets"): 5}

    # reset: rules, log and stats go, the buckets are full again, the limits stay.
    control(proxy, "POST", "/reset")
    assert control(proxy, "GET", "/stats")["received"] == 0
    assert control(proxy, "GET", "/limits")["burst"] == 3
    assert lam.list_layers()["Layers"] == []
    # S3 and STS throttle in their own formats.
    control(proxy, "POST", "/limits", {"rate": 0.01, "burst": 1, "scope": ["s3", "sts"]})
    sts = client("sts", proxy)
    s3.list_buckets()
    sts.get_caller_identity()
    for call, status, code in ((s3.list_buckets, 503, "SlowDown"), (sts.get_caller_identity, 400, "Throttling")):
        with pytest.raises(ClientError) as caught:
            call()
        assert (caught.value.response["ResponseMetadata"]["HTTPStatusCode"], caught.value.response["Error"]["Code"]) == (status, code)
    for _index in range(5):
        lam.list_layers()
    assert control(proxy, "DELETE", "/limits") == {"removed": 1}
    assert control(proxy, "GET", "/limits") is None
    s3.list_buckets()
    assert control(proxy, "GET", "/stats")["by_action"] == {"forwarded": 9, "throttled": 2}
    assert control(proxy, "DELETE", "/log") == {"removed": 11}
    assert control(proxy, "GET", "/stats")["received"] == 0


def test_latency(proxy):
    control(proxy, "POST", "/limits", {"latency_ms": 400, "scope": "lambda"})
    lam = client("lambda", proxy)
    lam.list_layers()  # a first call warms the client up
    started = time.monotonic()
    lam.list_layers()
    assert time.monotonic() - started >= 0.4
    assert control(proxy, "GET", "/stats")["forwarded"] == 2


def test_page_size_cuts_list_answers_into_pages_as_aws_does(proxy):
    lam = client("lambda", proxy)
    direct = [f"fp-page-{number}" for number in range(7)]
    for name in direct:
        lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip()})
    for _number in range(2):
        lam.publish_layer_version(LayerName="fp-page-0", Content={"ZipFile": layer_zip()})
    assert len(lam.list_layers(MaxItems=2)["Layers"]) == 7  # moto alone ignores MaxItems
    assert control(proxy, "POST", "/limits", {"page_size": 3}) == {"rate": None, "burst": None, "latency_ms": 0, "scope": ["*"], "page_size": 3}
    control(proxy, "DELETE", "/log")
    first = lam.list_layers()
    assert [layer["LayerName"] for layer in first["Layers"]] == direct[:3] and first["NextMarker"]
    pages = list(lam.get_paginator("list_layers").paginate())
    assert [[layer["LayerName"] for layer in page["Layers"]] for page in pages] == [direct[:3], direct[3:6], direct[6:]]
    assert "NextMarker" not in pages[-1]
    assert [layer["LayerName"] for layer in lam.list_layers(MaxItems=2)["Layers"]] == direct[:2]
    assert [version["Version"] for version in lam.list_layer_versions(LayerName="fp-page-0", MaxItems=1)["LayerVersions"]] == [3]
    assert [version["Version"] for version in lam.list_layer_versions(LayerName="fp-page-0")["LayerVersions"]] == [3, 2, 1]
    assert operations(proxy) == [("ListLayers", "forwarded")] * 5 + [("ListLayerVersions", "forwarded")] * 2
    with pytest.raises(ClientError):  # an error answer passes as it came
        lam.get_layer_version(LayerName="fp-page-0", VersionNumber=9)
    for bad in ({"page_size": 0}, {"page_size": "50"}, {"page_size": True}):
        assert "error" in control(proxy, "POST", "/limits", bad, expect=400), bad


def test_limits_and_new_rules_refused(proxy):
    for bad in (
        {"rate": 0},
        {"rate": -1},
        {"rate": "fast"},
        {"rate": 15, "burst": 0},
        {"burst": 5},
        {"latency_ms": -1},
        {"rate": 15, "scope": "ec2"},
        {"rate": 15, "scope": []},
        {"rate": 15, "speed": 1},
        {},
        [15],
    ):
        assert "error" in control(proxy, "POST", "/limits", bad, expect=400), bad
    assert control(proxy, "GET", "/limits") is None
    for bad in (
        {"operation": "ListLayers", "action": "garbage", "status": 500},
        {"operation": "ListLayers", "action": "garbage", "forward": "yes"},
        {"operation": "ListLayers", "action": "garbage", "truncate": 10},
        {"operation": "ListLayers", "action": "garbage", "forward": True, "truncate": 10, "body": "x"},
        {"operation": "ListLayers", "action": "garbage", "seconds": 1},
        {"operation": "ListLayers", "action": "late", "status": 404},
        {"operation": "ListLayers", "action": "late", "seconds": -1},
        {"operation": "ListLayers", "action": "hang", "code": "X"},
        {"operation": "ListLayers", "action": "status", "body": "x"},
        {"operation": "ListLayers", "action": "drop", "path_regex": "("},
        {"operation": "ListLayers", "action": "drop", "path_prefix": "2018-10-31"},
        {"operation": "ListLayers", "action": "drop", "method": "G T"},
        {"method": "GET", "action": "drop"},
    ):
        assert "error" in control(proxy, "POST", "/rules", bad, expect=400), bad
    assert control(proxy, "GET", "/rules") == []
    control(proxy, "PUT", "/limits", expect=405)
    control(proxy, "POST", "/stats", expect=405)


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


def test_cli_limits_rule_stats(tmp_path, stub_proxy, monkeypatch, capsys):
    upstream = control(stub_proxy, "GET", "")["upstream"]
    state_dir = str(tmp_path / "state")

    def cli(*argv):
        """main() in this process (a subprocess each would be slow); its standard output."""
        monkeypatch.setattr(sys, "argv", [SCRIPT, *argv, "--state-dir", state_dir])
        fault_proxy.main()
        return capsys.readouterr().out

    def cli_json(*argv):
        return json.loads(cli(*argv))

    # start in a subprocess, as the integration targets do.
    started = subprocess.run(
        [sys.executable, SCRIPT, "start", "--upstream", upstream, "--state-dir", state_dir]
        + ["--rate", "15", "--burst", "20", "--latency-ms", "25", "--scope", "lambda"],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    url = started.stdout.strip()
    try:
        assert control(url, "GET", "/limits") == {"rate": 15.0, "burst": 20, "latency_ms": 25.0, "scope": ["lambda"]}
        rule = cli_json("rule", '{"operation": "GetObject", "action": "garbage", "body": {}}')
        assert (rule["action"], rule["body"], rule["content_type"], rule["remaining"]) == ("garbage", {}, "application/json", 1)
        with pytest.raises(SystemExit, match="status: an HTTP server error status"):
            cli("rule", '{"operation": "GetObject", "action": "late", "status": 200}')
        with OPENER.open(f"{url}/bucket/key", timeout=10) as response:
            assert response.read() == b"{}"
        stats = cli_json("stats")
        assert (stats["received"], stats["ruled"], stats["by_operation"]["GetObject"]["ruled"]) == (1, 1, 1)
        assert cli_json("log") == [{"operation": "GetObject", "method": "GET", "path": "/bucket/key", "action": "garbage", "region": "unknown"}]
        assert cli_json("limits", '{"rate": 2}') == {"rate": 2, "burst": 2, "latency_ms": 0, "scope": ["*"]}
        assert cli_json("limits", "--latency-ms", "5")["latency_ms"] == 5
        assert cli_json("limits")["latency_ms"] == 5
        # start again: the running proxy, with the new limits.
        assert cli("start", "--upstream", upstream, "--rate", "3").strip() == url
        assert control(url, "GET", "/limits")["burst"] == 3
        assert cli_json("limits", "--clear") is None
        assert cli_json("log-bodies") == {"operations": []}
        assert cli_json("log-bodies", '["PublishLayerVersion"]') == {"operations": ["PublishLayerVersion"]}
        assert cli_json("bodies") == []
        cli("reset")
        assert cli_json("stats")["received"] == 0
        assert cli_json("log-bodies") == {"operations": ["PublishLayerVersion"]}
        with pytest.raises(SystemExit):
            cli("stats", "--rate", "3")  # limits options only where they apply
    finally:
        fault_proxy.stop(state_dir)
