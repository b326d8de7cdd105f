-- build_day_prints_record: this build's fingerprints of the period metrics' facts (build_scope_prints),
-- for the next build to compare with. Grain: (input, day).
INSERT INTO build_day_prints SELECT input, day, print FROM build_scope.prints
