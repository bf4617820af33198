"""Messages to a prompt: the model's own chat template when it has one, else sleuth's plain format.

The plain format, for base models such as the embedded Gemma 3 270M, is one block per message and
an open assistant block at the end:

    System: You answer questions about whisky.

    User: Who makes Kentucky Tavern?

    Assistant:

Generation stops where the model starts a new `User:` or `System:` block (clients of `sleuth serve`
should pass `stop: ["\nUser:"]` for the same effect). The same format ships as a Jinja chat
template (`templates/plain.jinja`) for `sleuth serve`, with the BOS token in front: the server
tokenizes chat prompts without adding special tokens, and Gemma degenerates without BOS.
"""

from collections.abc import Sequence
from pathlib import Path

PLAIN_TEMPLATE = Path(__file__).parent / "templates" / "plain.jinja"
PLAIN_STOPS = ["\nUser:", "\nSystem:"]
_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}


def plain_prompt(messages: Sequence[dict]) -> str:
    blocks = [f"{_ROLES[m['role']]}: {m['content'].strip()}" for m in messages]
    return "\n\n".join([*blocks, "Assistant:"])


def format_prompt(messages: Sequence[dict], tokenizer=None) -> tuple[str, list[str]]:
    """The prompt text and the stop strings that end the assistant's turn."""
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True), []
    return plain_prompt(messages), list(PLAIN_STOPS)
