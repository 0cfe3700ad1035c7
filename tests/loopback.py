"""A real HTTP server on 127.0.0.1 for the fake remote services the tests talk to (an OAI-PMH
provider, a reconciliation service): each supplies its request handler, this runs it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free port of 127.0.0.1; yields http://127.0.0.1:PORT."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def spaced(arrivals: list[float], interval: float) -> bool:
    """Whether requests arrived at least `interval` apart, as a polite client sends them. The
    client spaces its sends; arrival times at the server jitter by some milliseconds on a loaded
    machine, so one gap may come in up to 20% short, never the average."""
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    return bool(gaps) and min(gaps) >= 0.8 * interval and sum(gaps) / len(gaps) >= 0.93 * interval
