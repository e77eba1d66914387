"""The text side every engine shares: prompt text to token ids, token counts, and chat messages
rendered with the model's own chat template. An engine with a `tokenizer` (a transformers
tokenizer: local, remote or over Redis, each loads one) inherits these."""


class TokenizerText:
    tokenizer: object

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    def render_chat(self, messages: list[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                  add_generation_prompt=True)
