import pytest
import torch

from MoE.time_series import ExpertConfig, RouterConfig, TimeSeriesMoE, default_experts
from MoE.time_series.decomposition import decompose, moving_average

SMALL = dict(d_model=16, n_heads=2, n_layers=1, d_ff=32, dropout=0.0, patch_len=8, stride=4, num_questions=4)


def model(**kwargs):
    options = dict(seq_len=48, horizon=12, input_dim=3)
    options.update(kwargs)
    router = options.pop("router", RouterConfig(precision="fp32"))
    return TimeSeriesMoE(default_experts(**SMALL), router, **options)


def test_decomposition_adds_back_up():
    x = torch.randn(2, 48, 3)
    parts = decompose(x, 25, 5)
    assert torch.allclose(parts["trend"] + parts["seasonal"] + parts["residual"], x, atol=1e-6)
    assert torch.allclose(moving_average(torch.full((1, 10, 1), 3.0), 5), torch.full((1, 10, 1), 3.0))


@pytest.mark.parametrize("targets, shape", [(None, (4, 12, 3)), ([0, 2], (4, 12, 2)), (1, (4, 12))])
def test_output_shapes(targets, shape):
    out = model(target_channels=targets)(torch.randn(4, 48, 3))
    assert out.prediction.shape == shape
    assert out.weights.shape == (4, 3) and torch.allclose(out.weights.sum(-1), torch.ones(4))
    assert out.proposals.shape[:2] == (4, 3) and len(out.question_norms) == 3


def test_router_starts_even_and_uses_metadata():
    m = model(router=RouterConfig(precision="fp32", metadata_dim=2))
    out = m(torch.randn(4, 48, 3), torch.randn(4, 2))
    assert torch.allclose(out.weights, torch.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"metadata must be \(batch, 2\)"):
        m(torch.randn(4, 48, 3))


def test_prediction_is_the_weighted_proposals():
    out = model()(torch.randn(2, 48, 3))
    assert torch.allclose(out.prediction, torch.einsum("be,behc->bhc", out.weights, out.proposals), atol=1e-6)


def test_loss_kinds_on_known_errors():
    from MoE.time_series.model import MoEOutput

    m = model(target_channels=0, router=RouterConfig(precision="fp32", aux_loss_weight=0.5))
    target = torch.zeros(1, 2)
    proposals = torch.tensor([2.0, 2.0, 0.0, 0.0, 4.0, 4.0]).reshape(1, 3, 2, 1)  # errors 2, 0, 4 per expert
    out = MoEOutput(torch.full((1, 2), 2.0), torch.full((1, 3), 1 / 3), proposals, [])
    assert float(m.loss(out, target)) == pytest.approx(4 + 0.5 * (4 + 0 + 16) / 3)
    assert float(m.loss(out, target, "mae")) == pytest.approx(2 + 0.5 * (2 + 0 + 4) / 3)
    assert float(m.loss(out, target, "huber")) == pytest.approx(1.5 + 0.5 * (1.5 + 0 + 3.5) / 3)


def test_sequential_equals_parallel():
    torch.manual_seed(0)
    seq = model(router=RouterConfig(precision="fp32", sequential=True)).train()
    par = model(router=RouterConfig(precision="fp32", sequential=False)).train()
    par.load_state_dict(seq.state_dict())
    x, y = torch.randn(4, 48, 3), torch.randn(4, 12, 3)
    seq.loss(seq(x), y).backward()
    par.loss(par(x), y).backward()
    for (name, a), b in zip(seq.named_parameters(), par.parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-6), name


def saved_bytes(m, x, y) -> int:
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        m.loss(m(x), y).backward()
    return total


def test_sequential_keeps_one_experts_activations_at_a_time():
    experts = [ExpertConfig(f"e{i}", c, **{**SMALL, "n_layers": 2})
               for i, c in enumerate(["trend", "seasonal", "residual", "raw"])]
    x, y = torch.randn(8, 48, 3), torch.randn(8, 12, 3)
    sizes = {}
    for sequential in (True, False):
        torch.manual_seed(0)
        m = TimeSeriesMoE(experts, RouterConfig(precision="fp32", sequential=sequential), seq_len=48, horizon=12,
                          input_dim=3).train()
        sizes[sequential] = saved_bytes(m, x, y)
    # checkpointed experts keep only their inputs and outputs for backward; all-at-once keeps everything
    assert sizes[True] * 3 < sizes[False], sizes


def test_debate_log():
    m = model()
    log = m.debate_log(m(torch.randn(1, 48, 3)))
    assert [e["expert"] for e in log] == ["trend_expert", "seasonal_expert", "anomaly_expert"]
    assert abs(sum(e["weight"] for e in log) - 1) < 1e-3
    assert log[1]["questions"][0]["prompt"] == "seasonal_expert: does the daily cycle strengthen?"
    assert len(log[0]["questions"]) == 4 and log[0]["questions"][3]["prompt"].startswith("trend_expert: what does")


@pytest.mark.parametrize("make, message", [
    (lambda: model()(torch.randn(2, 40, 3)), r"window must be \(batch, 48, 3\)"),
    (lambda: model()(torch.full((2, 48, 3), float("nan"))), "NaN or infinite"),
    (lambda: model()(torch.randn(2, 48, 3), torch.randn(2, 4)), "metadata_dim is 0"),
    (lambda: TimeSeriesMoE([], seq_len=48, horizon=12, input_dim=3), "at least one expert"),
    (lambda: TimeSeriesMoE([ExpertConfig("a", input_dim=5, **SMALL)], seq_len=48, horizon=12, input_dim=3),
     r"\['a'\] expect another input_dim"),
    (lambda: TimeSeriesMoE([ExpertConfig("a", **SMALL)] * 2, seq_len=48, horizon=12, input_dim=3), "unique"),
    (lambda: model(seq_len=6), "shorter than patch_len"),
    (lambda: model(target_channels=[5]), "outside 0..2"),
    (lambda: ExpertConfig("x", d_model=10, n_heads=4), "multiple of n_heads"),
    (lambda: ExpertConfig("x", component="season"), "component must be"),
    (lambda: ExpertConfig("x", num_questions=1, question_templates=("a", "b")), "2 question_templates for 1"),
    (lambda: RouterConfig(precision="fp8"), "precision must be"),
])
def test_bad_input_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_half_precision_falls_back_on_the_cpu_once():
    m = model(router=RouterConfig(precision="fp16"))
    with pytest.warns(UserWarning, match="running in fp32 on the CPU"):
        assert m.autocast_dtype(torch.device("cpu")) is None
    assert m.autocast_dtype(torch.device("cpu")) is None  # no second warning
    assert model(router=RouterConfig(precision="bf16")).autocast_dtype(torch.device("cuda")) == torch.bfloat16


def test_pinball_loss_weighs_misses_by_the_quantile():
    from MoE.time_series.model import pinball_loss
    forecast = torch.tensor([[0.0, 0.0]])                         # quantiles 0.1 and 0.9 both at 0
    assert float(pinball_loss(forecast, torch.tensor([1.0]), (0.1, 0.9))) == pytest.approx((0.1 + 0.9) / 2)
    assert float(pinball_loss(forecast, torch.tensor([-1.0]), (0.1, 0.9))) == pytest.approx((0.9 + 0.1) / 2)
    assert float(pinball_loss(torch.tensor([[0.5]]), torch.tensor([1.0]), (0.9,))) == pytest.approx(0.45)


def test_the_quantile_head_learns_alone_and_leaves_the_point_forecast_alone():
    m = model(target_channels=0, router=RouterConfig(precision="fp32", quantiles=(0.1, 0.9)))
    window, target = torch.randn(4, 48, 3), torch.randn(4, 12)
    out = m(window)
    assert out.quantiles.shape == (4, 12, 2)
    from MoE.time_series.model import pinball_loss
    pinball_loss(out.quantiles, target, (0.1, 0.9)).backward()
    assert m.quantile_head.weight.grad.abs().sum() > 0
    assert all(p.grad is None for name, p in m.named_parameters() if not name.startswith("quantile_head"))
    with pytest.raises(ValueError, match="quantiles needs a single target channel"):
        model(target_channels=None, router=RouterConfig(precision="fp32", quantiles=(0.1, 0.9)))
    with pytest.raises(ValueError, match="quantiles must lie between 0 and 1"):
        RouterConfig(quantiles=(0.0, 0.9))


def test_the_quantile_head_starts_as_a_normal_band_of_one_window_sd():
    m = model(target_channels=0, router=RouterConfig(precision="fp32", quantiles=(0.1, 0.9)))
    window = torch.randn(2, 48, 3) * 5
    out = m(window)
    sd = window[:, :, 0].std(dim=1, unbiased=False)
    assert torch.allclose(out.quantiles[..., 1] - out.prediction, 1.2816 * sd[:, None], rtol=1e-3)
    assert torch.allclose(out.prediction - out.quantiles[..., 0], 1.2816 * sd[:, None], rtol=1e-3)
