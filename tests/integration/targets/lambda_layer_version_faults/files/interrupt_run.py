# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command and interrupt it as Ctrl-C does, once the fault proxy has seen an operation.

    python interrupt_run.py --proxy URL --operation DeleteLayerVersion [--timeout 120] -- COMMAND...

The command runs in a session of its own; when the proxy's log shows the operation, SIGINT
goes to its whole process group (as a terminal's Ctrl-C does), and SIGKILL after a grace
period if anything is left. Prints JSON: whether the operation was seen, the exit code.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request


def seen(proxy, operation):
    with urllib.request.urlopen(f"{proxy}/__faults__/log", timeout=5) as answer:
        return any(entry.get("operation") == operation for entry in json.load(answer))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--operation", required=True)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        deadline = time.monotonic() + args.timeout
        found = False
        while time.monotonic() < deadline and process.poll() is None:
            if seen(args.proxy, args.operation):
                found = True
                break
            time.sleep(0.2)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output = process.stdout.read().decode("utf-8", "replace")
    json.dump({"seen": found, "returncode": process.returncode, "output": output[-4000:]}, sys.stdout)


if __name__ == "__main__":
    main()
