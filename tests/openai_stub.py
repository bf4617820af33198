"""A stub OpenAI-compatible server on loopback for the error paths of `OpenAIChat` that a real
server cannot be made to show on demand (503s, malformed structured replies, unknown models), and
a scripted researcher (model "researcher") that `sleuth ask --llm-url` can be run against and
stopped in the middle of a run: set `hold_on` to a schema name (or "answer", a searcher's answer
call) and the first such request waits (`held` is set when it arrives) until `stop()`.
The happy path is also tested against the real `sleuth serve` (tests/test_engine.py)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ["echo", "flaky", "json-fixes-itself", "json-never", "stream", "researcher"]
SUB_QUESTION = "Which company makes Kentucky Tavern?"


class OpenAIStub:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.counts: dict[str, int] = {}
        self.hold_on: str | None = None
        self.held = threading.Event()
        self._release = threading.Event()
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
                if model == "researcher":
                    return self.research(body, last)
                return self.reply(f"ok: {last}")

            def research(self, body: dict, last: str) -> None:
                schema = (body.get("response_format") or {}).get("json_schema", {}).get("name")
                kind = schema or ("answer" if last.startswith("Passages:") else None)
                if kind and kind == stub.hold_on and not stub.held.is_set():
                    stub.held.set()
                    stub._release.wait()
                    return
                if schema == "PlanStep":
                    first = last.endswith("(nothing yet)")
                    return self.reply(json.dumps({"sub_questions": [{"question": SUB_QUESTION}] if first else [],
                                                  "finish": not first}))
                if schema == "Queries":
                    return self.reply(json.dumps({"queries": ["Kentucky Tavern bourbon"]}))
                return self.reply("The Sazerac Company makes Kentucky Tavern [1].")

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
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
