"""Checking a researcher's own document step by step.

=================  ==============================================================
:mod:`.check`      read a document, give every step a verdict (cached, time-limited)
:mod:`.steps`      the verdict of one relation: concrete sizes, expectations, conditions
:mod:`.cache`      verdicts cached by step text, directives and time limit
:mod:`.report`     linter lines ``FILE:LINE: id: VERDICT``, JSON, exit status
=================  ==============================================================

The reader of LaTeX/Markdown is :mod:`ml2p_symbolic.engine.latex_input`; the annotated PDF is
:mod:`ml2p_symbolic.engine.render.annotate`.
"""
