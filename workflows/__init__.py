"""The programs built on the agent core: review, meetings and the TUI."""
