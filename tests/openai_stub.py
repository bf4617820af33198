"""A stub OpenAI-compatible server on loopback for the error paths of `OpenAIChat` that a real
server cannot be made to show on demand (503s, malformed structured replies, unknown models).
The happy path is also tested against the real `sleuth serve` (tests/test_engine.py)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ["echo", "flaky", "json-fixes-itself", "json-never", "stream"]


class OpenAIStub:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.counts: dict[str, int] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/v1/models":
                    return self.json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in MODELS]})
                return self.json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                model = body.get("model")
                stub.counts[model] = stub.counts.get(model, 0) + 1
                n = stub.counts[model]
                last = body["messages"][-1]["content"]
                if model not in MODELS:
                    return self.json(404, {"error": {"message": f"The model `{model}` does not exist."}})
                if model == "flaky" and n == 1:
                    return self.json(503, {"error": {"message": "overloaded"}})
                if model == "stream" and body.get("stream"):
                    return self.sse(["Hel", "lo ", "there"])
                if model == "json-fixes-itself":
                    return self.reply('{"name": "Barton", "founded": "long ago"}' if n == 1 else '{"name": "Barton", "founded": 1879}')
                if model == "json-never":
                    return self.reply("I cannot do JSON, sorry.")
                return self.reply(f"ok: {last}")

            def reply(self, text: str) -> None:
                self.json(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                                "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}})

            def sse(self, pieces: list[str]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in pieces:
                    self.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': piece}}]})}\n\n".encode())
                usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}
                self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
                self.close_connection = True

            def json(self, status: int, data: dict) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
