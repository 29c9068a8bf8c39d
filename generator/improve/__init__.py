"""Improving the cards a learner struggles with, in place: ``history`` reads the review history
(the struggling-cards list, each note's figures) with a few SQL queries, ``notes`` reads a note as
the fields a card has (by note type and the settings' field mapping), ``diagnose`` says in plain
words what is known before the model is asked (history, the card checks, the source, similar
notes), ``request`` asks the model and reads its answer per note (keep / rewrite / split) through
the same validation as generated cards, and ``apply`` changes the collection in one undo step
(same note id, same cards, review history kept). Takes an open collection from the caller."""
