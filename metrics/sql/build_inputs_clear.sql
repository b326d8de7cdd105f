-- build_inputs_clear: forget the last build's counts before recording this one's. Grain: none.
DELETE FROM build_inputs
