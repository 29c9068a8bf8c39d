"""An error's message and hint on one line read as sentences (the bulk dialog's lines)."""
from generator.errors import UnreadableSource, describe, one_line


def test_one_line_joins_message_and_hint_with_a_full_stop():
    err = UnreadableSource("broken.pdf could not be read as a PDF", "Open it in a PDF viewer and save it again.")
    assert one_line(describe(err)) == ("broken.pdf could not be read as a PDF. "
                                       "Open it in a PDF viewer and save it again.")
    assert one_line("Cannot connect.\nStart Ollama.") == "Cannot connect. Start Ollama."
    assert one_line("Server said:\nbusy") == "Server said: busy"
    assert one_line("one line") == "one line" and one_line("") == ""


def test_a_bulk_file_error_is_one_line_of_sentences(tmp_path):
    from generator.bulk.job import BulkSpec, run_headless  # noqa: F401
    from generator.bulk.reader import Planner  # noqa: F401
    from generator.errors import describe as d

    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n not really a pdf")
    from generator.sources.read import read_path

    try:
        read_path(str(bad))
    except Exception as e:  # what the bulk job shows for this file
        text = one_line(d(e))
        assert "\n" not in text
        if getattr(e, "hint", ""):
            assert ". " + e.hint.strip()[:10] in text or e.message.rstrip().endswith((".", ":", "!", "?"))
    else:
        raise AssertionError("a broken PDF was read")
