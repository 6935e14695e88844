import pytest
import torch


@pytest.fixture(scope="session")
def lively_model(tiny_model_dir):
    """The tiny Qwen3 with larger random weights, so greedy decoding varies instead of repeating one token."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" not in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.25)
    return model, tokenizer


@pytest.fixture
def encode(lively_model):
    tokenizer = lively_model[1]
    return lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]
