"""Figures of a document as cards: which pictures go with which piece of text, and the slides mode
(``plan``), and writing the pictures that cards show into the collection's media (``media``)."""
