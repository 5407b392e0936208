"""The Textual front end: a thin view over the core (``workbench tui``).

``snapshot``, ``views``, ``source``, ``actions``, ``checks`` and ``operations`` import no
Textual: values, how they are built, where data comes from, the action catalogue, the
checks before an action and the adapters to the core. ``app`` holds the Textual
application, ``flow`` how an action is asked for and run, ``screens/`` the modal dialogs
and ``widgets/`` one module per screen region.
Nothing is imported here so that importing a submodule stays cheap.
"""
