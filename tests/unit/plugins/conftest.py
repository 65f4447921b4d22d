# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import threading

import pytest

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_retry


class RetryClock:
    """Stands in for ``_layer_retry``'s clock and sleep: a sleep is recorded and moves the clock on, nothing waits."""

    def __init__(self, now=1000.0):
        self.now = now
        self.lock = threading.Lock()
        self.slept = []  # seconds, in the order slept
        self.sleepers = []  # the thread that slept each of them

    def clock(self):
        return self.now

    def sleep(self, seconds):
        with self.lock:
            self.slept.append(seconds)
            self.sleepers.append(threading.get_ident())
            self.now += seconds

    def advance(self, seconds):
        with self.lock:
            self.now += seconds

    def slept_by(self, thread_id):
        return [seconds for seconds, sleeper in zip(self.slept, self.sleepers) if sleeper == thread_id]


@pytest.fixture(autouse=True)
def retry_clock(monkeypatch):
    """No unit test sleeps for a retry or the rate limiter, and each starts with fresh rate limiters."""
    clock = RetryClock()
    monkeypatch.setattr(_layer_retry, "_clock", clock.clock)
    monkeypatch.setattr(_layer_retry, "_sleep", clock.sleep)
    monkeypatch.setattr(_layer_retry, "_BUCKETS", {})
    return clock
