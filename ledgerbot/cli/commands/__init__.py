"""The ``ledgerbot`` command groups, one module each, loaded by ``ledgerbot.cli.app``.

Every command imports the libraries it needs inside its own function: loading all of them (the
store, the text layer, the models) for every command would make ``ledgerbot --help`` and
``ledgerbot status`` pay for ``ledgerbot extract``'s work.
"""
