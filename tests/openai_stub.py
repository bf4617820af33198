"""A stub OpenAI-compatible server on loopback for the error paths of `OpenAIChat` that a real
server cannot be made to show on demand (503s, malformed structured replies, unknown models), and
a scripted researcher (model "researcher") that `sleuth ask --llm-url` can be run against and
stopped in the middle of a run: set `hold_on` to a schema name (or "answer", a searcher's answer
call) and the first such request waits (`held` is set when it arrives) until `stop()`.
The happy path is also tested against the real `sleuth serve` (tests/test_engine.py)."""

import json
import re
import threading

from tests.loopback import LoopbackServer, Request, send_json

MODELS = ["echo", "flaky", "json-fixes-itself", "json-never", "stream", "researcher"]
SUB_QUESTION = "Which company makes Kentucky Tavern?"


class OpenAIStub:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.counts: dict[str, int] = {}
        self.hold_on: str | None = None
        self.held = threading.Event()
        self._release = threading.Event()
        self._server = LoopbackServer(self._handle).start()
        self.url = self._server.url + "/v1"

    def stop(self) -> None:
        self._release.set()
        self._server.stop()

    def _handle(self, h: Request) -> None:
        if h.command == "GET":
            if h.path == "/v1/models":
                return send_json(h, 200, {"object": "list", "data": [{"id": m, "object": "model"} for m in MODELS]})
            return send_json(h, 404, {"error": {"message": "not found"}})
        body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
        self.requests.append(body)
        model = body.get("model")
        self.counts[model] = self.counts.get(model, 0) + 1
        n = self.counts[model]
        last = body["messages"][-1]["content"]
        if model not in MODELS:
            return send_json(h, 404, {"error": {"message": f"The model `{model}` does not exist."}})
        if model == "flaky" and n == 1:
            return send_json(h, 503, {"error": {"message": "overloaded"}})
        if model == "stream" and body.get("stream"):
            return _sse(h, ["Hel", "lo ", "there"])
        if model == "json-fixes-itself":
            return _reply(h, '{"name": "Barton", "founded": "long ago"}' if n == 1 else '{"name": "Barton", "founded": 1879}')
        if model == "json-never":
            return _reply(h, "I cannot do JSON, sorry.")
        if model == "researcher":
            return self._research(h, body, last)
        return _reply(h, f"ok: {last}")

    def _research(self, h: Request, body: dict, last: str) -> None:
        schema = (body.get("response_format") or {}).get("json_schema", {}).get("name")
        kind = schema or ("answer" if last.startswith("Passages:") else None)
        if kind and kind == self.hold_on and not self.held.is_set():
            self.held.set()
            self._release.wait()
            return
        if schema == "PlanStep":
            first = last.endswith("(nothing yet)")
            return _reply(h, json.dumps({"sub_questions": [{"question": SUB_QUESTION}] if first else [],
                                         "finish": not first}))
        if schema == "Queries":
            return _reply(h, json.dumps({"queries": ["Kentucky Tavern bourbon"]}))
        first = re.search(r"^\[1\] (.+?):", last, re.M)
        if "Sazerac" in last or not first:
            return _reply(h, "The Sazerac Company makes Kentucky Tavern [1].")
        return _reply(h, f"{first.group(1)} [1].")  # passages on something else: it answers from them


def _reply(h: Request, text: str) -> None:
    send_json(h, 200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}})


def _sse(h: Request, pieces: list[str]) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.end_headers()
    for piece in pieces:
        h.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': piece}}]})}\n\n".encode())
    usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}
    h.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
    h.close_connection = True
