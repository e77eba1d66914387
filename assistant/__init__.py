"""The assistant on call: catching up, answering from a room's history, suggesting replies, and the help desk over docs/ (docs/assistant.md)."""
