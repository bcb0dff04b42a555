"""The runner publishes a batch's deletions beside its mentions, before the checkpoint moves."""

from datetime import datetime, timezone

from streams.schema import Deletion, Mention
from streams.sources.base import Batch, Checkpoints, Connector
from streams.sources.http import SourceHttp
from streams.sources.runner import Runner
from tests.streams.sources.fakes import MemoryPublisher


class _Deleting(Connector):
    kind = "test"

    def __init__(self) -> None:
        super().__init__("test:deleting", interval_s=0.01)

    async def poll(self, http):
        if self.state.get("done"):
            return
        mention = Mention(id="t:1", source="test", text="Fjordbank svarer aldrig", published_at=datetime(2026, 12, 1, tzinfo=timezone.utc))
        yield Batch([mention], {"done": True}, fetched=2, deletions=[Deletion(id="t:0", source="test", reason="removed")])


async def test_deletions_are_published_and_counted_before_the_checkpoint(tmp_path):
    publisher, checkpoints, http = MemoryPublisher(), Checkpoints(tmp_path), SourceHttp()
    report = (await Runner([_Deleting()], publisher, checkpoints, http).run_once())["test:deleting"]
    await http.aclose()
    assert publisher.ids == ["t:1"]
    assert [(d.id, d.reason) for d in publisher.deletions] == [("t:0", "removed")]
    assert report.deletions == 1 and checkpoints.load("test:deleting") == {"done": True}
