"""The command line, ``python flashcards.py``: ``main`` parses and runs, ``live`` streams cards and
topics to the terminal, ``similar`` checks duplicates by meaning, ``options`` checks numeric
options, ``run`` handles Ctrl-C and safe output, ``settings_file`` reads ``--config``,
``highlights`` holds ``--highlights`` (cards from what the reader highlighted)."""
