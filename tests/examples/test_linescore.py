"""The linescore example end to end on a local queue with real worker processes, beside a worker
of the same version that lacks its plugin: that one never takes or fails the job (rolling upgrades)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.colab_worker.worker_support import REPO, WorkerProcess, follow, queue_env, queue_for, submit_story

PLUGIN = "examples.linescore.plugin"


def test_a_file_goes_in_a_score_table_and_a_json_result_come_out_and_a_worker_without_the_plugin_leaves_it(
        tmp_path):
    env = queue_env(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("the cat sat on the mat\n" * 30 + "zqxj vbkw pfft\n" + "the cat sat on the mat\n" * 30)
    queue = queue_for(env)
    plain = WorkerProcess(env, tmp_path / "plain.log", "--max-batch", "2")  # stories only
    scorer = None
    try:
        plain.wait_for_log("serving story, train")
        client = subprocess.Popen([sys.executable, "-m", "examples.linescore.client", str(text), "--steps", "150",
                                   "--out", str(tmp_path / "out"), "--timeout", "240"],
                                  env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        job_key = None
        while job_key is None:  # the client says which job it queued
            line = client.stderr.readline()
            assert line, "the client ended without queueing a job"
            if line.startswith("queued "):
                job_key = line.split()[1].split(".")[0]
        # the plain worker runs a story submitted after it, so it has looked past the linescore job
        story = submit_story(env, "The king", 1)
        assert follow(queue, story, lambda s: s["status"] == "done")["status"] == "done"
        waiting = queue.reader.view(job_key)
        assert waiting.state.value == "queued" and waiting.waiting_for == "linescore v1"
        assert waiting.claims == []

        scorer = WorkerProcess(env, tmp_path / "scorer.log", "--plugin", PLUGIN)
        out, err = client.communicate(timeout=300)
        assert client.returncode == 0, err
    finally:
        for worker in (plain, scorer):
            if worker is not None:
                worker.signal()
                assert worker.wait() == 0
    result = json.loads(out)
    assert result["lines"] == 61
    assert result["most_surprising"] == {"line": 31, "text": "zqxj vbkw pfft"}
    rows = (tmp_path / "out" / "scores.tsv").read_text().splitlines()
    assert len(rows) == 61 and rows[30].endswith("\tzqxj vbkw pfft")
    assert float(rows[30].split("\t")[0]) > 1.5 * float(rows[0].split("\t")[0])
    assert job_key not in plain.log  # the worker without the plugin never touched it
    assert f"linescore job {job_key} done" in scorer.log
