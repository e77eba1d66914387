"""The ground: database engine and sessions, errors, users and login, domain events, settings."""
