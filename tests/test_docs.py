"""The documentation: it builds without a warning, its CLI reference is the parser's help, its snippets run.

- `mkdocs build --strict` into a temporary folder (a broken link, a missing page or docstring fails);
- the generated CLI page holds exactly what `underact COMMAND --help` prints, for every subcommand;
- every fenced python block of README.md and docs/**/*.md is executed (the blocks of one file in order, in one
  namespace, in a temporary folder); a block whose info string contains `no-run` is skipped;
- every `underact …` line of a shell block parses with `build_parser()`, and the cheap ones (`--help`, `equation`,
  `analyze` on a built-in) run; a block's `NAME=$(python -c "…")` lines are run, and the description files its
  commands name through them exist (Drake's examples, example-robot-data, Gymnasium's MJCF);
- every benchmark record carries its machine, command and date, and the README's relative links resolve;
- every relative link and image of README.md and docs/**/*.md names a file of the repository (so the Markdown reads
  on a code host), and the site points those to generated pages (the CLI, environments, benchmarks) at the pages.
"""

from __future__ import annotations

import glob
import html
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from underact.cli import build_parser, join_vector_values, main

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
SHELL = ("bash", "sh", "console", "shell")
RUN_CHEAP = ("equation", "analyze")
BUILTINS = ("acrobot", "cartpole", "pendulum")
#: A shell block's `NAME=$(python -c "CODE")` line: a folder the examples below it use.
ASSIGN = re.compile(r'^(?P<name>[A-Z_]+)=\$\(python -c "(?P<code>[^"]+)"\)', re.MULTILINE)
#: A Markdown link's or image's target, inline `[text](target "title")` or a reference definition `[id]: target`.
LINK = re.compile(r"\]\((?P<inline>[^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(?P<reference>\S+)", re.MULTILINE)


def _hook():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "_hooks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _blocks(path: Path, languages: tuple[str, ...]) -> list[tuple[str, str]]:
    """(info string, body) of the fenced blocks in `path` whose language is one of `languages`."""
    found = []
    for match in FENCE.finditer(path.read_text(encoding="utf-8")):
        info = match["info"].strip()
        if info.split(" ", 1)[0] in languages:
            found.append((info, match["body"]))
    return found


def _commands(body: str) -> list[list[str]]:
    """The `underact …` command lines of a shell block, continuation lines joined, comments dropped."""
    text = body.replace("\\\n", " ")
    lines = [line.strip().removeprefix("$ ") for line in text.splitlines()]
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith("underact ")]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    problems = [line for line in proc.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert problems == [], problems
    return out


def test_docs_build_strict(site):
    for page in ("index.html", "concepts/index.html", "reference/cli/index.html", "benchmarks/index.html"):
        assert (site / page).is_file(), page
    acrobot = (site / "environments" / "acrobot" / "index.html").read_text(encoding="utf-8")
    assert "underact/AcrobotSwingUp-v0" in acrobot and "Observation Space" in acrobot
    records = sorted(p.stem for p in (ROOT / "docs" / "benchmarks").glob("*.json"))
    assert records and all((site / "benchmarks" / name / "index.html").is_file() for name in records)
    guide = (site / "guides" / "environments" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../environments/acrobot/#reference-controller"' in guide  # from ../../envs/acrobot.py#...
    assert 'href="../../benchmarks/envs/"' in guide  # from ../benchmarks/envs.json
    assert 'src="../../figures/view_solo12.png"' in (site / "guides" / "view" / "index.html").read_text("utf-8")
    api = _page_text(site / "reference" / "api" / "view" / "index.html")
    assert "write_view_html(\n    model: str,\n    path: str | Path," in api  # signatures formatted (ruff)
    assert "white-space: pre-wrap" in (site / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    assert 'href="../../stylesheets/extra.css"' in acrobot  # long help blocks and signatures wrap


def _page_text(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_cli_reference_matches_help(site):
    hook = _hook()
    names = list(hook.subcommands())
    assert {"analyze", "classify", "train", "evaluate"} <= set(names)
    page = hook.cli_markdown()
    built = _page_text(site / "reference" / "cli" / "index.html")
    env = {**os.environ, "COLUMNS": str(hook.HELP_COLUMNS)}
    for name in [None, *names]:
        argv = ["--help"] if name is None else [name, "--help"]
        proc = subprocess.run(
            [sys.executable, "-m", "underact.cli", *argv], capture_output=True, text=True, env=env, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        printed = proc.stdout.rstrip()
        assert f"```text\n{printed}\n```" in page, f"CLI page is not `underact {name} --help`"
        assert printed in built, f"built CLI page lacks `underact {name} --help`"
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert code in page


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_snippets_run(path, tmp_path, monkeypatch):
    blocks = _blocks(path, ("python", "py"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__snippet__"}
    for i, (info, body) in enumerate(blocks):
        if "no-run" in info:
            continue
        exec(compile(body, f"{path.name}:python block {i + 1}", "exec"), namespace)  # noqa: S102


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_commands_are_real(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    parser = build_parser()
    for _, body in _blocks(path, SHELL):
        for assign in ASSIGN.finditer(body):
            proc = subprocess.run([sys.executable, "-c", assign["code"]], capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0 and Path(proc.stdout.strip()).is_dir(), f"{path.name}: {assign[0]}"
            monkeypatch.setenv(assign["name"], proc.stdout.strip())
        for argv in _commands(body):
            named = [os.path.expandvars(a) for a in argv if a.startswith("$")]
            assert all(glob.glob(a) for a in named), f"{path.name}: underact {shlex.join(argv)} names no file"
            argv = join_vector_values([os.path.expandvars(a) for a in argv])
            for arg in argv:  # output files are checked as they are parsed: their folders exist where docs run
                if "/" in arg and not arg.startswith(("-", "/")):
                    Path(arg).parent.mkdir(parents=True, exist_ok=True)
            try:
                args = parser.parse_args(argv)
            except SystemExit as exc:  # --help exits 0; anything else is a flag the parser does not know
                assert exc.code == 0 and "--help" in argv, f"{path.name}: underact {shlex.join(argv)}"
                continue
            if args.command in RUN_CHEAP and args.model in BUILTINS and not getattr(args, "mat", None):
                assert main(argv) == 0, f"{path.name}: underact {shlex.join(argv)}"
    capsys.readouterr()


def test_benchmark_records_say_machine_command_date():
    hook = _hook()
    parser = build_parser()
    records = hook.benchmark_records()
    assert records
    for name, record in records.items():
        missing = [key for key in hook.BENCHMARK_KEYS if not record.get(key)]
        assert not missing, f"{name}.json lacks {missing}"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["date"]), name
        commands = record["command"] if isinstance(record["command"], list) else [record["command"]]
        for command in commands:
            if command.startswith("underact "):
                parser.parse_args(join_vector_values(shlex.split(command)[1:]))
        for figure in record.get("figures", []):
            assert (ROOT / figure["path"]).is_file(), figure["path"]
        page = hook.benchmark_markdown(record).splitlines()
        above = ["", *page[:-1]]
        headers = [row for up, row in zip(above, page, strict=True) if row.startswith("|") and not up.startswith("|")]
        assert all(row.strip("| ") for row in headers), f"{name}: a table's header row is empty"


def test_readme_is_short_and_its_links_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    quickstart = text.split("## Quickstart", 1)[1]
    assert "pip install torch==2.13.0 && pip install -e . && underact demo\n" in quickstart
    assert 'pip install -e ".[test]" && python -m pytest -q\n' in quickstart
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" not in target:
            assert (ROOT / target).exists(), target


def test_relative_links_and_images_resolve_in_the_repo():
    broken = []
    for path in DOC_FILES:
        text = re.sub(r"`[^`\n]*`", "", FENCE.sub("", path.read_text(encoding="utf-8")))  # code is not a link
        for match in LINK.finditer(text):
            target = (match["inline"] or match["reference"]).split("#", 1)[0]
            if not target or "://" in target or target.startswith("mailto:"):
                continue
            resolved = (path.parent / target).resolve()
            if not (resolved.is_relative_to(ROOT) and resolved.exists()):
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == [], broken
