"""Conversations, the message tree, prompt building and streamed replies."""
