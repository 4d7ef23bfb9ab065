"""Loading a whole codebase into long context: walk, rank, outline and pack it; its tools."""
