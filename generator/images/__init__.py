"""Images as data, below everything that reads or sends them: what a figure of a document is
(``figure``: ``Figure``, ``FigureSet``, the ``Graphics`` and ``PageRenderer`` protocols through
which callers hand in a renderer) and image safety (``safety``: format by magic bytes, size from
headers without decoding, bombs and SVG refused). No other engine module is imported here but
``config``, ``errors`` and ``outside``."""
