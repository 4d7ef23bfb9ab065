"""gemloom: a local multimodal agent framework on Ollama and LangGraph."""

__version__ = "0.1.0"  # the one place it is written: pyproject.toml reads it from here

__all__ = ["__version__"]
