"""Code review from screenshots: a LangGraph reviewer, grounding in code, reports and SARIF."""
