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


class NotFound(KindredError):
    status = 404


class Conflict(KindredError):
    status = 409


def not_found(what: str) -> NotFound:
    return NotFound("not_found", f"No {what} with that id exists, or it is not yours.")
