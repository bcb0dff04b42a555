"""The profile summary of benchmarks/profile_worker.py on py-spy's collapsed-stack format."""

from benchmarks.profile_worker import summarize


def test_samples_are_summed_per_function_whatever_the_line(tmp_path):
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text("main (a.py:1);f (b.py:10) 3\nmain (a.py:2);f (b.py:11) 1\nmain (a.py:1);g (c.py:5) 4\n")
    samples, by_self, by_total = summarize(collapsed)
    assert samples == 8
    assert dict(by_self) == {"f (b.py)": 0.5, "g (c.py)": 0.5}
    assert dict(by_total)["main (a.py)"] == 1.0
