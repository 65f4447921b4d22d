# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS answers are checked before they are trusted.

PRIVATE to the collection: not a public API, may change without notice.

botocore parses a 2xx answer whatever its body: an HTML page from a captive
proxy or a broken gateway becomes ``{}``, which would read as "no versions"
(and lead to a duplicate publish) or as a version without an ARN. Every answer
the collection uses is therefore checked here against the shape the installed
botocore model documents (the type of every member present, recursively) and
against the members the collection needs (``required``), which the model
leaves optional. A misfit raises ``MalformedResponse``, naming the call and the
endpoint; for a call that writes, that means "outcome unknown".
"""

import datetime

try:
    from botocore import xform_name as _method_name
    from botocore.parsers import ResponseParserError
except ImportError:  # AnsibleAWSModule reports a missing botocore.

    class ResponseParserError(Exception):
        """Never raised: botocore is missing."""

    _method_name = None

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import MalformedResponse

# botocore shape type -> the Python types its parsers produce.
_PYTHON_TYPES = {
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "float": (float, int),
    "double": (float, int),
    "timestamp": (datetime.datetime, str),
    "blob": (bytes, bytearray),
}


def _endpoint(client):
    meta = getattr(client, "meta", None)
    return getattr(meta, "endpoint_url", None) or "the endpoint"


def _output_shape(client, operation):
    """The model's output shape of ``operation``, or None for a client without a model (test doubles)."""
    try:
        return client.meta.service_model.operation_model(operation).output_shape
    except Exception:  # pylint: disable=broad-exception-caught
        return None


def _type_misfit(value, shape, where):
    """The first member of ``value`` whose type the shape does not allow, as text, or None."""
    if value is None or shape is None or getattr(shape, "serialization", {}).get("eventstream"):
        return None
    allowed = _PYTHON_TYPES.get(shape.type_name)
    if allowed is None:
        return None
    if not isinstance(value, allowed) or (shape.type_name in ("integer", "long") and isinstance(value, bool)):
        return f"{where} is {type(value).__name__}, the model says {shape.type_name}"
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            misfit = _type_misfit(value.get(name), member, f"{where}.{name}" if where else name)
            if misfit:
                return misfit
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            misfit = _type_misfit(item, shape.member, f"{where}[{index}]")
            if misfit:
                return misfit
    return None


def _missing(value, path):
    """Whether the dotted ``path`` (``a.b``, ``items[].c``) is absent or null anywhere in ``value``."""
    head, _dot, rest = path.partition(".")
    each = head.endswith("[]")
    key = head[:-2] if each else head
    if not isinstance(value, dict) or value.get(key) is None:
        return True
    member = value[key]
    if each:
        return not isinstance(member, list) or any(rest and _missing(item, rest) for item in member)
    return bool(rest) and _missing(member, rest)


def check_answer(client, operation, response, required=()):
    """``response`` without its ResponseMetadata, if it fits; else MalformedResponse.

    ``required``: dotted paths that must be present and not null, such as
    ``LayerVersionArn``, ``Content.CodeSha256`` or ``LayerVersions[].Version``.
    """
    if not isinstance(response, dict):
        raise MalformedResponse(operation, _endpoint(client), f"the answer is a {type(response).__name__}, not a structure")
    answer = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    misfit = _type_misfit(answer, _output_shape(client, operation), "")
    if misfit:
        raise MalformedResponse(operation, _endpoint(client), misfit)
    for path in required:
        if _missing(answer, path):
            raise MalformedResponse(operation, _endpoint(client), f"{path} is missing (an HTML page, an empty or a truncated body?)")
    return answer


def checked_call(client, operation, required=(), **request):
    """Make one call, by its API name, and check its answer (see ``check_answer``)."""
    method = getattr(client, _method_name(operation))
    try:
        response = method(**request)
    except ResponseParserError as e:
        raise MalformedResponse(operation, _endpoint(client), f"the body does not parse: {e}") from e
    return check_answer(client, operation, response, required)


def checked_pages(client, operation, required=(), **request):
    """Every page of a paginated call, each checked (see ``check_answer``)."""
    try:
        for page in client.get_paginator(_method_name(operation)).paginate(**request):
            yield check_answer(client, operation, page, required)
    except ResponseParserError as e:
        raise MalformedResponse(operation, _endpoint(client), f"the body does not parse: {e}") from e
