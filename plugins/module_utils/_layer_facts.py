# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The facts of a layer version, with Terraform's attribute names.

PRIVATE to the collection: not a public API, may change without notice.

One function builds them from any Lambda answer that describes a version
(PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn), for every module
of the collection.
"""


FACT_KEYS = (
    "arn",
    "layer_arn",
    "layer_name",
    "version",
    "description",
    "license_info",
    "compatible_runtimes",
    "compatible_architectures",
    "code_sha256",
    "source_code_size",
    "created_date",
    "signing_job_arn",
    "signing_profile_version_arn",
    "resolved_s3_object",
)


def resolved_s3_object_facts(response):
    """``{"bucket", "key", "version_id"}`` from ``Content.ResolvedS3Object`` of a PublishLayerVersion or GetLayerVersion answer, else None."""
    resolved = ((response or {}).get("Content") or {}).get("ResolvedS3Object")
    if not resolved:
        return None
    return {"bucket": resolved.get("S3Bucket"), "key": resolved.get("S3Key"), "version_id": resolved.get("S3ObjectVersion")}


def layer_arn_of(layer_version_arn):
    """``arn:…:layer:NAME:3`` -> ``arn:…:layer:NAME``."""
    return layer_version_arn.rsplit(":", 1)[0]


def layer_name_of(layer_arn):
    return layer_arn.rsplit(":", 1)[1]


def layer_version_facts(response):
    """Facts of one layer version from a Lambda answer that describes it."""
    content = response.get("Content") or {}
    layer_arn = response.get("LayerArn") or layer_arn_of(response["LayerVersionArn"])
    return {
        "arn": response.get("LayerVersionArn"),
        "layer_arn": layer_arn,
        "layer_name": layer_name_of(layer_arn),
        "version": response.get("Version"),
        "description": response.get("Description") or "",
        "license_info": response.get("LicenseInfo") or "",
        "compatible_runtimes": list(response.get("CompatibleRuntimes") or []),
        "compatible_architectures": list(response.get("CompatibleArchitectures") or []),
        "code_sha256": content.get("CodeSha256"),
        "source_code_size": content.get("CodeSize"),
        "created_date": response.get("CreatedDate"),
        "signing_job_arn": content.get("SigningJobArn"),
        "signing_profile_version_arn": content.get("SigningProfileVersionArn"),
        "resolved_s3_object": resolved_s3_object_facts(response),
    }


def predicted_layer_version_facts(desired, layer_arn=None, source_code_size=None):
    """The facts of a version that would be published (check mode).

    What AWS assigns on publishing (ARN, number, date, signing) is not known yet
    and is None.
    """
    facts = dict.fromkeys(FACT_KEYS)
    facts.update(
        layer_arn=layer_arn,
        layer_name=desired.layer_name,
        description=desired.description,
        license_info=desired.license_info,
        compatible_runtimes=list(desired.compatible_runtimes),
        compatible_architectures=list(desired.compatible_architectures),
        code_sha256=desired.code_sha256,
        source_code_size=source_code_size,
    )
    return facts
