"""Flask helpers shared by every domain's routes: the per-request session, request bodies,
JSON errors, the page login redirect."""
