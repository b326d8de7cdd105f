-- build_info_clear: forget the last build's record before writing this one's (build_info holds one row).
DELETE FROM build_info
