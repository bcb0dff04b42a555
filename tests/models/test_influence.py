"""Influence scoring, reach, impact and the reply graph's PageRank, on hand-made inputs with known answers."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.influence import (
    ACTIVITY_TAU_DAYS,
    DAY,
    ENGAGEMENT_HALF_LIFE_DAYS,
    FALLBACK_MIN_REACH,
    REACH_PER_ENGAGEMENT,
    SHARE_AUDIENCE,
    WEIGHTS,
    AuthorState,
    ReplyGraph,
    author_key,
    estimated_reach,
    impact,
    influence_components,
    influence_score,
    mention_targets,
    mention_view,
    observe_mention,
)
from streams.schema import Author, Engagement, EnrichedMention, Mention

T0 = 1_700_000_000.0


def make_mention(
    handle: str = "alice",
    followers: int | None = None,
    likes: int | None = None,
    shares: int | None = None,
    replies: int | None = None,
    views: int | None = None,
    text: str = "Lego er fedt",
    source: str = "mastodon",
    mid: str = "m1",
) -> Mention:
    return Mention(
        id=mid,
        source=source,
        text=text,
        author=Author(handle=handle, followers=followers),
        published_at=datetime.fromtimestamp(T0, tz=timezone.utc),
        engagement=Engagement(likes=likes, shares=shares, replies=replies, views=views),
    )


# --------------------------------------------------------------------------------------------------
# Mentions, keys, targets


def test_mention_view_reads_all_shapes():
    m = make_mention(followers=120, likes=3, shares=2, replies=1, views=900)
    enriched = EnrichedMention(mention=m, lang="da", lang_confidence=0.9)
    for shape in (m, enriched, m.model_dump(mode="json"), enriched.to_document()):
        v = mention_view(shape)
        assert (v.handle, v.followers, v.likes, v.shares, v.replies, v.views) == ("alice", 120, 3, 2, 1, 900)
        assert v.engagement_total == 6
        assert v.published_at == pytest.approx(T0)


def test_author_key_and_targets():
    m = make_mention(handle="@Alice", text="Hej @Lego og @Bob@mastodon.social, skriv til info@lego.dk. Også @alice selv")
    assert author_key(m) == "mastodon:alice"
    assert author_key("Bluesky", "@Lego.bsky.social") == "bluesky:lego.bsky.social"
    # own handle and e-mail addresses are no targets; the parent author comes first
    assert mention_targets(m, parent_author="mastodon:carol") == [
        "mastodon:carol",
        "mastodon:lego",
        "mastodon:bob@mastodon.social",
    ]


# --------------------------------------------------------------------------------------------------
# Author state


def test_observe_mention_accumulates_and_decays():
    s1 = observe_mention(None, make_mention(followers=1000, likes=10, shares=5, replies=5), T0)
    assert s1.handle == "alice" and s1.followers == 1000 and s1.mentions == 1
    assert s1.first_seen == s1.last_seen == T0
    assert s1.engagement_received == 20
    assert s1.activity_rate == pytest.approx(1 / ACTIVITY_TAU_DAYS)

    later = T0 + ENGAGEMENT_HALF_LIFE_DAYS * DAY
    s2 = observe_mention(s1, make_mention(followers=None, likes=2), later)
    assert s2.mentions == 2 and s2.followers == 1000  # unknown followers keep the latest known
    assert s2.engagement_received == pytest.approx(20 * 0.5 + 2)
    expected_rate = (1 / ACTIVITY_TAU_DAYS) * math.exp(-ENGAGEMENT_HALF_LIFE_DAYS / ACTIVITY_TAU_DAYS) + 1 / ACTIVITY_TAU_DAYS
    assert s2.activity_rate == pytest.approx(expected_rate)
    assert s2.first_seen == T0 and s2.last_seen == later
    # pure: the input state is unchanged
    assert s1.mentions == 1 and s1.engagement_received == 20


def test_activity_rate_tracks_a_steady_rate():
    state = None
    for i in range(24 * 60):  # 4 mentions a day for 360 days
        state = observe_mention(state, make_mention(mid=f"m{i}"), T0 + i * DAY / 4)
    assert state.activity_rate == pytest.approx(4.0, rel=0.05)


def test_out_of_order_clock_decays_nothing():
    s1 = observe_mention(None, make_mention(likes=10), T0)
    s2 = observe_mention(s1, make_mention(likes=10), T0 - 3600)
    assert s2.engagement_received == 20 and s2.last_seen == T0


def test_out_edges_are_counted_and_bounded():
    state = None
    for i in range(40):
        state = observe_mention(state, make_mention(text=f"@friend{i % 20} og @lego", mid=f"m{i}"), T0 + i)
    assert state.out_degree == 80
    assert len(state.out_edges) == 16
    assert state.out_edges["mastodon:lego"] == 40


def test_author_state_round_trip():
    state = observe_mention(None, make_mention(followers=5, likes=1, text="@bob"), T0)
    state = replace(state, pagerank=0.25)
    data = json.loads(json.dumps(state.to_dict()))
    assert AuthorState.from_dict(data) == state


# --------------------------------------------------------------------------------------------------
# Influence score


def state_with(followers: int | None, engagement: float, activity: float) -> AuthorState:
    return AuthorState(
        handle="x", followers=followers, mentions=1, first_seen=T0, last_seen=T0,
        engagement_received=engagement, activity_rate=activity,
    )


def test_influence_extremes_and_saturation():
    assert influence_score(state_with(0, 0, 0), 0.0) == 0.0
    assert influence_score(state_with(1_000_000, 10_000, 10), 100.0) == pytest.approx(100.0)
    assert influence_score(state_with(50_000_000, 1e9, 1e4), 100.0) == pytest.approx(100.0)
    # 1M followers alone give the full followers weight
    assert influence_score(state_with(1_000_000, 0, 0), 0.0) == pytest.approx(100 * WEIGHTS["followers"])


def test_missing_followers_redistribute_their_weight():
    known = influence_components(state_with(None, 10_000, 10), 100.0)
    assert known["followers"] is None
    # every other signal at full -> full score, not 60
    assert influence_score(state_with(None, 10_000, 10), 100.0) == pytest.approx(100.0)
    # half engagement only: 0.5 * 0.3 / (0.3 + 0.2 + 0.1)
    half = math.expm1(math.log1p(10_000) / 2)
    assert influence_score(state_with(None, half, 0), 0.0) == pytest.approx(100 * 0.5 * 0.3 / 0.6)
    # and a missing graph signal likewise
    assert influence_score(state_with(None, half, 0), None) == pytest.approx(100 * 0.5 * 0.3 / 0.4)


def test_influence_decays_with_now():
    s = state_with(100, 1000, 5)
    assert influence_score(s, 50.0, now=T0 + 365 * DAY) < influence_score(s, 50.0)
    assert influence_score(s, 50.0, now=T0) == influence_score(s, 50.0)


followers_st = st.one_of(st.none(), st.integers(0, 10**8))
nonneg = st.floats(0, 1e7, allow_nan=False)
pct = st.floats(0, 100, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(f=followers_st, e=nonneg, a=st.floats(0, 1e3, allow_nan=False), g=st.one_of(st.none(), pct),
       df=st.integers(0, 10**7), de=nonneg, da=st.floats(0, 1e3, allow_nan=False), dg=st.floats(0, 100))
def test_influence_is_bounded_and_monotone_in_each_input(f, e, a, g, df, de, da, dg):
    base = influence_score(state_with(f, e, a), g)
    assert 0.0 <= base <= 100.0
    tol = 1e-6
    if f is not None:
        assert influence_score(state_with(f + df, e, a), g) >= base - tol
    assert influence_score(state_with(f, e + de, a), g) >= base - tol
    assert influence_score(state_with(f, e, a + da), g) >= base - tol
    if g is not None:
        assert influence_score(state_with(f, e, a), min(100.0, g + dg)) >= base - tol


# --------------------------------------------------------------------------------------------------
# Reach and impact


def test_reach_prefers_views_then_followers_then_fallback():
    assert estimated_reach(None, make_mention(followers=500, likes=10, views=2000)) == 2000
    assert estimated_reach(None, make_mention(views=3, likes=10)) == 10  # at least the engaged
    assert estimated_reach(None, make_mention(followers=500, likes=10, shares=2, replies=3)) == 500 + 13 + 2 * SHARE_AUDIENCE
    # followers from the author's history when the mention has none
    state = observe_mention(None, make_mention(followers=800), T0)
    assert estimated_reach(state, make_mention(likes=1)) == 801
    # no follower count anywhere: engagement fallback, at least FALLBACK_MIN_REACH
    assert estimated_reach(None, make_mention()) == FALLBACK_MIN_REACH
    assert estimated_reach(None, make_mention(likes=4, shares=1)) == 4 * REACH_PER_ENGAGEMENT + SHARE_AUDIENCE
    # the author's usual engagement lifts a quiet mention
    blogger = None
    for i in range(10):
        blogger = observe_mention(blogger, make_mention(handle="blog", likes=20, mid=f"b{i}"), T0 + i)
    assert estimated_reach(blogger, make_mention(handle="blog")) == pytest.approx(REACH_PER_ENGAGEMENT * blogger.engagement_per_mention)
    assert estimated_reach(blogger, make_mention(handle="blog")) > 500


def test_impact_is_signed():
    assert impact(1000, -0.8) == pytest.approx(-800)
    assert impact(1000, 0.5) == pytest.approx(500)
    assert impact(1000, 0.0) == 0
    assert impact(1000, -3) == -1000  # clipped
    assert impact(None, 0.5) == 0 and impact(10, float("nan")) == 0


# --------------------------------------------------------------------------------------------------
# PageRank on hand-made graphs


def graph_of(edges, **kw) -> ReplyGraph:
    g = ReplyGraph(**kw)
    for i, edge in enumerate(edges):
        src, dst, *w = edge
        g.add_edge(src, dst, w[0] if w else 1.0, now=T0 + i)
    return g


def dense_pagerank(nodes, edges, d=0.85):
    """Reference: solve r = (1-d)/n + d (M r + dangling/n) as a linear system (no networkx)."""
    n = len(nodes)
    idx = {v: i for i, v in enumerate(nodes)}
    m = np.zeros((n, n))
    for src, dst, *w in edges:
        m[idx[dst], idx[src]] += w[0] if w else 1.0
    out = m.sum(axis=0)
    for j in range(n):
        m[:, j] = m[:, j] / out[j] if out[j] > 0 else 1.0 / n
    r = np.linalg.solve(np.eye(n) - d * m, np.full(n, (1 - d) / n))
    return {v: r[idx[v]] for v in nodes}


def test_star_ranks_centre_top():
    g = graph_of([(leaf, "A") for leaf in "BCDE"])
    g.converge()
    # by hand: r_L = 0.03 + 0.17 r_A, r_A + 4 r_L = 1  ->  r_A = 0.88 / 1.68
    assert g.rank("A") == pytest.approx(0.88 / 1.68, abs=1e-9)
    assert g.rank("B") == pytest.approx(0.03 + 0.17 * 0.88 / 1.68, abs=1e-9)
    assert g.top(1)[0][0] == "A"
    assert g.percentile("A") == 100.0
    assert g.percentile("B") == 0.0
    assert g.percentile("nobody") == 0.0


def test_cycle_of_three_is_uniform():
    g = graph_of([("A", "B"), ("B", "C"), ("C", "A")])
    g.converge()
    for v in "ABC":
        assert g.rank(v) == pytest.approx(1 / 3, abs=1e-12)
        assert g.percentile(v) == 0.0  # nobody strictly outranks anybody


def test_two_nodes_by_hand():
    # A -> B, B dangling: r_A = 0.075 + 0.425 r_B, r_A + r_B = 1  ->  r_A = 0.5 / 1.425
    g = graph_of([("A", "B")])
    g.converge()
    assert g.rank("A") == pytest.approx(0.5 / 1.425, abs=1e-12)
    assert g.rank("B") == pytest.approx(1 - 0.5 / 1.425, abs=1e-12)


def test_three_nodes_by_hand():
    # A <-> B, C -> A: r_C = 0.05, r_B = 0.05 + 0.85 r_A, r_A = 0.05 + 0.85 (r_B + r_C)
    g = graph_of([("A", "B"), ("B", "A"), ("C", "A")])
    g.converge()
    r_a = 0.135 / 0.2775
    assert g.rank("A") == pytest.approx(r_a, abs=1e-10)
    assert g.rank("B") == pytest.approx(0.05 + 0.85 * r_a, abs=1e-10)
    assert g.rank("C") == pytest.approx(0.05, abs=1e-10)
    assert sum(g.ranks().values()) == pytest.approx(1.0)


def test_weighted_graph_with_dangling_matches_linear_solve():
    edges = [("A", "B", 3.0), ("A", "C", 1.0), ("B", "C"), ("D", "A"), ("D", "C", 2.0), ("E", "D")]
    g = graph_of(edges)
    g.converge()
    ref = dense_pagerank(list("ABCDE"), edges)
    for v, r in ref.items():
        assert g.rank(v) == pytest.approx(r, abs=1e-10)


def test_repeated_edges_add_weight_and_self_edges_are_ignored():
    g = graph_of([("A", "B"), ("A", "B"), ("A", "C"), ("A", "A")])
    assert g.out_edges("A") == {"B": 2.0, "C": 1.0}
    g.converge()
    ref = dense_pagerank(list("ABC"), [("A", "B", 2.0), ("A", "C", 1.0)])
    for v, r in ref.items():
        assert g.rank(v) == pytest.approx(r, abs=1e-10)


def test_few_steps_per_update_is_a_contraction():
    g = graph_of([("A", "B"), ("B", "C"), ("C", "A"), ("D", "A")])
    residuals = [g.update(iterations=1) for _ in range(30)]
    assert all(b <= a * 0.85 + 1e-15 for a, b in zip(residuals, residuals[1:]))


def test_incremental_updates_converge_to_from_scratch_ranks():
    rng = random.Random(7)
    nodes = [f"u{i}" for i in range(60)]
    edges = [(rng.choice(nodes), rng.choice(nodes), rng.choice([1.0, 2.0])) for _ in range(400)]
    edges = [e for e in edges if e[0] != e[1]]

    incremental = ReplyGraph()
    for i, (src, dst, w) in enumerate(edges):
        incremental.add_edge(src, dst, w, now=T0 + i)
        if i % 10 == 9:
            incremental.update(iterations=3)  # a few warm-started steps now and then
    for _ in range(40):  # keep doing small updates, no restart
        incremental.update(iterations=3)

    scratch = graph_of(edges)
    scratch.converge()
    assert set(incremental.ranks()) == set(scratch.ranks())
    for v, r in scratch.ranks().items():
        assert incremental.rank(v) == pytest.approx(r, abs=1e-9)
    assert scratch.ranks() == pytest.approx(dense_pagerank(scratch.nodes(), edges))


def test_warm_start_needs_fewer_steps_than_cold():
    rng = random.Random(3)
    nodes = [f"u{i}" for i in range(200)]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(1500)]
    g = graph_of(edges)
    g.converge()
    g.add_edge("u1", "u2", now=T0 + 10_000)  # a small change
    warm = g.update(iterations=5)
    cold = graph_of(edges + [("u1", "u2")])
    cold_residual = cold.update(iterations=5)
    assert warm < cold_residual / 10


def test_eviction_keeps_the_node_bound_and_drops_edges():
    g = ReplyGraph(max_nodes=5, max_out_edges=3)
    for i in range(20):
        g.add_edge(f"n{i}", "hub", now=T0 + i)  # hub is seen every time: never evicted
    assert len(g) == 5
    assert "hub" in g and "n19" in g and "n0" not in g
    assert g.evicted == 16
    assert g.edge_count == 4  # only edges between surviving nodes
    g.converge()
    assert sum(g.ranks().values()) == pytest.approx(1.0)
    assert g.top(1)[0][0] == "hub"


def test_eviction_renormalises_ranks():
    g = graph_of([("A", "B"), ("B", "C"), ("C", "A")], max_nodes=3)
    g.converge()
    # each edge touches dst then src: the last edge C -> A touched A then C, so B is the least recently seen
    assert g.nodes() == ["B", "A", "C"]
    g.add_edge("D", "C", now=T0 + 100)
    assert "B" not in g and g.rank("B") is None
    assert g.out_edges("A") == {}  # A -> B went with B
    g.converge()
    ref = dense_pagerank(["A", "C", "D"], [("C", "A"), ("D", "C")])
    for v, r in ref.items():
        assert g.rank(v) == pytest.approx(r, abs=1e-10)


def test_out_edge_cap_drops_the_lightest_then_oldest():
    g = ReplyGraph(max_out_edges=2)
    g.add_edge("A", "B", 5.0, now=T0)
    g.add_edge("A", "C", 1.0, now=T0 + 1)
    g.add_edge("A", "D", 1.0, now=T0 + 2)  # drops C (lighter than B, older than D)
    assert g.out_edges("A") == {"B": 5.0, "D": 1.0}
    g.converge()
    assert sum(g.ranks().values()) == pytest.approx(1.0)


def test_percentile_needs_two_ranked_nodes():
    g = ReplyGraph()
    assert g.percentile("A") is None
    g.touch("A", T0)
    g.update()
    assert g.percentile("A") is None
    assert influence_score(state_with(None, 100, 1), g.percentile("A")) > 0


def test_graph_round_trip_preserves_everything():
    g = graph_of([("A", "B", 2.0), ("B", "C"), ("C", "A"), ("D", "A")], max_nodes=10, max_out_edges=4)
    g.update(iterations=2)
    g.touch("E", T0 + 50)  # unranked node
    data = json.loads(json.dumps(g.to_dict()))
    restored = ReplyGraph.from_dict(data)
    assert restored.to_dict() == g.to_dict()
    assert restored.nodes() == g.nodes()
    assert restored.percentile("A") == g.percentile("A")
    # and it continues exactly like the original
    g.add_edge("E", "B", now=T0 + 60)
    restored.add_edge("E", "B", now=T0 + 60)
    g.converge()
    restored.converge()
    assert restored.ranks() == pytest.approx(g.ranks(), abs=1e-15)


def test_bad_arguments():
    with pytest.raises(ValueError):
        ReplyGraph(max_nodes=1)
    with pytest.raises(ValueError):
        ReplyGraph(damping=1.0)
    with pytest.raises(ValueError):
        ReplyGraph().add_edge("A", "B", weight=0)
    with pytest.raises(ValueError):
        observe_mention(None, make_mention(), datetime(2024, 1, 1))  # naive datetime
