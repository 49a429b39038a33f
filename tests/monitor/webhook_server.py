"""A webhook receiver on 127.0.0.1 for the monitor tests: records every POST; can fail, redirect or hold the first
N requests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """``with Receiver(fail_first=2) as r:`` -> ``r.url``; ``r.posts`` is a list of ``(key, body)``.

    ``redirect``: the first ``fail_first`` POSTs are answered with this 3xx status and a Location whose GET would
    answer 200 (``r.gets`` counts those); ``hold``: an event every POST waits for before it is answered.
    """

    def __init__(self, fail_first: int = 0, port: int = 0, redirect: int | None = None,
                 hold: threading.Event | None = None):
        self.fail_first, self.posts, self.attempts, self.gets = fail_first, [], 0, 0
        self.redirect, self.hold, self.waiting = redirect, hold, threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - where a followed redirect would land
                receiver.gets += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.attempts += 1
                if receiver.hold is not None:
                    receiver.waiting.set()
                    receiver.hold.wait(60)
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(receiver.redirect or 503)
                    if receiver.redirect:
                        self.send_header("Location", "/moved")
                else:
                    receiver.posts.append((self.headers["Idempotency-Key"], body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A port nothing listens on right now (for a webhook that is down)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
