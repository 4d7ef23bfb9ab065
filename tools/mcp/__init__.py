"""MCP servers whose tools the model may call: config, schema translation, client."""
