import math

from gemloom import messages as msg
from gemloom import tokens

CODE = 'def f(x_1, y_2):\n    return {"a": x_1 + y_2}\n' * 200
PROSE = "The meeting moved the launch to Friday because the report was late. " * 200


def test_code_uses_the_calibrated_estimate_and_prose_never_goes_below_the_floor() -> None:
    assert msg.text_tokens(CODE) == math.ceil(tokens.estimate(CODE))
    assert msg.text_tokens(CODE) > len(CODE) / msg.CHARS_PER_TOKEN
    assert msg.text_tokens(PROSE) == -(-len(PROSE) // msg.CHARS_PER_TOKEN)


def test_estimate_counts_media_and_tool_schemas() -> None:
    base = msg.estimate_tokens([msg.user("hi")])
    with_image = msg.estimate_tokens([msg.user("hi", images=[b"\x89PNG...."])])
    assert with_image - base == msg.IMAGE_TOKENS
    schema = [{"type": "function", "function": {"name": "t", "description": "x" * 360}}]
    assert msg.estimate_tokens([msg.user("hi")], schema) > base + 90
    # the schemas add the same tokens with any messages: LLM.prepare counts them once, apart
    together = msg.estimate_tokens([msg.user("hi")], schema)
    assert together == base + msg.estimate_tokens([], schema)
