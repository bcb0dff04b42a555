"""The rule baseline for intent, and the worker's fallback when the model has no intent head.

Per language, in the guidelines' precedence (request > question > complaint > praise > other):

* request: a polite or imperative ask for an action ("please", "kan I sende", "refunder", "ring mig",
  "jeg vil have pengene tilbage", ...);
* question: a question mark, or a question word / inverted verb opening a sentence;
* complaint: the sentiment lexicon (models.sentiment.baselines, AFINN-style) sums below zero;
* praise: thanks words, or the lexicon sums above zero;
* other: the rest.

No negation, irony or register knowledge: that is what the model is measured against.
"""

from __future__ import annotations

import re
from functools import lru_cache

from models.intent import Intent

_QUESTION_WORDS = {
    "da": "hvad hvor hvornår hvordan hvorfor hvem hvilken hvilke hvilket kan kan man er har skal vil må gør findes",
    "nb": "hva hvor når hvordan hvorfor hvem hvilken hvilke hvilket kan er har skal vil må gjør finnes",
    "nn": "kva kor når korleis kvifor kven kva for kan er har skal vil må gjer finst",
    "sv": "vad var när hur varför vem vilken vilka vilket kan är har ska vill får gör finns",
    "en": "what where when how why who which can could is are do does did will would has have should",
}
_REQUEST = {
    "da": r"\b(venligst|vær (så )?venlig|kan i (ikke )?(sende|ringe|refundere|rette|fikse|slette|hjælpe|opsige|ændre|give)|send (mig|os)|ring (til )?mig|skriv til mig|refunder|refusion|pengene tilbage|jeg vil (gerne )?(have|bede)|jeg (beder|kræver)|opsig|luk min|slet min|skriv en dm|dm mig)\b",
    "nb": r"\b(vennligst|vær (så )?snill|kan dere (ikke )?(sende|ringe|refundere|rette|fikse|slette|hjelpe|si opp|endre|gi)|send (meg|oss)|ring (til )?meg|skriv til meg|refunder|refusjon|pengene tilbake|jeg vil (gjerne )?(ha|be)|jeg (ber|krever)|si opp|slett (min|kontoen)|send en dm|dm meg)\b",
    "nn": r"\b(vennlegast|ver (så )?snill|kan de (ikkje )?(sende|ringje|refundere|rette|fikse|slette|hjelpe|seie opp|endre|gje)|send (meg|oss)|ring (til )?meg|skriv til meg|refunder|refusjon|pengane tilbake|eg vil (gjerne )?(ha|be)|eg (ber|krev)|sei opp|slett (min|kontoen)|send ei dm|dm meg)\b",
    "sv": r"\b(vänligen|snälla|kan ni (inte )?(skicka|ringa|återbetala|rätta|fixa|radera|hjälpa|säga upp|ändra|ge)|skicka (mig|oss)|ring (upp )?mig|skriv till mig|återbetal|pengarna tillbaka|jag vill (gärna )?(ha|be)|jag (ber|kräver)|säg upp|radera mitt|skicka ett dm|dm:a mig)\b",
    "en": r"\b(please|pls|kindly|could you (please )?(send|call|refund|fix|delete|help|cancel|change|check)|can you (please )?(send|call|refund|fix|delete|help|cancel|change|check)|send me|call me|dm me|refund|money back|i want (a|my)|i demand|cancel my|delete my)\b",
}
_THANKS = {
    "da": r"\b(tak|tusind tak|mange tak|takker)\b",
    "nb": r"\b(takk|tusen takk|mange takk|takker)\b",
    "nn": r"\b(takk|tusen takk|mange takk|takkar)\b",
    "sv": r"\b(tack|tusen tack|stort tack|tackar)\b",
    "en": r"\b(thanks|thank you|thx|cheers|kudos)\b",
}
_SENTENCE = re.compile(r"(?:^|[.!?\n]\s*)([\wæøåäöé]+(?:\s+[\wæøåäöé]+)?)", re.I)


@lru_cache(maxsize=None)
def _compiled(lang: str) -> tuple[re.Pattern, re.Pattern, frozenset[str]]:
    key = lang if lang in _REQUEST else "en"
    words = frozenset(_QUESTION_WORDS[key].split())
    return re.compile(_REQUEST[key], re.I), re.compile(_THANKS[key], re.I), words


def _opens_like_question(text: str, words: frozenset[str]) -> bool:
    for match in _SENTENCE.finditer(text):
        first = match.group(1).lower().split()
        if first and first[0] in words:
            return True
    return False


def rule_intent(text: str, lang: str) -> Intent:
    """The baseline's intent of one text in ``lang`` (da, nb, nn, sv, en; others read as English)."""
    from models.sentiment.baselines import lexicon_for

    request, thanks, question_words = _compiled(lang)
    if request.search(text):
        return Intent("request", 0.5, "rules")
    if "?" in text or _opens_like_question(text, question_words):
        return Intent("question", 0.5, "rules")
    score = lexicon_for(lang if lang in _REQUEST else "en").score(text)
    if score < 0:
        return Intent("complaint", 0.5, "rules")
    if thanks.search(text) or score > 0:
        return Intent("praise", 0.5, "rules")
    return Intent("other", 0.5, "rules")
