"""Derivations as content: statements and the checks only Python can say, one package per draft."""
