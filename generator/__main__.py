"""``python -m generator``: the engine's own command line, without a graphics adapter (the
engine imports no Qt and takes the adapter from its caller). PDF pages are then not rendered and images are sent as the
sources hold them, where they may be. ``python flashcards.py`` in the add-on's folder is the same
command line with Qt's renderer handed in: the one the documentation names."""
from .cli.main import exit_now, main

if __name__ == "__main__":
    exit_now(main())
