"""The alert stage: actions reach Kafka before the brand state that says they were raised."""

import json

import pytest

from streams.alerting.brands import BrandAlerting
from streams.alerting.config import AlertConfig
from streams.alerting.mentions import MentionInfo
from streams.processing.pipeline import RawRecord
from streams.worker.alerts import AlertStage
from tests.streams.worker.fakes import Log, RecordingSink

T0 = 1_700_000_000.0


def records(brand, infos):
    return [RawRecord(key=brand.encode(), value=json.dumps(i.to_dict()).encode()) for i in infos]


def crisis(n, start=0):
    return [MentionInfo(id=f"c{start + i}", text="boykot skandale", published_at=T0 + i, sentiment_label="negative", sentiment_score=-0.9, influence=50.0, author=f"a{i}") for i in range(n)]


class StateAtSend(RecordingSink):
    """Records whether the brand state was already written when the actions were sent."""

    def __init__(self, log, states):
        super().__init__(log, "alerts")
        self.states, self.state_at_send = states, []

    async def send(self, records):
        self.state_at_send.append(dict(self.states))
        await super().send(records)


def config():
    return AlertConfig.model_validate({"crisis_keyword": {"keywords": {"da": ["boykot"]}}})


async def test_actions_are_sent_before_the_state_is_written():
    states, log = {}, Log()
    sink = StateAtSend(log, states)
    stage = AlertStage(BrandAlerting(states, config), sink)
    actions = await stage.process(records("Fjordbank", crisis(3)))
    assert actions and sink.sent, "a crisis keyword raises an alert"
    assert sink.state_at_send == [{}]  # nothing written yet when the alerts went out
    assert "Fjordbank" in states  # and written once they were acknowledged
    key, value = sink.sent[0]
    assert key == json.loads(value)["alert_id"].encode() and json.loads(value)["action"] == "open"


async def test_a_failed_send_leaves_the_state_as_it_was_so_a_replay_raises_the_same_alert():
    states, log = {}, Log()
    failing = RecordingSink(log, "alerts", fail=RuntimeError("broker gone"))
    with pytest.raises(RuntimeError):
        await AlertStage(BrandAlerting(states, config), failing).process(records("Fjordbank", crisis(3)))
    assert states == {}
    sink = RecordingSink(log, "alerts")
    replayed = await AlertStage(BrandAlerting(states, config), sink).process(records("Fjordbank", crisis(3)))
    assert [a.kind for a in replayed][:1] == ["open"]
    again = await AlertStage(BrandAlerting(states, config), RecordingSink(log, "alerts")).process(records("Fjordbank", crisis(3)))
    assert again == []  # the same mentions once more: counted already, nothing new
