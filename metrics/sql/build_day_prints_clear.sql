-- build_day_prints_clear: forget the last build's fingerprints before recording this one's. Grain: none.
DELETE FROM build_day_prints
