"""The story plugin's own ``drivequeue`` commands and flags: ``submit story``, ``submit train``,
and the story's paragraph breaks in ``tail`` and ``status --json``."""

from __future__ import annotations

import json

import pytest

from drivequeue import LocalStore, Queue
from drivequeue.cli import main
from stories.plugin import KINDS
from tests.stories.test_training_options import NOT_DEFAULTS, flags_for


@pytest.fixture
def queue(tmp_path, fast_timing):
    store = LocalStore(tmp_path / "queue")
    yield Queue(store, fast_timing, kinds={kind.name: kind for kind in KINDS})
    store.close()


@pytest.fixture
def run(queue, capsys):
    """Run the CLI in this process on ``queue``; returns (exit status, stdout, stderr)."""
    def run(*args):
        code = main([*args, "--queue", queue.store.url])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_submit_story_takes_the_seed_and_the_sampling_flags(run, queue):
    code, out, _ = run("submit", "story", "--seed", "Once upon a time", "--lines", "3", "--temperature", "1.1")
    assert code == 0
    payload = queue.status(out.strip().splitlines()[-1])["payload"]
    assert payload["seed"] == "Once upon a time" and payload["lines"] == 3 and payload["temperature"] == 1.1


def test_tail_and_status_json_show_paragraph_breaks(run, queue):
    job_id = queue.submit("story", {"seed": "s", "lines": 4})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["One.", "Two."], marks={"paragraph_ends": [1]}, meta={"seed_end": "sentence"})
        claim.append(["Three."], marks={"paragraph_ends": [0]})
        claim.append(["Four."])
        claim.complete()
    code, out, _ = run("tail", job_id)
    assert code == 0 and out.splitlines() == ["s", "One.", "Two.", "", "Three.", "", "Four."]  # its seed first
    code, out, _ = run("status", job_id, "--json", "--after", "2")
    shown = json.loads(out)
    assert shown["lines"] == ["Three.", "Four."] and shown["paragraph_ends"] == [2]
    assert shown["seed_end"] == "sentence"


def test_submit_train_takes_the_corpus_and_names_the_model_after_it(run, queue):
    code, out, _ = run("submit", "train", "corpora/Grimm.v2.txt", "--steps", "300")
    assert code == 0
    payload = queue.status(out.split()[-1])["payload"]
    assert payload["corpus"] == "corpora/Grimm.v2.txt" and payload["model"] == "grimm-v2"
    assert payload["steps"] == 300
    code, out, _ = run("submit", "train", "tales.txt", "--model", "tales2")
    assert code == 0 and queue.status(out.split()[-1])["payload"]["model"] == "tales2"


def test_every_training_option_on_submit_train_reaches_the_jobs_payload(run, queue):
    code, out, _ = run("submit", "train", "tales.txt", *flags_for(NOT_DEFAULTS))
    assert code == 0
    payload = queue.status(out.split()[-1])["payload"]
    assert {name: payload[name] for name in NOT_DEFAULTS} == NOT_DEFAULTS


def test_continue_and_cancel_take_the_storys_flags(run, queue):
    job_id = queue.submit("story", {"seed": "s", "lines": 2})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["1", "2"])
        claim.complete()
    code, out, _ = run("continue", job_id, "--lines", "3", "--temperature", "0.5")
    assert code == 0 and "status: queued" in out
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        more = worker.claim_next()
        assert more.settings["lines"] == 3 and more.settings["temperature"] == 0.5
        more.append(["3", "4", "5"])
        code, out, _ = run("cancel", job_id, "--seen", "3")
        assert code == 0 and queue.status(job_id).lines == ("1", "2", "3", "4")
        more.complete()


@pytest.mark.parametrize("args, message", [
    (["submit", "story", "--seed", ""], "error: --seed is blank: it needs at least one character that is not a space"),
    (["submit", "story", "--seed", "s", "--lines", "1000"], "error: --lines must be a whole number from 1 to 100"),
    (["submit", "story", "--seed", "s", "--top-p", "0"], "error: --top-p must be a number above 0 and at most 1\n"),
    (["submit", "story", "--seed", "s", "--random-seed=-1"], "error: --random-seed must be a whole number from 0"),
    (["submit", "train", "../x", "--model", "m"], "error: corpus must be"),
    (["submit", "train", "tales.txt", "--model", "default"], "'default' is the shipped model"),
])
def test_bad_story_flags_are_one_line_on_stderr_and_exit_status_2(run, args, message):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_tail_prints_a_story_as_colab_worker_generate_does(run, queue):
    job_id = queue.submit("story", {"seed": "The fox was hungry", "lines": 3})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()  # the first line completes the seed's sentence
        claim.append([" and went out.", "He met a goose."], marks={"paragraph_ends": [0]},
                     meta={"seed_end": "mid-sentence"})
        claim.append(["It ran."])
        claim.complete()
    code, out, _ = run("tail", job_id)
    assert code == 0 and out == "The fox was hungry and went out.\n\nHe met a goose.\nIt ran.\n"
    code, out, _ = run("status", job_id, "--after", "1")
    assert out.endswith("lines: 3 of 3\n\nHe met a goose.\nIt ran.\n")
