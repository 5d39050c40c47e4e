"""Import Dify workflow apps (DSL 0.1 to 0.6): :mod:`.importer` reads an export into our
:class:`~agents.workflows.graph.WorkflowSpec`, each node's data mapped by the node type
that imports it (its folder's ``dify.py``, found through the node registry), and
:mod:`.report` says what changed, was left out or needs the user.

Nothing is imported here: node modules import :mod:`.mapping`, and the importer
imports the node registry.
"""
