"""LangGraph state machines: the tool-calling agent loop, approval and sessions."""
