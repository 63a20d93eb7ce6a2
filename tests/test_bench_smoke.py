"""The benchmark suite: its quick mode runs every benchmark and writes the report, so it cannot rot.

Nothing here is timed: the figures of a quick run mean nothing. The test checks
that each benchmark produced its figures and that the report and plot were written.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import paper_transport
from bench.paper_transport import MountedSide
from drivequeue import NotFound

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_quick_run_writes_the_report_and_the_plot(tmp_path):
    report, plot = tmp_path / "BENCHMARKS.md", tmp_path / "docs" / "latency.png"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--report", str(report), "--plot", str(plot)],
        cwd=REPO, capture_output=True, text=True, timeout=840)
    assert proc.returncode == 0, proc.stderr[-3000:]

    text = report.read_text()
    assert re.search(r"on \*\*.+, \d+ CPU cores, ", text)  # the machine the figures came from
    assert "\nModel: " in text
    for heading in ("## Targets", "## End-to-end latency", "## Generation on the CPU",
                    "## Pick-up latency", "## Google Drive API cost", "## Watching the queue on Google Drive",
                    "## The queue on Redis", "## Short jobs back to back", "## Web polling",
                    "## Event streams", "## The story page in a browser", "## Queue operations",
                    "## Hostile input: time against size", "## GPU"):
        assert heading in text
    for transport in ("local folder", r"Redis \(a local redis-server", r"Drive API \(emulator, 150 ms per request\)", r"mounted Drive folder \(paper"):
        assert re.search(rf"\| {transport}[^|]* \| \d+\.\d\d s \| \d+\.\d\d s \|", text), transport
    assert len(re.findall(r"\| (met|\*\*missed\*\*) \|", text)) == 18
    assert re.search(r"\| before \| \d+\.\d{3} \| -?\d+\.\d\d \|", text)  # Drive calls per watched story
    assert re.search(r"\| 8 \| \d+ \|", text)  # lines/s with 8 worker processes on one Redis
    assert re.search(r"\| rq `SimpleWorker` \(no fork\), no-op \| \d+ \| \d+ \|", text)  # rq beside ours
    assert re.search(r"\| escaped quotes, no closing quote \| web \| (\d+\.\d\d ms \| ){4}\d+\.\d \|", text)
    assert re.search(r"45 characters a second whatever waits behind them: measured \d+\.\d \(median; ", text)
    assert re.search(r"\| before \| \d+ \| files\.get \d+ \| \d+\.\d\d s \|", text)  # random story ids on Drive
    assert "](docs/latency.png)" in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class ManualClock:
    """A ``time`` stand-in whose monotonic clock moves only when told to."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def mounted(tmp_path, monkeypatch):
    """(clock, colab side, web side) of a mounted folder whose changes arrive after 1.5 s on ``clock``."""
    clock = ManualClock()
    monkeypatch.setattr(paper_transport, "time", clock)
    colab = MountedSide(tmp_path / "colab", tmp_path / "web", delay=1.5, remount=3600)
    web = MountedSide(tmp_path / "web", tmp_path / "colab", delay=1.5, remount=3600)
    yield clock, colab, web
    colab.close()
    web.close()


def test_mounted_folder_shows_changes_on_the_other_side_only_after_the_delay(mounted):
    clock, colab, web = mounted
    key = colab.new_keys("output")[0]
    colab.create(key, "output", b"line 1")
    colab.write(key, b"line 1\nline 2")
    clock.now += 1.4
    colab.deliver_due()
    with pytest.raises(NotFound):
        web.read(key)
    clock.now += 0.2
    colab.write(key, b"line 1\nline 2\nline 3")
    colab.deliver_due()  # the create and the first write are old enough, the newest write is not
    assert web.read(key) == b"line 1\nline 2"
    clock.now += 1.6
    colab.deliver_due()
    assert web.read(key) == b"line 1\nline 2\nline 3"
    colab.delete(key)
    clock.now += 1.6
    colab.deliver_due()
    assert not web.exists(key)


def test_files_created_as_a_pair_or_pushed_reach_the_other_side(mounted, tmp_path):
    clock, colab, web = mounted
    output, claim = colab.new_keys("output")[0], colab.new_keys("claim")[0]
    colab.create_pair((output, "output", b"lines"), (claim, "claim", b"mine"))
    pushed = colab.new_keys("file")[0]
    (tmp_path / "notes.txt").write_bytes(b"a pushed file")
    colab.upload(pushed, "file", tmp_path / "notes.txt")
    clock.now += 1.6
    colab.deliver_due()
    assert web.read(output) == b"lines" and web.read(claim) == b"mine"
    assert web.read(pushed, limit=None) == b"a pushed file"
