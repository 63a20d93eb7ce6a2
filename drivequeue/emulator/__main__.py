"""Run the Drive emulator on the loopback interface.

Usage:
    python -m drivequeue.emulator --port 8765 --token-file var/emulator/token.json --folder queue
    python -m drivequeue.emulator --latency-ms 150 --fail-rate 0.2 --list-lag-s 2
    python -m drivequeue.emulator --folder stories -- COMMAND [ARGS...]

It prints the environment a web app or worker needs to use it instead of Google
Drive. Given a command after ``--``, it runs the command with that environment
set (``DRIVEQUEUE_DRIVE_ENDPOINT``, ``DRIVEQUEUE_TOKEN``, ``DRIVEQUEUE_URL``) and
stops when the command ends. State lives in memory and is gone when it stops.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from ..auth import write_private
from ..shutdown import restore_ctrl_c
from . import Emulator, Faults


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m drivequeue.emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every API request")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction of API requests answered 403/429/500/503")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="fraction of API requests whose connection is dropped")
    parser.add_argument("--list-lag-s", type=float, default=0.0, help="seconds before files.list shows a change")
    parser.add_argument("--seed", type=int, default=None, help="random seed for the faults")
    parser.add_argument("--token-file", type=Path, help="write a user's token JSON here (for DRIVEQUEUE_TOKEN_FILE)")
    parser.add_argument("--client-secret-file", type=Path, help="write an OAuth client JSON here (for `drivequeue auth`)")
    parser.add_argument("--folder", help="create a queue folder with this name and print its drive:// URL")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser.parse_args(own), command


def main(argv: list[str] | None = None) -> int:
    args, command = parse_args(argv)
    restore_ctrl_c()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(message)s")
    faults = Faults(fail_rate=args.fail_rate, drop_rate=args.drop_rate, latency_s=args.latency_ms / 1000, seed=args.seed)
    emulator = Emulator(port=args.port, faults=faults, list_lag_s=args.list_lag_s)
    token = emulator.token_info()
    env = {"DRIVEQUEUE_DRIVE_ENDPOINT": emulator.url}
    if args.client_secret_file:
        write_private(args.client_secret_file, json.dumps(emulator.client_config(), indent=1))
    if args.token_file:
        write_private(args.token_file, json.dumps(token))
        env["DRIVEQUEUE_TOKEN_FILE"] = str(args.token_file)
    if args.folder:
        env["DRIVEQUEUE_URL"] = f"drive://id:{emulator.create_folder(args.folder)}"
    print(f"Drive emulator listening on {emulator.url} (state in memory; Ctrl-C stops it)", file=sys.stderr)
    print("\n".join(f"{name}={value}" for name, value in env.items()), flush=True)
    if command:
        return _run_with(emulator, command, {**env, "DRIVEQUEUE_TOKEN": json.dumps(token)})
    try:
        emulator.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.server.server_close()
    return 0


def _run_with(emulator: Emulator, command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` against the emulator; Ctrl-C reaches the command too, and ends both."""
    with emulator:
        child = subprocess.Popen(command, env={**os.environ, **env})
        try:
            return child.wait()
        except KeyboardInterrupt:
            return child.wait()


if __name__ == "__main__":
    sys.exit(main())
