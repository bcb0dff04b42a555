"""Quick benchmark of the streaming matcher: ``python -m streams.query.benchmark [--docs N] [--queries M]``.

Synthetic Danish/Norwegian/Swedish/English mentions (8–60 words, one in ten words unseen before, so the
per-token cache is not always warm) and brand watches of five shapes: boolean with a negated phrase,
hashtag/handle OR-group with a language scope, NEAR with an OR-group and a wildcard, phrase OR wildcard
with a source exclusion, and a wildcard with an author exclusion.

Reports, best of ``--repeat`` runs:

* cold: ``Document.from_mapping`` + every query on every mention (what the stream does per mention);
* warm: the queries alone on already-prepared documents (the cost of one more brand watch).
"""

from __future__ import annotations

import argparse
import random
import time

from . import Document, compile_query

_VOCAB = (
    "og i at det er en til på som de med han af for ikke der var mig sig men et har om vi min havde "
    "the and to of is it in you that was for on are with as bil smør brød kaffe år Ålborg Aarhus "
    "god dårlig service kundeservice levering pris tilbud købt handle butik Göteborg smör lördag "
    "frisk nyt gammel hjemme arbejde weekend sommer vinter"
).split()
_BRANDS = (
    "lego ørsted carlsberg novo maersk vestas netto rema ikea volvo h&m telia equinor spotify arla "
    "pandora danske nordea saab skoda"
).split()
_TEMPLATES = (
    '{b} AND NOT "{b} movie"',
    "({b} OR #{b} OR @{b}) lang:(da OR nb OR sv)",
    "{b} NEAR/5 (dårlig OR kundeservice OR boykot*)",
    '"{b} tilbud" OR ({b} AND pris*) NOT source:reddit',
    "{b}* AND (god OR dårlig) NOT author:user1*",
)


def _mentions(n: int, rng: random.Random) -> list[dict]:
    def text() -> str:
        words = [
            rng.choice(_VOCAB) if rng.random() < 0.9 else "".join(rng.choices("abdefgiklmnoprstuvyæøå", k=rng.randint(3, 9)))
            for _ in range(rng.randint(8, 60))
        ]
        for _ in range(rng.randint(0, 2)):
            b = rng.choice(_BRANDS)
            words.insert(rng.randrange(len(words) + 1), rng.choice([b, b.upper(), "#" + b, "@" + b, b.capitalize()]))
        return " ".join(words)

    return [
        {
            "title": text()[:60],
            "text": text(),
            "author": {"handle": f"user{i % 500}", "display_name": "Anna Ås"},
            "source": rng.choice(["reddit", "blog", "mastodon"]),
            "lang": rng.choice(["da", "nb", "sv", "en"]),
            "url": f"https://example.com/{i}",
        }
        for i in range(n)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    rng = random.Random(7)
    queries = [
        compile_query(_TEMPLATES[i % len(_TEMPLATES)].format(b=_BRANDS[i % len(_BRANDS)])) for i in range(args.queries)
    ]
    evaluations = args.docs * len(queries)
    cold = warm = float("inf")
    for _ in range(args.repeat):
        mentions = _mentions(args.docs, rng)  # fresh texts each round: unseen words stay unseen
        start = time.perf_counter()
        docs = [Document.from_mapping(m) for m in mentions]
        hits = sum(q.matches(d) for d in docs for q in queries)
        cold = min(cold, time.perf_counter() - start)
        start = time.perf_counter()
        sum(q.matches(d) for d in docs for q in queries)
        warm = min(warm, time.perf_counter() - start)
    print(f"{len(queries)} queries x {args.docs} mentions = {evaluations} evaluations, {hits} matches (last round)")
    print(f"cold (prepare + match): {cold:.3f} s = {cold / args.docs * 1e6:.0f} µs per mention, "
          f"{args.docs / cold:,.0f} mentions/s")
    print(f"warm (match only):      {warm:.3f} s = {warm / evaluations * 1e6:.2f} µs per query and mention")


if __name__ == "__main__":
    main()
