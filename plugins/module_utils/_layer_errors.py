# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Errors of the collection's own checks.

PRIVATE to the collection: not a public API, may change without notice.
"""

try:
    from botocore.exceptions import BotoCoreError
except ImportError:  # AnsibleAWSModule reports a missing botocore.
    BotoCoreError = Exception


class LayerInputError(Exception):
    """Bad input found before anything is written to AWS.

    The message starts with the name of the option at fault.
    """


class MalformedResponse(BotoCoreError):
    """A 2xx answer whose body is not the shape the botocore model documents.

    An HTML page from a captive proxy, a truncated or empty JSON body, a
    missing ``LayerVersionArn``: never read as "nothing exists" nor as
    success. For a call that writes, the outcome is unknown (the request may
    have been carried out), like a lost answer.

    A BotoCoreError, so amazon.aws's error handlers report it like any other
    botocore failure (with the call's description) and the retry rules can
    classify it.
    """

    fmt = "{operation} on {endpoint} answered with a body that is not the documented shape: {reason}"

    def __init__(self, operation, endpoint, reason):
        super().__init__(operation=operation, endpoint=endpoint, reason=reason)
        self.operation = operation
        self.endpoint = endpoint
        self.reason = reason
