"""The model's tools over the long-term memory store."""
