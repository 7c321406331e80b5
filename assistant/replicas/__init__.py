"""Several `hearth serve` replicas on one PostgreSQL database: chat leases, LISTEN/NOTIFY wake-ups
and one scheduler leader. On SQLite none of it runs: one process holds the data directory."""
