"""Alerting configuration: defaults, strictness, keyword validation."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from streams.alerting.config import AlertConfig, CrisisKeywordConfig


def test_alert_config_defaults_and_strictness():
    cfg = AlertConfig()
    assert cfg.volume_spike.p_threshold == 1e-4 and cfg.volume_spike.min_count == 10 and cfg.volume_spike.min_ratio == 3
    assert cfg.volume_spike.lambda_floor == 0.5
    assert cfg.negative_surge.min_negative == 5 and cfg.negative_surge.min_share_delta == 0.25
    assert cfg.influencer.min_influence == 70 and cfg.influencer.max_sentiment_score == -0.4
    assert set(cfg.crisis_keyword.keywords) == {"da", "nb", "nn", "sv", "en"}
    with pytest.raises(ValidationError):
        AlertConfig(volume_spike={"p_treshold": 0.01})  # typo: extra fields are errors
    with pytest.raises(ValidationError):
        AlertConfig(volume_spike={"p_threshold": 2})
    # what a YAML loader gives back
    again = AlertConfig.model_validate(json.loads(cfg.model_dump_json()))
    assert again == cfg
    for field_info in type(cfg.volume_spike).model_fields.values():
        assert field_info.description


def test_crisis_keyword_config_validation():
    for bad in (["bo*kot"], ["*"], ["   "], ["*lego"]):
        with pytest.raises(ValidationError):
            CrisisKeywordConfig(keywords={"da": bad})
    with pytest.raises(ValidationError):
        CrisisKeywordConfig(keywords={"de": ["boykott"]})
