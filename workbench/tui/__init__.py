"""The Textual front end: a thin view over the core (``workbench tui``).

``snapshot`` and ``source`` are pure presentation (no textual import) so they can be tested
and reused; ``app`` holds the Textual application, ``screens/`` the modal dialogs and
``widgets/`` one module per screen region (steps, detail, evidence, audit, findings).
Nothing is imported here so that importing a submodule stays cheap.
"""
