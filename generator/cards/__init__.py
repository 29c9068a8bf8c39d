"""A card and everything that can be said of it alone: the ``Card`` itself (``card``), its fields'
cleaning and limits (``fields``), the HTML allow-list (``sanitize``), cloze repair (``cloze``),
Markdown and maths (``formatting``), the card checks and their word lists (``checks``,
``wordlists``) and whether an answer (or a quote) stands in its text (``grounding``). Nothing here talks to a
server or a collection."""
