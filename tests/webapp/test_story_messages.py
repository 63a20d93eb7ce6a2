"""The sentence the story page shows for each state."""

from dataclasses import replace

from drivequeue.status import JobState, WorkerInfo
from stories.status import StoryStatus
from webapp.story_messages import describe

NOW = 1_700_000_000.0


def story(state, **fields):
    return StoryStatus(id="job-x.y", kind="story", state=JobState(state), **fields)


def queued(position=1, attempt=0):
    return story("queued", queue_position=position, attempt=attempt)


def worker(host, device):
    return WorkerInfo(id="w", host=host, device=device, last_seen=NOW)


def test_queued_with_a_worker_online():
    assert describe(queued(3), [{"online": True}], NOW) == "Queued: 2 stories are ahead of yours."


def test_queued_while_the_workers_online_cannot_write_it():
    waiting = replace(queued(1), waiting_for="story v2 with model 'tales'")
    assert describe(waiting, [{"online": True}], NOW) == (
        "Queued: yours is next. No worker online can run it (it needs story v2 with model 'tales'): "
        "it starts when one that can comes.")


def test_queued_with_no_worker_for_some_minutes():
    workers = [{"online": False, "last_seen": NOW - 600}, {"online": False, "last_seen": NOW - 125}]
    assert describe(queued(), workers, NOW) == (
        "Queued: yours is next. No worker has been online for 2 minutes."
    )


def test_queued_when_the_last_worker_just_left():
    workers = [{"online": False, "last_seen": NOW - 20}]
    assert describe(queued(), workers, NOW).endswith("(the last one left under a minute ago).")


def test_queued_again_after_a_worker_vanished():
    view = replace(queued(1, attempt=1), line_count=4)
    assert describe(view, [{"online": True}], NOW) == (
        "Queued: yours is next. A worker stopped while writing it; the next one resumes after line 4."
    )


def test_running_names_the_line_the_worker_and_its_device():
    view = story("running", progress={"line": 4, "of": 10}, worker=worker("colab-7f", "cuda: Tesla T4"))
    assert describe(view, [], NOW) == "Writing line 4 of 10 on worker colab-7f's Tesla T4 GPU."
    on_cpu = replace(view, worker=worker("vm", "cpu"))
    assert describe(on_cpu, [], NOW) == "Writing line 4 of 10 on worker vm's processor (no GPU)."
    numbered = replace(view, worker=worker("box", "cuda:0"))
    assert describe(numbered, [], NOW) == "Writing line 4 of 10 on worker box's GPU."


def test_running_without_a_progress_report_counts_the_lines_written():
    view = story("running", line_count=6, lines_requested=13, segments=1)
    assert describe(view, [], NOW) == "Writing line 7 of 13."
    # continued: the total requested says nothing about this request's lines
    assert describe(replace(view, segments=2), [], NOW) == "Writing more lines."


def test_running_after_a_continue_counts_the_lines_of_this_request():
    view = story("running", progress={"line": 2, "of": 5}, line_count=11, lines_requested=15, segments=2)
    assert describe(view, [], NOW) == "Writing line 2 of 5."


def test_finished_states():
    assert describe(story("done", line_count=1), [], NOW) == "Done: 1 line written."
    assert describe(story("failed", error="out of memory"), [], NOW) == "Failed: out of memory."
    assert describe(story("failed"), [], NOW) == "Failed: the worker gave no reason."
    assert describe(story("cancelled", line_count=4), [], NOW) == "Cancelled: 4 lines written."
    assert (describe(story("cancelled", line_count=4, stopping=True), [], NOW)
            == "Stopping: the worker ends the story after the line it is writing.")
