# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of the options that need more than the argument spec can say.

PRIVATE to the collection: not a public API, may change without notice.

Everything here runs before the first AWS call, and every message starts with
the name of the option at fault.
"""

import datetime
import re

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._runtime_deprecations import RUNTIME_DEPRECATION_DATES

MAX_COMPATIBLE_RUNTIMES = 15
_LAYER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,140}$")
_LAYER_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account_id>\d{12}):layer:"
    r"(?P<layer_name>[a-zA-Z0-9_-]{1,140})(?::(?P<version>\d+))?$"
)


def parse_layer_arn(value):
    """The parts of a layer or layer version ARN as a dict, or None when it is not one."""
    match = _LAYER_ARN.match(value or "")
    if not match:
        return None
    parts = match.groupdict()
    if parts["version"] is not None:
        parts["version"] = int(parts["version"])
    return parts


def parse_layer_name(value, option="layer_name"):
    """Split ``layer_name`` into ``(name, arn_parts)``.

    ``arn_parts`` is None for a plain name. A layer version ARN is refused:
    a version is chosen with the ``version`` option, never inside the name.
    """
    if _LAYER_NAME.match(value or ""):
        return value, None
    parts = parse_layer_arn(value)
    if parts is None:
        raise LayerInputError(
            f"{option}: {value!r} is neither a layer name (1 to 140 of the characters a-z, A-Z, 0-9, '-' and '_')"
            " nor a layer ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME)"
        )
    if parts["version"] is not None:
        raise LayerInputError(f"{option}: {value!r} is a layer version ARN; give the layer ARN or name, and the version in 'version'")
    return parts["layer_name"], parts


def check_layer_arn_location(arn_parts, region, account_id, option="layer_name"):
    """A layer ARN must name the module's region and the caller's account."""
    if arn_parts["region"] != region:
        raise LayerInputError(f"{option}: the ARN names region {arn_parts['region']}, but the module works in region {region}")
    if arn_parts["account_id"] != account_id:
        raise LayerInputError(
            f"{option}: the ARN names account {arn_parts['account_id']}, but the credentials belong to account {account_id};"
            " layer versions can only be managed in the caller's own account"
        )


def known_runtimes(lambda_model):
    """The runtimes the installed botocore's Lambda service model knows."""
    return list(lambda_model.shape_for("Runtime").enum)


def check_runtimes(runtimes, known, today=None):
    """Validate ``compatible_runtimes``; return ``(unique sorted runtimes, warnings)``."""
    unique = sorted(set(runtimes or []))
    if len(unique) > MAX_COMPATIBLE_RUNTIMES:
        raise LayerInputError(
            f"compatible_runtimes: {len(unique)} distinct runtimes given, AWS allows at most {MAX_COMPATIBLE_RUNTIMES}"
        )
    unknown = [runtime for runtime in unique if runtime not in known]
    if unknown:
        raise LayerInputError(
            f"compatible_runtimes: unknown runtime(s) {', '.join(unknown)}; the installed botocore knows"
            f" {', '.join(sorted(known))}. A runtime newer than this botocore may need a newer botocore."
        )
    today = today or datetime.date.today()
    warnings = []
    for runtime in unique:
        deprecated_on = RUNTIME_DEPRECATION_DATES.get(runtime)
        if deprecated_on and datetime.date.fromisoformat(deprecated_on) <= today:
            warnings.append(
                f"compatible_runtimes: {runtime} is deprecated by AWS Lambda since {deprecated_on};"
                " functions using it no longer get security updates"
            )
    return unique, warnings


_S3_BUCKET = re.compile(r"^[a-zA-Z0-9._-]{3,255}$")


def check_text_lengths(params, lambda_model):
    """``description`` and ``license_info`` within the lengths the Lambda model allows."""
    for option, shape in (("description", "Description"), ("license_info", "LicenseInfo")):
        value = params.get(option)
        limit = lambda_model.shape_for(shape).metadata.get("max")
        if value is not None and limit is not None and len(value) > limit:
            raise LayerInputError(f"{option}: {len(value)} characters, AWS allows at most {limit}")


def check_s3_location(bucket, key):
    if bucket is None:
        return
    if not _S3_BUCKET.match(bucket):
        raise LayerInputError(f"s3_bucket: {bucket!r} is not an S3 bucket name (3 to 255 of a-z, A-Z, 0-9, '.', '-', '_')")
    if not key or not key.strip():
        raise LayerInputError("s3_key: must not be empty")
    if len(key.encode("utf-8")) > 1024:
        raise LayerInputError(f"s3_key: {len(key.encode('utf-8'))} bytes, S3 keys are at most 1024")


def check_version_number(version):
    """A ``version`` option must be a layer version number."""
    if version < 1:
        raise LayerInputError(f"version: {version} is not a layer version number (they start at 1)")


def check_version_option(state, version):
    if version is None:
        return
    if state != "absent":
        raise LayerInputError("version: only valid with state=absent (a present layer version's number is chosen by AWS)")
    check_version_number(version)
