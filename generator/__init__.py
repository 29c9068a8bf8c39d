"""The engine: sources → chunks → model requests → validated cards → notes.

Never imports aqt or Qt, so it runs headless (CLI, tests) as well as inside Anki."""
