"""The Heroku deploy: the Procfile's real command serves /healthz; the web side needs no torch."""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER_ONLY = ("torch", "numpy", "matplotlib", "inotify")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(process: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"no {process} process in the Procfile")


def wait_for_healthz(url: str, server: subprocess.Popen) -> int:
    """Poll until the server answers (or exits); the status it answered with."""
    for _ in range(600):
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn never answered")


def test_the_procfile_command_boots_gunicorn_and_serves_healthz(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "SECRET_KEY": "k" * 40,
        "DRIVEQUEUE_URL": str(tmp_path / "queue"),
    }
    env.pop("DYNO", None)
    server = subprocess.Popen(
        ["bash", "-c", "exec " + procfile_command("web")],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert wait_for_healthz(f"http://127.0.0.1:{port}/healthz", server) == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert server.returncode == 0


def test_the_procfile_uses_the_gunicorn_config_and_the_app_factory():
    command = shlex.split(procfile_command("web"))
    assert command[0] == "gunicorn"
    assert command[command.index("--config") + 1] == "gunicorn.conf.py"
    assert command[-1] == "webapp:create_app()"


def test_gunicorn_stops_within_herokus_thirty_seconds(monkeypatch):
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)
    assert settings["bind"] == ["[::]:5123"]
    assert settings["workers"] == 3
    assert settings["timeout"] < 30 and settings["graceful_timeout"] < 30


def requirement_names() -> list[str]:
    """What ``pip install -r requirements.txt`` installs, with this project's extras expanded."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        local = re.fullmatch(r"(?:-e\s+)?\.(?:\[([\w,]+)\])?", line)
        if local:
            names += project["dependencies"]
            for extra in filter(None, (local.group(1) or "").split(",")):
                names += project["optional-dependencies"][extra]
        else:
            names.append(line)
    return [re.split(r"[<>=!~;\[ ]", name, maxsplit=1)[0].lower() for name in names]


def test_requirements_hold_the_web_side_only():
    names = requirement_names()
    assert "flask" in names and "gunicorn" in names and "prometheus-client" in names  # /metrics
    for package in WORKER_ONLY:
        assert not any(name.startswith(package) for name in names), package


def test_the_web_app_never_imports_torch_or_the_worker(tmp_path):
    # as on Heroku, whose install has none of the worker's packages (inotify-simple included)
    script = (
        "import sys\n"
        "sys.modules.update(dict.fromkeys(['torch', 'numpy', 'matplotlib', 'inotify_simple']))\n"
        "from webapp import create_app\n"
        "client = create_app().test_client()\n"
        "assert client.get('/healthz').status_code == 200\n"
        "answer = client.post('/api/stories', json={'seed': 'Once upon a time', 'lines': 3})\n"
        "assert answer.status_code == 202, answer.get_data(as_text=True)\n"
        "print(sorted(m for m, module in sys.modules.items() if module and m.split('.')[0] in ('torch', 'colab_worker')))\n"
    )
    env = {**os.environ, "WEBAPP_ENV": "development", "DRIVEQUEUE_URL": str(tmp_path / "q")}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_app_json_generates_the_secret_and_asks_for_the_queue():
    app = json.loads((ROOT / "app.json").read_text())
    assert app["env"]["SECRET_KEY"]["generator"] == "secret"
    assert app["env"]["WEBAPP_OPERATOR_KEY"]["generator"] == "secret"  # the operator page is never open
    assert app["env"]["DRIVEQUEUE_URL"]["required"] is True
    assert app["env"]["DRIVEQUEUE_TOKEN"]["required"] is True
    assert re.fullmatch(r"3\.\d+", (ROOT / ".python-version").read_text().strip())

