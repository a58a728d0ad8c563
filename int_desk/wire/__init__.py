"""The wire contract between a laptop and the endpoint, below both sides.

``protocol`` holds the request shapes, headers and limits; ``schema`` what syncs and how each
column travels (codecs and validation); ``entities`` the synced entities' columns, generated
from the desktop store's models (``python -m int_desk.store.wire_entities``). The endpoint and
the desktop's sync client both import from here; this package imports only domain.
"""
