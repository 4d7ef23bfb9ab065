"""Recordings: decode, transcribe, tell speakers apart."""
