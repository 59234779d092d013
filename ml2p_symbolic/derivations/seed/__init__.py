"""The seed draft as content: ``seed.tex`` (its displayed equations with their declarations) and
``preamble.tex`` (the directives that let the seed's own text be checked as written)."""
