"""Google credentials for the Drive store: the one-time consent (run by ``drivequeue auth``,
``drivequeue.auth_cli``) and loading the token.

The web app and every worker use one user's token for one OAuth client, with
the least-privilege ``drive.file`` scope (the app sees only files it created).
The token JSON (authorized-user format) comes from, in order:
``DRIVEQUEUE_TOKEN`` (the JSON itself, e.g. a Heroku config var),
``DRIVEQUEUE_TOKEN_FILE`` (a path), or a notebook secret named ``DRIVEQUEUE_TOKEN``
(Colab or Kaggle: ``drivequeue.notebook_secrets``).
The google-auth library refreshes the access token when it expires.

Token values never appear in messages: errors name where the token came from
and how to fix it, nothing more.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import webbrowser
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from google.oauth2.credentials import Credentials

from .errors import CredentialsError
from .notebook_secrets import SecretNotReadable, notebook_secret

SCOPES = ["https://www.googleapis.com/auth/drive.file"]
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
TOKEN_SECRET = "DRIVEQUEUE_TOKEN"
#: where Google sends the browser in the copy-and-paste flow; nothing needs to listen there
PASTE_REDIRECT_URI = "http://localhost:1/"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

HOW_TO_FIX = (
    "run `drivequeue auth CLIENT_SECRET.json` on a machine with a browser and put the token JSON "
    "it prints into DRIVEQUEUE_TOKEN (a Heroku config var) or a Colab or Kaggle secret named DRIVEQUEUE_TOKEN, "
    "or its path into DRIVEQUEUE_TOKEN_FILE. If the OAuth consent screen is still in 'Testing', "
    "Google expires tokens after 7 days: publish the app (the drive.file scope needs no verification)."
)


def refused_message(problem: str) -> str:
    """``problem`` followed by how to get working credentials."""
    return f"{problem}. To fix it, {HOW_TO_FIX}"


def _is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in LOOPBACK_HOSTS


def token_json(token: str | None, token_file: str | None) -> tuple[str, str]:
    """The token JSON and a description of where it came from (never the JSON in messages)."""
    if token and token.strip():
        return token, "DRIVEQUEUE_TOKEN"
    if token_file and token_file.strip():
        try:
            return Path(token_file).expanduser().read_text(encoding="utf-8"), f"DRIVEQUEUE_TOKEN_FILE ({token_file})"
        except OSError as exc:
            raise CredentialsError(refused_message(f"cannot read DRIVEQUEUE_TOKEN_FILE {token_file}: {exc.strerror}")) from None
        except UnicodeDecodeError:
            raise CredentialsError(refused_message(f"DRIVEQUEUE_TOKEN_FILE {token_file} is not UTF-8 text")) from None
    try:
        secret = notebook_secret(TOKEN_SECRET)
    except SecretNotReadable as exc:
        raise CredentialsError(str(exc)) from None
    if secret is not None:
        return secret.value, secret.source
    raise CredentialsError(refused_message("no Google Drive credentials are configured"))


def credentials_from_json(text: str, source: str) -> Credentials:
    """Credentials from authorized-user JSON, as ``drivequeue auth`` writes it."""
    try:
        info = json.loads(text)
    except ValueError:
        raise CredentialsError(refused_message(f"{source} does not hold valid JSON")) from None
    if not isinstance(info, dict):
        raise CredentialsError(refused_message(f"{source} does not hold a JSON object"))
    missing = [k for k in ("refresh_token", "client_id", "client_secret") if not info.get(k)]
    if missing:
        raise CredentialsError(refused_message(f"the token in {source} lacks {', '.join(missing)}"))
    token_uri = info.get("token_uri") or GOOGLE_TOKEN_URI
    if token_uri != GOOGLE_TOKEN_URI and not _is_loopback(token_uri):
        # the refresh token and client secret are sent there: only Google or a local emulator
        raise CredentialsError(refused_message(f"the token in {source} names an unknown token_uri host {urlsplit(token_uri).hostname!r}"))
    return Credentials(
        token=info.get("token"),
        refresh_token=info["refresh_token"],
        token_uri=token_uri,
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=info.get("scopes") or SCOPES,
    )


def load_credentials(token: str | None = None, token_file: str | None = None) -> Credentials:
    """Credentials from the token JSON, the token file, or the Colab secret (in that order)."""
    return credentials_from_json(*token_json(token, token_file))


# --- the one-time consent ------------------------------------------------------------


def _browser_available(browser: str | None) -> bool:
    try:
        webbrowser.get(browser)
    except webbrowser.Error:
        return False
    return True


def _show(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ask(prompt: str) -> str:
    """Read a line from the user; the prompt goes to stderr so that stdout carries only the token."""
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline()


def run_consent(client_secret: str | os.PathLike, *, paste: bool = False, browser: str | None = None,
                show: Callable[[str], None] = _show, ask: Callable[[str], str] = _ask) -> Credentials:
    """Run Google's installed-app consent flow once and return the user's credentials.

    With a browser on this machine, it opens the consent page and catches the
    redirect on a local port. Without one (``paste`` or none found), it shows
    the URL to open on any other device; the browser there ends on a page that
    does not load, and the user pastes that page's address back here.
    """
    # the consent flow's stack (requests-oauthlib), needed only here
    import requests
    from google_auth_oauthlib.flow import InstalledAppFlow
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secret), scopes=SCOPES)
    except (OSError, ValueError) as exc:
        raise CredentialsError(
            f"cannot use {client_secret} as an OAuth client file ({exc}); download the JSON of a "
            "'Desktop app' OAuth client from the Google Cloud console (APIs & Services > Credentials)"
        ) from None
    token_uri = flow.client_config.get("token_uri", GOOGLE_TOKEN_URI)
    if token_uri.startswith("http://") and _is_loopback(token_uri):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the emulator speaks plain HTTP
    if not paste and _browser_available(browser):
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the token
            return flow.run_local_server(
                port=0, browser=browser, access_type="offline", prompt="consent",
                authorization_prompt_message="If no browser window opened, visit this URL:\n{url}",
            )
    flow.redirect_uri = PASTE_REDIRECT_URI
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    show(
        "Open this URL in a browser on any device and allow access:\n\n"
        f"{url}\n\nThe browser then fails to load a page on localhost; copy that page's whole "
        "address from the address bar and paste it here."
    )
    code = _code_from(ask("Address: "), state)
    try:
        flow.fetch_token(code=code)
    except OAuth2Error as exc:
        raise CredentialsError(f"Google refused the sign-in ({exc.error}: {exc.description}); "
                               "run `drivequeue auth` again") from None
    except requests.RequestException as exc:
        raise CredentialsError(f"cannot reach Google's token endpoint ({type(exc).__name__}); "
                               "check the network and run `drivequeue auth` again") from None
    return flow.credentials


def _code_from(answer: str, state: str) -> str:
    answer = answer.strip()
    if "://" not in answer:
        if not answer:
            raise CredentialsError("nothing was pasted; run `drivequeue auth` again")
        return answer  # the bare code
    query = parse_qs(urlsplit(answer).query)
    if "error" in query:
        raise CredentialsError(f"Google did not grant access ({query['error'][0]}); run `drivequeue auth` again")
    if query.get("state", [state])[0] != state:
        raise CredentialsError("the pasted address belongs to another sign-in; run `drivequeue auth` again")
    if "code" not in query:
        raise CredentialsError("the pasted address holds no code; copy the whole address and try again")
    return query["code"][0]


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with a file holding ``text``, readable by this user only (mode 0600).

    The text goes to a new file beside it (created 0600, so it is never readable by others,
    not even for a moment), which is synced and renamed over ``path``: a reader sees the old
    file or the new one, an existing file's mode does not carry over, and a symbolic link at
    ``path`` is replaced, never followed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
