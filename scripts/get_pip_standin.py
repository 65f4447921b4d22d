# Copyright (c) Layerwise contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip in the bare virtual environments it creates by running a
``get-pip`` script it downloads, unless a copy is cached at
``~/.ansible/test/cache/get_pip_<version>.py`` (the version is the ``pip='...'`` value in
``ansible_test/_internal/python_requirements.py``, dots as underscores). Where that host is
unreachable, copy this file to that path.

It installs the pip bundled with Python through ``ensurepip``, then runs
``python -m pip install --upgrade <arguments>`` with the arguments ansible-test passed,
less the get-pip-only flags, and exits with pip's return code.
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_FLAGS = frozenset(('--no-setuptools', '--no-wheel', '--no-pip'))


def main() -> int:
    """Bootstrap pip with ensurepip, then install the requested packages with it."""
    # ensurepip removes every PIP_* variable from os.environ and points PIP_CONFIG_FILE at
    # os.devnull; the pip run below needs the original settings (for example TLS certificates).
    saved_environ = dict(os.environ)

    ensurepip.bootstrap(upgrade=True)

    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    command = [sys.executable, '-m', 'pip', 'install', '--upgrade'] + args

    return subprocess.call(command, env=saved_environ)


if __name__ == '__main__':
    sys.exit(main())
