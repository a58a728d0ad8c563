"""INT Desk: caseload, shared care plans and huddles for Integrated Neighbourhood Teams.

Layers (one import direction): app (Qt) -> services -> store | sync | reports -> domain.
"""

__version__ = "0.1.0"
