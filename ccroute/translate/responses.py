"""The `openai-responses` wire: Anthropic Messages ⇄ the OpenAI Responses API (`POST /responses`).

Owns: the translator contract (design.md §3, architecture.md `translate/`) for upstreams that
speak the Responses API: `tool_names_for`, `build_request`, `forward_headers`,
`parse_response`, `StreamTranslator`, `parse_error`, with `Target` describing the upstream.
The server looks this module up by `provider.wire == "openai-responses"` (`ccroute.wires`:
`{base_url}/responses`, `Authorization: Bearer <key>`). The code lives in `responses_request`
(the body), `responses_input` (the `input` items), `responses_response` (the non-streaming
answer and the mappings the stream shares) and `responses_stream` (stream events → Anthropic
events); the Chat Completions wire's tool-name map, headers, schema cleaning, tool-call ids,
argument repair and error mapping are reused as they are, since the Responses API shares them.

Wire facts relied on (protocol.md does not cover this API). Sources: openai-python 3.54
`src/openai/types/responses/` — response_create_params.py, easy_input_message_param.py,
response_input_param.py (`FunctionCallOutput`), response_input_text_param.py,
response_input_image_param.py, response_input_file_param.py,
response_function_call_output_item_list_param.py, function_tool_param.py,
tool_choice_function_param.py, tool_choice_options.py, response_reasoning_item(_param).py,
response_function_tool_call(_param).py, response_output_message.py, response_output_text.py,
response_output_refusal.py, response.py, response_usage.py, response_error.py,
response_stream_event.py and the `*_event.py` files it lists; `shared_params/reasoning.py`,
`shared/reasoning_effort.py`, response_includable.py.

- Request: `instructions` is the system message; `input` is a list of items: `message`
  (`role` user / assistant / system / developer; `content` a string or `input_text`,
  `input_image` {`image_url` (URL or data: URL), `detail`}, `input_file` {`filename`,
  `file_data` (data: URL) or `file_url`} parts), `function_call` {`call_id`, `name`,
  `arguments` (JSON string)}, `function_call_output` {`call_id`, `output`: string or a list of
  input_text / input_image / input_file parts}, `reasoning` {`id`, `summary`: [{`type`:
  "summary_text", `text`}], `encrypted_content`, `content`: [{`type`: "reasoning_text",
  `text`}]}. `tools` are flat: {`type`: "function", `name`, `description`, `parameters`,
  `strict`}. `tool_choice`: "none" | "auto" | "required" | {`type`: "function", `name`};
  `parallel_tool_calls`; `max_output_tokens` (includes reasoning tokens; OpenAI rejects values
  below 16 — peer evidence, see `responses_request.MIN_OUTPUT_TOKENS`); `reasoning`: {`effort`:
  none | minimal | low | medium | high | xhigh | max, of which each model takes only some,
  `summary`: auto | concise | detailed}; `include: ["reasoning.encrypted_content"]` adds the
  reasoning items' encrypted content to the output, which is what lets a later request carry
  them back when nothing is stored upstream (`store: false`); `store`;
  `temperature`, `top_p`, `user`. There is no stop-sequence parameter.
- Response object: `status` completed | incomplete | failed | ...; `incomplete_details.reason`
  max_output_tokens | content_filter | ...; `error` {`code` (e.g. server_error,
  rate_limit_exceeded, invalid_prompt), `message`}; `output` items: `reasoning`, `message`
  {`content`: `output_text` {`text`, `annotations`} | `refusal` {`refusal`}},
  `function_call` {`id`, `call_id`, `name`, `arguments`}; `usage` {`input_tokens`,
  `input_tokens_details` {`cached_tokens`, `cache_write_tokens`}, `output_tokens`,
  `output_tokens_details.reasoning_tokens`, `total_tokens`}.
- Stream: SSE events whose data carries `type` and `sequence_number`; no `[DONE]` sentinel:
  the stream ends after `response.completed`, `response.incomplete` or `response.failed`
  (each with the whole `response`), or an `error` event {`code`, `message`, `param`}. Items
  arrive as `response.output_item.added` … `response.output_item.done` (with `output_index`
  and the `item`; a reasoning item's `encrypted_content` is only complete in the done event);
  in between `response.output_text.delta` / `response.refusal.delta` (`delta`),
  `response.function_call_arguments.delta` (`delta`) and `.done` (`arguments`),
  `response.reasoning_summary_text.delta` (`delta`, `summary_index`) and
  `response.reasoning_text.delta` (`delta`, `content_index`), all keyed by `output_index` and
  `item_id`.
- Errors: HTTP errors carry the OpenAI error object `{"error": {message, type, param, code}}`
  (`openai_errors.parse_error`).

Reasoning round trip: each `reasoning` output item becomes a thinking block (its summary text)
whose signature (`reasoning.encode_signature`, kind `reasoning_item`, scope `Target.scope`)
carries the item; Claude Code returns the block on later turns and `responses_input` sends the
item back as a `reasoning` input item, in place, so the model keeps its reasoning across tool
calls with `store: false`. Reasoning from another provider or model is never sent.

Must not import: aiohttp, typer, rich, keyring, platformdirs, or anything doing file, network,
clock or random/uuid I/O; only the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from ccroute.translate.openai_errors import parse_error
from ccroute.translate.responses_request import build_request, forward_headers, tool_names_for
from ccroute.translate.responses_response import parse_response
from ccroute.translate.responses_stream import StreamTranslator
from ccroute.translate.target import Target

__all__ = [
    "StreamTranslator",
    "Target",
    "build_request",
    "forward_headers",
    "parse_error",
    "parse_response",
    "tool_names_for",
]
