"""Migration scripts, applied in order by ``Store.migrate``."""
