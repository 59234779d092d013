"""Verdicts in the editor: ``ml2p-proof lsp``, a Language Server Protocol server (stdio).

=================  ================================================================
:mod:`.server`     the pygls server: documents, the checker thread, the handlers
:mod:`.diagnostics` verdict -> ``Diagnostic`` (severity, range, message): pure functions
:mod:`.hover`      the evidence of a verdict in Markdown, the mathematics in LaTeX
:mod:`.spans`      offsets <-> LSP positions; a step's relation sign and right side
=================  ================================================================

Needs the ``lsp`` extra (``pip install 'ml2p-symbolic[lsp]'``: pygls and lsprotocol); nothing
else in the package imports this one. Set-up for VS Code, Neovim and Emacs: ``docs/editor.md``.
"""
