"""gemloom: a local multimodal agent framework on Ollama and LangGraph."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gemloom")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
