"""Domain errors with a code, a message and the HTTP status they map to."""


class KindredError(Exception):
    status = 400

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code, self.message = code, message
        if status is not None:
            self.status = status

    def payload(self) -> dict:
        return {"code": self.code, "message": self.message}


def check_known_fields(given, allowed, hint: str) -> None:
    """400 unknown_field naming what of `given` is not in `allowed`, followed by `hint` (what
    the caller does take)."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise KindredError("unknown_field",
                           f"Unknown field(s) {', '.join(map(repr, unknown))}; {hint}")


class NotFound(KindredError):
    status = 404


class BlockedContent(KindredError):
    """The safety pipeline refused the content: 422 `blocked_content`, naming the category and
    the community rule it breaks."""
    status = 422

    def __init__(self, category, rule, message: str):
        super().__init__("blocked_content", message)
        self.category, self.rule = category, rule

    def payload(self) -> dict:
        return {**super().payload(), "category": self.category, "rule": self.rule}


class Conflict(KindredError):
    status = 409


def not_found(what: str) -> NotFound:
    return NotFound("not_found", f"No {what} with that id exists, or it is not yours.")
