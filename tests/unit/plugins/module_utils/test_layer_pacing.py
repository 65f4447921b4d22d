# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import threading

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from ansible_collections.layerwise.aws.plugins.module_utils._layer_pacing import RequestPacer
from ansible_collections.layerwise.aws.plugins.module_utils._layer_pacing import pace_client


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []
        self.lock = threading.Lock()

    def clock(self):
        return self.now

    def sleep(self, seconds):
        with self.lock:
            self.sleeps.append(seconds)


def test_a_full_bucket_lets_a_burst_through_then_spaces_requests_at_the_rate():
    fake = FakeTime()
    pacer = RequestPacer(15, clock=fake.clock, sleep=fake.sleep)
    waits = [pacer.acquire() for _number in range(18)]
    assert waits[:15] == [0.0] * 15
    assert waits[15:] == pytest.approx([1 / 15, 2 / 15, 3 / 15])


def test_the_bucket_refills_with_time_up_to_the_burst():
    fake = FakeTime()
    pacer = RequestPacer(10, burst=2, clock=fake.clock, sleep=fake.sleep)
    assert [pacer.acquire() for _number in range(3)] == pytest.approx([0.0, 0.0, 0.1])
    fake.now += 10.0  # long idle: the bucket holds its burst, not 100 tokens
    assert [pacer.acquire() for _number in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_over_a_long_run_the_rate_is_kept():
    fake = FakeTime()
    pacer = RequestPacer(15, clock=fake.clock, sleep=fake.sleep)
    for _number in range(15 + 150):
        fake.now += pacer.acquire()  # each caller waits its turn, then sends
    assert fake.now - 100.0 == pytest.approx(10.0)


def test_threads_share_one_bucket():
    fake = FakeTime()
    pacer = RequestPacer(5, burst=1, clock=fake.clock, sleep=fake.sleep)
    threads = [threading.Thread(target=pacer.acquire) for _number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The clock stood still: one token, then each later caller waits one slot more than the one before.
    assert sorted(fake.sleeps) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError):
        RequestPacer(0)


def test_a_paced_client_asks_the_pacer_before_every_request_it_sends():
    client = boto3.client("lambda", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x", endpoint_url="http://127.0.0.1:9")
    events = []

    class RecordingPacer:
        def acquire(self):
            events.append("paced")
            return 0.0

    class Body:
        def stream(self):
            yield b'{"Layers": []}'

    def answer(request, **_kwargs):
        events.append(f"sent {request.method} {request.url.split('?')[0]}")
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, Body())

    pace_client(client, RecordingPacer())
    client.meta.events.register("before-send", answer)  # after the pacer: answers instead of the network
    client.list_layers()
    client.list_layers()
    sent = "sent GET http://127.0.0.1:9/2018-10-31/layers"
    assert events == ["paced", sent, "paced", sent]
