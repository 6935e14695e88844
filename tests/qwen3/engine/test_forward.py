import pytest
import torch
import torch.nn.functional as F

from Qwen3.engine.forward import _weight_major_linear


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 8, 9, 40])
@pytest.mark.parametrize("with_bias", [False, True])
def test_the_weight_major_product_equals_linear(rows, with_bias):
    generator = torch.Generator().manual_seed(rows)
    x = torch.randn(rows, 1, 64, generator=generator)
    weight = torch.randn(96, 64, generator=generator)
    bias = torch.randn(96, generator=generator) if with_bias else None
    out = _weight_major_linear(x, weight, bias)
    assert out.shape == (rows, 1, 96)
    torch.testing.assert_close(out, F.linear(x, weight, bias), rtol=1e-5, atol=1e-5)


def test_a_prefill_of_several_tokens_keeps_its_shape():
    x = torch.randn(2, 3, 16)  # two rows of three tokens: six rows for the product
    weight = torch.randn(8, 16)
    torch.testing.assert_close(_weight_major_linear(x, weight, None), F.linear(x, weight), rtol=1e-5, atol=1e-5)


def test_the_weight_major_product_is_contiguous():
    """Strided queries, keys and values send scaled_dot_product_attention down its slow path on the CPU."""
    x, weight = torch.randn(3, 1, 16), torch.randn(8, 16)
    assert _weight_major_linear(x, weight, None).is_contiguous()
    assert _weight_major_linear(x, weight, torch.randn(8)).is_contiguous()
