"""Crews on the server: CrewAI run against the gateway's own models (see ``offline.py``)."""
