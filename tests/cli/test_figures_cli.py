"""Figures end to end: the CLI as a script runs it, the fake server (which knows which models can
see and checks that images come in each protocol's documented form), a real collection."""
import base64
import json
import os
import re
import subprocess
import sys

import pytest

from fake_ollama import FakeOllama
from pdf_maker import PdfMaker, qt_image, slide_deck

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLORS = ["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e"]


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "flashcards.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def server():
    with FakeOllama(models=("llama3.2", "llava:7b")) as s:
        yield s


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    path = tmp_path_factory.mktemp("deck") / "cells.pdf"
    path.write_bytes(slide_deck(4, [qt_image(400, 300, "JPEG", c) for c in COLORS]))
    return str(path)


def chat_bodies(server):
    return [r["body"] for r in server.requests if r["path"] in ("/api/chat", "/v1/chat/completions")]


@pytest.mark.timeout(120)
def test_a_slide_deck_gives_figure_cards_with_their_figures_in_the_collection(server, deck, tmp_path):
    path = str(tmp_path / "collection.anki2")
    r = cli(deck, "--collection", path, "--url", server.url, "--model", "llava:7b", "--json")
    assert r.returncode == 0, r.stderr
    assert "4 image(s)" in r.stderr
    bodies = chat_bodies(server)
    assert len(bodies) == 4
    for body in bodies:
        user = body["messages"][1]
        assert user["role"] == "user" and isinstance(user["content"], str)
        assert len(user["images"]) == 1 and not user["images"][0].startswith("data:")
        assert base64.b64decode(user["images"][0], validate=True).startswith(b"\x89PNG")
        assert "figure" in body["format"]["properties"]["cards"]["items"]["required"]
        assert "Images attached" in user["content"]
        assert all("images" not in m for m in body["messages"] if m["role"] != "user")
    cards = json.loads(r.stdout)
    figure_cards = [c for c in cards if c["figure"]]
    assert len(figure_cards) == 4
    assert [c["source"]["location"] for c in figure_cards] == ["page 1", "page 2", "page 3", "page 4"]
    assert all(c["grounded"] for c in figure_cards)
    from anki.collection import Collection

    col = Collection(path)
    try:
        notes = [col.get_note(n) for n in col.find_notes("")]
        shown = [n for n in notes if "<img" in n["Front"]]
        assert len(shown) == 4
        for note in shown:
            name = re.search(r'<img src="([^"]+)">', note["Front"]).group(1)
            assert re.fullmatch(r"ollama-flashcards-[0-9a-f]{16}\.png", name)
            data = open(os.path.join(col.media.dir(), name), "rb").read()
            assert data.startswith(b"\x89PNG") and data in server.images  # the image the model saw
            assert "page" in note["Back"]  # the source line names the page
    finally:
        col.close()
    again = cli(deck, "--collection", path, "--url", server.url, "--model", "llava:7b")
    assert again.returncode == 0 and again.stderr.count("duplicate") >= 4  # same figure: a duplicate


@pytest.mark.timeout(120)
def test_figures_off_and_models_that_cannot_see_send_no_images(server, deck):
    r = cli(deck, "--dry-run", "--url", server.url, "--model", "llava:7b", "--figures", "off")
    assert r.returncode == 0, r.stderr
    r = cli(deck, "--dry-run", "--url", server.url, "--model", "llama3.2")
    assert r.returncode == 0, r.stderr
    assert "cells.pdf" in r.stderr and "cannot see" in r.stderr and "vision" in r.stderr
    assert server.images == [] and all("images" not in b["messages"][1] for b in chat_bodies(server))


@pytest.mark.timeout(120)
def test_the_openai_path_sends_image_url_parts(server, deck):
    r = cli(deck, "--dry-run", "--json", "--backend", "openai", "--url", server.url, "--model", "llava:7b",
            "--figures", "slides")
    assert r.returncode == 0, r.stderr
    bodies = chat_bodies(server)
    assert len(bodies) == 4
    for body in bodies:
        parts = body["messages"][1]["content"]
        assert parts[0]["type"] == "text" and "Slide" in parts[0]["text"]
        assert parts[1]["type"] == "image_url"
        assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert len(server.images) == 4
    assert any(c["figure"] for c in json.loads(r.stdout))


@pytest.mark.timeout(120)
def test_image_files_as_sources_and_a_message_for_each_bad_one(server, tmp_path):
    good = tmp_path / "cell.png"
    good.write_bytes(qt_image(600, 400, "PNG"))
    photo = tmp_path / "leaf.jpg"
    photo.write_bytes(qt_image(640, 480, "JPEG", "#2ca02c"))
    svg = tmp_path / "drawing.svg"
    svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    broken = tmp_path / "broken.png"
    broken.write_bytes(qt_image(600, 400, "PNG")[:300])
    r = cli(str(good), str(svg), str(broken), str(photo), "--dry-run", "--json", "--url", server.url,
            "--model", "llava:7b")
    assert r.returncode == 1, r.stderr  # some sources failed, the rest went on
    assert "drawing.svg" in r.stderr and "SVG" in r.stderr
    assert "broken.png" in r.stderr and "cut off" in r.stderr
    assert "Traceback" not in r.stderr
    cards = json.loads(r.stdout)
    assert {c["source"]["document"] for c in cards} == {"cell.png", "leaf.jpg"}
    assert len(server.images) == 2
    one_bad = cli(str(svg), "--dry-run", "--url", server.url, "--model", "llava:7b")
    assert one_bad.returncode == 2 and "SVG" in one_bad.stderr


@pytest.mark.timeout(120)
def test_a_scanned_pdf_needs_a_model_that_can_see(server, tmp_path):
    pdf = PdfMaker()
    xid = pdf.jpeg_image(qt_image(400, 300, "JPEG"), 400, 300)
    pdf.page(images=[(xid, (0, 0, 612, 792))])
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf.build())
    r = cli(str(path), "--dry-run", "--url", server.url, "--model", "llama3.2")
    assert r.returncode == 2 and "cannot see" in r.stderr and "ocrmypdf" in r.stderr
    r = cli(str(path), "--dry-run", "--json", "--url", server.url, "--model", "llava:7b")
    assert r.returncode == 0, r.stderr
    cards = json.loads(r.stdout)
    assert cards and all(c["source"]["location"] == "page 1" and c["grounded"] for c in cards)
