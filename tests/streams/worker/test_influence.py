from streams.schema import EnrichedMention, Mention, Sentiment
from streams.worker.influence import InfluenceScorer

NOW = 1_700_000_000.0


def enriched(i, handle, followers=None, parent=None, text="hej", score=-0.5, likes=0):
    mention = Mention(
        id=f"m{i}", source="test", text=text, published_at="2026-11-23T08:00:00Z",
        author={"handle": handle, "followers": followers} if handle else None,
        parent_id=parent, kind="comment" if parent else "post", engagement={"likes": likes},
    )
    sentiment = Sentiment(label="negative" if score < 0 else "positive", score=score, probabilities={}, model_version="t")
    return EnrichedMention(mention=mention, lang="da", lang_confidence=1.0, sentiment=sentiment)


def test_scores_reach_and_signed_impact():
    stage = InfluenceScorer({})
    item = enriched(1, "anna", followers=1000, score=-0.5)
    stage.score_batch([item], NOW)
    assert item.reach == 1000.0
    assert item.impact == -500.0
    assert 0 < item.influence <= 100


def test_replies_make_the_answered_author_rank_higher_and_state_is_replay_safe():
    authors = {}
    stage = InfluenceScorer(authors)
    stage.score_batch([enriched(0, "critic", followers=100)], NOW)
    replies = [enriched(i, f"fan{i}", followers=100, parent="m0") for i in range(1, 20)]
    stage.score_batch(replies, NOW + 10)
    later = enriched(99, "critic", followers=100)
    stage.score_batch([later], NOW + 20)
    other = enriched(100, "fan1", followers=100)
    stage.score_batch([other], NOW + 20)
    assert later.influence > other.influence
    assert authors["test:critic"]["state"]["mentions"] == 2
    stage.score_batch([enriched(99, "critic", followers=100)], NOW + 30)  # the same mention again
    assert authors["test:critic"]["state"]["mentions"] == 2


def test_graph_is_rebuilt_from_the_author_table_after_restart():
    authors = {}
    stage = InfluenceScorer(authors)
    stage.score_batch([enriched(0, "critic", followers=100)], NOW)
    stage.score_batch([enriched(i, f"fan{i}", parent="m0") for i in range(1, 10)], NOW + 1)
    restarted = InfluenceScorer(authors)
    assert restarted.graph.percentile("test:critic") == stage.graph.percentile("test:critic") == 100.0


def test_anonymous_mentions_get_reach_but_no_author_state():
    authors = {}
    stage = InfluenceScorer(authors)
    item = enriched(1, None, likes=4)
    stage.score_batch([item], NOW)
    assert authors == {} and item.influence == 0.0 and item.reach >= 10


def test_a_newcomer_with_a_large_audience_is_not_pulled_down_by_an_empty_graph():
    stage = InfluenceScorer({})
    stage.score_batch([enriched(i, f"user{i}", followers=50, parent=f"m{i-1}" if i else None) for i in range(30)], NOW)
    critic = enriched(100, "critic", followers=500_000, likes=6000)
    stage.score_batch([critic], NOW + 1)
    assert critic.influence >= 70
