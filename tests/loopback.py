"""A real HTTP server on loopback (a free port, a thread per request): the one helper the fetch
tests, the OpenAI stub and the reading benchmark serve from. `handle(request)` is called for every
GET and POST with the standard library's request handler; `send` and `send_json` answer it."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Request = BaseHTTPRequestHandler
Handle = Callable[[Request], None]


class LoopbackServer:
    def __init__(self, handle: Handle, *, backlog: int | None = None) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                try:
                    handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading (a body cap, a timeout): expected

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.httpd.daemon_threads = True
        if backlog is not None:
            self.httpd.request_queue_size = backlog
        self.httpd.server_bind()
        self.httpd.server_activate()
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(h: Request, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


def send_json(h: Request, status: int, data: dict) -> None:
    send(h, status, json.dumps(data).encode(), "application/json")
