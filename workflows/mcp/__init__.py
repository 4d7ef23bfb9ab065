"""gemloom's own tools served over MCP."""
