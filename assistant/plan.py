"""What one assistant answer needs: its kind, the messages it read, and either a prompt for the
model or a fixed text when there is nothing to ask it (no news, an empty history)."""
from dataclasses import dataclass, field


@dataclass
class Plan:
    kind: str  # catch_up | answer | suggestion
    used: list[dict] = field(default_factory=list)  # the messages it read, oldest first
    system: str = ""
    user: str = ""
    max_new_tokens: int = 120
    temperature: float = 0.3
    private: bool = False
    text: str | None = None  # the answer without the model

    @property
    def message_ids(self) -> list[int]:
        return [m["id"] for m in self.used]
