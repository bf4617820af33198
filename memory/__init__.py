"""sleuth's memory: knowledge, conversation and task memory in SQLite, with HCAM-style chunk recall.

Not built yet (the memory issue); the package exists so the layout is fixed from the start.
"""
