"""A byte-level BPE tokenizer of a few hundred tokens, trained in-process, shaped like SmolLM2's
(the same special tokens at the same ids, its chat template, GPT-2's pre-tokenizer, no BOS added):
tiny models load it in milliseconds, where SmolLM2's 49k-token one takes seconds to read from a
GGUF. Any text round-trips (all 256 bytes are tokens); the merges are learned from a few
sentences, so common English words are single tokens."""
import json
from functools import lru_cache

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Tokenizer

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # ids 0, 1, 2, as in SmolLM2
VOCAB_SIZE = 512
CHAT_TEMPLATE = (  # SmolLM2-135M-Instruct's
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}")
CORPUS = [
    "The old lighthouse keeper climbed the stairs every evening, counting each step, and when "
    "the lamp was lit he watched the ships pass far out on the dark water.",
    "Tell me about the sea and the ships on it. Hi! Hello there, how are you today?",
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face.",
    "system user assistant: I am fine, thank you. What would you like to talk about? "
    "She said that they were going to the market in the morning to buy bread and fish.",
    "It was a bright cold day in April, and the clocks were striking thirteen. 0123456789",
]


@lru_cache(maxsize=1)
def _vocab_and_merges() -> tuple[dict, list]:
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    bpe.train_from_iterator(CORPUS * 4, trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return model["vocab"], merges


def build() -> GPT2Tokenizer:
    """A fresh tokenizer (GPT2Tokenizer, as transformers makes SmolLM2's from its GGUF)."""
    vocab, merges = _vocab_and_merges()
    tokenizer = GPT2Tokenizer(vocab=dict(vocab), merges=list(merges), unk_token=SPECIALS[0],
                              bos_token=SPECIALS[1], eos_token=SPECIALS[2],
                              pad_token=SPECIALS[2], add_prefix_space=False)
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS},
                                 replace_extra_special_tokens=False)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer

