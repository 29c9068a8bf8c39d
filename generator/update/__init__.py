"""A document's cards kept in step with the document. ``fingerprint`` cuts a document into units
(a paragraph, a list, a table, a heading) with a fingerprint of each one's normalised text;
``record`` is what the collection remembers of a document (its units' fingerprints, in the
collection's config) and of each note made from it (a hidden mark in the note's source
reference: document, unit, and a hash of the fields as the add-on wrote them); ``track`` writes
both when cards are made from a file; ``plan`` compares a document with its record (unchanged,
changed, new and removed units) and cuts what changed into requests; ``match`` pairs the new
cards with the old notes of the same fact; ``apply`` makes the proposal (one entry per note) and
applies it in one undo step; ``run`` reads, plans and asks, its answers kept in a bulk journal;
``highlights`` keeps which highlights of a document had cards made of them (clippings grow: a
``My Clippings.txt`` read again gets cards for its new highlights only)."""
