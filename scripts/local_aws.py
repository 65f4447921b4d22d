# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop the local AWS endpoint (moto in server mode) on loopback.

    python scripts/local_aws.py start [--state-dir DIR]   # prints the endpoint URL
    python scripts/local_aws.py url   [--state-dir DIR]
    python scripts/local_aws.py reset [--state-dir DIR]
    python scripts/local_aws.py stop  [--state-dir DIR]

The server listens on a free port of 127.0.0.1 and is stopped by its own PID,
which is kept in the state directory with its port and log. It is only ever
used with dummy credentials; nothing here talks to real AWS.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

DEFAULT_STATE_DIR = os.path.join(
    os.environ.get("CACHE") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache"), "local-aws"
)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url):
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def read_state(state_dir):
    try:
        with open(os.path.join(state_dir, "pid"), encoding="ascii") as pid_file:
            pid = int(pid_file.read())
        with open(os.path.join(state_dir, "port"), encoding="ascii") as port_file:
            port = int(port_file.read())
    except (OSError, ValueError):
        return None, None
    return pid, port


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def start(state_dir):
    pid, port = read_state(state_dir)
    if pid and alive(pid) and answers(f"http://127.0.0.1:{port}"):
        return f"http://127.0.0.1:{port}"
    os.makedirs(state_dir, exist_ok=True)
    moto_server = os.path.join(os.path.dirname(sys.executable), "moto_server")
    for _attempt in range(5):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(os.path.join(state_dir, "server.log"), "ab") as log:
            process = subprocess.Popen(  # pylint: disable=consider-using-with
                [moto_server, "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if answers(url):
                with open(os.path.join(state_dir, "pid"), "w", encoding="ascii") as pid_file:
                    pid_file.write(str(process.pid))
                with open(os.path.join(state_dir, "port"), "w", encoding="ascii") as port_file:
                    port_file.write(str(port))
                return url
            time.sleep(0.2)
        # Lost the port to another process, or too slow: stop it and try another port.
        if process.poll() is None:
            process.terminate()
            process.wait(10)
    raise SystemExit(f"local AWS endpoint did not start; see {os.path.join(state_dir, 'server.log')}")


def stop(state_dir):
    pid, _port = read_state(state_dir)
    if pid and alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    for name in ("pid", "port"):
        try:
            os.remove(os.path.join(state_dir, name))
        except FileNotFoundError:
            pass


def url_of(state_dir):
    pid, port = read_state(state_dir)
    if not (pid and alive(pid)):
        raise SystemExit("local AWS endpoint is not running")
    return f"http://127.0.0.1:{port}"


def reset(state_dir):
    request = urllib.request.Request(url_of(state_dir) + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "url", "reset"])
    parser.add_argument("--state-dir", default=os.environ.get("LOCAL_AWS_STATE_DIR", DEFAULT_STATE_DIR))
    args = parser.parse_args()
    if args.action == "start":
        print(start(args.state_dir))
    elif args.action == "stop":
        stop(args.state_dir)
    elif args.action == "url":
        print(url_of(args.state_dir))
    else:
        reset(args.state_dir)


if __name__ == "__main__":
    main()
