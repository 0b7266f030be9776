"""Importing members from the files agencies keep: reading a file (``sources``), matching its
columns to the member's fields (``mapping``), turning cell text into values (``normalise``, with
the data in ``members/data/import_synonyms.toml``), then checking every row and writing them in
bulk (``pipeline``, ``writer``, ``report``)."""
