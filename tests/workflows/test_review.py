"""The review graph end to end against the fake Ollama server, with a real fixture repository."""

from __future__ import annotations

import base64
import io
import json

import pytest
from fake_ollama import Turn
from fixtures.review.screens import (
    LOW_BG,
    LOW_FG,
    NEWSLETTER,
    model_reply,
)
from PIL import Image
from reference import wcag

from gemloom.errors import CapabilityMissing, ModelOutputError
from gemloom.tools.screen.image import ImageError
from gemloom.workflows.review.findings import SeenFinding, box_2d_to_pixels
from gemloom.workflows.review.graph import Reviewer, review


def by_category(result):
    return {f.category: f for f in result.findings}


def test_review_sends_overview_and_tiles_and_grounds_and_measures(llm, fake_ollama, screen, app):
    fake_ollama.script(Turn(json.dumps(model_reply(screen)), chunk_chars=1 << 16))
    remembered = []
    result = review(llm, [screen.path], repo=app, remember=remembered.append)

    body = fake_ollama.chat_bodies()[-1]
    images = [Image.open(io.BytesIO(base64.b64decode(i))) for i in body["messages"][-1]["images"]]
    assert [im.size for im in images] == [(896, 560), (896, 800), (896, 800)]
    assert body["format"]["title"] == "SeenFindings" and body["think"] is False
    prompt = body["messages"][-1]["content"]
    assert "Image 3: a 896x800 detail of screenshot 1 (1280x800) showing x=384..1280" in prompt
    assert "src/components/Newsletter.tsx" in prompt  # the repository went into the prompt

    found = by_category(result)
    assert len(result.findings) == 3  # the contrast problem seen twice is reported once
    contrast = found["accessibility"]
    assert contrast.evidence.bbox == list(screen.low_contrast_box)
    assert contrast.contrast_ratio == pytest.approx(wcag(LOW_FG, LOW_BG), abs=0.01)
    assert contrast.contrast_colours == [LOW_FG, LOW_BG]
    assert (contrast.location.path, contrast.location.line) == ("src/components/Newsletter.tsx", 7)

    cut = found["truncation"]
    assert cut.evidence.bbox == list(screen.button_box)  # tile coordinates mapped back
    assert cut.contrast_ratio is None
    assert (cut.location.path, cut.location.line) == ("src/components/CheckoutButton.tsx", 6)

    assert found["layout"].location is None and found["layout"].evidence.bbox is None
    assert {f.evidence.sha256 for f in result.findings} == {result.screenshots[0].sha256}
    assert result.screenshots[0].images_sent == 3
    assert [f.id for f in remembered] == [f.id for f in result.findings]


def test_finding_ids_are_stable_across_runs(llm, fake_ollama, screen, app):
    reply = Turn(json.dumps(model_reply(screen)), chunk_chars=1 << 16)
    fake_ollama.script(reply, reply)
    first = [f.id for f in review(llm, [screen.path], repo=app).findings]
    second = [f.id for f in review(llm, [screen.path], repo=app).findings]
    assert first == second and len(set(first)) == 3


def test_a_diff_makes_its_files_win_the_grounding(llm, fake_ollama, screen, app):
    fake_ollama.script(Turn(json.dumps(model_reply(screen)), chunk_chars=1 << 16))
    diff = "--- a/src/legacy/OldNewsletter.tsx\n+++ b/src/legacy/OldNewsletter.tsx\n@@ -1 +1 @@\n"
    result = review(llm, [screen.path], repo=app, diff=diff)
    assert by_category(result)["accessibility"].location.path == "src/legacy/OldNewsletter.tsx"
    assert "Diff under review" in fake_ollama.chat_bodies()[-1]["messages"][-1]["content"]


def test_without_a_repository_nothing_is_grounded(llm, fake_ollama, screen):
    fake_ollama.script(Turn(json.dumps(model_reply(screen)), chunk_chars=1 << 16))
    result = review(llm, [screen.path])
    assert all(f.location is None for f in result.findings) and result.repo is None


def test_a_small_screenshot_goes_whole(llm, fake_ollama, tmp_path):
    small = tmp_path / "dialog.png"
    Image.new("RGB", (400, 300), "#ffffff").save(small)
    fake_ollama.script(Turn('{"findings": []}'))
    result = review(llm, [small])
    images = fake_ollama.chat_bodies()[-1]["messages"][-1]["images"]
    assert len(images) == 1 and result.findings == []
    assert (
        "Image 1: the whole screenshot 1 (400x300)."
        in (fake_ollama.chat_bodies()[-1]["messages"][-1]["content"])
    )


def test_a_box_of_one_colour_is_noted_not_measured(llm, fake_ollama, screen):
    reply = model_reply(screen)
    reply["findings"][0]["bbox"] = [1000, 600, 50, 50]  # blank page area
    fake_ollama.script(Turn(json.dumps(reply), chunk_chars=1 << 16))
    contrast = by_category(review(llm, [screen.path]))["accessibility"]
    assert contrast.contrast_ratio is None
    assert "Contrast not measured" in contrast.note and "single colour" in contrast.note


def test_an_image_number_that_was_not_sent_falls_back_to_the_first(llm, fake_ollama, screen):
    reply = {"findings": [{**model_reply(screen)["findings"][3], "image": 9}]}
    fake_ollama.script(Turn(json.dumps(reply)))
    (finding,) = review(llm, [screen.path]).findings
    assert "image 9, which was not sent" in finding.note


def test_a_model_without_vision_fails_before_any_request(llm, fake_ollama, screen):
    fake_ollama.models["gemma4:12b"].capabilities.remove("vision")
    with pytest.raises(CapabilityMissing, match="no 'vision' capability"):
        review(llm, [screen.path])
    assert fake_ollama.chat_bodies() == []


def test_an_off_schema_reply_gets_one_repair_round_then_a_clear_error(llm, fake_ollama, screen):
    fake_ollama.script(Turn('{"findings": [{"severity": "urgent"}]}'), Turn("no JSON at all"))
    with pytest.raises(ModelOutputError, match="does not match SeenFindings after a repair round"):
        review(llm, [screen.path])
    assert len(fake_ollama.chat_bodies()) == 2


def test_a_repaired_reply_is_accepted(llm, fake_ollama, screen):
    good = json.dumps(model_reply(screen))
    fake_ollama.script(Turn('{"findings": "none"}'), Turn(good, chunk_chars=1 << 16))
    assert len(review(llm, [screen.path]).findings) == 3


def test_bad_screenshots_fail_before_the_model_is_asked(llm, fake_ollama, tmp_path):
    (tmp_path / "notes.png").write_text("not really a png")
    with pytest.raises(ImageError, match=r"notes\.png is not an image"):
        review(llm, [tmp_path / "notes.png"])
    assert fake_ollama.chat_bodies() == []


def test_the_graph_is_a_straight_line(llm):
    graph = Reviewer(llm).build().compile().get_graph()
    assert [e.target for e in graph.edges if e.source == "ask"] == ["ground"]
    assert set(graph.nodes) >= {"load_images", "load_repo", "ask", "ground", "measure_contrast"}


def test_the_newsletter_text_really_is_in_the_fixture():
    from fixtures.review.screens import APP

    lines = (APP / "src/components/Newsletter.tsx").read_text().splitlines()
    assert lines[6].strip() == NEWSLETTER


def to_box_2d(bbox: list[int], width: int, height: int) -> list[int]:
    """A pixel [x, y, w, h] as Gemma gives it: [ymin, xmin, ymax, xmax] on a 0-1000 grid."""
    x, y, w, h = bbox
    return [round(y * 1000 / height), round(x * 1000 / width),
            round((y + h) * 1000 / height), round((x + w) * 1000 / width)]  # fmt: skip


def test_the_model_is_asked_for_gemma_boxes(llm, fake_ollama, screen):
    fake_ollama.script(Turn('{"findings": []}'))
    review(llm, [screen.path])
    body = fake_ollama.chat_bodies()[-1]
    properties = body["format"]["$defs"]["SeenFinding"]["properties"]
    assert "box_2d" in properties and "bbox" not in properties
    assert "[ymin, xmin, ymax, xmax] from 0 to 1000" in body["messages"][-1]["content"]


def test_gemma_boxes_are_mapped_to_screenshot_pixels(llm, fake_ollama, screen, app):
    reply = model_reply(screen)
    sizes = {1: (896, 560), 2: (896, 800), 3: (896, 800)}  # the images this screen is sent as
    for finding in reply["findings"]:
        if bbox := finding.pop("bbox", None):
            finding["box_2d"] = to_box_2d(bbox, *sizes[finding["image"]])
    fake_ollama.script(Turn(json.dumps(reply), chunk_chars=1 << 16))
    found = by_category(review(llm, [screen.path], repo=app))
    for got, want in ((found["accessibility"], screen.low_contrast_box),
                      (found["truncation"], screen.button_box)):  # fmt: skip
        assert got.evidence.bbox == pytest.approx(list(want), abs=2)  # the grid is ~1 px here
    assert found["accessibility"].contrast_ratio == pytest.approx(wcag(LOW_FG, LOW_BG), abs=0.01)


@pytest.mark.parametrize(
    ("box", "size", "pixels"),
    [
        ([250, 500, 750, 1000], (896, 800), (448, 200, 448, 400)),  # the 0-1000 grid
        ([0, 0, 1000, 1000], (400, 300), (0, 0, 400, 300)),
        ([750, 1000, 250, 500], (896, 800), (448, 200, 448, 400)),  # swapped edges
        ([200, 1100, 260, 1400], (1600, 900), (1100, 200, 300, 60)),  # above 1000: pixels
    ],
)
def test_box_2d_conversion(box, size, pixels) -> None:
    assert box_2d_to_pixels(box, *size) == pixels


def test_pixel_boxes_from_older_replies_are_still_accepted() -> None:
    seen = SeenFinding(severity="low", category="visual", title="odd", bbox=[10, 20, 30, 40])
    assert seen.pixel_box(896, 800) == (10, 20, 30, 40)
    assert SeenFinding(severity="low", category="visual", title="odd").pixel_box(9, 9) is None
