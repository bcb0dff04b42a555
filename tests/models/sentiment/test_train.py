"""Training pieces: the mean-pooling export, determinism, the choice rule and versioning."""

from __future__ import annotations

import torch

from models.sentiment import modeling, train
from models.sentiment.dataset import Example
from models.sentiment.recipe import Recipe


def tiny_encoder():
    from transformers import BertConfig, BertModel

    torch.manual_seed(1)
    cfg = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
                     max_position_embeddings=40, layer_norm_eps=1e-12)
    return BertModel(cfg, add_pooling_layer=False).eval()


def test_exported_pooling_layer_is_the_masked_mean():
    encoder = tiny_encoder()
    torch.manual_seed(2)
    head = modeling.Head(32, 3).eval()
    depth = 2
    model = modeling.export_classifier(encoder, depth, {}, head, {0: "negative", 1: "neutral", 2: "positive"})
    assert model.config.num_hidden_layers == depth + 1
    ids = torch.randint(4, 50, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0  # padded rows: the mean must ignore the padding
    mask[2, 2:] = 0
    with torch.no_grad():
        got = model(input_ids=ids, attention_mask=mask).logits
        hidden = encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[depth]
        expected = head(modeling.pooled_features(hidden, mask, 1e-12))
        plain_mean = modeling.masked_mean(hidden, mask)
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()
    # and the features are (up to LayerNorm) the masked mean of layer `depth`
    ln = torch.nn.functional.layer_norm(plain_mean, (32,), eps=1e-12)
    assert torch.allclose(modeling.pooled_features(hidden, mask, 1e-12), ln, atol=1e-3)
    # padding changes nothing: row 2 alone, unpadded, gives the same logits
    with torch.no_grad():
        alone = model(input_ids=ids[2:3, :2], attention_mask=mask[2:3, :2]).logits
    assert torch.allclose(alone, got[2:3], atol=1e-4)


def test_tuned_layers_replace_the_encoders():
    encoder = tiny_encoder()
    tuned = modeling.copy_layers(encoder, [1])
    with torch.no_grad():
        tuned[1].output.dense.bias.add_(1.0)
    model = modeling.export_classifier(encoder, 2, tuned, modeling.Head(32, 3), {0: "negative", 1: "neutral", 2: "positive"})
    assert torch.equal(model.bert.encoder.layer[1].output.dense.bias, tuned[1].output.dense.bias)
    assert torch.equal(model.bert.encoder.layer[0].output.dense.bias, encoder.encoder.layer[0].output.dense.bias)


def _encoded(n: int, hidden: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    feats = torch.randn(n, hidden, generator=g) + torch.nn.functional.one_hot(labels, hidden).float() * 3
    ex = [Example(str(i), f"t{i}", ("negative", "neutral", "positive")[int(labels[i])], "da", "train") for i in range(n)]
    return train.Encoded(ex, [], {4: feats}, labels)


def test_head_training_is_deterministic_and_learns():
    tr, dev = _encoded(90, 16, 0), _encoded(30, 16, 1)
    recipe = Recipe(depth=4, head_steps=120)
    a = train.train_head(tr, recipe, 16, seed=7)
    b = train.train_head(tr, recipe, 16, seed=7)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert train.macro_f1_of(train.Trained(recipe, a).logits(dev, 1e-12), dev.labels) > 0.9


def test_head_checkpoints_are_reported_in_order():
    tr = _encoded(60, 16, 0)
    seen = []
    train.train_head(tr, Recipe(depth=4, head_steps=30), 16, seed=1, checkpoints=(10, 30), on_checkpoint=lambda step, head: seen.append(step))
    assert seen == [10, 30]


def test_subset_keeps_rows_and_labels():
    enc = _encoded(12, 8, 0)
    keep = [i % 3 == 0 for i in range(12)]
    sub = train.subset(enc, keep)
    assert [e.id for e in sub.examples] == ["0", "3", "6", "9"]
    assert torch.equal(sub.means[4], enc.means[4][[0, 3, 6, 9]]) and torch.equal(sub.labels, enc.labels[[0, 3, 6, 9]])


def test_version_depends_on_data_seed_and_length():
    ex = [Example("1", "god", "positive", "da", "train")]
    v = train.model_version(ex)
    assert v == train.model_version(list(ex)) and v.startswith("e5s-")
    assert v != train.model_version(ex, seed=1)
    assert v != train.model_version(ex, max_length=64)
    assert v != train.model_version([Example("1", "god", "neutral", "da", "train")])
    assert v != train.model_version(ex, recipe=Recipe(depth=6))
