"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

`POST /v1/chat/completions` takes the documented request JSON and answers with the documented
`chat.completion` object. Replies are scripted in order: a string is the assistant's content,
`(status, body)` an HTTP error, `Delay(seconds, reply)` a reply sent late. Every request body
and its headers are kept for assertions.
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from orbit_dagster_tests.servers import QuietHandler, local_server


@dataclass(frozen=True)
class Delay:
    seconds: float
    reply: Any


@dataclass
class ChatServer:
    replies: list[Any] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # names lower-cased
    base_url: str = ""  # ends in /v1, as openai.OpenAI(base_url=...) expects
    released: threading.Event = field(default_factory=threading.Event)


# A model's reply with a chart transformer, as the end-to-end tests have the model answer.
MODEL_CHART = """```python
def transform(points, config):
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "line",
            "data": {"values": points}, "title": "Model chart"}
```"""


def completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    state = ChatServer()
    lock = threading.Lock()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                state.requests.append(body)
                state.headers.append({k.lower(): v for k, v in self.headers.items()})
                reply = state.replies.pop(0) if state.replies else (500, {"error": "no reply"})
            if self.path != "/v1/chat/completions":
                reply = (404, {"error": {"message": f"no route {self.path}"}})
            if isinstance(reply, Delay):
                state.released.wait(timeout=reply.seconds)
                reply = reply.reply
            if isinstance(reply, str):
                status, payload = 200, completion(body["model"], reply)
            else:
                status, payload = reply
            raw = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

    with local_server(Handler) as base_url:
        state.base_url = f"{base_url}/v1"
        try:
            yield state
        finally:
            state.released.set()
