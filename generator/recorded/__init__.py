"""What the collection keeps of the documents cards were made from, read cheaply: the index of
recorded documents by path, the highlights cards were made of, a note's mark. Imports nothing
of the engine, so the Browser's menu, the bulk job (before its files are read) and the update
(``update.record``, which writes all of it) share one reading of it."""
