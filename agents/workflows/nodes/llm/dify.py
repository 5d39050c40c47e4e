"""llm from Dify: the prompt (chat or completion), memory, context and structured output."""

from __future__ import annotations

from agents.workflows.dify.mapping import (
    Data,
    MappingContext,
    as_dict,
    clamp,
    dicts,
    drop_vision,
    model_settings,
)


def map_llm(raw: Data, m: MappingContext) -> Data:
    out: Data = {"model": model_settings(raw.get("model"), m)}
    template = raw.get("prompt_template")
    messages: list[Data] = []
    if isinstance(template, dict):
        messages.append({"role": "user", "text": m.text(template.get("text"), "prompt_template")})
        m.note("info", "prompt_template", "the completion-model prompt is one user message")
        template = [template]
    else:
        for i, msg in enumerate(dicts(template)):
            role = msg.get("role") if msg.get("role") in ("system", "user", "assistant") else "user"
            text = m.text(msg.get("text"), f"prompt_template.{i}.text")
            messages.append({"role": role, "text": text})
    if any(msg.get("edition_type") == "jinja2" for msg in dicts(template)):
        m.note(
            "needs_mapping",
            "prompt_template",
            "Jinja2 prompts are not supported; their plain-text version was kept",
        )
    memory = raw.get("memory")
    if isinstance(memory, dict) and m.mode == "chat":
        window = as_dict(memory.get("window"))
        size = clamp(window.get("size"), 1, 100) if window.get("enabled") else None
        if size is None:
            m.note("info", "memory.window", "unlimited memory is the last 100 messages here")
        out["memory"] = {"window": int(size or 100)}
        query = m.text(memory.get("query_prompt_template") or "{{#sys.query#}}", "memory")
        messages.append({"role": "user", "text": query})
        m.note(
            "info",
            "prompt_template",
            "with memory, Dify sends the user's message last; it is now the prompt's last message",
        )
    elif isinstance(memory, dict):
        m.note("dropped", "memory", "memory applies only to chat workflows")
    out["prompt_template"] = messages
    context = as_dict(raw.get("context"))
    selector = m.selector(context.get("variable_selector"), "context.variable_selector")
    if context.get("enabled") and len(selector) >= 2:
        out["context"] = {"enabled": True, "variable_selector": selector}
    structured = raw.get("structured_output")
    enabled = raw.get("structured_output_enabled") or raw.get("structured_output_switch_on")
    if enabled and isinstance(structured, dict) and isinstance(structured.get("schema"), dict):
        out["structured_output"] = {"schema": structured["schema"]}
    drop_vision(raw, m)
    return out
