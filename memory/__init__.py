"""The Chroma-backed memory store and its embedders."""
