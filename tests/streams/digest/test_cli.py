"""`lytter digest` refuses bad input with one clear line, before it talks to Elasticsearch."""

from typer.testing import CliRunner

from streams.cli import app

WATCH = """
brands:
  - {name: Nordlys Energi, query: nordlys, competitors: [Fjordbank]}
  - {name: Fjordbank, query: fjordbank}
"""


def _run(tmp_path, *args):
    watch = tmp_path / "watch.yaml"
    watch.write_text(WATCH, encoding="utf-8")
    # an address nothing listens on: reaching Elasticsearch would fail differently
    env = {"LYTTER_WATCH_FILE": str(watch), "LYTTER_ES_URL": "http://127.0.0.1:9"}
    return CliRunner().invoke(app, ["digest", *args], env=env)


def test_unknown_brand_lists_the_brands(tmp_path):
    result = _run(tmp_path, "--brand", "Skandi Air")
    assert result.exit_code == 1
    assert "brand 'Skandi Air' is not in the watch file" in result.output
    assert "its brands: Nordlys Energi, Fjordbank" in result.output


def test_bad_since_is_refused(tmp_path):
    result = _run(tmp_path, "--brand", "Fjordbank", "--since", "1 week")
    assert result.exit_code == 1
    assert "--since '1 week' is not a period" in result.output


def test_unreachable_elasticsearch_names_the_setting(tmp_path):
    result = _run(tmp_path, "--brand", "Fjordbank", "--out", str(tmp_path / "x.html"))
    assert result.exit_code == 1
    assert "LYTTER_ES_URL" in result.output
    assert not (tmp_path / "x.html").exists()


def test_next_without_schedule_says_how_to_set_it(tmp_path):
    result = CliRunner().invoke(app, ["digest", "next"], env={"LYTTER_DIGEST_SCHEDULE": ""})
    assert result.exit_code == 1
    assert "LYTTER_DIGEST_SCHEDULE is not set" in result.output
