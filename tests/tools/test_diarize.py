"""Speaker diarization on real espeak-ng dialogues, with the real GE2E weights run in numpy."""

from __future__ import annotations

import importlib.util
import pickle
import sys

import numpy as np
import pytest
from dialogue import VOICES, _say, _trim, labelled_fraction, make_dialogue

from gemloom.tools.audio import decode as audio
from gemloom.tools.audio import speaker_weights
from gemloom.tools.audio.diarize import SpeakerTurn, cluster, diarize, speaker_at
from gemloom.tools.audio.speaker_convert import installed_pretrained, main, write_npz
from gemloom.tools.audio.speaker_encoder import SpeakerEncoder, mel_filters
from gemloom.tools.audio.speaker_weights import VENDORED, SpeakerWeightsUnavailable, load_weights

needs_pretrained = pytest.mark.skipif(
    importlib.util.find_spec("resemblyzer") is None,
    reason="resemblyzer 0.1.4's pretrained.pt is not installed (only the conversion needs it)",
)


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder()


@pytest.fixture(scope="module")
def dialogues(tmp_path_factory) -> dict[int, tuple]:
    """Two- and three-voice dialogues, decoded, with their ground truth."""
    out = {}
    for voices in (2, 3):
        path = tmp_path_factory.mktemp("dialogue") / f"d{voices}.wav"
        truth = make_dialogue(path, voices)
        out[voices] = (audio.decode(path).samples, truth)
    return out


def _found(turns: list[SpeakerTurn]) -> list[tuple[float, float, str]]:
    return [(t.start, t.end, t.speaker) for t in turns]


def test_shipped_weights_are_read_without_torch_or_the_package():
    weights = load_weights()
    assert weights["lstm.weight_ih_l0"].shape == (1024, 40)
    assert weights["lstm.weight_hh_l2"].shape == (1024, 256)
    assert weights["linear.weight"].shape == (256, 256)
    assert all(w.dtype == np.float32 for w in weights.values())
    assert "torch" not in sys.modules and "resemblyzer" not in sys.modules


def test_missing_weights_say_what_to_do(tmp_path):
    with pytest.raises(SpeakerWeightsUnavailable, match="GEMLOOM_SPEAKER_WEIGHTS"):
        load_weights(tmp_path / "absent.npz")


def test_damaged_shipped_weights_are_refused(tmp_path, monkeypatch):
    copy = tmp_path / "ge2e.npz"
    data = bytearray(VENDORED.read_bytes())
    data[-1000] ^= 0xFF  # one flipped byte inside a tensor: np.load alone would not notice
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(speaker_weights, "VENDORED", copy)
    with pytest.raises(SpeakerWeightsUnavailable, match=r"damaged .*reinstall gemloom"):
        load_weights(copy)


def test_an_npz_without_the_encoder_tensors_is_refused(tmp_path):
    partial = tmp_path / "partial.npz"
    weights = load_weights()
    del weights["linear.bias"]
    write_npz(weights, partial)
    with pytest.raises(SpeakerWeightsUnavailable, match=r"no tensor linear\.bias"):
        load_weights(partial)


def test_an_npz_holding_pickled_objects_is_refused(tmp_path):
    bad = tmp_path / "objects.npz"
    np.savez(bad, **{"linear.bias": np.array([object()], dtype=object)})
    with pytest.raises(SpeakerWeightsUnavailable, match="Cannot read"):
        load_weights(bad)


def test_a_converted_copy_loads_like_the_shipped_one(tmp_path):
    copy = tmp_path / "mine.npz"
    write_npz(load_weights(), copy)  # float32 this time: another file, the same values
    mine, shipped = load_weights(copy), load_weights()
    assert all(np.array_equal(mine[k], shipped[k]) for k in shipped)


@needs_pretrained
def test_the_conversion_reproduces_the_shipped_file(tmp_path):
    out = tmp_path / "ge2e.npz"
    assert main([str(installed_pretrained()), str(out)]) == 0
    assert out.read_bytes() == VENDORED.read_bytes()


@needs_pretrained
def test_float16_weights_give_the_voice_vectors_of_the_original(tmp_path):
    original = SpeakerEncoder(load_weights(installed_pretrained()))
    shipped = SpeakerEncoder(load_weights())
    clip = _trim(_say(VOICES[0], "We ship the release in March.", tmp_path / "a.wav"))
    a = original.embed_utterance(clip.astype(np.float32) / 32768)
    b = shipped.embed_utterance(clip.astype(np.float32) / 32768)
    assert float(a @ b) > 0.999


def test_the_converter_says_what_is_wrong_with_its_input(tmp_path, capsys):
    assert main([str(tmp_path / "absent.pt"), str(tmp_path / "out.npz")]) == 2
    assert "no pretrained.pt at" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert main([str(junk), str(tmp_path / "out.npz")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "out.npz").exists()


def test_the_weights_and_their_licence_are_package_data():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    listed = pyproject["tool"]["setuptools"]["package-data"]["gemloom.tools.audio"]
    shipped = {f"data/{p.name}" for p in VENDORED.parent.iterdir()}
    assert shipped == {"data/ge2e.npz", "data/GE2E-LICENSE.txt"} and set(listed) == shipped
    notice = (VENDORED.parent / "GE2E-LICENSE.txt").read_text()
    assert "Resemblyzer 0.1.4" in notice and "Apache License" in notice


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_a_weights_file_with_foreign_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(pickle.dumps(_Evil(), protocol=2))
    with pytest.raises(SpeakerWeightsUnavailable, match="unexpected global"):
        load_weights(bad)
    assert not (tmp_path / "pwned").exists()


def test_mel_filters_peak_on_slaney_centres():
    # Slaney's scale written out independently: 200/3 Hz per mel up to 1 kHz, then log steps
    top = 15 + np.log(8000 / 1000) / (np.log(6.4) / 27)
    mels = np.linspace(0, top, 42)[1:-1]
    centres = np.where(mels < 15, mels * 200 / 3, 1000 * np.exp((mels - 15) * np.log(6.4) / 27))
    peaks = mel_filters().argmax(axis=1) * 40.0  # 8000 Hz over 200 bins
    assert np.all(np.abs(peaks - centres) <= 40.0)


def test_same_voice_is_closer_than_another_voice(encoder, tmp_path):
    clips = {
        (v.name, n): _trim(_say(v, text, tmp_path / f"{v.name}{n}.wav")).astype(np.float32) / 32768
        for v in VOICES[:2]
        for n, text in enumerate(("The build is green today.", "We ship the release in March."))
    }
    vec = {k: encoder.embed_utterance(c) for k, c in clips.items()}
    same = float(vec["Priya", 0] @ vec["Priya", 1])
    other = float(vec["Priya", 0] @ vec["Tom", 1])
    assert same > other + 0.1


@pytest.mark.parametrize("voices", [2, 3])
def test_dialogue_speakers_found_automatically(encoder, dialogues, voices):
    samples, truth = dialogues[voices]
    turns = diarize(samples, encoder)
    assert len({t.speaker for t in turns}) == voices
    assert labelled_fraction(truth, _found(turns)) >= 0.9


def test_a_given_speaker_count_is_kept(encoder, dialogues):
    samples, _truth = dialogues[3]
    assert len({t.speaker for t in diarize(samples, encoder, speakers=2)}) == 2


def test_silence_has_no_speakers(encoder):
    assert diarize(np.zeros(16_000 * 5, np.int16), encoder) == []


def test_clusters_stop_at_the_distance_threshold():
    rng = np.random.default_rng(0)
    a, b = np.eye(8)[0], np.eye(8)[1]
    vectors = np.stack(
        [a + 0.05 * rng.standard_normal(8) for _ in range(6)]
        + [b + 0.05 * rng.standard_normal(8) for _ in range(6)]
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = cluster(vectors)
    assert len(set(labels[:6])) == 1 and len(set(labels[6:])) == 1 and labels[0] != labels[6]


def test_speaker_at_picks_who_talks_most():
    turns = [SpeakerTurn(0, 4, "Speaker 1"), SpeakerTurn(4, 10, "Speaker 2")]
    assert speaker_at(turns, 3, 6) == "Speaker 2"
    assert speaker_at(turns, 11, 12) == "Speaker 2"  # in a pause: the nearest turn
    assert speaker_at([], 0, 1) is None


def test_a_line_spoken_by_two_people_is_split_at_the_change():
    from gemloom.tools.audio.speakers import label_segments
    from gemloom.tools.audio.transcript import Segment

    turns = [SpeakerTurn(0, 2.0, "Speaker 1"), SpeakerTurn(2.2, 5, "Speaker 2")]
    words = ((0.1, 0.5, " Ship"), (0.5, 1.8, " it."), (2.3, 2.8, " Not"), (2.8, 3.5, " yet."))
    heard = [Segment(0.1, 3.5, "Ship it. Not yet.", words=words), Segment(3.6, 4.9, "Fine.")]
    split = label_segments(heard, turns)
    assert [(s.start, s.end, s.text, s.speaker) for s in split] == [
        (0.1, 1.8, "Ship it.", "Speaker 1"),
        (2.3, 3.5, "Not yet.", "Speaker 2"),
        (3.6, 4.9, "Fine.", "Speaker 2"),
    ]
    assert label_segments(heard, []) == heard  # no speakers found: the transcript unchanged


def test_a_rename_must_name_old_and_new():
    from gemloom.tools.audio.speakers import BadRename, parse_renames

    assert parse_renames(["Speaker 1 = Priya", "Speaker 2=Tom"]) == {
        "Speaker 1": "Priya",
        "Speaker 2": "Tom",
    }
    for bad in ("Priya", "=Priya", "Speaker 1="):
        with pytest.raises(BadRename, match='write it as "Speaker 1=Priya"'):
            parse_renames([bad])
