"""Needs-reply detection and answers on the scenario, through the real worker with the sentiment model
and its intent head: the planted customer questions (ground truth in ``raw["scenario"]``) are found, the
brands' own replies mark them answered with the right response time, the copy-paste burst is one story,
and the incident's emerging terms are its crisis words.
"""

from __future__ import annotations

import pytest
import yaml

from collections import Counter
from datetime import timedelta

from streams.query.terms import emerging_terms
from streams.sinks.elasticsearch import sync_client
from streams.sources.replay.scenario import CRISIS_KEYWORDS, Scenario
from tests.integration.helpers import indexed_count, indexed_docs, wait_for
from tests.integration.test_alerts_scenario import publish

pytestmark = pytest.mark.integration


@pytest.fixture
def scenario_settings(lytter, sentiment_model_dir, tmp_path):
    sc = Scenario(seed=11, baseline_minutes=45, incident_at_minute=36, burst_size=60)
    watch = tmp_path / "watch.yaml"
    # a target longer than the scenario: this test is about detection and answers, not the alert
    watch.write_text(yaml.safe_dump(sc.watch_file(reply_target_minutes=600), allow_unicode=True))
    return sc, lytter.model_copy(update={"watch_file": watch, "sentiment_enabled": True, "model_path": sentiment_model_dir})


def test_the_scenarios_questions_need_replies_and_the_brands_answers_are_found(scenario_settings, worker_factory):
    sc, settings = scenario_settings
    mentions = sc.mentions()
    worker = worker_factory(settings)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    publish(settings, mentions)
    wait_for(lambda: indexed_count(settings) >= len(mentions), 180, "scenario indexed", worker)
    by_id = {m.id: m for m in mentions}
    wait_for(lambda: all(indexed_docs(settings)[q].get("answered_at") for q in sc.question_ids(answered=True)), 60, "the answers recorded", worker)
    docs = indexed_docs(settings)

    questions = set(sc.question_ids())
    flagged = {i for i, d in docs.items() if d.get("needs_reply")}
    recall = len(questions & flagged) / len(questions)
    # Besides the planted questions (tagged with the brand's handle), the rule also queues top-level
    # questions, requests and complaints that name a brand: the scenario's negative chatter and its crowd
    # questions ("what are your experiences with Nordlys Energi?"). Praise must not be queued.
    tone = Counter(by_id[i].raw["scenario"].get("tone") for i in flagged - questions)
    print(f"needs-reply on the scenario: {len(questions)} planted questions, recall {recall:.2f}; {len(flagged)} flagged, "
          f"the others by ground-truth tone: {dict(tone)}")
    assert recall >= 0.9, sorted(questions - flagged)
    positive = [i for i in flagged if by_id[i].raw["scenario"].get("tone") == "positive"]
    assert len(positive) <= 0.1 * len(flagged), [by_id[i].text for i in positive][:10]
    assert not any(by_id[i].raw["scenario"]["role"] in ("noise", "brand_reply") for i in flagged)

    for q in sc.question_ids(answered=True):
        answer = by_id[by_id[q].raw["scenario"]["answer_id"]]
        expected = (answer.published_at - by_id[q].published_at).total_seconds()
        assert docs[q]["response_time_s"] == pytest.approx(expected, abs=1.0), q
        assert docs[answer.id]["owned_by"] in docs[q]["addressed_to"]
    assert not any(docs[q].get("answered_at") for q in sc.question_ids(answered=False))

    stories = {docs[i]["story_id"] for i in sc.copy_paste_ids()}
    assert len(stories) == 1, stories  # 24 accounts, small edits: one story

    start, end = sc.incident_window()
    client = sync_client(settings)
    try:
        terms = [t["term"] for t in emerging_terms(client, settings, brand=sc.incident_brand, start=start, end=end + timedelta(minutes=5))]
    finally:
        client.close()
    print(f"emerging terms of the incident: {terms}")
    crisis_words = {w.casefold().rstrip("*") for words in CRISIS_KEYWORDS.values() for w in words}
    assert any(any(term.lstrip("#").startswith(w) for w in crisis_words) for term in terms[:5]), terms
