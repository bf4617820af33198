"""Messages to prompts for base models: sleuth's plain format, in Python and as a Jinja template."""

import jinja2

from attention_runtime import PLAIN_TEMPLATE, format_prompt, plain_prompt

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who makes Kentucky Tavern? "},
            {"role": "assistant", "content": "Sazerac."}, {"role": "user", "content": "Where?"}]


def test_plain_format_has_one_block_per_message_and_an_open_assistant_turn():
    assert plain_prompt(MESSAGES) == ("System: Be brief.\n\nUser: Who makes Kentucky Tavern?\n\n"
                                      "Assistant: Sazerac.\n\nUser: Where?\n\nAssistant:")


def test_a_base_model_gets_the_plain_format_with_stops():
    prompt, stops = format_prompt(MESSAGES, tokenizer=None)
    assert prompt.endswith("Assistant:") and "\nUser:" in stops


def test_the_served_template_renders_the_same_prompt():
    # transformers (and so vLLM's server) renders chat templates with trim_blocks and lstrip_blocks
    for options in ({}, {"trim_blocks": True, "lstrip_blocks": True}):
        template = jinja2.Environment(**options).from_string(PLAIN_TEMPLATE.read_text())
        rendered = template.render(messages=MESSAGES, add_generation_prompt=True, bos_token="<bos>")
        assert rendered == "<bos>" + plain_prompt(MESSAGES)  # the engine's tokenizer adds BOS to plain_prompt
