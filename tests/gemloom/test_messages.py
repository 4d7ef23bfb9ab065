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


def test_history_tokens_equal_the_full_estimate_as_a_history_grows_and_changes() -> None:
    counted = msg.HistoryTokens()
    history = [msg.system("be brief"), msg.user("read it")]
    for step in range(30):
        call = {"name": "read_file", "arguments": {"start_line": step}}
        history += [msg.assistant("", [call]), msg.tool_result("read_file", f"line {step}\n" * 40)]
        assert counted(history) == msg.estimate_tokens(history)
    history[3] = msg.tool_result("read_file", "changed: a new dict " * 500)  # replaced
    assert counted(history) == msg.estimate_tokens(history)
    shorter = history[:2] + history[-4:]  # compacted: most messages gone
    assert counted(shorter) == msg.estimate_tokens(shorter)
    assert counted(history) == msg.estimate_tokens(history)  # back to the long one
    assert counted([msg.user("hi", images=[b"\x89PNG...."])]) == msg.estimate_tokens(
        [msg.user("hi", images=[b"\x89PNG...."])]
    )


def test_history_tokens_count_the_schemas_again_only_when_they_change() -> None:
    counted, history = msg.HistoryTokens(), [msg.user("read it")]
    short = {"type": "function", "function": {"name": "a", "description": "x" * 40}}
    long = {"type": "function", "function": {"name": "b", "description": "y z " * 400}}
    for tools in ([short], [short, long], [short, long], [long], []):
        assert counted(history, list(tools)) == msg.estimate_tokens(history, tools)
    grown = {**long, "function": {**long["function"], "description": "w " * 4000}}
    assert counted(history, [short, grown]) == msg.estimate_tokens(history, [short, grown])
