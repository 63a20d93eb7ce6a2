"""Warm stop on the first signal, cold stop on the second, with real signals in a child process."""

import signal
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import sys, time
    from colab_worker.shutdown import Shutdown

    with Shutdown() as stop:
        print("ready", flush=True)
        while not stop.sleep(5):
            pass
        print("draining", flush=True)
        time.sleep(float(sys.argv[1]))
        print("drained", flush=True)
    """
)


def start(drain_seconds: float) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(drain_seconds)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline() == "ready\n"
    return child


def test_first_signal_wakes_the_sleeper_and_lets_it_finish():
    child = start(drain_seconds=0.2)
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=10)
    assert out == "draining\ndrained\n"
    assert child.returncode == 0


def test_sigint_is_a_warm_stop_too():
    child = start(drain_seconds=0)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=10)
    assert out == "draining\ndrained\n"
    assert child.returncode == 0


def test_second_signal_exits_without_draining():
    child = start(drain_seconds=60)
    child.send_signal(signal.SIGTERM)
    assert child.stdout.readline() == "draining\n"
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=10)
    assert "drained" not in out
    assert child.returncode == 128 + signal.SIGTERM
