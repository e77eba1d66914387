"""The creator studio: the creator routes, character dashboards, search and trending."""
