"""Tables, the engine and schema migrations (SQLite by default, PostgreSQL through AADBOT_DATABASE_URL)."""
