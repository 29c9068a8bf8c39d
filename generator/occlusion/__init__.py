"""Image occlusion notes from labelled figures: ``find`` finds the figures with text labels on PDF
pages (the text layer's boxes and the page drawn small in grey, through the renderer the caller
hands in), ``masks`` turns the labels' boxes into masks on the figure's image, ``choose`` asks
the model (text only) which labels to hide, in which groups, under which header, ``notes``
makes them notes of Anki's own Image Occlusion type, ``make`` runs it all for a job's documents,
``raster`` handles figures that are only pixels (a model that can see reports the boxes) and
``cards`` shows a note as a card of a review list and adds the notes with the cards."""
