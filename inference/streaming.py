"""Turn generated token ids into text chunks, holding back anything that may start a stop string."""


class StopStringStreamer:
    """`push` takes token ids (decoded with `tokenizer`); `push_text` takes text already decoded,
    as a remote server streams it (inference/openai_engine.py: no tokenizer needed then)."""

    def __init__(self, tokenizer, stop: list[str]):
        self.tokenizer = tokenizer
        self.stop = [s for s in stop if s]
        self.tokens: list[int] = []
        self.text = ""  # the text of self.tokens[:self.read]
        self.emitted = 0  # characters of self.text already handed out
        self.prefix = self.read = 0  # tokens[prefix:read] give the context decoded again below

    @property
    def pending(self) -> bool:
        return self.emitted < len(self.text)

    def push(self, token: int) -> tuple[str, bool]:
        """Add a token; return (text safe to show now, whether a stop string was reached)."""
        self.tokens.append(token)
        if (new := self._new_text()) is None:  # half of a multi-byte character
            return "", False
        return self.push_text(new)

    def push_text(self, new: str) -> tuple[str, bool]:
        """Add decoded text; return (text safe to show now, whether a stop string was reached)."""
        self.text += new
        if (cut := self._stop_position()) is not None:
            self.text = self.text[:cut]
            return self._take(len(self.text)), True
        return self._take(len(self.text) - self._held_back()), False

    def flush(self) -> str:
        if self.read < len(self.tokens):  # an unfinished character at the very end
            self.text += self._decode(self.prefix, len(self.tokens)).rstrip("\ufffd")[
                len(self._decode(self.prefix, self.read)):]
        return self._take(len(self.text))

    def _new_text(self) -> str | None:
        """Text the latest tokens add, decoded with a few tokens before them for context (so
        spacing comes out as in a full decode) instead of decoding the whole reply each time."""
        before = self._decode(self.prefix, self.read)
        after = self._decode(self.prefix, len(self.tokens))
        if after.endswith("\ufffd"):
            return None
        self.prefix, self.read = self.read, len(self.tokens)
        return after[len(before):]

    def _decode(self, start: int, end: int) -> str:
        return self.tokenizer.decode(self.tokens[start:end], skip_special_tokens=True)

    def _take(self, end: int) -> str:
        end = max(end, self.emitted)
        chunk, self.emitted = self.text[self.emitted:end], end
        return chunk

    def _stop_position(self) -> int | None:
        longest = max((len(s) for s in self.stop), default=0)
        start = max(0, self.emitted - longest)
        hits = [i for s in self.stop if (i := self.text.find(s, start)) != -1]
        return min(hits) if hits else None

    def _held_back(self) -> int:
        """Length of the longest tail of the text that is a prefix of some stop string."""
        best = 0
        for s in self.stop:
            for n in range(min(len(s) - 1, len(self.text)), best, -1):
                if self.text.endswith(s[:n]):
                    best = n
                    break
        return best
