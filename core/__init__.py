"""The shared base every layer may import: errors, SQL files and their parameters, the DuckDB connection.

It imports nothing of ours, so no layer reaches upward through it (docs/architecture.md).
"""
