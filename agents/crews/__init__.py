"""Crews: CrewAI agents and tasks as data (the spec), their run events, records and store.

Running a crew needs CrewAI and a model endpoint, so it lives at the edge, in
``cluster.crews``; nothing here imports CrewAI.
"""
