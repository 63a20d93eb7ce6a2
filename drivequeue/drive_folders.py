"""The queue's folder on Drive: finding it by name (``drive://NAME``) and creating it
(``drivequeue folder``, ``drivequeue auth --folder``). With the ``drive.file`` scope the
app sees only the folders it created, so a name is looked up, never guessed."""

from __future__ import annotations

from googleapiclient.errors import HttpError

from .drive_client import DriveAPI, describe, quoted
from .errors import BadStoreURL, StoreUnavailable

FOLDER_MIME = "application/vnd.google-apps.folder"


def _execute(api: DriveAPI, method: str, make_request, what: str):
    """Run a call outside a store; Drive's refusals become ``StoreUnavailable`` saying ``what`` failed."""
    try:
        return api.execute(method, make_request)
    except HttpError as e:
        raise StoreUnavailable(f"cannot {what} ({describe(e)})") from None


def check_folder(api: DriveAPI, folder_id: str) -> None:
    """``BadStoreURL`` unless ``folder_id`` is a folder this app can see, out of the trash."""
    try:
        folder = api.execute("files.get", lambda: api.files().get(fileId=folder_id, fields="mimeType,trashed"))
    except HttpError as e:
        if e.resp.status == 404:
            raise BadStoreURL(
                f"no Drive folder {folder_id} that this app can see (with the drive.file scope it sees only "
                "folders it created: create one with `drivequeue folder NAME`)"
            ) from None
        raise StoreUnavailable(f"cannot open the Drive folder ({describe(e)})") from None
    if folder.get("mimeType") != FOLDER_MIME or folder.get("trashed"):
        raise BadStoreURL(f"Drive file {folder_id} is not a folder (or it is in the trash)")


def find_folder(api: DriveAPI, name: str) -> str:
    """The id of the one folder called ``name`` that this app created; never creates one."""
    found = _folders_named(api, name)
    if not found:
        raise BadStoreURL(
            f"no Drive folder named {name!r} that this app created; create it once with "
            f"`drivequeue folder {name}` and use the drive://id:... URL it prints"
        )
    if len(found) > 1:
        urls = ", ".join(f"drive://id:{i}" for i in found)
        raise BadStoreURL(f"several Drive folders are named {name!r}; pick one: {urls}")
    return found[0]


def _folders_named(api: DriveAPI, name: str) -> list[str]:
    query = f"name = {quoted(name)} and mimeType = '{FOLDER_MIME}' and trashed = false"
    page = _execute(api, "files.list", lambda: api.files().list(q=query, fields="files(id)", pageSize=10),
                    "look up the Drive folder")
    return [f["id"] for f in page.get("files", [])]


def create_folder(api: DriveAPI, name: str) -> tuple[str, bool]:
    """Create the queue folder ``name`` in My Drive: (its id, whether it was created now).

    An existing folder of that name is returned instead of making a second one.
    """
    existing = _folders_named(api, name)
    if existing:
        return existing[0], False
    folder_id = _execute(api, "files.generateIds", lambda: api.files().generateIds(count=1, space="drive"),
                         "create the Drive folder")["ids"][0]
    body = {"id": folder_id, "name": name, "mimeType": FOLDER_MIME}
    try:
        api.execute("files.create", lambda: api.files().create(body=body, fields="id"))
    except HttpError as e:
        if e.resp.status != 409:  # 409: our own create, retried after a lost answer
            raise StoreUnavailable(f"cannot create the Drive folder ({describe(e)})") from None
    return folder_id, True
