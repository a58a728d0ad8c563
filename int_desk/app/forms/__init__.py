"""Generated Qt Designer forms (see build_forms)."""
