"""``drivequeue auth`` and ``drivequeue folder``: sign in to Google once, create the queue folder."""

from __future__ import annotations

import sys
from pathlib import Path

from .auth import run_consent, write_private


def register(subparsers, common) -> None:
    auth = subparsers.add_parser(
        "auth", help="sign in to Google once and print the token JSON for DRIVEQUEUE_TOKEN",
        description="Runs Google's consent flow for an OAuth client of type 'Desktop app' "
                    "(scope drive.file) and prints or writes the token JSON.")
    auth.add_argument("client_secret", help="the OAuth client JSON downloaded from the Google Cloud console")
    auth.add_argument("--out", type=Path, help="write the token JSON to this file (mode 600) instead of printing it")
    auth.add_argument("--no-browser", action="store_true",
                      help="do not open a browser here: print a URL to open on another device")
    auth.add_argument("--folder", metavar="NAME", help="also create the queue folder NAME and print its drive:// URL")
    auth.set_defaults(func=cmd_auth)

    folder = subparsers.add_parser(
        "folder", help="create the queue folder on Google Drive and print its drive://id:... URL")
    folder.add_argument("name", help="the folder's name in My Drive")
    folder.set_defaults(func=cmd_folder)


def cmd_auth(args) -> int:
    credentials = run_consent(args.client_secret, paste=args.no_browser)
    token = credentials.to_json()
    if args.out:
        try:
            write_private(args.out, token)
            print(f"Wrote the token to {args.out}; use it as DRIVEQUEUE_TOKEN_FILE.", file=sys.stderr)
        except OSError as exc:  # the consent is not lost: the token is printed instead
            print(f"drivequeue: cannot write {args.out} ({exc.strerror}); here is the token instead:",
                  file=sys.stderr)
            print(token)
    else:
        print(token)
    print("Keep this token secret. Give the same JSON to the web app (heroku config:set "
          "DRIVEQUEUE_TOKEN='...') and to the notebook (a Colab secret named DRIVEQUEUE_TOKEN).",
          file=sys.stderr)
    if args.folder:
        from .drive_client import DriveAPI  # the Drive client, only when it is used
        from .drive_folders import create_folder
        from .drive_settings import DriveSettings

        api = DriveAPI(credentials, endpoint=DriveSettings.from_env().endpoint)
        _print_folder(*create_folder(api, args.folder), args.folder)
    return 0


def cmd_folder(args) -> int:
    from .drive_folders import create_folder
    from .drive_settings import DriveSettings

    _print_folder(*create_folder(DriveSettings.from_env().api(), args.name), args.name)
    return 0


def _print_folder(folder_id: str, created: bool, name: str) -> None:
    state = "Created" if created else "Found the existing"
    print(f"{state} queue folder {name!r}. Set this on the web app and in the notebook:", file=sys.stderr)
    print(f"DRIVEQUEUE_URL=drive://id:{folder_id}")
