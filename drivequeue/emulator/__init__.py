"""An offline stand-in for the Google Drive v3 API and Google's OAuth endpoints.

Run it with ``python -m drivequeue.emulator`` or, in tests, in a thread::

    with Emulator(list_lag_s=2) as emulator:
        token = emulator.token_info()          # authorized-user JSON for DRIVEQUEUE_TOKEN
        folder = emulator.create_folder("queue")
        os.environ["DRIVEQUEUE_DRIVE_ENDPOINT"] = emulator.url

It listens on the loopback interface only.
"""

from __future__ import annotations

import threading

from .faults import Faults
from .model import FOLDER_MIME, Drive
from .oauth import DRIVE_FILE_SCOPE, OAuth
from .server import EmulatorServer

__all__ = ["Emulator", "Faults"]


class Emulator:
    """The emulator's server, running in a background thread."""

    def __init__(self, port: int = 0, faults: Faults | None = None, list_lag_s: float = 0.0,
                 token_lifetime_s: float = 3600.0):
        self.drive = Drive(list_lag_s=list_lag_s)
        self.oauth = OAuth(token_lifetime_s=token_lifetime_s)
        self.faults = faults or Faults()
        self.server = EmulatorServer(port, self.drive, self.oauth, self.faults)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None

    @property
    def requests(self):
        """Requests served so far, by Drive method (``files.create``, ``changes.list``...)."""
        return self.server.requests

    def start(self) -> "Emulator":
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="drive-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client_config(self, client_id: str | None = None) -> dict:
        """A registered OAuth client, as the ``client_secret.json`` Google's console downloads."""
        client_id, secret = self.oauth.register_client(client_id)
        return {
            "installed": {
                "client_id": client_id,
                "client_secret": secret,
                "auth_uri": f"{self.url}/auth",
                "token_uri": f"{self.url}/token",
                "redirect_uris": ["http://localhost"],
            }
        }

    def token_info(self, client: dict | None = None) -> dict:
        """Authorized-user JSON (what ``drivequeue auth`` writes) for a newly consented user."""
        client = (client or self.client_config())["installed"]
        refresh, access = self.oauth.grant(client["client_id"])
        return {
            "token": access,
            "refresh_token": refresh,
            "token_uri": client["token_uri"],
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "scopes": [DRIVE_FILE_SCOPE],
        }

    def create_folder(self, name: str) -> str:
        """Create a folder in My Drive (as ``drivequeue auth --create-folder`` does) and return its id."""
        return self.drive.create({"name": name, "mimeType": FOLDER_MIME}, None).id
