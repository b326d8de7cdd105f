"""Not installed; used by tests, bench and to regenerate data/sample (`python -m tools.samplegen`)."""
