# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How fast requests are sent: a token bucket shared by the threads using one client.

PRIVATE to the collection: not a public API, may change without notice.

Lambda allows an account about 15 control plane requests per second in each
region, reads included, and answers 429 TooManyRequestsException beyond. A
throttled request is retried after a jittered backoff (``_layer_retry``), which
keeps a run correct but idle: threads that each retry after 0.5, 1, 2 ... s send
fewer requests than the quota allows. Pacing the requests to the quota instead
keeps them flowing at the rate AWS accepts, and throttles rare (they still happen
when other callers share the account's quota, and are retried then).
"""

import math
import threading
import time


class RequestPacer:
    """At most ``rate`` requests per second on average, in bursts of at most ``burst``; safe to share between threads.

    The bucket starts full. A request that finds it empty takes a token ahead
    (the count goes below zero) and sleeps until that token exists, so waiting
    requests are spaced 1/rate seconds apart in the order they asked.
    """

    def __init__(self, rate, burst=None, clock=time.monotonic, sleep=time.sleep):
        if rate <= 0:
            raise ValueError(f"rate must be above 0, not {rate}")
        self.rate = float(rate)
        self.burst = burst if burst is not None else max(1, math.ceil(rate))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._updated = clock()

    def acquire(self):
        """Wait until a request may be sent; the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


def pace_client(client, pacer):
    """Make every request ``client`` sends (retries included) wait for ``pacer`` first; returns the client."""

    def before_send(**_kwargs):
        pacer.acquire()
        # None: botocore sends the request as usual.

    client.meta.events.register("before-send", before_send)
    return client
