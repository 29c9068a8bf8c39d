"""The job path: a document's text becomes checked cards. ``chunk`` and ``chunking`` cut the
document into pieces that fit the model's context (``context_size``, ``depth`` for how many
cards a piece holds); ``sentences`` numbers a piece's sentences, which the model cites instead
of copying a quote, and ``citations`` grounds a card in the sentences it cites; ``prompts`` and ``schema`` say what is asked; ``images`` puts a piece's
images into its request; ``stream`` reads cards as the answer streams in and ``answers`` parses
the whole answer; ``rewrite`` is the one rewrite pass; ``topics`` is the topics-first step; ``ask``
is what a plan adds to one piece's request; ``run`` runs a job over all pieces (``Job``) and
``reports`` is what it tells its one ``JobListener``."""
