"""What the model can call: the tool registry and the built-in tools."""
