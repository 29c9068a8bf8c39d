"""Figures of a document as cards: which figures go with which piece of text, and the slides mode
(``plan``), and writing the figures that cards show into the collection's media (``media``)."""
