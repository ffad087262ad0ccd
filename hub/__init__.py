"""The head-office hub: NATS ingest, SQLite store, HTTP API."""
