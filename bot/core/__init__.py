"""The platform-free core: briefs, the clock, answers and the neutral reply model.

Nothing in this package imports a chat platform's library or a terminal
renderer; platforms translate to and from it.
"""
