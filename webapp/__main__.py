"""``python -m webapp --port N``: the web app on Flask's development server, for this machine
only (``make demo``; Heroku runs gunicorn, see ``Procfile``). honcho stops it on Ctrl-C with a
SIGTERM, which ends it as a clean stop (exit status 0), as Ctrl-C itself does."""

from __future__ import annotations

import argparse
import signal
import sys

from . import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp", description="The web app on Flask's development "
                                     "server, for this machine only (make demo).")
    parser.add_argument("--port", type=int, default=5000, help="the port on 127.0.0.1 (default 5000)")
    args = parser.parse_args(argv)
    app = create_app()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    app.run(host="127.0.0.1", port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
