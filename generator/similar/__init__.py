"""Duplicates by meaning: the text of a note's question (``question``), an append-only cache of
embeddings (``cache``), a compact sign-signature index for a shortlist (``index``) and the search
that marks a new card similar to a note (``search``, with ``SimilarCheck``: what a job does when
the server cannot embed)."""
