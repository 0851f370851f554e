"""A scripted fake of Google's Gemini API (`generateContent` / `streamGenerateContent?alt=sse`).

It speaks the real wire format (protocol.md §5) and checks what it receives the way the Gemini
API does, so ccroute's server and the real `claude` binary can be tested against it:

    fake = FakeGemini([calls_reply([("Write", {...})], signatures=["c2ln"]), text_reply("done")],
                      api_key="k", require_signatures=True)
    server = await aiohttp_server(fake.app)          # pytest-aiohttp
    with fake.serve_in_thread() as base_url:          # "http://127.0.0.1:<port>/v1beta"
        ...
    fake.generate_requests[0].json["contents"]

A *script* is a list of `Reply`s consumed one per generate request, or a callable `(body) ->
Reply`. `text_reply` / `calls_reply` are served as SSE chunks (`data: <json>` + CRLF CRLF, as
Google sends them, no `[DONE]`) on `:streamGenerateContent?alt=sse` and as one merged
`GenerateContentResponse` on `:generateContent`; `raw_reply` chunks and `error_reply` bodies are
served verbatim.

Checks (a failed one is answered as Gemini would — a Google-shaped 400 — and recorded in
`problems`, so a test can assert `fake.problems == []`): the `x-goog-api-key` header (a wrong key
is Gemini's 400 `API_KEY_INVALID`); top-level and `generationConfig` field names; roles `user` /
`model`; no `id` in `functionCall` / `functionResponse`; a `functionResponse` turn right after
the calls, one response per call, named like them; `parameters` schemas holding only keywords of
Gemini's `Schema` and no empty OBJECT; and with `require_signatures` (Gemini 3), a
`thoughtSignature` on the first `functionCall` part of every model turn since the last user turn
without function responses, which must be one this fake issued or Google's
`skip_thought_signature_validator`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.fakes import base

JSON = dict[str, Any]
Script = Sequence["Reply"] | Callable[[JSON], "Reply"]

SKIP_SIGNATURE = "skip_thought_signature_validator"
TOP_LEVEL = frozenset(
    {
        "contents",
        "systemInstruction",
        "tools",
        "toolConfig",
        "generationConfig",
        "safetySettings",
        "cachedContent",
    }
)
GENERATION_CONFIG = frozenset(
    {
        "maxOutputTokens",
        "temperature",
        "topP",
        "topK",
        "stopSequences",
        "candidateCount",
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "thinkingConfig",
        "seed",
        "presencePenalty",
        "frequencyPenalty",
    }
)
SCHEMA_KEYS = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "items",
        "minItems",
        "maxItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "minimum",
        "maximum",
    }
)


@dataclass(frozen=True)
class Reply:
    """One scripted answer; build it with the `*_reply` helpers.

    kind "content": `chunks` (lists of parts, one list per SSE chunk) rendered as SSE, or merged
    into one response; kind "raw": `raw` response objects served as SSE chunks verbatim (or the
    first as the JSON body); kind "error": `body` with `status`.
    """

    kind: Literal["content", "raw", "error"]
    chunks: tuple[tuple[JSON, ...], ...] = ()
    finish_reason: str = "STOP"
    usage: JSON | None = None
    raw: tuple[JSON, ...] = ()
    status: int = 200
    body: Any = None

    def stream_objects(self, model: str) -> list[JSON]:
        """The `GenerateContentResponse` chunks of this reply, in order."""
        if self.kind == "raw":
            return [dict(item) for item in self.raw]
        out = []
        for number, parts in enumerate(self.chunks, start=1):
            candidate: JSON = {"content": {"parts": [dict(p) for p in parts], "role": "model"}}
            last = number == len(self.chunks)
            if last:
                candidate["finishReason"] = self.finish_reason
            candidate["index"] = 0
            usage = self.usage or _usage(self.chunks)
            chunk_usage = usage if last else {"promptTokenCount": usage["promptTokenCount"]}
            out.append(
                {
                    "candidates": [candidate],
                    "usageMetadata": chunk_usage,
                    "modelVersion": model,
                    "responseId": "fake-response",
                }
            )
        return out

    def response_object(self, model: str) -> JSON:
        """This reply as one non-streaming `GenerateContentResponse` (text parts merged)."""
        if self.kind == "raw":
            return dict(self.raw[0])
        parts: list[JSON] = []
        for part in (p for chunk in self.chunks for p in chunk):
            last = parts[-1] if parts else None
            if (
                last is not None
                and "text" in part
                and "text" in last
                and bool(part.get("thought")) == bool(last.get("thought"))
                and "thoughtSignature" not in last
            ):
                last["text"] += part["text"]
                if "thoughtSignature" in part:
                    last["thoughtSignature"] = part["thoughtSignature"]
            else:
                parts.append(dict(part))
        objects = self.stream_objects(model)
        objects[-1]["candidates"][0]["content"]["parts"] = parts
        return objects[-1]


def _usage(chunks: Sequence[Sequence[JSON]]) -> JSON:
    produced = sum(len(json.dumps(part)) for chunk in chunks for part in chunk)
    return {
        "promptTokenCount": 100,
        "candidatesTokenCount": max(1, produced // 4),
        "totalTokenCount": 100 + max(1, produced // 4),
    }


def text_reply(
    text: str,
    *,
    thoughts: str | None = None,
    signature: str | None = None,
    chunk_size: int = 8,
    finish_reason: str = "STOP",
    usage: JSON | None = None,
) -> Reply:
    """A text answer in `chunk_size` pieces, after an optional thought summary; `signature`
    rides on an empty text part at the end, as Gemini 3 streams it (protocol.md §5.7)."""
    chunks: list[tuple[JSON, ...]] = []
    if thoughts:
        chunks.append(({"text": thoughts, "thought": True},))
    chunks += [({"text": text[i : i + chunk_size]},) for i in range(0, len(text), chunk_size)]
    if signature is not None:
        chunks.append(({"text": "", "thoughtSignature": signature},))
    return Reply("content", tuple(chunks), finish_reason, usage)


def calls_reply(
    calls: Sequence[tuple[str, JSON]],
    *,
    text_before: str | None = None,
    thoughts: str | None = None,
    signatures: Sequence[str | None] = (),
    ids: Sequence[str] = (),
    usage: JSON | None = None,
) -> Reply:
    """Function calls, each whole in its own chunk (§5.2), `finishReason` STOP; `signatures[i]`
    goes on call i's part (Gemini signs only the first of parallel calls), `ids[i]` becomes its
    `functionCall.id` (Gemini 3 sends ids)."""
    chunks: list[tuple[JSON, ...]] = []
    if thoughts:
        chunks.append(({"text": thoughts, "thought": True},))
    if text_before:
        chunks.append(({"text": text_before},))
    for i, (name, args) in enumerate(calls):
        call: JSON = {"name": name, "args": dict(args)}
        if i < len(ids):
            call = {"id": ids[i], **call}
        part: JSON = {"functionCall": call}
        if i < len(signatures) and signatures[i] is not None:
            part["thoughtSignature"] = signatures[i]
        chunks.append((part,))
    return Reply("content", tuple(chunks), "STOP", usage)


def raw_reply(*objects: JSON) -> Reply:
    """Response objects served verbatim: as SSE chunks, or the first one as the JSON body."""
    return Reply("raw", raw=tuple(objects))


def error_reply(status: int, message: str, google_status: str, *details: JSON) -> Reply:
    """A Google-shaped error (§5.8): `{"error": {"code", "message", "status", "details"}}`."""
    return Reply(
        "error", status=status, body=google_error_body(status, message, google_status, *details)
    )


def google_error_body(status: int, message: str, google_status: str, *details: JSON) -> JSON:
    """`{"error": {"code": status, "message", "status": google_status, ["details"]}}` (§5.8)."""
    error: JSON = {"code": status, "message": message, "status": google_status}
    if details:
        error["details"] = list(details)
    return {"error": error}


class RecordedRequest(base.RecordedRequest):
    """What the fake received (see `base.RecordedRequest`), with the model and the method the
    path names."""

    @property
    def model(self) -> str:
        """The model named in the path (`/v1beta/models/<model>:method`)."""
        return self.path.rsplit("/models/", 1)[-1].split(":", 1)[0]

    @property
    def streaming(self) -> bool:
        return self.path.endswith(":streamGenerateContent")


@dataclass
class FakeGemini(base.FakeUpstream[Reply]):
    """A scripted Gemini API. See the module docstring. Its base URL from `serve_in_thread` is
    `http://127.0.0.1:<port>/v1beta`."""

    script: Script = ()
    api_key: str | None = None
    models: Sequence[str] = ("gemini-2.5-flash",)
    require_signatures: bool = False
    requests: list[RecordedRequest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    issued_signatures: set[str] = field(default_factory=set)

    base_path = "/v1beta"
    thread_name = "fake-gemini-upstream"
    recorded_type = RecordedRequest

    def __post_init__(self) -> None:
        self._start_script(self.script)

    def set_script(self, script: Script) -> None:
        self.script = script
        super().set_script(script)

    @property
    def generate_requests(self) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path.endswith((":generateContent", ":streamGenerateContent"))
        ]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        _, parsed, recorded = await self._record(request)
        assert isinstance(recorded, RecordedRequest)
        generate = request.path.endswith((":generateContent", ":streamGenerateContent"))
        if request.method == "GET" and request.path.endswith("/models"):
            return self._check_key(recorded) or web.json_response(self._model_list())
        if request.method != "POST" or not generate or "/models/" not in request.path:
            return _google_error(404, f"Method not found: {request.path}", "NOT_FOUND")
        if recorded.streaming and request.query.get("alt") != "sse":
            return self._problem("streamGenerateContent without alt=sse (ccroute reads SSE)")
        rejected = self._check_key(recorded)
        if rejected is not None:
            return rejected
        problems = request_problems(parsed, self.issued_signatures, self.require_signatures)
        if problems:
            return self._problem("; ".join(problems))
        reply = self._next_reply(parsed)
        if reply is None:
            self.problems.append(f"script exhausted at request #{len(self.generate_requests)}")
            return _google_error(500, "fake upstream: script exhausted", "INTERNAL")
        if reply.kind == "error":
            return web.json_response(reply.body, status=reply.status)
        model = recorded.model
        for part in (p for chunk in reply.chunks for p in chunk):
            if "thoughtSignature" in part:
                self.issued_signatures.add(part["thoughtSignature"])
        if not recorded.streaming:
            return web.json_response(reply.response_object(model))
        return await base.send_sse(
            request,
            (encode_sse(item) for item in reply.stream_objects(model)),
            headers={"Content-Type": "text/event-stream"},
        )

    def _check_key(self, recorded: RecordedRequest) -> web.Response | None:
        if self.api_key is None or recorded.header("x-goog-api-key") == self.api_key:
            return None
        reason = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
        message = "API key not valid. Please pass a valid API key."
        return _google_error(400, message, "INVALID_ARGUMENT", reason)

    def _problem(self, message: str) -> web.Response:
        self.problems.append(message)
        return _google_error(400, message, "INVALID_ARGUMENT")

    def _model_list(self) -> JSON:
        return {
            "models": [
                {
                    "name": f"models/{model}",
                    "displayName": model,
                    "inputTokenLimit": 1048576,
                    "outputTokenLimit": 65536,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                }
                for model in self.models
            ]
        }


def encode_sse(item: JSON) -> bytes:
    """One SSE event as Gemini frames it: `data: <json>` and a CRLF blank line (§5.4)."""
    return b"data: " + json.dumps(item, separators=(",", ":")).encode() + b"\r\n\r\n"


def parse_sse(raw: bytes) -> list[JSON]:
    """The `data:` objects of a Gemini SSE body (CRLF framing, one `data:` line per event)."""
    text = raw.decode()
    if text and not text.endswith("\r\n\r\n"):
        raise ValueError(f"SSE body does not end with a CRLF blank line: {text[-40:]!r}")
    out = []
    for event in text.split("\r\n\r\n")[:-1]:
        if not event.startswith("data: ") or "\n" in event:
            raise ValueError(f"unexpected SSE event: {event!r}")
        out.append(json.loads(event[len("data: ") :]))
    return out


def _google_error(status: int, message: str, google_status: str, *details: JSON) -> web.Response:
    body = google_error_body(status, message, google_status, *details)
    return web.json_response(body, status=status)


# -- request checks ------------------------------------------------------------------------------


def request_problems(body: Any, issued: set[str], require_signatures: bool) -> list[str]:
    """What the Gemini API would reject in a generateContent body (see the module docstring)."""
    if not isinstance(body, dict) or not isinstance(body.get("contents"), list):
        return ["body must be an object with a contents array"]
    problems = [f'Unknown name "{key}"' for key in body if key not in TOP_LEVEL]
    config = body.get("generationConfig", {})
    problems += [
        f'Unknown name "{key}" at generation_config'
        for key in config
        if key not in GENERATION_CONFIG
    ]
    contents: list[JSON] = body["contents"]
    for i, content in enumerate(contents):
        if content.get("role") not in ("user", "model"):
            problems.append(f"contents[{i}].role must be user or model")
        for part in content.get("parts", []):
            for kind in ("functionCall", "functionResponse"):
                if "id" in part.get(kind, {}):
                    problems.append(f'Unknown name "id" at contents[{i}].parts.{kind}')
        problems += _pairing_problems(contents, i)
    for tool in body.get("tools", []):
        for declaration in tool.get("functionDeclarations", []):
            if "parameters" in declaration:
                problems += _schema_problems(declaration["parameters"], declaration["name"])
    if require_signatures:
        problems += _signature_problems(contents, issued)
    return problems


def _calls(content: JSON) -> list[JSON]:
    return [p["functionCall"] for p in content.get("parts", []) if "functionCall" in p]


def _responses(content: JSON) -> list[JSON]:
    return [p["functionResponse"] for p in content.get("parts", []) if "functionResponse" in p]


def _pairing_problems(contents: list[JSON], i: int) -> list[str]:
    calls = _calls(contents[i]) if contents[i].get("role") == "model" else []
    if not calls:
        return []
    after = contents[i + 1] if i + 1 < len(contents) else None
    if after is None:
        return []  # the model turn ends the history: its calls are not answered yet
    answers = _responses(after)
    if len(answers) != len(calls):
        return [
            "Please ensure that the number of function response parts is equal to the number "
            f"of function call parts of the function call turn (contents[{i + 1}])."
        ]
    if [a.get("name") for a in answers] != [c.get("name") for c in calls]:
        return [f"contents[{i + 1}]: function responses are not named like the calls"]
    return []


def _signature_problems(contents: list[JSON], issued: set[str]) -> list[str]:
    start = 0
    for i, content in enumerate(contents):  # the current turn: since the last real user turn
        parts = content.get("parts", [])
        if content.get("role") == "user" and not any("functionResponse" in p for p in parts):
            start = i
    problems = []
    for i in range(start, len(contents)):
        parts = contents[i].get("parts", [])
        first = next((p for p in parts if "functionCall" in p), None)
        if contents[i].get("role") != "model" or first is None:
            continue
        signature = first.get("thoughtSignature")
        if signature is None:
            problems.append(
                f"Function call is missing a thought_signature in functionCall parts "
                f"(contents[{i}])"
            )
        elif signature != SKIP_SIGNATURE and signature not in issued:
            problems.append(f"Corrupted thought signature at contents[{i}]")
    return problems


def _schema_problems(schema: Any, where: str) -> list[str]:
    if not isinstance(schema, dict):
        return [f"{where}: schema must be an object"]
    problems = [f'Unknown name "{key}" at {where}' for key in schema if key not in SCHEMA_KEYS]
    if isinstance(schema.get("type"), list):
        problems.append(f"{where}.type: Proto field is not repeating, cannot start list")
    properties = schema.get("properties")
    if str(schema.get("type", "")).lower() == "object" and not properties:
        problems.append(f"{where}.properties: should be non-empty for OBJECT type")
    for name, sub in (properties or {}).items():
        problems += _schema_problems(sub, f"{where}.properties[{name}]")
    if "items" in schema:
        problems += _schema_problems(schema["items"], f"{where}.items")
    for n, sub in enumerate(schema.get("anyOf", [])):
        problems += _schema_problems(sub, f"{where}.anyOf[{n}]")
    return problems
