-- snapshot_published_clear: forget what the previous publish recorded (snapshot_published holds one row).
DELETE FROM snapshot_published
