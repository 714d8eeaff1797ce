"""Schema revisions, applied in order by `storage.database.upgrade`."""
