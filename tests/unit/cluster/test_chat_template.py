"""A GGUF's chat template rendered as llama-server renders it: its message shape, the
special tokens, the generation prompt, and llama.cpp's tojson."""

from agents.engine import ChatMessage, FunctionCall, ToolCall
from cluster.engines.chat_template import CHATML, ChatTemplate, template_messages

SMOLLM2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are SmolLM<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CALL = ToolCall(id="c1", function=FunctionCall(name="get_weather", arguments='{"city": "巴黎"}'))


def test_messages_take_llama_servers_shape() -> None:
    messages = [
        ChatMessage(role="developer", content="be brief"),
        ChatMessage.model_validate(
            {"role": "user", "content": [{"type": "text", "text": t} for t in "ab"]}
        ),
        ChatMessage(role="assistant", tool_calls=[CALL]),
        ChatMessage(role="tool", tool_call_id="c1", name="get_weather", content="sunny"),
    ]
    assert template_messages(messages) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "a\nb"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "巴黎"}'},
                    "id": "c1",
                }
            ],
        },
        {"role": "tool", "content": "sunny", "name": "get_weather", "tool_call_id": "c1"},
    ]
    assert template_messages(messages[:1], gpt_oss=True)[0]["role"] == "developer"


def test_renders_with_the_generation_prompt() -> None:
    prompt = ChatTemplate(SMOLLM2).render([ChatMessage(role="user", content="<|im_start|>hi")])
    assert prompt == (
        "<|im_start|>system\nYou are SmolLM<|im_end|>\n"
        "<|im_start|>user\n<|im_start|>hi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_a_gguf_without_a_template_gets_chatml() -> None:
    template = ChatTemplate(None)
    assert template.source == CHATML
    assert template.render([ChatMessage(role="user", content="")]) == (
        "<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n"
    )


def test_bos_written_by_the_template_is_not_doubled() -> None:
    source = "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}"
    messages = [ChatMessage(role="user", content="x")]
    assert ChatTemplate(source, bos_token="<s>", eos_token="</s>").render(messages) == "<s>x</s>"
    adds = ChatTemplate(source, bos_token="<s>", eos_token="</s>", adds_bos=True, adds_eos=True)
    assert adds.render(messages) == "x"


def test_tojson_is_llama_cpps() -> None:
    source = "{% for m in messages %}{{ m.tool_calls[0].function | tojson }}{% endfor %}"
    prompt = ChatTemplate(source).render([ChatMessage(role="assistant", tool_calls=[CALL])])
    assert prompt == '{"name": "get_weather", "arguments": "{\\"city\\": \\"巴黎\\"}"}'
