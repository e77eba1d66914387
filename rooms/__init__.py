"""Group rooms: several people and several characters, live over Socket.IO (docs/rooms.md)."""
