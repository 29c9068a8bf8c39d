"""Privacy: where the text goes is said plainly; the log holds no text or secrets by default."""
import pytest

from fake_ollama import FakeOllama
from engine_fixtures import backend_for
from generator import log
from generator.job.chunk import Chunk
from generator.job.run import JobOptions, run_job
from generator.privacy import INTERNET, LOCAL_NETWORK, THIS_MACHINE, mask_secret, privacy_note, url_scope


@pytest.mark.parametrize("url,scope", [
    ("http://127.0.0.1:11434", THIS_MACHINE), ("http://localhost:1234", THIS_MACHINE),
    ("http://[::1]:11434", THIS_MACHINE), ("127.0.0.1:11434", THIS_MACHINE),
    ("http://192.168.1.20:11434", LOCAL_NETWORK), ("http://10.0.0.5", LOCAL_NETWORK),
    ("http://172.16.3.4:8000", LOCAL_NETWORK), ("http://gpu-box:11434", LOCAL_NETWORK),
    ("http://studio.local:1234", LOCAL_NETWORK), ("http://[fe80::1]:11434", LOCAL_NETWORK),
    ("https://api.example.com", INTERNET), ("http://8.8.8.8:11434", INTERNET), ("", INTERNET),
    ("http://[fd12:3456::1]:11434", LOCAL_NETWORK), ("http://169.254.10.1", LOCAL_NETWORK),
    ("http://[::ffff:192.168.1.2]", LOCAL_NETWORK), ("http://[::ffff:127.0.0.1]", THIS_MACHINE),
    # documentation and benchmark ranges are not "your local network": they may be anywhere
    ("http://203.0.113.7:11434", INTERNET), ("http://198.51.100.2", INTERNET),
    ("http://192.0.2.1:8080", INTERNET), ("http://198.18.0.1", INTERNET),
    ("http://198.19.255.254", INTERNET), ("http://[2001:db8::1]", INTERNET),
    ("http://100.64.0.1", INTERNET),
])
def test_url_scope(url, scope):
    assert url_scope(url) == scope


def test_privacy_note_speaks_only_when_text_leaves_the_machine():
    assert privacy_note("http://127.0.0.1:11434") == ""
    assert "local network" in privacy_note("http://192.168.0.2:11434")
    assert "over the internet" in privacy_note("https://llm.example.org/v1")


def test_api_key_is_never_shown_in_full():
    assert mask_secret("sk-abcdefghijklmnop") == "sk-…op"
    assert "abcdef" not in mask_secret("sk-abcdefghijklmnop")
    assert mask_secret("short") == "•••••"


def run_logged(tmp_path, content_on):
    path = tmp_path / "addon.log"
    log.configure(str(path), log_content=content_on)
    secret = "sk-very-secret-key-123456"
    chunk = Chunk(id="c0", document="diary.txt", text="My secret diary says the vault code is 4711 and more words.")
    try:
        with FakeOllama() as srv:
            run_job([chunk], backend_for(srv.url, api_key=secret), JobOptions(model="llama3.2"))
    finally:
        log.configure(None)
    return path.read_text(encoding="utf-8"), secret


def test_log_has_no_text_by_default(tmp_path):
    text, secret = run_logged(tmp_path, content_on=False)
    assert "chunk c0 attempt 1" in text
    assert "vault code" not in text and secret not in text


def test_log_content_when_asked(tmp_path):
    text, secret = run_logged(tmp_path, content_on=True)
    assert "vault code is 4711" in text and secret not in text
