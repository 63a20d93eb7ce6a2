"""Warm stop on the first signal, cold stop on the second, with real signals in a child process."""

import signal
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import hashlib, sys, threading, time
    from drivequeue.shutdown import Shutdown

    with Shutdown() as stop:
        print("ready", flush=True)
        while not stop.sleep(5):
            pass
        print("draining", flush=True)
        if sys.argv[1] == "native":  # one long call into C, as a forward pass is: minutes
            threading.Timer(0.2, print, ["in the native call"], {"flush": True}).start()
            hashlib.pbkdf2_hmac("sha256", b"key", b"salt", 10**9)
        else:
            time.sleep(float(sys.argv[1]))
        print("drained", flush=True)
    print("left the with block", flush=True)
    """
)


@pytest.fixture
def start():
    """Start the child with a drain (seconds, or "native"); it is killed after the test in any case."""
    children = []

    def start(drain: float | str) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(drain)], stdout=subprocess.PIPE, text=True)
        children.append(child)
        assert child.stdout.readline() == "ready\n"
        return child

    yield start
    for child in children:
        child.kill()
        child.wait()


def test_first_signal_wakes_the_sleeper_and_lets_it_finish(start):
    child = start(0.2)
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=10)
    assert out == "draining\ndrained\nleft the with block\n"
    assert child.returncode == 0


def test_sigint_is_a_warm_stop_too(start):
    child = start(0)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=10)
    assert out == "draining\ndrained\nleft the with block\n"
    assert child.returncode == 0


@pytest.mark.parametrize("drain", [60, "native"], ids=["sleeping", "in-a-long-native-call"])
def test_second_signal_exits_without_draining(start, drain):
    child = start(drain)
    child.send_signal(signal.SIGTERM)
    assert child.stdout.readline() == "draining\n"
    if drain == "native":
        assert child.stdout.readline() == "in the native call\n"
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert "drained" not in out
    assert child.returncode == 128 + signal.SIGINT
