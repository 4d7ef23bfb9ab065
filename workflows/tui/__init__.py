"""The Textual TUI: supervise agent sessions, memory and jobs (`gemloom chat`)."""
