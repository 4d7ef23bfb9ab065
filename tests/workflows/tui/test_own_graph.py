"""The TUI on an Agent whose graph names its nodes otherwise: retry, stop, rewind and fork work."""

from pathlib import Path
from typing import Any

import pytest
from fake_ollama import Turn, call
from pilot import answers, idle, notes, running, say, wait_until

from gemloom import Agent, Policy
from gemloom.agents.graph import AgentConfig, build_graph
from gemloom.settings import load_settings
from gemloom.tools.files.tools import TOOLS
from gemloom.tools.registry import Registry
from gemloom.workflows.tui.app import GemloomApp
from gemloom.workflows.tui.chat import AssistantMessage
from gemloom.workflows.tui.screens import PickScreen
from gemloom.workflows.tui.stopping import StoppableLLM

NAMES = ("reply", "act")  # neither "model" nor "tools"
LONG = "The answer goes on. " * 300


def own_graph_app(workspace: Path, names: tuple[str, str] | None) -> GemloomApp:
    """The TUI on the Sessions of an Agent built from a graph with its own node names."""
    settings = load_settings()
    llm = StoppableLLM(settings, retries=0)
    registry, config, policy = Registry(TOOLS), AgentConfig(), Policy.allow_all()
    graph = build_graph(llm, registry, policy, config, model=NAMES[0], tools=NAMES[1])
    agent = Agent(
        registry, policy=policy, settings=settings, llm=llm, config=config, graph=graph,
        names=names, workspace=workspace,
    )  # fmt: skip
    assert agent.sessions.names == NAMES  # given, or read from the graph's own nodes
    assert not {"model", "tools"} & set(agent.sessions.graph.get_graph().nodes)
    return GemloomApp(settings, workspace, sessions_factory=lambda: agent.sessions)


@pytest.mark.parametrize("names", [NAMES, None], ids=["names-given", "names-read"])
async def test_retry_stop_rewind_and_fork_on_a_graph_with_other_node_names(
    fake_ollama, workspace, names
) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="a.txt")]),
        Turn("It says alpha."),
        Turn("A better answer."),
        Turn(LONG, chunk_chars=10, delay=0.02),
    )
    app = own_graph_app(workspace, names)
    async with running(app) as pilot:
        await say(pilot, "what is in a.txt?")
        await idle(pilot)
        assert answers(app) == ["It says alpha."]  # through the "act" node and back
        await say(pilot, "/retry")
        await idle(pilot)
        assert answers(app) == ["A better answer."]
        roles = [m["role"] for m in app.sessions.messages(app.session_id)]
        assert roles == ["system", "user", "assistant"]

        await say(pilot, "tell me a long story")
        await wait_until(pilot, lambda: len([m for m in app.query(AssistantMessage)]) == 2)
        await wait_until(pilot, lambda: bool(app.query(AssistantMessage)[-1].text))
        await pilot.press("escape")
        await idle(pilot)
        partial = answers(app)[-1]
        assert partial and LONG.startswith(partial) and len(partial) < len(LONG)
        *_, kept, note = app.sessions.messages(app.session_id)
        assert kept == {"role": "assistant", "content": partial.rstrip()}  # kept in "reply"
        assert note["content"].startswith("Stopped by you")
        assert not app.sessions.unfinished(app.session_id)
        assert not notes(app, "failed")

        original = app.session_id
        await say(pilot, "/history")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("enter")  # rewind to before "tell me a long story"
        await wait_until(pilot, lambda: app.session_id != original)
        assert app.prompt.value == "tell me a long story"
        assert answers(app) == ["A better answer."]
        fake_ollama.script(Turn("A short story."))
        await say(pilot, "tell me a short story")
        await idle(pilot)
        assert answers(app) == ["A better answer.", "A short story."]

        rewound = app.session_id
        await say(pilot, "/fork")
        await wait_until(pilot, lambda: app.session_id not in (original, rewound))
        assert answers(app) == ["A better answer.", "A short story."]
        fake_ollama.script(Turn("Forked and going."))
        await say(pilot, "and then?")
        await idle(pilot)
        assert answers(app)[-1] == "Forked and going."


async def test_names_the_graph_lacks_are_a_banner_that_says_what_to_pass(
    fake_ollama, workspace
) -> None:
    settings = load_settings()
    llm = StoppableLLM(settings, retries=0)
    graph = build_graph(llm, Registry(TOOLS), model=NAMES[0], tools=NAMES[1])

    def factory() -> Any:
        return Agent(settings=settings, llm=llm, graph=graph, workspace=workspace).sessions

    def wrong() -> Any:
        return Agent(
            settings=settings, llm=llm, graph=graph, workspace=workspace, names=("model", "act")
        ).sessions

    assert factory().names == NAMES
    app = GemloomApp(settings, workspace, sessions_factory=wrong)
    async with running(app):
        banner = str(app.query_one("#banner").render())
        assert banner == (
            "The graph has no node 'model' (its nodes: reply, act): "
            "pass names=(model node, tool node) to Sessions or Agent."
        )
        assert app.sessions is None


def test_a_graph_whose_nodes_cannot_be_told_apart_asks_for_names(fake_ollama, workspace) -> None:
    from langgraph.graph import END, START, StateGraph

    from gemloom import AgentState, ModelNode
    from gemloom.errors import GemloomError

    settings = load_settings()
    llm = StoppableLLM(settings, retries=0)
    inner = ModelNode(llm, Registry(TOOLS))
    graph = StateGraph(AgentState)
    graph.add_node("answer", lambda state: inner(state))  # wrapped: not recognisable
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    with pytest.raises(GemloomError) as caught:
        Agent(settings=settings, llm=llm, graph=graph, workspace=workspace)
    assert str(caught.value) == (
        "The graph has no ModelNode and ToolNode (its nodes: answer): "
        "pass names=(model node, tool node) to Sessions or Agent."
    )
