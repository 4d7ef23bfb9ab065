"""Fixtures shared by the tool tests."""

import pytest
from reference import SPEECH

from gemloom.tools import audio


@pytest.fixture(scope="module")
def speech() -> audio.Audio:
    """The committed espeak-ng recording, decoded."""
    return audio.decode(SPEECH)
