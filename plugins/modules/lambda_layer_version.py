#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_layer_version
version_added: "1.0.0"
short_description: Manage one AWS Lambda layer version, idempotently
description:
  - Publishes a new version of a Lambda layer only when the newest existing version differs from what the task asks for,
    in its content, description, licence, compatible runtimes or compatible architectures, the way Terraform's
    C(aws_lambda_layer_version) resource does.
  - Layer versions are immutable. A change therefore publishes a new version and, unless O(skip_destroy=true),
    deletes the version it supersedes (only that one), or, with O(keep_versions), every version older than the newest
    O(keep_versions) that no function uses.
  - The content is compared by its SHA-256, as Lambda reports it in C(CodeSha256). A local zip is hashed in
    fixed-size chunks; an S3 object's full-object SHA-256 checksum is used when S3 has one, else the object is
    streamed through the hash. O(source_code_hash) replaces both.
  - An unchanged run costs two read calls to Lambda (ListLayerVersions with one item, then GetLayerVersion),
    however many versions the layer has.
  - Unlike M(amazon.aws.lambda_layer), which publishes a new version on every run and only reports a message
    in check mode, this module is idempotent, predicts the resulting version in check mode and supports diff mode.
author:
  - layerwise.aws maintainers (@layerwise)
options:
  layer_name:
    description:
      - The name of the layer (1 to 140 of V(a-z), V(A-Z), V(0-9), V(-) and V(_)), or its layer ARN.
      - A layer ARN must name the module's region and the caller's account, which is checked with one
        STS GetCallerIdentity call, only when an ARN is given. The layer is then used by its name.
      - A layer version ARN is refused; choose the version with O(version).
    type: str
    required: true
    aliases: [name]
  state:
    description:
      - V(present) makes sure the newest version of the layer matches the task, publishing a new version when it
        does not.
      - V(absent) deletes the version given in O(version), or every version of the layer.
    type: str
    choices: [present, absent]
    default: present
  filename:
    description:
      - Path of a local zip file holding the layer's content, on the host the module runs on.
      - It must exist and be a readable, non-empty zip file whose files unzip to at most 250 MiB (Lambda's limit,
        read from the zip's central directory before anything is written).
      - Published in the request itself, it may be at most 50 MiB; with O(s3_bucket) it is staged through S3
        instead, with no such limit.
      - One of O(filename), O(source_dir) or O(s3_bucket) and O(s3_key) is required with O(state=present).
    type: path
  source_dir:
    description:
      - A directory on the host the module runs on whose contents become the package, zipped reproducibly. The same
        files (relative paths, bytes, executable bit) give the same zip bytes and C(CodeSha256) on any machine, whatever
        their timestamps, owners, other permission bits, the umask or the order the file system lists them. Entries are
        sorted, dated 1980-01-01, with modes 0644 or 0755 and deflate at a fixed level; directories are walked.
      - A symlink that stays inside the directory is followed (its target's content is stored under the link's path);
        one that points outside it, a symlink loop and a special file (FIFO, socket, device) are refused, naming it.
        An empty package, or one whose files unzip to more than 250 MiB, is refused.
      - The package is built in a temporary directory of the run and removed afterwards, also in check mode; a run
        compares it by its hash like a zip. See the collection's C(docs/packaging.md) for what can still differ
        between machines (the zlib library) and what C(.pyc) files do.
      - Mutually exclusive with O(filename), O(s3_key) and O(s3_object_version); with O(s3_bucket) the package is
        staged through S3 (by default to C(layerwise/<layer_name>/<sha256-hex>.zip)).
    type: path
    version_added: "1.1.0"
  excludes:
    description:
      - With O(source_dir), glob patterns of paths (relative to it, with C(/) separators) left out of the package.
        C(*) matches within one path segment, C(**) any number of segments; a pattern that matches a directory leaves
        out everything below it. For example C(**/__pycache__), C(*.pyc), C(.git).
    type: list
    elements: str
    version_added: "1.1.0"
  s3_bucket:
    description:
      - The S3 bucket holding the layer's zip (with O(s3_key)); the object must exist, which is checked with
        HeadObject before publishing.
      - With O(filename) or O(source_dir), the bucket to stage the package through. When a publish is due, the package
        is uploaded (streamed, in parts, with its SHA-256 checksum) to O(s3_key), or by default to
        C(layerwise/<layer_name>/<sha256-hex>.zip), unless that object already holds the same bytes; the version is
        then published from S3. There is no 50 MiB limit then. Check mode uploads nothing.
      - A bucket that does not exist, is in another region or cannot be written fails naming O(s3_bucket).
    type: str
  s3_key:
    description:
      - The key of the layer's zip in O(s3_bucket), or with O(filename) the key to stage it to.
    type: str
  s3_object_version:
    description:
      - The version of the S3 object to use, for a versioned bucket. Requires O(s3_bucket) and O(s3_key).
      - A version the object does not have, or any version on an unversioned bucket, fails naming this option.
    type: str
  s3_object_storage_mode:
    description:
      - With an S3 package (given or staged), how Lambda keeps it, passed as C(Content.S3ObjectStorageMode).
      - V(COPY) copies the archive into Lambda's storage. V(REFERENCE) keeps referring to the object in your bucket,
        which must be versioned; the module pins the object version it resolved, and the bucket must keep it.
      - A change of mode is a change (a new version is published). Lambda does not report a version's storage mode;
        the module takes a version whose C(Content.ResolvedS3Object) is set as V(REFERENCE), one without as V(COPY).
        Unset, the mode is neither sent nor compared.
      - Needs botocore 1.43.37 or newer; an older one fails naming this option.
    type: str
    choices: [COPY, REFERENCE]
    version_added: "1.1.0"
  description:
    description:
      - The description of the layer version. Unset equals an empty description.
    type: str
  license_info:
    description:
      - The layer's software licence, for example an SPDX identifier or a URL. Unset equals empty.
    type: str
  compatible_runtimes:
    description:
      - The runtimes the layer is compatible with, at most 15.
      - Each must be a runtime the installed botocore's Lambda model knows; a runtime newer than that botocore
        needs a newer botocore. A runtime that AWS has deprecated gives a warning with its deprecation date.
      - Compared as a set; order and duplicates never cause a change. Unset equals an empty list.
    type: list
    elements: str
  compatible_architectures:
    description:
      - The instruction set architectures the layer is compatible with.
      - Compared as a set; order and duplicates never cause a change. Unset equals an empty list.
    type: list
    elements: str
    choices: [x86_64, arm64]
  source_code_hash:
    description:
      - The base64-encoded SHA-256 of the package, as Lambda reports it in C(CodeSha256), for example the output
        of C(openssl dgst -sha256 -binary layer.zip | base64).
      - When given, it stands for the package's content in the comparison, and the package is neither hashed nor
        downloaded. The package itself is still what a new version is published from.
      - If the published version's C(CodeSha256) differs from it, the module warns, since every later run
        would publish again.
    type: str
  skip_destroy:
    description:
      - With O(state=present), keep the superseded version when a new one is published.
      - With O(state=absent), delete nothing.
    type: bool
    default: false
  copy_permissions:
    description:
      - When a new version is published, add the superseded version's policy statements (who it is shared with,
        see M(layerwise.aws.lambda_layer_version_permission)) to the new version, so that sharing survives the new
        version. Permissions belong to one version in AWS; without this, a new version is shared with nobody.
      - The statements are read only when a new version is due; check mode and diff mode show them
        (C(permissions) in the diff) and RV(copied_permissions) lists their ids.
      - Unless O(skip_destroy=true), the version to be superseded is first marked with a statement
        C(layerwise-superseded) (granting read access to its own account, which it has anyway). If the run stops after
        publishing (a refused grant, a failed deletion, an interrupted job), the marker tells the next run of the task
        that this version is superseded, and that run copies the statements still missing on the newest version and deletes
        the marked version, even when nothing else changed (RV(finished_superseded_version)). A version kept on purpose
        (O(skip_destroy=true)) or published by another tool never carries the marker and is never deleted this way.
        An unchanged run therefore reads one policy more (the version below the newest), only with this option.
    type: bool
    default: false
  keep_versions:
    description:
      - With O(state=present), keep the newest N versions of the layer, the current one included, and delete the older
        ones, on every run (after a publish, and on an unchanged run too), so that a layer that has grown converges.
      - This replaces the deletion of the superseded version. With V(1) a publish deletes every older version; with
        V(2) it keeps the version it supersedes, so a rollback to it stays possible.
      - The versions kept are the current (newest) version and the N - 1 versions below it. A version newer than the
        current one (published meanwhile by a concurrent run or another tool) is never deleted.
      - A version that a function's configuration references (its V($LATEST) or one of its published versions) is kept
        in addition and reported in RV(kept_in_use), unless O(prune_in_use=true). A deleted version keeps working for the
        functions already configured with it, but no function can be configured with it again.
      - "Costs one ListLayerVersions call per 50 versions on every run and, only when there is a version to delete, one scan
        of the functions of the account and region: ListFunctions with C(FunctionVersion=ALL), every page, at most 50 function
        configurations per call, where every published version of a function is one configuration. On an account with
        2,000 functions of 10 published versions each, that is 440 calls, about 30 seconds at Lambda's 15 requests per second.
        The scan needs the C(lambda:ListFunctions) permission; see the collection's C(docs/lifecycle.md)."
      - Only the caller's own functions in the module's region are seen; a version shared with other accounts may be
        used by their functions.
      - In check mode the versions that would be deleted are listed in RV(deleted_versions) and nothing is deleted.
      - At least V(1). Conflicts with O(skip_destroy=true). Not valid with O(state=absent).
      - With O(copy_permissions=true), the superseded version is marked (see there) only when this run deletes it.
    type: int
    version_added: "1.1.0"
  prune_in_use:
    description:
      - With O(keep_versions), delete the versions beyond the newest N even when functions use them.
      - The functions are then not listed at all (no ListFunctions call, no C(lambda:ListFunctions) permission needed),
        and RV(kept_in_use) is always empty.
      - Needs O(keep_versions).
    type: bool
    default: false
    version_added: "1.1.0"
  version:
    description:
      - Only with O(state=absent), the number of the version to delete. Without it, every version is deleted
        (where M(amazon.aws.lambda_layer) takes V(-1)).
    type: int
  content:
    description:
      - Not used. M(amazon.aws.lambda_layer) takes the package as C(content); giving it here fails with a message
        saying to use O(filename), O(source_dir) or O(s3_bucket) and O(s3_key) instead.
    type: raw
    version_added: "1.1.0"
notes:
  - Which version is "current" is always the newest version of the layer; older versions are never compared
    and never deleted by O(state=present), unless O(keep_versions) is given.
  - In check mode the module reads the layer (and the S3 object's metadata) and reports what would change,
    without writing anything. The facts of a version that would be published have V(null) for what AWS assigns
    on publishing (RV(layer_version.arn), RV(layer_version.version), RV(layer_version.created_date), signing).
  - "With O(state=absent), the diff shows the version numbers concerned: C(versions) before and after."
  - Every AWS call is retried with jittered backoff on throttling and transient errors (5xx, broken connections),
    at most 6 times and about 31 seconds of waiting in all; other errors fail at once with the AWS error code.
  - PublishLayerVersion is not idempotent. When its answer is lost (a 5xx, a broken connection or a timeout after the
    request was sent), the module reads the newest versions and only publishes again if none has the desired content
    and metadata, so a run never leaves two identical new versions.
  - When two runs of the same task publish at the same time, the newest identical version is kept and reported by
    both; each run deletes only its own redundant version and the version it superseded, never another run's.
  - A task that fails after it wrote anything reports C(changed=true), the facts of what exists now (RV(layer_version),
    RV(deleted_versions), RV(undeleted_versions), RV(uncopied_permissions)), and a message saying what failed, what was
    done, what was not and how to finish. Every answer is checked against the AWS API model before it is used. A 2xx
    answer with an HTML page or an empty body is an error naming the call and the endpoint, never "no versions".
    See the collection's C(docs/reliability.md).
seealso:
  - module: amazon.aws.lambda_layer
    description: Publishes a new version on every run, with no diff and no prediction in check mode.
  - name: Terraform aws_lambda_layer_version
    description: The Terraform resource whose behaviour and attribute names this module follows.
    link: https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/lambda_layer_version
extends_documentation_fragment:
  - layerwise.aws._attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Publish a layer from a local zip (a new version only when something changed)
  layerwise.aws.lambda_layer_version:
    layer_name: shared-utils
    filename: build/shared-utils.zip
    description: Shared helpers
    license_info: MIT
    compatible_runtimes:
      - python3.12
      - python3.13
    compatible_architectures:
      - x86_64
      - arm64
  register: shared_utils

- name: Show the ARN functions should use
  ansible.builtin.debug:
    msg: "{{ shared_utils.layer_version.arn }}"

- name: Publish a layer from a directory, zipped reproducibly (an unchanged tree publishes nothing)
  layerwise.aws.lambda_layer_version:
    layer_name: my-deps
    source_dir: build/layer
    excludes:
      - __pycache__
      - "*.pyc"
    compatible_runtimes:
      - python3.12

- name: Publish a package over 50 MiB by staging it through S3 (uploaded only when a publish is due)
  layerwise.aws.lambda_layer_version:
    layer_name: big-deps
    source_dir: build/layer
    excludes:
      - __pycache__
      - "*.pyc"
    s3_bucket: my-artifacts
    compatible_runtimes:
      - python3.12
  register: big_deps

- name: Show where the package was staged
  ansible.builtin.debug:
    msg: "s3://{{ big_deps.package.s3_bucket }}/{{ big_deps.package.s3_key }}"

- name: Let Lambda read the package from the versioned bucket instead of copying it
  layerwise.aws.lambda_layer_version:
    layer_name: big-deps-referenced
    filename: build/shared-utils.zip
    s3_bucket: my-artifacts
    s3_key: layers/shared-utils.zip
    s3_object_storage_mode: REFERENCE

- name: Publish from S3, using S3's SHA-256 checksum when the object has one
  layerwise.aws.lambda_layer_version:
    layer_name: numpy-layer
    s3_bucket: my-artifacts
    s3_key: layers/numpy.zip
    compatible_runtimes:
      - python3.12

- name: Find the current version of the S3 object (in a versioned bucket)
  amazon.aws.s3_object_info:
    bucket_name: my-artifacts
    object_name: layers/numpy.zip
  register: numpy_object

- name: Publish that pinned S3 object version and keep the version it supersedes
  layerwise.aws.lambda_layer_version:
    layer_name: numpy-layer
    s3_bucket: my-artifacts
    s3_key: layers/numpy.zip
    s3_object_version: "{{ numpy_object.object_info[0].object_data.version_id }}"
    compatible_runtimes:
      - python3.12
      - python3.13
    skip_destroy: true

- name: Compare by a known hash, without hashing or downloading the package
  layerwise.aws.lambda_layer_version:
    layer_name: big-layer
    s3_bucket: my-artifacts
    s3_key: layers/big.zip
    source_code_hash: "{{ lookup('ansible.builtin.file', 'build/big.zip.sha256') }}"

# The tasks below on shared-utils repeat every option of the first one: an option left
# out means "empty", which is a change (a new version without the description).
- name: Dry run, showing what would change
  layerwise.aws.lambda_layer_version:
    layer_name: shared-utils
    filename: build/shared-utils.zip
    description: Shared helpers
    license_info: MIT
    compatible_runtimes: [python3.12, python3.13]
    compatible_architectures: [x86_64, arm64]
  check_mode: true
  diff: true
  register: plan

- name: Manage a layer given by its ARN
  layerwise.aws.lambda_layer_version:
    layer_name: arn:aws:lambda:eu-west-1:123456789012:layer:shared-utils
    region: eu-west-1
    filename: build/shared-utils.zip
    description: Shared helpers
    license_info: MIT
    compatible_runtimes: [python3.12, python3.13]
    compatible_architectures: [x86_64, arm64]

- name: Publish a new version that stays shared like the one it replaces
  layerwise.aws.lambda_layer_version:
    layer_name: shared-utils
    filename: build/shared-utils.zip
    description: Shared helpers
    license_info: MIT
    compatible_runtimes: [python3.12, python3.13]
    compatible_architectures: [x86_64, arm64]
    copy_permissions: true

- name: Publish, keeping the newest 3 versions; older ones are deleted unless a function uses them
  layerwise.aws.lambda_layer_version:
    layer_name: shared-utils
    filename: build/shared-utils.zip
    description: Shared helpers
    license_info: MIT
    compatible_runtimes: [python3.12, python3.13]
    compatible_architectures: [x86_64, arm64]
    keep_versions: 3
  register: retained

- name: Show what was deleted, and which versions functions still use
  ansible.builtin.debug:
    msg: "deleted {{ retained.deleted_versions }}, kept in use {{ retained.kept_in_use }}"

- name: Keep only the newest version, even older ones functions still use (an unchanged run prunes too)
  layerwise.aws.lambda_layer_version:
    layer_name: shared-utils
    filename: build/shared-utils.zip
    description: Shared helpers
    license_info: MIT
    compatible_runtimes: [python3.12, python3.13]
    compatible_architectures: [x86_64, arm64]
    keep_versions: 1
    prune_in_use: true

- name: Delete one version of a layer (the one skip_destroy kept above)
  layerwise.aws.lambda_layer_version:
    layer_name: numpy-layer
    version: 1
    state: absent

- name: Delete every version of a layer
  layerwise.aws.lambda_layer_version:
    layer_name: shared-utils
    state: absent
"""

RETURN = r"""
layer_version:
  description:
    - The facts of the resulting version, with the attribute names of Terraform's C(aws_lambda_layer_version).
    - In check mode, when a new version would be published, the values AWS assigns on publishing are V(null).
  returned: when O(state=present)
  type: dict
  contains:
    arn:
      description: The ARN of the layer version.
      type: str
      sample: arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:4
    layer_arn:
      description: The ARN of the layer, without version. V(null) in check mode for a layer that does not exist yet.
      type: str
      sample: arn:aws:lambda:us-east-1:123456789012:layer:shared-utils
    layer_name:
      description: The name of the layer.
      type: str
      sample: shared-utils
    version:
      description: The version number.
      type: int
      sample: 4
    description:
      description: The description of the version (empty when none).
      type: str
      sample: Shared helpers
    license_info:
      description: The licence of the version (empty when none).
      type: str
      sample: MIT
    compatible_runtimes:
      description: The compatible runtimes.
      type: list
      elements: str
      sample: [python3.12, python3.13]
    compatible_architectures:
      description: The compatible architectures.
      type: list
      elements: str
      sample: [arm64, x86_64]
    code_sha256:
      description:
        - The base64-encoded SHA-256 of the package.
        - V(null) in check mode for a new layer published from an S3 object without a SHA-256 checksum,
          which is not downloaded just to predict it.
      type: str
      sample: pBL6unmrZYkcMDc+SJdbmVylPjEkmkY8Gn0aXzZr5T8=
    source_code_size:
      description: The size of the package in bytes.
      type: int
      sample: 110
    created_date:
      description: When the version was created, in ISO 8601 format.
      type: str
      sample: "2026-11-24T17:25:10.150+0000"
    signing_job_arn:
      description: The ARN of the signing job, if the package was signed.
      type: str
      sample: null
    signing_profile_version_arn:
      description: The ARN of the signing profile version, if the package was signed.
      type: str
      sample: null
    resolved_s3_object:
      description:
        - With O(s3_object_storage_mode=REFERENCE), the S3 object the version's archive stays in (C(bucket), C(key),
          C(version_id)), as Lambda reports it in C(Content.ResolvedS3Object); V(null) for a version Lambda copied.
      type: dict
      sample: null
package:
  description:
    - The local package (O(filename), or O(source_dir) as packaged), whether or not a version was published.
  returned: with O(filename) or O(source_dir) and O(state=present)
  type: dict
  contains:
    sha256:
      description: The base64-encoded SHA-256 of the zip, as Lambda reports it in C(CodeSha256).
      type: str
      sample: pBL6unmrZYkcMDc+SJdbmVylPjEkmkY8Gn0aXzZr5T8=
    size:
      description: The size of the zip in bytes.
      type: int
      sample: 4821
    unzipped_size:
      description: The size of its files unzipped, in bytes (Lambda allows at most 262144000).
      type: int
      sample: 18234
    files:
      description: The number of files in it.
      type: int
      sample: 12
    s3_bucket:
      description: With O(s3_bucket), the bucket the package is staged in.
      type: str
      returned: when staged through S3
      sample: my-artifacts
    s3_key:
      description: With O(s3_bucket), the key of the staged package.
      type: str
      returned: when staged through S3
      sample: layerwise/shared-utils/a4b2...e9.zip
    s3_object_version:
      description: The version of the staged object the publish was pinned to (V(null) on an unversioned bucket or in check mode).
      type: str
      returned: when staged through S3
      sample: 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY
deleted_versions:
  description:
    - The numbers of the versions deleted, or that would be deleted in check mode. Empty when none.
    - With O(state=present), the version superseded by a new one (unless O(skip_destroy=true)), or with O(keep_versions)
      the versions it prunes, oldest first.
  returned: always
  type: list
  elements: int
  sample: [3]
kept_in_use:
  description:
    - With O(keep_versions), the versions beyond the newest N that were kept because functions use them, as a dict whose keys
      are version numbers (strings, since results are JSON) and whose values are the ARNs of the functions whose
      configuration references that version, sorted. An unqualified ARN stands for the function's V($LATEST); a published
      function version has its number appended.
    - Empty when no version was kept for that reason, and always with O(prune_in_use=true).
  returned: when O(keep_versions) is given
  type: dict
  version_added: "1.1.0"
  sample:
    "2":
      - arn:aws:lambda:us-east-1:123456789012:function:orders
      - arn:aws:lambda:us-east-1:123456789012:function:orders:7
copied_permissions:
  description:
    - With O(copy_permissions=true), the ids of the statements copied from the superseded version to the new one
      (or that would be, in check mode); empty when no version was published or the superseded one had no policy.
  returned: when O(copy_permissions=true)
  type: list
  elements: str
  sample: [share-with-prod]
undeleted_versions:
  description:
    - When the task fails after writing, the versions it meant to delete and did not (the superseded version after a
      publish, or what is left of O(state=absent)). RV(layer_version) then describes the new version and C(msg) says
      how to finish.
  returned: on a failure after a write
  type: list
  elements: int
  sample: [3]
uncopied_permissions:
  description:
    - With O(copy_permissions=true), when the task fails after publishing, the ids of the statements not copied to the
      new version. The next run of the task copies them (see O(copy_permissions)).
  returned: on a failure after a publish
  type: list
  elements: str
  sample: [share-with-prod]
finished_superseded_version:
  description:
    - With O(copy_permissions=true), the number of a version an earlier, interrupted run had superseded and marked,
      whose statements this run copied to the newest version before deleting it.
  returned: when an unchanged run finished such work
  type: int
  sample: 3
diff:
  description:
    - With O(state=present), the version number and the compared fields (C(code_sha256), C(description),
      C(license_info), C(compatible_runtimes), C(compatible_architectures)) of the newest version before and of
      the resulting version after; C(before) is empty when the layer had no version.
    - With O(state=absent), C(layer_name) and the C(versions) concerned, before and after.
  returned: in diff mode
  type: dict
  contains:
    before:
      description: The state before the task.
      type: dict
    after:
      description: The state after the task (predicted in check mode).
      type: dict
  sample:
    before:
      version: 3
      code_sha256: pBL6unmrZYkcMDc+SJdbmVylPjEkmkY8Gn0aXzZr5T8=
      description: Shared helpers
      license_info: MIT
      compatible_runtimes: [python3.12]
      compatible_architectures: []
    after:
      version: null
      code_sha256: 8n3pJmrQY1r0c3m3ZxOQ5tN9n1PZl3tBqVZtO0mH5Ok=
      description: Shared helpers
      license_info: MIT
      compatible_runtimes: [python3.12]
      compatible_architectures: []
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.layerwise.aws.plugins.module_utils._layer_argspec import layer_version_option_rules
from ansible_collections.layerwise.aws.plugins.module_utils._layer_argspec import layer_version_options
from ansible_collections.layerwise.aws.plugins.module_utils._layer_version import run_module


def main():
    module = AnsibleAWSModule(argument_spec=layer_version_options(), supports_check_mode=True, **layer_version_option_rules())
    run_module(module)


if __name__ == "__main__":
    main()
