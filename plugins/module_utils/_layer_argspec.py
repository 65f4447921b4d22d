# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options of one managed layer version, shared by every module that manages them.

PRIVATE to the collection: not a public API, may change without notice.

``lambda_layer_version`` takes them as its own options; ``lambda_layer_versions``
takes a list of them, each item checked with the same rules.
"""


def layer_version_options():
    return dict(
        layer_name=dict(type="str", required=True, aliases=["name"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        filename=dict(type="path"),
        source_dir=dict(type="path"),
        excludes=dict(type="list", elements="str"),
        s3_bucket=dict(type="str"),
        s3_key=dict(type="str", no_log=False),
        s3_object_version=dict(type="str"),
        s3_object_storage_mode=dict(type="str", choices=["COPY", "REFERENCE"]),
        description=dict(type="str"),
        license_info=dict(type="str"),
        compatible_runtimes=dict(type="list", elements="str"),
        compatible_architectures=dict(type="list", elements="str", choices=["x86_64", "arm64"]),
        source_code_hash=dict(type="str"),
        skip_destroy=dict(type="bool", default=False),
        copy_permissions=dict(type="bool", default=False),
        keep_versions=dict(type="int"),
        prune_in_use=dict(type="bool", default=False),
        version=dict(type="int"),
        # amazon.aws.lambda_layer's option, accepted only to say what to use instead.
        content=dict(type="raw"),
    )


def layer_version_option_rules():
    """The rules between the options, as AnsibleModule (or a suboption spec) takes them."""
    return dict(
        mutually_exclusive=[
            ["filename", "source_dir"],
            ["source_dir", "s3_key"],
            ["filename", "s3_object_version"],
            ["source_dir", "s3_object_version"],
        ],
        required_by={
            "s3_key": ("s3_bucket",),
            "s3_object_version": ("s3_bucket", "s3_key"),
            "s3_object_storage_mode": ("s3_bucket",),
            "excludes": ("source_dir",),
        },
        # state=present needs filename, source_dir or s3_bucket: checked in prepare_task, where a
        # misplaced amazon.aws 'content' option can be named first.
    )
