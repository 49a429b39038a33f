"""A webhook receiver on 127.0.0.1 for the monitor tests: records every POST; can fail, redirect or hold the first
N requests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """``with Receiver(fail_first=2) as r:`` -> ``r.url``; ``r.posts`` is a list of ``(key, body)``.

    ``redirect``: the first ``fail_first`` POSTs are answered with this 3xx status and a Location whose GET would
    answer 200 (``r.gets`` counts those); ``hold``: an event every POST waits for before it is answered;
    ``behaviour``: attempt number (from 1) -> ``"ok"``, ``"fail"`` (503), ``"redirect"`` (302) or ``"hang"`` (no
    answer for ``hang_seconds``, then 503), instead of ``fail_first``.
    """

    def __init__(self, fail_first: int = 0, port: int = 0, redirect: int | None = None,
                 hold: threading.Event | None = None, behaviour=None, hang_seconds: float = 2.0):
        self.fail_first, self.posts, self.attempts, self.gets = fail_first, [], 0, 0
        self.redirect, self.hold, self.waiting = redirect, hold, threading.Event()
        self.behaviour, self.hang_seconds, self.lock = behaviour, hang_seconds, threading.Lock()
        receiver = self

        def action(attempt: int) -> str:
            if receiver.behaviour is not None:
                return receiver.behaviour(attempt)
            if attempt > receiver.fail_first:
                return "ok"
            return "redirect" if receiver.redirect else "fail"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - where a followed redirect would land
                receiver.gets += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.attempts += 1
                    todo = action(receiver.attempts)
                if receiver.hold is not None:
                    receiver.waiting.set()
                    receiver.hold.wait(60)
                if todo == "hang":
                    time.sleep(receiver.hang_seconds)
                if todo == "ok":
                    with receiver.lock:
                        receiver.posts.append((self.headers["Idempotency-Key"], body))
                    self.send_response(200)
                elif todo == "redirect":
                    self.send_response(receiver.redirect or 302)
                    self.send_header("Location", "/moved")
                else:
                    self.send_response(503)
                self.send_header("Content-Length", "0")
                try:
                    self.end_headers()
                except OSError:  # the client gave up waiting (a hang)
                    pass

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
