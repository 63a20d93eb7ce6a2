"""The sentence the page of a job that is not a story shows, whatever its output holds."""

import pytest

from drivequeue.status import JobState, WorkerInfo
from drivequeue import JobStatus
from webapp.job_messages import describe_job

RESULT = {"model": "goats", "steps": 2000, "best_val_loss": 1.8042, "stopped_by": "max steps"}
GPU = WorkerInfo(id="w", host="gpu-box", device="cuda: Tesla T4", last_seen=0.0)


def train(state, **fields):
    return JobStatus(id="job-x.y", kind="train", state=JobState(state), **fields)


def test_a_train_job_says_its_step_its_loss_and_what_it_published():
    running = train("running", worker=GPU, progress={"step": 200, "of": 2000, "best_val_loss": 1.804, "eta_s": 720})
    assert describe_job(running, []) == ("Training: step 200 of 2,000, best validation loss so far 1.804 nats/char, "
                                         "about 12 minutes left on worker gpu-box's Tesla T4 GPU.")
    assert describe_job(train("done", result=RESULT), []) == (
        "Done after 2,000 steps: model 'goats' published (best validation loss 1.804 nats/char).")
    assert describe_job(train("cancelled", result={**RESULT, "steps": 433}), []) == (
        "Stopped at step 433 as asked: model 'goats' published (best validation loss 1.804 nats/char).")
    assert describe_job(train("cancelled"), []) == "Cancelled: nothing was kept."


@pytest.mark.parametrize("result", [None, [], "done", {}, {"steps": "2000", "model": "goats", "best_val_loss": 1.8},
                                    {"steps": 2000, "model": None, "best_val_loss": 1.8},
                                    {"steps": 2000, "model": "goats", "best_val_loss": "low"}])
def test_a_result_without_what_a_train_job_returns_is_said_plainly(result):
    assert describe_job(train("done", result=result), []) == "Done."
    assert describe_job(train("cancelled", result=result), []) in ("Cancelled.", "Cancelled: nothing was kept.")


@pytest.mark.parametrize("progress, said", [
    ({"step": "200"}, "Training (no step reported yet)."),
    ({"step": 200, "of": "2000", "best_val_loss": "low", "eta_s": True}, "Training: step 200."),
    ({"step": 200, "of": None, "eta_s": 30}, "Training: step 200, under a minute left."),
])
def test_a_progress_report_of_other_types_leaves_out_what_it_cannot_say(progress, said):
    assert describe_job(train("running", progress=progress), []) == said
