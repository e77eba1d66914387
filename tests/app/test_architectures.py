"""Every causal LM runs: the fast engine's architectures (Llama, Mistral, Qwen2/2.5, Qwen3,
Gemma 2/3) and, through transformers' own forward, any other (Phi-3, GPT-2 here), each as a tiny
random-weight model (tests/support/tiny_models.py); and bad model files fail with one clear error."""
import logging
import math

import pytest
import torch

from inference import GenerationParams, LocalEngine, ModelLoadError, load_model
from inference.hf_runner import TransformersRunner
from inference.llama import Llama
from inference.perplexity import perplexity
from tests.support import tiny_models

GREEDY = GenerationParams(max_new_tokens=16, temperature=0, repetition_penalty=1.0)
TEXT = ("The old lighthouse keeper climbed the stairs every evening, counting each step, and "
        "when the lamp was lit he watched the ships pass far out on the dark water.")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    tokenizer = tiny_models.tokenizer()
    root = tmp_path_factory.mktemp("architectures")
    return {name: tiny_models.build(name, root / name, tokenizer)
            for name in tiny_models.ARCHITECTURES}


@pytest.mark.parametrize("name", list(tiny_models.ARCHITECTURES))
def test_replies_and_logits_equal_the_models_own(folders, name, caplog):
    """Greedy replies, decoded two at a time, equal generate()'s; and, sharper, every position's
    logits past the 8-token sliding windows, as a prefill after a cached prefix and as one-token
    decode steps, equal the model's own forward."""
    with caplog.at_level(logging.INFO, logger="inference.engine"):
        engine = LocalEngine(load_model(str(folders[name])), threads=1, quant="none")
    try:
        fast = name in tiny_models.FAST
        runner = engine.runner
        assert isinstance(runner, Llama if fast else TransformersRunner)
        assert ("fast engine" if fast else "through transformers") in caplog.text
        prompts = [engine.render_chat([{"role": "user", "content": text}])
                   for text in ("Tell me about the sea and the ships on it.", "Hi!")]
        together = [engine.submit(p, GREEDY) for p in prompts]  # decoded in one batch
        for prompt, job in zip(prompts, together):
            ids = torch.tensor([engine.tokenizer(prompt, add_special_tokens=False)["input_ids"]])
            with torch.inference_mode():
                reference = engine.model.generate(ids, max_new_tokens=16, do_sample=False,
                                                  eos_token_id=list(engine.eos_ids))
            expected = engine.tokenizer.decode(reference[0, ids.shape[1]:],
                                               skip_special_tokens=True)
            assert "".join(job) == expected
        ids = engine.tokenizer(TEXT, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            expected = engine.model(torch.tensor([ids])).logits[0].float()
            cache = runner.new_cache(len(ids))
            prefill = torch.cat([runner.logits(runner.forward(part, [(cache, len(part))],
                                                              all_rows=True))
                                 for part in (ids[:5], ids[5:])])
            cache = runner.new_cache(len(ids))
            decode = torch.cat([runner.logits(runner.forward([t], [(cache, 1)])) for t in ids])
        tolerance = 1e-4 * expected.abs().max().item()
        assert (prefill - expected).abs().max().item() <= tolerance
        assert (decode - expected).abs().max().item() <= tolerance
    finally:
        engine.close()


@pytest.fixture(scope="module")
def quant_folders(tmp_path_factory):
    tokenizer = tiny_models.tokenizer()
    root = tmp_path_factory.mktemp("quantised")
    return {name: tiny_models.build(name, root / name, tokenizer, initializer_range=0.02)
            for name in tiny_models.FAST}


@pytest.fixture(scope="module")
def text_ids(folders):
    return tiny_models.tokenizer()(TEXT * 3, add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("quant", ["int8", "int4"])
@pytest.mark.parametrize("name", list(tiny_models.FAST))
def test_quantised_weights_keep_perplexity_within_3_percent_of_fp32(quant_folders, text_ids,
                                                                    name, quant):
    folder = str(quant_folders[name])
    reference = perplexity(Llama(load_model(folder).model, "none"), text_ids)
    quantised = perplexity(Llama(load_model(folder).model, quant), text_ids)
    assert math.isfinite(quantised) and abs(quantised / reference - 1) < 0.03


def test_a_model_without_a_chat_template_gets_the_default_one_with_a_warning(folders, tmp_path,
                                                                             caplog):
    folder = tiny_models.build("qwen3", tmp_path / "plain")
    config = folder / "tokenizer_config.json"
    text = config.read_text()
    import json
    data = json.loads(text)
    data.pop("chat_template", None)
    config.write_text(json.dumps(data))
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    with caplog.at_level(logging.WARNING, logger="inference.loader"):
        loaded = load_model(str(folder))
    assert "no chat template" in caplog.text and str(folder) in caplog.text
    rendered = loaded.tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}],
                                                    tokenize=False, add_generation_prompt=True)
    assert rendered == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_a_truncated_safetensors_file_is_one_clear_error(folders, tmp_path):
    import shutil
    folder = shutil.copytree(folders["qwen2"], tmp_path / "truncated")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:weights.stat().st_size // 2])
    with pytest.raises(ModelLoadError) as error:
        load_model(str(folder))
    message = str(error.value)
    assert str(weights) in message and "truncated" in message and "MODEL_PATH" in message


def test_an_architecture_transformers_cannot_read_is_one_clear_error(folders, tmp_path):
    import json
    import shutil
    folder = shutil.copytree(folders["qwen2"], tmp_path / "unknown")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="kindred-imaginary", architectures=["ImaginaryForCausalLM"])
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError) as error:
        load_model(str(folder))
    message = str(error.value)
    assert "kindred-imaginary" in message and str(folder / "config.json") in message
    assert "transformers" in message and "MODEL_PATH" in message


@pytest.fixture(scope="module")
def gguf_source(tmp_path_factory):
    """The Qwen2 the GGUFs are written from, with a tokenizer of a few hundred tokens
    (tests/support/tiny_tokenizer.py): transformers takes most of a minute to read SmolLM2's
    49k-token vocabulary out of a GGUF, this one in well under a second."""
    from tests.support import tiny_tokenizer
    return tiny_models.build("qwen2", tmp_path_factory.mktemp("gguf-source") / "qwen2",
                             tiny_tokenizer.build())


def test_a_qwen2_gguf_loads_and_runs_on_the_fast_engine_as_its_hf_folder_does(gguf_source,
                                                                               tmp_path):
    from tests.support import tiny_gguf
    gguf_file = tiny_gguf.write(gguf_source, tmp_path / "tiny-qwen2.gguf")
    loaded = load_model(str(gguf_file), cache_dir=tmp_path / "cache")
    folder = load_model(str(gguf_source))
    ids = folder.tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    assert loaded.tokenizer(TEXT, add_special_tokens=False)["input_ids"] == ids
    runners = [Llama(loaded.model, "none"), Llama(folder.model, "none")]
    logits = []
    for runner in runners:
        cache = runner.new_cache(len(ids))
        logits.append(runner.logits(runner.forward(ids, [(cache, len(ids))], all_rows=True)))
    assert torch.allclose(logits[0], logits[1], atol=1e-5)


@pytest.mark.parametrize("damage", ["quantisation", "truncated"])
def test_a_gguf_the_loader_cannot_read_is_one_clear_error(gguf_source, tmp_path, damage):
    from tests.support import tiny_gguf
    gguf_file = tiny_gguf.write(gguf_source, tmp_path / "tiny-qwen2.gguf",
                                "Q8_1" if damage == "quantisation" else "F32")
    if damage == "truncated":
        gguf_file.write_bytes(gguf_file.read_bytes()[:gguf_file.stat().st_size * 2 // 3])
    with pytest.raises(ModelLoadError) as error:
        load_model(str(gguf_file), cache_dir=tmp_path / "cache")
    message = str(error.value)
    assert str(gguf_file) in message and "MODEL_PATH" in message
    assert ("Q8_1" in message) if damage == "quantisation" else ("Could not load" in message)
