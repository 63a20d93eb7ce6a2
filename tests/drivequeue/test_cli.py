"""The ``drivequeue`` command line, on the tests' own job kinds (``--plugin``; the story plugin's
commands are tested in tests/stories/test_cli.py)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drivequeue import Queue
from drivequeue.cli import main

from .lines_plugin import BY_NAME

REPO = Path(__file__).resolve().parents[2]
PLUGIN = ("--plugin", "tests.drivequeue.lines_plugin")
#: for a command run in another folder: the tests' plugin is found from the repository
IMPORTABLE = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture
def command(capsys, monkeypatch, fast_timing):
    """Run the CLI in this process with ``args``; returns (exit status, stdout, stderr)."""
    for name, value in vars(fast_timing).items():
        monkeypatch.setenv(f"DRIVEQUEUE_{name.upper()}", str(value))

    def command(*args):
        code = main([*args, *PLUGIN])
        out, err = capsys.readouterr()
        return code, out, err

    return command


@pytest.fixture
def run(store, command):
    """``command`` on the test's queue folder."""
    return lambda *args: command(*args, "--queue", store.url)


def test_submit_prints_the_id_last_and_status_json_is_the_api_object(run, queue):
    code, out, _ = run("submit", "lines", "--payload", '{"text": "Once upon a time", "count": 3, "pace": 1.1}')
    assert code == 0
    job_id = out.strip().splitlines()[-1]
    code, out, _ = run("status", job_id, "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown == queue.status(job_id).to_dict()
    assert shown["status"] == "queued" and shown["payload"]["pace"] == 1.1
    code, out, _ = run("status", job_id)
    assert code == 0 and "status: queued (position 1 in the queue)" in out


def test_tail_follows_lines_until_the_job_is_done(run, queue):
    job_id = queue.submit("lines", {"text": "s", "count": 3})

    def work():
        with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
            claim = worker.claim_next()
            for text in ("one", "two", "three"):
                claim.append([text])
            claim.complete()

    writer = threading.Thread(target=work)
    writer.start()
    code, out, _ = run("tail", job_id, "--timeout", "60")
    writer.join()
    assert code == 0 and out == "one\ntwo\nthree\n"


def test_tail_and_status_json_show_the_job_the_way_its_kind_reads_it(run, queue):
    job_id = queue.submit("lines", {"text": "s", "count": 4})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["One.", "Two."], marks={"breaks": [1]}, meta={"ending": "full"})
        claim.append(["Three."], marks={"breaks": [0]})
        claim.append(["Four."])
        claim.complete()
    code, out, _ = run("tail", job_id)
    assert code == 0 and out.splitlines() == ["One.", "Two.", "", "Three.", "", "Four."]  # as the kind prints it
    code, out, _ = run("status", job_id)
    assert code == 0 and out.endswith("lines: 4 of 4\n\nOne.\nTwo.\n\nThree.\n\nFour.\n")
    code, out, _ = run("status", job_id, "--json", "--after", "2")
    shown = json.loads(out)
    assert shown["lines"] == ["Three.", "Four."] and shown["breaks"] == [2] and shown["ending"] == "full"


def test_tail_of_a_cancelled_job_prints_the_lines_written_until_its_worker_stopped(run, queue):
    job_id = queue.submit("lines", {"text": "s", "count": 5})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["one"])
        code, out, _ = run("cancel", job_id)
        assert code == 0 and "status: cancelled (its worker is still ending the line it was writing)" in out

        def finish_the_line():
            claim.append(["two"])
            claim.complete()

        writer = threading.Timer(0.5, finish_the_line)
        writer.start()
        code, out, err = run("tail", job_id, "--timeout", "60")
        writer.join()
    assert code == 1 and out.splitlines() == ["one", "two"] and "job cancelled" in err


def test_cancel_continue_list_workers_and_gc(run, queue):
    job_id = queue.submit("lines", {"text": "s", "count": 1})
    code, out, _ = run("cancel", job_id)
    assert code == 0 and "status: cancelled" in out
    code, out, err = run("tail", job_id)
    assert code == 1 and "cancelled" in err
    code, out, _ = run("continue", job_id, "--payload", '{"count": 2}')
    assert code == 0 and "status: queued" in out
    code, out, _ = run("list")
    assert code == 0 and job_id.split(".")[0] in out and "queued" in out
    assert json.loads(run("list", "--json")[1])[0]["segments"] == 2
    with queue.worker(host="gpu-box", device="T4", offers=["default"]):
        code, out, _ = run("workers")
        assert code == 0 and "gpu-box" in out and "online" in out and "T4" in out
    assert run("workers")[1].strip() == "no workers"
    code, out, _ = run("gc", "--json")
    assert code == 0 and json.loads(out)["removed_jobs"] == 0


@pytest.mark.parametrize("args, message", [
    (["status", "../x"], "error: '../x' is not a job id: an id is the KEY.SECRET that submit printed"),
    (["status", "%2e%2e"], "'%2e%2e' is not a job id"),
    (["status", "k" * 20 + "." + "s" * 22, "--after=-1"], "error: --after must be a whole number, 0 or more"),
    (["cancel", "a" * 1024], "'" + "a" * 40 + "...' is not a job id"),
    (["submit", "lines", "--payload", '{"text": " "}'], "error: text is blank: it needs at least one character"),
    (["submit", "lines", "--payload", '{"text": "s", "count": 1000}'], "error: count must be a whole number from 1 to 20"),
    (["submit", "lines", "--payload", '{"text": "s", "pace": 0}'], "error: pace must be a number from 0.1 to 2\n"),
    (["submit", "lines", "--payload", "[1]"], "error: --payload must be a JSON object"),
    (["submit", "lines", "--payload", "{"], "error: --payload is not valid JSON"),
    (["continue", "k" * 20 + "." + "s" * 22, "--payload", "{"], "error: --payload is not valid JSON"),
    (["submit", "lines", "--payload", "[" * 100_000], "error: --payload nests more than 32 levels deep"),
    (["cancel", "k" * 20 + "." + "s" * 22, "--options", '{"a":' * 50_000], "error: --options nests more than 32"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_status_2(run, args, message):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_an_unknown_job_and_a_bad_state_exit_1(run, queue):
    code, _, err = run("status", queue.new_job_id())
    assert code == 1 and "no such job" in err
    job_id = queue.submit("lines", {"text": "s"})
    code, _, err = run("continue", job_id)
    assert code == 1 and "queued" in err


def test_a_bad_queue_url_is_bad_input(capsys):
    assert main(["list", "--queue", "s3://bucket"]) == 2
    assert "unknown queue URL scheme" in capsys.readouterr().err


def test_a_corrupt_job_does_not_crash_status_or_list(run, store):
    key, = store.new_keys("job")
    store.create(key, "job", b"\x00\x01 not json")
    code, out, _ = run("status", key + "." + "s" * 22, "--json")
    assert code == 0 and json.loads(out)["status"] == "failed"
    code, out, _ = run("list")
    assert code == 0 and "corrupt job file" in out


def test_the_console_script_and_the_module_run(store):
    script = Path(sys.executable).with_name("drivequeue")
    done = subprocess.run([str(script), "submit", "note", "--payload", '{"text": "hi"}', "--queue", store.url,
                           *PLUGIN], env=IMPORTABLE, capture_output=True, text=True, check=True)
    job_id = done.stdout.strip().splitlines()[-1]
    shown = subprocess.run([sys.executable, "-m", "drivequeue", "status", job_id, "--json", "--queue", store.url],
                           capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout)["id"] == job_id
    assert Queue(store, kinds=BY_NAME).status(job_id)["status"] == "queued"


def test_output_cut_short_by_the_reader_ends_without_a_traceback(tmp_path):
    queue_dir = tmp_path / "queue"
    queue_dir.mkdir()
    env = {**IMPORTABLE, "DRIVEQUEUE_URL": str(queue_dir)}
    cli = [sys.executable, "-m", "drivequeue", *PLUGIN]
    job_id = subprocess.run([*cli, "submit", "note", "--payload", json.dumps({"text": "x" * 200})], env=env,
                            capture_output=True, text=True, check=True).stdout.split()[-1]
    # ``head -c 0`` is gone before the command writes: the write meets a closed pipe
    done = subprocess.run(f"{shlex.join([*cli, 'status', job_id, '--json'])} | head -c 0", shell=True, env=env,
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def _cli(*args, env=IMPORTABLE):
    return subprocess.run([sys.executable, "-m", "drivequeue", *args, *PLUGIN], env=env, capture_output=True,
                          text=True, timeout=120)


def test_every_key_list_prints_works_with_status_tail_and_cancel(run, store):
    first = run("submit", "note", "--payload", '{"text": "Once"}')[1].split()[-1]
    code, listed, _ = run("list")
    key = listed.split()[0]
    assert code == 0 and first.startswith(key + ".") and key != first
    code, shown, err = run("status", key, "--json")
    assert code == 0, err
    assert json.loads(shown)["status"] == "queued"
    code, out, err = run("cancel", key)
    assert code == 0 and "status: cancelled" in out, err
    code, _, err = run("tail", key, "--timeout", "30")
    assert code == 1 and "job cancelled" in err and "malformed" not in err
    cancel_record, = [entry.key for entry in store.list("cancel")]
    code, _, err = run("cancel", cancel_record)  # a key, but not a job's
    assert code == 1 and "no such job" in err


def test_a_mistyped_queue_folder_is_an_error_and_is_not_created(command, tmp_path):
    typo = tmp_path / "no" / "such" / "queue"
    for args in (["list"], ["submit", "note", "--payload", '{"text": "x"}'], ["workers"], ["gc"]):
        code, out, err = command(*args, "--queue", str(typo))
        assert code == 2, (args, out, err)
        assert str(typo) in err and "Traceback" not in err
        assert not (tmp_path / "no").exists()
    code, _, err = command("list", "--queue", f"file://{typo}")
    assert code == 2 and str(typo) in err


def test_status_in_a_fresh_process_says_when_a_running_jobs_worker_was_last_seen(store, queue):
    job_id = queue.submit("lines", {"text": "s", "count": 3})
    session = queue.worker(host="h", device="cpu", offers=["default"], background=False).__enter__()
    assert session.claim_next() is not None
    # the worker died an hour ago: its heartbeat file still says when it last beat
    heartbeat = json.loads(store.read(session.key))
    heartbeat["time"] -= 3600
    store.write(session.key, json.dumps(heartbeat).encode())
    env = {key: value for key, value in IMPORTABLE.items() if not key.startswith("DRIVEQUEUE_")}
    shown = _cli("status", job_id, "--queue", store.url, env=env)
    assert shown.returncode == 0, shown.stderr
    status_line, = [line for line in shown.stdout.splitlines() if line.startswith("status:")]
    assert re.fullmatch(r"status: running on \S+ \(cpu\) \(worker last seen 360\d s ago\)", status_line), status_line


@pytest.mark.parametrize("command", [("drivequeue", "list"), ("drivequeue", "status", "job-abc.def"),
                                     ("colab_worker", "run", "--device", "cpu")])
def test_run_in_another_folder_without_a_queue_named_it_says_so_and_creates_nothing(command, tmp_path):
    env = {name: value for name, value in os.environ.items() if name not in ("DRIVEQUEUE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-m", *command], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode in (1, 2), done
    assert ("no queue is named: pass --queue URL, or set DRIVEQUEUE_URL to a folder (var/queue, "
            "file:///path), drive://id:FOLDER_ID or redis://...") in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # no ./var/queue made up here


def test_a_queue_folder_that_does_not_exist_is_named_whole(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "DRIVEQUEUE_URL": "var/queue"}
    done = subprocess.run([sys.executable, "-m", "drivequeue", "list"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert f"there is no queue folder {tmp_path / 'var' / 'queue'}: check the path" in done.stderr
    assert list(tmp_path.iterdir()) == []
