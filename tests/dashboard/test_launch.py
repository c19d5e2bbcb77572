"""dashboard.launch: start, wait for /_stcore/health with a bound, and fail clearly."""

import os
import socket
import time

import pytest

from dashboard.launch import DashboardDidNotStart, is_healthy, start_dashboard


def test_a_server_that_cannot_start_fails_fast_and_clearly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(DashboardDidNotStart, match="exited with status"):
            start_dashboard(port, dict(os.environ), address="127.0.0.1", timeout=60)
        assert time.monotonic() - started < 60  # it noticed the exit; it did not wait out the bound
    assert not is_healthy(port)
