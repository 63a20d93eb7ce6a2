"""A third-party plugin for the tests: no torch, one plain-function handler whose ``mode`` picks
how it ends."""

import re
import time

from drivequeue import Field, JobFailed, JobKind
from drivequeue.kinds import matching, text

KINDS = [JobKind(name="echo", version=1, fields={
    "text": Field(text(100)),
    "mode": Field(matching(re.compile("ok|fail|crash|wait"), "ok, fail, crash or wait"), "ok"),
})]


def echo(payload, job):
    note = job.workdir / "note.txt"  # what a later attempt would resume from
    note.write_text(payload["text"])
    job.save_scratch(note, "note.txt")
    if payload["mode"] == "fail":
        raise JobFailed("asked to fail")
    if payload["mode"] == "crash":
        raise RuntimeError("boom")
    while payload["mode"] == "wait":
        job.check()  # until cancelled or stopped
        job.progress({"waiting": True})
        time.sleep(0.02)
    job.say(payload["text"].upper())
    out = job.workdir / "echo.txt"
    out.write_text(payload["text"] * 2)
    job.attach(out)
    return {"length": len(payload["text"])}


def handlers(context):
    return {"echo": echo}
