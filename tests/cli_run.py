"""The CLI as a script runs it: ``python flashcards.py`` in a child process from the repository
root, and the notes of a collection file it wrote."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "flashcards.py", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def collection_notes(path):
    from anki.collection import Collection

    col = Collection(path)
    try:
        return [col.get_note(n) for n in col.find_notes("")], col
    except Exception:
        col.close()
        raise
