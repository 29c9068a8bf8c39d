"""Image occlusion notes from the command line, as a script runs it: ``--kind occlusion`` on a
PDF of labelled figures into a real collection, the notes beside basic cards with ``--figures``,
and what is said of an image file when the model cannot see."""
import json

import pytest

from cli_run import cli, collection_notes
from fake_ollama import FakeOllama
from occlusion_pages import figures_pdf
from pdf_maker import qt_image


@pytest.fixture(scope="module")
def figures_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("figures") / "anatomy.pdf"
    path.write_bytes(figures_pdf(["heart", "cell", "chart", "text"])[0])
    return str(path)


@pytest.mark.timeout(120)
def test_kind_occlusion_adds_one_image_occlusion_note_per_labelled_figure(figures_file, tmp_path):
    path = str(tmp_path / "collection.anki2")
    with FakeOllama() as server:
        r = cli(figures_file, "--kind", "occlusion", "--collection", path, "--url", server.url,
                "--deck", "Anatomy", "--json")
        bodies = server.chat_bodies()
    assert r.returncode == 0, r.stderr
    assert "3 labelled figure(s) on 4 page(s), 3 image occlusion note(s) with 13 card(s)." in r.stderr
    assert len(bodies) == 3 and all("groups" in b["format"]["properties"] for b in bodies)
    printed = json.loads(r.stdout)
    assert [n["header"] for n in printed] == ["The chambers of the heart.", "An animal cell.",
                                              "Heart rate during exercise and at rest."]
    assert [n["source"]["page"] for n in printed] == [1, 2, 3] and {n["kind"] for n in printed} == {"occlusion"}
    notes, col = collection_notes(path)
    try:
        assert len(notes) == 3
        for note in notes:
            assert note.note_type()["originalStockKind"] == 6
            assert col.decks.name(note.cards()[0].did) == "Anatomy"
            assert "image-occlusion:rect" in note["Occlusion"] and note["Image"].startswith('<img src="')
            assert "anatomy.pdf" in note["Back Extra"]
        assert sorted(len(n.cards()) for n in notes) == [4, 4, 5]
    finally:
        col.close()


@pytest.mark.timeout(120)
def test_figures_on_the_command_line_adds_occlusion_notes_beside_the_cards(figures_file, tmp_path):
    path = str(tmp_path / "collection.anki2")
    with FakeOllama() as server:
        plain = cli(figures_file, "--dry-run", "--url", server.url, "--json", "--quiet")
        r = cli(figures_file, "--figures", "auto", "--collection", path, "--url", server.url, "--json")
    assert plain.returncode == 0 and {c["kind"] for c in json.loads(plain.stdout)} == {"basic"}
    assert r.returncode == 0, r.stderr
    kinds = [c["kind"] for c in json.loads(r.stdout)]
    assert kinds.count("occlusion") == 3 and kinds.count("basic") > 0
    assert "3 image occlusion note(s) added." in r.stderr
    notes, col = collection_notes(path)
    try:
        stock = sorted(n.note_type()["originalStockKind"] for n in notes)
        assert stock.count(6) == 3 and stock.count(1) == kinds.count("basic")
    finally:
        col.close()


@pytest.mark.timeout(120)
def test_an_image_file_needs_a_model_that_can_see(tmp_path):
    image = tmp_path / "diagram.png"
    image.write_bytes(qt_image(400, 300, "PNG"))
    with FakeOllama() as server:
        r = cli(str(image), "--kind", "occlusion", "--dry-run", "--url", server.url, "--model", "llama3.2")
    assert r.returncode == 1, r.stderr
    assert ("'diagram.png': its figures are images without a text layer: image occlusion notes need a "
            "PDF whose labels are text, or a model that can see.") in r.stderr


@pytest.mark.timeout(120)
def test_a_figure_already_in_the_collection_is_not_added_twice(figures_file, tmp_path):
    path = str(tmp_path / "collection.anki2")
    with FakeOllama() as server:
        first = cli(figures_file, "--kind", "occlusion", "--collection", path, "--url", server.url, "--quiet")
        again = cli(figures_file, "--kind", "occlusion", "--collection", path, "--url", server.url)
    assert first.returncode == 0 and again.returncode == 0, again.stderr
    assert again.stderr.count("is already an image occlusion note in the collection") == 3
    assert "0 note(s) added." in again.stderr
    notes, col = collection_notes(path)
    try:
        assert len(notes) == 3
    finally:
        col.close()
