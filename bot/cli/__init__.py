"""The ``newsdigest`` command line: ``main`` parses, dispatches and runs ``ingest``;
``run`` (the bot), ``preview`` and ``breaking`` are one module per command.
"""
