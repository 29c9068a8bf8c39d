"""A bulk job: many files into one deck, resumable after a crash. ``job`` runs it, ``reader``
reads and chunks the files, ``topics`` finds their topics, ``figures`` plans their figures,
``writer`` adds notes as chunks finish, ``status`` counts per file, ``journal`` records every
answer on disk (``files``: the journals in their folder, cheap enough for profile open)."""
