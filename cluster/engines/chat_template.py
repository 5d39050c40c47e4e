"""A GGUF's chat template rendered here the way llama-server renders it with ``--jinja``.

llama-server parses a request's OpenAI messages, writes them back in one JSON shape
(``common_chat_msg::to_json_oaicompat`` in llama.cpp's ``common/chat.cpp``) and renders
the template with jinja's ``trim_blocks`` and ``lstrip_blocks`` on, the ``bos_token`` and
``eos_token`` strings, and ``add_generation_prompt``; a leading BOS the template wrote is
dropped when tokenizing adds one anyway. :func:`template_messages` is that JSON shape.

Not reproduced (the counts may then differ from the server's): the per-template
workarounds llama-server chooses by probing a template's capabilities (a system prompt
folded into the first user message, tool-call arguments passed as objects, typed content
parts), and the tool definitions of a request, which the counter never sees.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from agents.engine import ChatMessage

#: What llama.cpp renders when a GGUF has no template (``CHATML_TEMPLATE_SRC``).
CHATML = (
    "{%- for message in messages -%}\n"
    "  {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "  {{- '<|im_start|>assistant\\n' -}}\n"
    "{%- endif -%}"
)


def _join_parts(parts: list[dict[str, Any]]) -> str:
    """Text parts joined by newlines, as llama.cpp gives them to a string-only template."""
    text = ""
    for part in parts:
        if text:
            text += "\n"
        text += str(part.get("text", ""))
    return text


def template_messages(
    messages: list[ChatMessage], *, gpt_oss: bool = False
) -> list[dict[str, Any]]:
    """``messages`` as llama-server hands them to the template: the JSON ``count_tokens``
    posts to ``/apply-template``, then content always a string (``""`` when absent, text
    parts joined by newlines), ``developer`` as ``system`` (except for GPT-OSS's
    template), and each tool call's ``id`` after its function."""
    rendered = []
    for message in messages:
        raw = message.model_dump(mode="json", exclude_none=True)
        content = raw.get("content", "")
        role = raw["role"]
        out: dict[str, Any] = {
            "role": "system" if role == "developer" and not gpt_oss else role,
            "content": _join_parts(content) if isinstance(content, list) else content,
        }
        for key in ("name", "tool_call_id"):
            if raw.get(key):
                out[key] = raw[key]
        if raw.get("tool_calls"):
            out["tool_calls"] = [
                {
                    "type": "function",
                    "function": {
                        "name": call["function"]["name"],
                        "arguments": call["function"]["arguments"],
                    },
                    **({"id": call["id"]} if call.get("id") else {}),
                }
                for call in raw["tool_calls"]
            ]
        rendered.append(out)
    return rendered


def _raise(message: str) -> None:
    raise TemplateError(message)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
) -> str:
    """llama.cpp's ``tojson``: no HTML escaping (unlike jinja2's), non-ASCII kept."""
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators)


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


class ChatTemplate:
    """One compiled template with the special tokens llama-server renders it with."""

    def __init__(
        self,
        source: str | None,
        *,
        bos_token: str = "",
        eos_token: str = "",
        adds_bos: bool = False,
        adds_eos: bool = False,
    ) -> None:
        self.source = source or CHATML
        self._template = _environment().from_string(self.source)
        self._bos, self._eos = bos_token, eos_token
        self._adds_bos, self._adds_eos = adds_bos, adds_eos
        self._gpt_oss = "<|channel|>" in self.source

    def render(self, messages: list[ChatMessage]) -> str:
        """The prompt text of ``messages`` with the assistant's turn opened."""
        prompt = self._template.render(
            messages=template_messages(messages, gpt_oss=self._gpt_oss),
            bos_token=self._bos,
            eos_token=self._eos,
            enable_thinking=True,
            add_generation_prompt=True,
        )
        if self._adds_bos and self._bos and prompt.startswith(self._bos):
            prompt = prompt[len(self._bos) :]
        if self._adds_eos and self._eos and prompt.endswith(self._eos):
            prompt = prompt[: -len(self._eos)]
        return prompt
