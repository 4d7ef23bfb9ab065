"""Fixtures shared by the tool tests."""

import pytest
from reference import SPEECH

from gemloom.tools.audio import decode as audio


@pytest.fixture(scope="module")
def speech() -> audio.Audio:
    """The committed espeak-ng recording, decoded."""
    return audio.decode(SPEECH)
