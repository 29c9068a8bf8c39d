"""What a reader highlighted, as a source of cards: a ``Highlight`` and the ``Highlights`` of one
source (``highlight``); reading them from a PDF's markup annotations (``pdf``, the text under each
annotation's quadrilaterals found by ``glyphs``, which follows the page's text state), from a
Kindle ``My Clippings.txt`` (``kindle``), a Readwise CSV or Markdown export (``readwise``) and
Zotero's annotations as Markdown (``zotero``), each recognised by its content (``read``: a source
read with its highlights); and the job's focus on them (``focus``: each highlight the focus of a
request that carries its paragraph and neighbours, only / first / ignore, by colour). Which
highlights had cards made of them before is kept beside the update record (``update.highlights``);
a bulk job keeps the highlights of its focus chunks until their cards are added (``kept``)."""
