"""Child process for the torn-write tests: writes one file and SIGKILLs itself at a chosen step.

Usage: python -m tests.drivequeue.torn_writer ROOT KEY MODE STEP
MODE is create or write; STEP is open, write, fsync, rename or sync-folder.
"""

import os
import signal
import sys

from drivequeue.local import LocalStore

NEW = b"N" * 300_000


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def main(root, key, mode, step):
    store = LocalStore(root)
    real_open, real_write, real_fsync = os.open, os.write, os.fsync
    real_link, real_replace = os.link, os.replace
    fsyncs = []

    def open_then_die(path, flags, mode=0o777, **kw):
        fd = real_open(path, flags, mode, **kw)
        if step == "open" and ".tmp" in str(path):
            die()
        return fd

    def write_half_then_die(fd, data):
        if step == "write":
            real_write(fd, bytes(data[: len(data) // 2]))
            die()
        return real_write(fd, data)

    def fsync_or_die(fd):
        fsyncs.append(fd)
        if (step == "fsync" and len(fsyncs) == 1) or (step == "sync-folder" and len(fsyncs) == 2):
            die()
        return real_fsync(fd)

    def rename_or_die(real):
        def call(src, dst):
            if step == "rename":
                die()
            return real(src, dst)
        return call

    os.open, os.write, os.fsync = open_then_die, write_half_then_die, fsync_or_die
    os.link, os.replace = rename_or_die(real_link), rename_or_die(real_replace)
    if mode == "create":
        store.create(key, key.split("-")[0], NEW)
    else:
        store.write(key, NEW)


if __name__ == "__main__":
    main(*sys.argv[1:])
