"""Faust's aiokafka transport with one change: records Faust skipped are not acknowledged.

After a rebalance Faust skips records fetched under an earlier consumer generation (and while its
flow control is paused), and then *acknowledges* them, so the next commit moves past records no agent
ever processed: the broker-fault test lost ~200 of 6,000 mentions that way. Without the acknowledgement
the commit stays behind them; after the seek to the committed offsets they are fetched again under
the new generation and processed (at-least-once; the sinks are idempotent).

The worker's broker URLs use the scheme ``lytter-kafka://``, registered here.
"""

from __future__ import annotations

from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka

SCHEME = "lytter-kafka"


class Consumer(faust_aiokafka.Consumer):
    def ack(self, message) -> bool:
        stale = message.generation_id != self.app.consumer_generation_id
        if stale or not self.app.flow_control.is_active():
            return False  # skipped by the stream, not processed: leave it to be read again
        return super().ack(message)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"
