# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a run has written, carried into every exit: the one boundary of every module.

PRIVATE to the collection: not a public API, may change without notice.

A run keeps a ``Progress`` up to date as it writes: each write is recorded with
the facts it makes true, and before a sequence of writes the run states its
plan (the steps still to do, and how a user finishes them if the run stops).
Whatever ends the run (an AWS error, a malformed answer, a zip deleted under
our feet, a bug), ``module_boundary`` turns the exception and the progress into
one truthful failure: ``changed`` is whether anything was written, the facts
say what exists now, ``msg`` says what failed, what was done, what was not,
and how to finish. No traceback reaches the user.
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError

# The kinds of step a plan holds, and the result key listing the steps of that kind not done.
PENDING_KEYS = {"copy": "uncopied_permissions", "delete": "undeleted_versions", "restore": "unrestored_permissions"}


class Step:
    """One write a run means to make: its kind (a key of PENDING_KEYS), its subject and how it reads."""

    def __init__(self, kind, subject, text):
        self.kind = kind
        self.subject = subject
        self.text = text

    def __repr__(self):
        return f"Step({self.kind!r}, {self.subject!r}, {self.text!r})"


class Progress:
    """The writes a run made so far, the facts they made true, and the steps still planned."""

    def __init__(self):
        self.writes = []
        self.facts = {}
        self.pending = []
        self.remedy = None

    @property
    def changed(self):
        return bool(self.writes)

    def wrote(self, text, **facts):
        """Record a write that took effect, and the facts it makes true."""
        self.writes.append(text)
        self.facts.update(facts)

    def plan(self, steps, remedy):
        """The steps the run means to take next, and how a user finishes them if it stops first."""
        self.pending = list(steps)
        self.remedy = remedy

    def done(self, step):
        if step in self.pending:
            self.pending.remove(step)

    def failure(self, error):
        """The result of a run ended by ``error``: ``changed``, the facts, and a message that says it all."""
        result = dict(self.facts)
        for kind, key in PENDING_KEYS.items():
            subjects = [step.subject for step in self.pending if step.kind == kind]
            if subjects:
                result[key] = subjects
        parts = [str(error).rstrip(".")]
        if self.writes:
            parts.append("Done before that: " + "; ".join(self.writes))
            if self.pending:
                parts.append("Not done: " + "; ".join(step.text for step in self.pending))
            if self.pending and self.remedy:
                parts.append("To finish: " + self.remedy)
        elif not isinstance(error, LayerInputError):
            parts.append("Nothing was written")
        result["changed"] = self.changed
        result["msg"] = ". ".join(parts) + "." if len(parts) > 1 else str(error)
        return result


def _botocore_details(error):
    """``error`` (AWS code and message) and ``response_metadata`` of a botocore ClientError, as fail_json_aws gives them."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return {}
    details = camel_dict_to_snake_dict({key: value for key, value in response.items() if key in ("Error", "ResponseMetadata")})
    return details


def failure_result(progress, error):
    """The failed result for ``error`` after ``progress``, with the AWS error details when there are some."""
    result = progress.failure(error)
    cause = error.exception if isinstance(error, AnsibleAWSError) and error.exception is not None else error
    result.update(_botocore_details(cause))
    if type(cause).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
        result["msg"] += (
            " Set access_key and secret_key (and session_token for temporary credentials), or profile, or the"
            " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables, or run where a role provides them."
        )
    if not isinstance(error, (LayerInputError, AnsibleAWSError)) and not type(error).__module__.startswith("botocore"):
        # Not one of the collection's own failures (an OSError, a bug): its type helps; its traceback is not shown.
        result["msg"] = f"{type(error).__name__}: {result['msg']}"
    return result


def with_diff_if_asked(module, result):
    result = dict(result)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    return result


def module_boundary(module, work):
    """Run ``work(progress)`` and exit with its result, or fail truthfully whatever it raised.

    ``work`` returns the result; one with ``failed: true`` is a failure it reports itself.

    The one place where a module turns exceptions into ``fail_json``: bad input
    (before any write), AWS errors, malformed answers, and anything unforeseen.
    """
    progress = Progress()
    try:
        result = work(progress)
    except Exception as e:  # pylint: disable=broad-exception-caught
        module.fail_json(**with_diff_if_asked(module, failure_result(progress, e)))
    if result.get("failed"):
        # A run that reports its own failure (the bulk module, when some layers failed).
        module.fail_json(**with_diff_if_asked(module, result))
    module.exit_json(**with_diff_if_asked(module, result))
