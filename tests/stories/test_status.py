"""A story's status: its output notes read as paragraph breaks and how the lines follow the seed."""

from __future__ import annotations

from drivequeue.status import JobState, JobStatus
from stories.status import StoryStatus


def story(**fields) -> StoryStatus:
    return StoryStatus(id="job-1.s", kind="story", state=JobState.DONE, payload={"seed": "It rained."},
                       **fields)


def test_marks_and_meta_are_served_as_paragraph_ends_and_seed_end():
    status = story(lines=["A.", "B.", "C."], line_count=3, marks={"paragraph_ends": [0, 2]},
                   meta={"seed_end": "sentence"})
    shown = status.to_dict()
    assert "marks" not in shown and "meta" not in shown
    assert shown["paragraph_ends"] == [0, 2] and shown["seed_end"] == "sentence"
    assert status["paragraph_ends"] == [0, 2]
    assert status.text() == "It rained. A.\n\nB. C.\n\n"
    assert status.printed() == "It rained.\nA.\n\nB.\nC."  # as colab-worker generate prints it
    assert status.since(2).printed() == "C."  # from line 2 on: no seed
    assert status.since(1)["paragraph_ends"] == [2] and status.since(1).seed_end == "sentence"


def test_seed_end_is_none_until_a_line_exists_and_newline_when_unknown():
    assert story().seed_end is None and story().text() == "It rained."
    older = story(lines=["A"], line_count=1)  # written before lines were sentences
    assert older.seed_end == "newline" and older.text() == "It rained.\nA"
    odd = story(lines=["A"], line_count=1, meta={"seed_end": "sideways"})
    assert odd.seed_end == "newline"


def test_any_job_reads_as_a_story_and_an_unreadable_one_has_an_empty_request():
    broken = JobStatus(id="job-1.s", kind=None, state=JobState.FAILED, error="corrupt job file")
    read = StoryStatus.of(broken)
    assert isinstance(read, StoryStatus) and read.payload == {} and read.seed == ""
    assert read.to_dict()["payload"] == {} and read.paragraph_ends == () and read.error == "corrupt job file"
    assert StoryStatus.of(read) is read
