"""Pure, deterministic core of Kindred's provably fair character-card gacha."""
