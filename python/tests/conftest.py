import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_consumer import FakeConsumer  # noqa: E402


@pytest.fixture
def sock_path():
    """A short socket path (sun_path holds 107 bytes; pytest's tmp_path can be longer)."""
    d = tempfile.mkdtemp(prefix="wst-")
    try:
        yield os.path.join(d, "c.sock")
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def consumer(sock_path):
    """Factory: consumer(**options) -> a started FakeConsumer on sock_path."""
    made = []

    def make(**options):
        c = FakeConsumer(sock_path, **options)
        made.append(c)
        return c.start()

    yield make
    for c in made:
        c.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _no_ambient_address(monkeypatch):
    # Tests choose their address explicitly; never pick one up from the caller.
    monkeypatch.delenv("WESTREAM_ADDRESS", raising=False)
    monkeypatch.delenv("WESTREAM_CONNECT_TIMEOUT", raising=False)
