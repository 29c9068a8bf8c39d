"""Cards into the collection: note types by kind and template shape, fields mapped, duplicates
marked, and one ``add_notes`` call per batch (``add``). Takes an open collection from the caller;
never opens one itself."""
