"""Web content is data: text from pages, and what a model wrote after reading pages, is defanged
before it enters a prompt or an answer.

`defang` removes chat-template control tokens (a page must not open a turn of its own) and
replaces each sentence that addresses the model ("ignore previous instructions...", "note to AI
assistants...", "answer only ...") with a marker. The patterns catch the common forms, not every
possible one; the other defences do not depend on them: a plan is pydantic-validated data and
never code, sub-questions must stay on the question's topic, and every citation must resolve to a
chunk read in the run.

The stored page is never changed (citations quote it exactly); only the text shown to the model
and the text a model wrote are defanged.
"""

import re

REMOVED = "[instructions removed]"

_CONTROL = re.compile(
    r"<\|[^<>|\n]{1,40}\|>|</?(?:start|end)_of_turn>|<(?:bos|eos|pad)>|</?s>|\[/?INST\]|<</?SYS>>", re.I)
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?]+(?=[^\s.!?]))+(?:[.!?]+[\"'”’)]*)?")  # "example.com" is one word
_MODEL = r"(?:ai(?: assistants?| agents?| models?)?|llms?|(?:large )?language models?|chat ?bots?)"
_INSTRUCTION = re.compile("|".join((
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,60}\b(?:instructions?|prompts?|rules|directions"
    r"|guidelines|directives|context|constraints)\b",
    r"\b(?:previous|prior|above|earlier|preceding|original|system|hidden|new|updated)\s+(?:instructions?|prompts?"
    r"|directives?)\b",
    r"\b(?:you are|you're|act as|pretend to be)\s+(?:now\s+)?(?:an?\s+|the\s+)?(?:assistant|" + _MODEL + r")\b",
    r"\b(?:note|message|attention|instructions?)\s+(?:to|for)\s+(?:the\s+|all\s+|any\s+)?(?:assistants?|" + _MODEL + ")" + r"\b",
    r"\b(?:as an?|if you are an?)\s+" + _MODEL + r"\b",
    r"^\s*(?:system|assistant|user)\s*:",
    r"\b(?:respond|reply|answer|say|output|print|write)\s+(?:only|just|exactly)\b",
    r"\bfrom now on\b",
    r"\binstead,?\s+(?:say|answer|respond|reply|write|output)\b",
)), re.I | re.M)


def instructions(text: str) -> list[str]:
    """The sentences of `text` that address the model."""
    text = _CONTROL.sub(" ", text)
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if _INSTRUCTION.search(m.group(0))]


def defang(text: str, marker: str = REMOVED) -> str:
    """`text` without control tokens, each sentence that addresses the model replaced by `marker`
    (for text shown to a model), or by nothing (`marker=""`, for text a model wrote)."""
    text = _SENTENCE.sub(lambda m: f" {marker}" if _INSTRUCTION.search(m.group(0)) else m.group(0), _CONTROL.sub(" ", text))
    return text.strip()
