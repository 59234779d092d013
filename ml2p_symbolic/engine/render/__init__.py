"""Rendering the engine's records: a LaTeX document (:mod:`.latex`), its PDF (:mod:`.pdf`),
and notebook display (:mod:`.notebook`, which registers ``_repr_latex_``/``_repr_markdown_``
on the records when imported)."""
