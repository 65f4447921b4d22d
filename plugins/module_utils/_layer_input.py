# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of the options that need more than the argument spec can say.

PRIVATE to the collection: not a public API, may change without notice.

Everything here runs before the first AWS call, and every message starts with
the name of the option at fault.
"""

import datetime
import difflib
import functools
import re

try:
    import botocore.loaders
    from botocore.exceptions import BotoCoreError

    HAS_BOTOCORE = True
except ImportError:  # AnsibleAWSModule reports a missing botocore.
    HAS_BOTOCORE = False

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._runtime_deprecations import RUNTIME_DEPRECATION_DATES

MAX_COMPATIBLE_RUNTIMES = 15
# Lambda's VersionNumber is a "long" in the botocore model, without a min or max of its own.
MAX_LAYER_VERSION_NUMBER = 2**63 - 1

# Every pattern is matched whole (fullmatch) and spells its characters out: "$" would
# let a trailing line break through, and "\d" or "\w" any Unicode digit or letter.
_LAYER_NAME = re.compile(r"[a-zA-Z0-9_-]{1,140}")
_PARTITION = re.compile(r"aws(?:-[a-z]+)*")
_REGION = re.compile(r"[a-z]+(?:-[a-z0-9]+)+")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_LAYER_RESOURCE = re.compile(r"layer:(?P<layer_name>[a-zA-Z0-9_-]{1,140})(?::(?P<version>[0-9]+))?")
# The longest layer (version) ARN Lambda accepts (LayerVersionArn in the model).
MAX_ARN_LENGTH = 2048


def check_version_number(version, option="version"):
    """A layer version number: an int (not a bool) from 1 to the largest long."""
    if isinstance(version, bool) or not 1 <= version <= MAX_LAYER_VERSION_NUMBER:
        raise LayerInputError(f"{option}: {version} is not a layer version number (they run from 1 to {MAX_LAYER_VERSION_NUMBER})")


def _version_in_arn(digits, option):
    significant = digits.lstrip("0")
    # Compared as text first: Python refuses int() of more than 4300 digits.
    if not significant or len(significant) > len(str(MAX_LAYER_VERSION_NUMBER)) or int(significant) > MAX_LAYER_VERSION_NUMBER:
        shown = digits if len(digits) <= 30 else digits[:30] + "..."
        raise LayerInputError(f"{option}: the ARN's version {shown} is not a layer version number (they run from 1 to {MAX_LAYER_VERSION_NUMBER})")
    return int(significant)


@functools.lru_cache(maxsize=1)
def _partitions():
    """botocore's partitions data (``partitions.json``: each partition's regions and region pattern), or None."""
    try:
        return botocore.loaders.create_loader().load_data("partitions")["partitions"]
    except (BotoCoreError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=None)
def partition_of_region(region):
    """The partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...) botocore's data puts ``region`` in.

    Matched as botocore's endpoint resolution matches it (the region listed in a
    partition, or its region pattern), from the small ``partitions.json`` rather than
    the endpoints data ``Session.get_partition_for_region`` loads for every session.
    None when botocore does not know the region (a region newer than the installed
    botocore, a local endpoint's made-up name) or has no such data: nothing is checked then.
    """
    if not HAS_BOTOCORE or not isinstance(region, str) or not _REGION.fullmatch(region):
        return None
    # region has matched _REGION, so botocore's patterns (which end in "$") see no line break.
    for partition in _partitions() or []:
        if region in partition.get("regions", {}) or re.match(partition.get("regionRegex", r"(?!)"), region):
            return partition["id"]
    return None


def check_arn_partition(arn_parts, region=None, option="layer_name"):
    """An ARN's partition must be the one of the region it names and of the module's ``region``.

    No AWS call: the partitions come from botocore's data. A region botocore does
    not know is not checked.
    """
    partition = arn_parts["partition"]
    named = partition_of_region(arn_parts["region"])
    if named is not None and named != partition:
        raise LayerInputError(
            f"{option}: the ARN is in partition {partition}, but the region it names, {arn_parts['region']}, is in partition {named}"
        )
    own = partition_of_region(region) if region else None
    if own is not None and own != partition:
        raise LayerInputError(f"{option}: the ARN is in partition {partition}, but the module works in region {region}, which is in partition {own}")


def parse_layer_arn(value, option="arn"):
    """The parts of a layer or layer version ARN as a dict, or None when ``value`` is not one.

    amazon.aws's ``parse_aws_arn`` splits it; each part is then held to what Lambda
    accepts for a layer, whole and in ASCII. A layer ARN whose version is out of
    range, or whose partition is not its region's, raises LayerInputError naming ``option``.
    """
    if not isinstance(value, str) or not value.startswith("arn:") or len(value) > MAX_ARN_LENGTH:
        return None
    details = parse_aws_arn(value)
    if details is None or details["service"] != "lambda":
        return None
    # parse_aws_arn searches rather than matches: what it leaves out (text around the ARN,
    # a line break) makes the value no ARN.
    if ":".join(("arn", details["partition"], details["service"], details["region"], details["account_id"], details["resource"])) != value:
        return None
    resource = _LAYER_RESOURCE.fullmatch(details["resource"])
    if not (resource and _PARTITION.fullmatch(details["partition"]) and _REGION.fullmatch(details["region"]) and _ACCOUNT_ID.fullmatch(details["account_id"])):
        return None
    parts = {
        "partition": details["partition"],
        "region": details["region"],
        "account_id": details["account_id"],
        "layer_name": resource.group("layer_name"),
        "version": None,
    }
    if resource.group("version") is not None:
        parts["version"] = _version_in_arn(resource.group("version"), option)
    check_arn_partition(parts, option=option)
    return parts


def parse_layer_name(value, option="layer_name"):
    """Split ``layer_name`` into ``(name, arn_parts)``.

    ``arn_parts`` is None for a plain name. A layer version ARN is refused:
    a version is chosen with the ``version`` option, never inside the name.
    """
    if isinstance(value, str) and _LAYER_NAME.fullmatch(value):
        return value, None
    parts = parse_layer_arn(value, option=option)
    if parts is None:
        raise LayerInputError(
            f"{option}: {value!r} is neither a layer name (1 to 140 of the characters a-z, A-Z, 0-9, '-' and '_')"
            " nor a layer ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME)"
        )
    if parts["version"] is not None:
        raise LayerInputError(f"{option}: {value!r} is a layer version ARN; give the layer ARN or name, and the version in 'version'")
    return parts["layer_name"], parts


def check_layer_arn_region(arn_parts, region, option="layer_name"):
    """A layer ARN must name the module's region, in its partition. No AWS call."""
    check_arn_partition(arn_parts, region, option)
    if arn_parts["region"] != region:
        raise LayerInputError(f"{option}: the ARN names region {arn_parts['region']}, but the module works in region {region}")


def check_layer_arn_location(arn_parts, region, account_id, option="layer_name"):
    """A layer ARN must name the module's region (in its partition) and the caller's account."""
    check_layer_arn_region(arn_parts, region, option)
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
        hints = []
        for runtime in unknown:
            close = difflib.get_close_matches(runtime, known, n=3, cutoff=0.6)
            hints.append(f"{runtime} (did you mean {' or '.join(close)}?)" if close else runtime)
        raise LayerInputError(
            f"compatible_runtimes: unknown runtime(s) {', '.join(hints)}. The installed botocore knows {len(known)} runtimes;"
            " a runtime newer than this botocore may need a newer botocore."
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


_S3_BUCKET = re.compile(r"[a-zA-Z0-9._-]{3,255}")


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
    if not _S3_BUCKET.fullmatch(bucket):
        raise LayerInputError(f"s3_bucket: {bucket!r} is not an S3 bucket name (3 to 255 of a-z, A-Z, 0-9, '.', '-', '_')")
    if not key or not key.strip():
        raise LayerInputError("s3_key: must not be empty")
    if len(key.encode("utf-8")) > 1024:
        raise LayerInputError(f"s3_key: {len(key.encode('utf-8'))} bytes, S3 keys are at most 1024")


def check_version_option(state, version):
    if version is None:
        return
    if state != "absent":
        raise LayerInputError("version: only valid with state=absent (a present layer version's number is chosen by AWS)")
    if not isinstance(version, bool) and version < 0:
        # amazon.aws.lambda_layer deletes every version with version: -1.
        raise LayerInputError(f"version: {version} is not a layer version number; to delete every version, leave version out")
    check_version_number(version)
