"""The history of attempts: the store (SQLite or PostgreSQL) and its export."""
