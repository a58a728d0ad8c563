"""Mutation testing: declared mutants of the hazard log's controls, and a broad mutation score."""
