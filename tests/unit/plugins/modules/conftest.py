# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import contextlib
import json
from unittest.mock import MagicMock
from unittest.mock import patch

import boto3
import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    patch_module_args = None


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


@contextlib.contextmanager
def module_args(args):
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
    from ansible.module_utils.common.text.converters import to_bytes  # pylint: disable=import-outside-toplevel

    with patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))):
        yield


@pytest.fixture
def run_module():
    """Run a module's main() with arguments; return its result dict (failed or not)."""

    def run(main, args):
        def leave(_module, **result):
            raise ModuleExit(result)

        def fail(_module, **result):
            result["failed"] = True
            raise ModuleExit(result)

        with module_args(args), patch("ansible.module_utils.basic.AnsibleModule.exit_json", leave), patch(
            "ansible.module_utils.basic.AnsibleModule.fail_json", fail
        ):
            with pytest.raises(ModuleExit) as exit_info:
                main()
        return exit_info.value.result

    return run


class RecordingClients(dict):
    """The clients a module asked for, by service; every call on them is recorded."""

    def calls(self):
        return [call for client in self.values() for call in client.method_calls if call[0] != "meta"]


@pytest.fixture
def aws_clients():
    """Mock clients in place of AnsibleAWSModule.client(), with the real Lambda model (runtimes, limits)."""
    model = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta
    clients = RecordingClients()

    def client(_module, service, **_kwargs):
        if service not in clients:
            clients[service] = MagicMock(name=service)
            clients[service].meta = model
        return clients[service]

    with patch("ansible_collections.amazon.aws.plugins.module_utils.modules.AnsibleAWSModule.client", client):
        yield clients
