"""Reading documents: files, bytes, pasted text and HTML become a ``Document`` of blocks
(``document``). ``read`` is the entry (``read_path``, ``read_bytes``, ``read_text``, bounded and
refusing what is not a regular file); one module per format (``text``, ``html``, ``pdf``,
``docx``, ``epub``, ``archive`` for zip containers); the text repair only readers use
(``charset``, ``mojibake``, ``textfix``); ``bounded`` and ``limits`` cap what a read may cost;
``figures``, ``pdf_figures`` and ``with_figures`` read a source's figures beside its text."""
