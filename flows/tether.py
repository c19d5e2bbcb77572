"""Run a command for as long as whoever started us lives: `python -m flows.tether COMMAND...`.

Our standard input is the read end of a pipe whose only write end the starting process holds. When
that process ends, however it ends (SIGKILL included), the kernel closes its end and we read end of
file: we then stop the command's whole process group (SIGTERM, then SIGKILL after a grace period).
If we are killed ourselves, the command gets SIGTERM from the kernel (Linux's parent-death signal).
We exit with the command's status when it ends first.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading

GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(child: subprocess.Popen[bytes]) -> None:
    """Stop the command and everything it started (its own process group)."""
    for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
        try:
            child.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def main(command: list[str]) -> int:
    if not command:
        sys.stderr.write("usage: python -m flows.tether COMMAND...\n")
        return 2
    preexec = _die_with_parent if sys.platform == "linux" else None
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=preexec)

    def watch_parent() -> None:
        sys.stdin.buffer.read()  # returns at end of file: our starter is gone (or let go of us)
        stop(child)

    threading.Thread(target=watch_parent, daemon=True).start()
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
