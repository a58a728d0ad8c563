"""Qt-free, store-free domain: value objects, vocabularies, rules and errors.

Callers may use: ``nhs_number``, ``vocab``, ``errors``, ``ids``. Nothing here imports
SQLAlchemy, PySide6 or any other INT Desk layer.
"""
