"""The generated docs are what tools/gen_docs.py makes now: docs/cli.md from the parser, the
figures of docs/performance.md and docs/quality.md from bench/results.json, the README's
estimate from the code's chunk size and prompt. A missed goal is said as missed."""
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_docs", str(ROOT / "tools" / "gen_docs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_docs_are_up_to_date(gen):
    diffs = gen.differences()
    assert not diffs, "Run .venv/bin/python tools/gen_docs.py\n" + "\n".join(diffs.values())


def test_check_mode_exits_0_when_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=120, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_every_cli_option_is_in_docs_cli_md_with_its_default(gen):
    from generator.cli.main import SETTING_OF, build_parser, models_parser, setting_default

    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for parser in (build_parser(), models_parser()):
        for action in parser._actions:
            if not action.option_strings or "--help" in action.option_strings:
                continue
            rows = [line for line in doc.splitlines()
                    if line.startswith("| `%s` |" % ", ".join(action.option_strings))]
            assert rows, action.option_strings
            key = SETTING_OF.get(action.dest)
            if key is not None:
                assert all("`%s` (setting `%s`)" % (setting_default(key), key) in r for r in rows), rows


def test_every_exit_code_is_in_docs_cli_md():
    from generator.cli.main import EXIT_CODES

    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for code, meaning in EXIT_CODES:
        assert "| %d | %s |" % (code, " ".join(meaning.split())) in doc


def test_every_figure_of_results_json_is_in_the_docs(gen):
    results = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    declared = {f[0] for f in gen.bench_figures()}
    assert set(results["figures"]) <= declared, set(results["figures"]) - declared
    docs = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8") + (
        ROOT / "docs" / "quality.md").read_text(encoding="utf-8")
    missed = [k for k, f in results["figures"].items() if not f["ok"]]
    assert docs.count("| **missed** |") == len(missed)


def test_a_missed_goal_is_said_as_missed(gen, tmp_path, monkeypatch):
    results = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    for figure in results["figures"].values():
        figure["ok"] = True
    results["figures"]["startup_ms"].update(value=99.0, ok=False)
    fake = tmp_path / "results.json"
    fake.write_text(json.dumps(results), encoding="utf-8")
    monkeypatch.setattr(gen, "RESULTS", fake)
    table = gen.figures_table(lambda key: key == "startup_ms")
    assert "Goals met: 0 of 1 (1 missed" in table
    assert re.search(r"\| 4\. Start-up cost of the add-on \(run\.py\) \| 99\.0 ms \| <= 20 ms \| \*\*missed\*\* \|",
                     table), table


def test_the_hand_written_prose_holds_no_figures_of_the_bench(gen):
    """A figure of results.json written by hand outside the generated blocks would drift."""
    results = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    values = {gen._shown(f["value"], "") for f in results["figures"].values() if f["value"] >= 0.01}
    for rel in ("README.md", "docs/performance.md", "docs/quality.md", "docs/design.md"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        prose = re.sub(r"<!-- generated: .*?<!-- end: [^>]*-->", "", text, flags=re.S)
        prose = re.sub(r"`[^`\n]*`", "", prose)  # code (an Anki search: `prop:d>=0.9`) is no figure
        found = [v for v in values if re.search(r"(?<![\w.])%s(?![\w%%])" % re.escape(v), prose)  # (a 0.9% is no ratio)
                 and "." in v]
        assert found == [], (rel, found)
