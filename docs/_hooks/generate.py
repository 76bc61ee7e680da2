"""MkDocs hook: the pages that are generated from the code and the data at every build, so they cannot go stale.

- `reference/cli.md` from `underact.cli.build_parser()`: every subcommand's `--help`, verbatim, at a fixed width
  (`HELP_COLUMNS`, the width `tests/test_docs.py` asks `underact CMD --help` for);
- `environments/acrobot.md`, `environments/cartpole.md`, `environments/furuta.md`, `environments/ant.md` from the
  environment classes' docstrings (the Furuta pendulum's: its system module's, `underact.systems.furuta`), as
  Gymnasium does (the docstring is the manual; the ids and spaces come from the registry and a constructed
  environment);
- `benchmarks/index.md` and one page per `docs/benchmarks/*.json` (machine, command, date, tables, figures);
  the Benchmarks section of the navigation lists them;
- `figures/*`: the figures under `scripts/figures/`, copied into the site for the benchmark pages.

The Markdown in `docs/` links the repository file each page is generated from (the parser, an environment's module,
a JSON record, a figure), so it reads on a code host too; in the site those links point at the generated pages
(`site_pages`, `on_page_markdown`).

Run by `mkdocs build` (`hooks:` in mkdocs.yml); `tests/test_docs.py` imports it to compare the CLI page.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "docs" / "benchmarks"
FIGURES = ROOT / "scripts" / "figures"
HELP_COLUMNS = 100
#: Keys every benchmark record must have (the tests check them).
BENCHMARK_KEYS = ("order", "title", "summary", "machine", "command", "date")

EXIT_CODES = [
    ("0", "success"),
    (
        "1",
        "the check failed (`crosscheck`: the engines disagree beyond tolerance), or an internal error: a defect "
        "of ours, reported as one line `underact: internal error: ...` (please report it)",
    ),
    (
        "2",
        "bad input: a usage error, an unknown model, an unreadable or hostile file, a bad flag value, a run folder "
        "that is not a run, a divergent simulation (`underact: error: ...`, one line on stderr, never a traceback)",
    ),
    ("130", "interrupted (Ctrl-C)"),
]


# ----------------------------------------------------------------------------------------------------- CLI


@contextlib.contextmanager
def _columns(n: int) -> Iterator[None]:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(n)
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """The `underact` subcommands in `underact --help` order, name → parser."""
    from underact.cli import build_parser

    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def command_help(name: str | None = None) -> str:
    """`underact [NAME] --help` as printed at `HELP_COLUMNS` columns."""
    from underact.cli import build_parser

    with _columns(HELP_COLUMNS):
        return (build_parser() if name is None else subcommands()[name]).format_help()


def cli_markdown() -> str:
    names = list(subcommands())
    lines = [
        "# Command line: `underact`",
        "",
        "Generated at build time from `underact.cli.build_parser()`: each block is exactly what "
        "`underact COMMAND --help` prints (the tests compare them).",
        "",
        "Commands: " + ", ".join(f"[`{n}`](#{n})" for n in names) + ".",
        "",
        "## Exit codes",
        "",
        "| code | meaning |",
        "|---:|---|",
        *(f"| {code} | {meaning} |" for code, meaning in EXIT_CODES),
        "",
        "## underact",
        "",
        "```text",
        command_help().rstrip(),
        "```",
        "",
    ]
    for name in names:
        lines += [f"## {name}", "", "```text", command_help(name).rstrip(), "```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- environments


def environment_markdown(system: str) -> str:
    """A Gymnasium-style page for a system's environments (its class docstring, or its system module's where its
    environments are `SystemEnv`) or the damaged ant."""
    import gymnasium

    import underact.envs as envs
    from underact import systems
    from underact.envs import ant

    classes = {"acrobot": (envs.AcrobotEnv, envs.AcrobotVectorEnv),
               "cartpole": (envs.CartPoleEnv, envs.CartPoleVectorEnv), "ant": (ant.AntDamagedEnv, ant.AntVectorEnv)}
    cls, vector = classes.get(system, (envs.SystemEnv, envs.SystemVectorEnv))
    doc = cls.__doc__ if system in classes else systems.get(system).doc
    summary, _, body = inspect.cleandoc(doc).partition("\n\n")
    ids = [env_id for env_id, (s, _) in envs.ENV_IDS.items() if s == system] or ["underact/AntDamaged-v0"]
    env = gymnasium.make(ids[0])
    rows = [
        ("Ids", ", ".join(f"`{i}`" for i in ids)),
        ("Action space", f"`{env.action_space}`"),
        ("Observation space", f"`{env.observation_space}`"),
        ("Episode length", f"{env.spec.max_episode_steps} steps"),
        ("Import", f'`import underact.envs; gymnasium.make("{ids[0]}")`'),
        ("Class", f"`{cls.__module__}.{cls.__name__}`"),
        ("Vector class", f'`{vector.__module__}.{vector.__name__}` (`vectorization_mode="vector_entry_point"`)'),
    ]
    env.close()
    title = {"acrobot": "Acrobot", "cartpole": "Cart-pole", "furuta": "Furuta pendulum",
             "ant": "Ant with a damaged leg"}[system]
    lines = [f"# {title}", "", summary, "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    source = cls.__name__ if system in classes else f"underact.systems.{system}"
    lines += ["", body, "", f"*Generated from the docstring of `{source}`.*", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ benchmarks


def benchmark_records() -> dict[str, dict]:
    """`docs/benchmarks/*.json` by page name (the file's stem), in the order of their `order` key."""
    records = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in BENCHMARKS.glob("*.json")}
    return dict(sorted(records.items(), key=lambda item: (item[1].get("order", 0), item[0])))


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|")


def benchmark_markdown(record: dict) -> str:
    commands = record["command"] if isinstance(record["command"], list) else [record["command"]]
    lines = [f"# {record['title']}", "", record["summary"], ""]
    lines += [f"- **Machine:** {record['machine']}", f"- **Date:** {record['date']}"]
    if record.get("software"):
        lines.append(f"- **Software:** {record['software']}")
    lines += ["", "```bash", *commands, "```", ""]
    for table in record.get("tables", []):
        if table.get("caption"):
            lines += [table["caption"], ""]
        lines.append("| " + " | ".join(table["columns"]) + " |")
        align = table.get("align", "l" + "r" * (len(table["columns"]) - 1))
        lines.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table["rows"]]
        lines.append("")
    for block in record.get("output", []):
        lines += [block["caption"], "", "```text", block["text"].rstrip(), "```", ""]
    for figure in record.get("figures", []):
        lines += [f"![{figure['caption']}](../figures/{Path(figure['path']).name})", "", f"*{figure['caption']}*", ""]
    if record.get("notes"):
        lines += ["## Reading the numbers", ""] + [f"- {note}" for note in record["notes"]] + [""]
    if record.get("guide"):
        lines += [f"See also: [{record['guide']['title']}](../{record['guide']['page']}).", ""]
    return "\n".join(lines)


def benchmarks_index(records: dict[str, dict]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Each page is generated from a JSON record in `docs/benchmarks/` (machine, command, date, results). "
        "Timings come from the machines named on each page and vary with load; ratios compare configurations "
        "measured in the same run.",
        "",
        "| benchmark | date | machine |",
        "|---|---|---|",
    ]
    lines += [f"| [{r['title']}]({name}.md) | {r['date']} | {_cell(r['machine'])} |" for name, r in records.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ MkDocs hooks

ENVIRONMENTS = ("acrobot", "cartpole", "furuta", "ant")
#: The repository file each environment page is generated from.
ENVIRONMENT_SOURCES = {system: f"envs/{system}.py" for system in ENVIRONMENTS}
ENVIRONMENT_SOURCES["furuta"] = "underact/systems/furuta.py"
#: A Markdown link's target (the part before any `#anchor`), as in `[text](target#anchor)` or `![alt](target)`.
LINK_TARGET = re.compile(r"(?<=\]\()[^)\s#]+")


def site_pages() -> dict[str, str]:
    """Repository path → the site path the build makes of it: the generated pages and the copied figures."""
    pages = {"underact/cli/__init__.py": "reference/cli.md", "docs/benchmarks": "benchmarks/index.md"}
    pages.update({ENVIRONMENT_SOURCES[system]: f"environments/{system}.md" for system in ENVIRONMENTS})
    pages.update({f"docs/benchmarks/{name}.json": f"benchmarks/{name}.md" for name in benchmark_records()})
    pages.update({f"scripts/figures/{f.name}": f"figures/{f.name}" for f in FIGURES.glob("*")
                  if f.suffix in (".png", ".gif")})
    return pages


def api_source_tree() -> Path:
    """A folder where `underact/` holds the core and, as links, `envs/` and `agents/`: the installed layout.

    pyproject.toml installs `envs/` as `underact.envs` and `agents/` as `underact.agents`; griffe (behind
    mkdocstrings) looks for sub-packages inside the package's own folder, so it reads this tree instead.
    """
    tree = Path(tempfile.mkdtemp(prefix="underact-api-")) / "underact"
    tree.mkdir()
    for entry in (ROOT / "underact").iterdir():
        (tree / entry.name).symlink_to(entry)
    for package in ("envs", "agents"):
        (tree / package).symlink_to(ROOT / package)
    return tree.parent


_api_tree: Path | None = None


@event_priority(100)  # before mkdocstrings reads its handler options
def on_config(config):
    """Points mkdocstrings at the installed package layout; lists one navigation entry per benchmark record."""
    handlers = config.plugins["mkdocstrings"].config["handlers"]
    global _api_tree
    _api_tree = api_source_tree()
    handlers.setdefault("python", {})["paths"] = [str(_api_tree)]
    entries = [{"Overview": "benchmarks/index.md"}]
    entries += [{r["title"]: f"benchmarks/{name}.md"} for name, r in benchmark_records().items()]
    for item in config["nav"]:
        if isinstance(item, dict) and "Benchmarks" in item:
            item["Benchmarks"] = entries
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    generated = {"reference/cli.md": cli_markdown()}
    generated.update({f"environments/{system}.md": environment_markdown(system) for system in ENVIRONMENTS})
    records = benchmark_records()
    generated["benchmarks/index.md"] = benchmarks_index(records)
    generated.update({f"benchmarks/{name}.md": benchmark_markdown(r) for name, r in records.items()})
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    for source, uri in site_pages().items():
        if uri.startswith("figures/"):
            files.append(File.generated(config, uri, abs_src_path=str(ROOT / source)))
    return files


def on_page_markdown(markdown, page, config, files):
    """Links to a repository file the site has a page or a copy of (`site_pages`) point at that page instead."""
    pages = site_pages()
    folder = posixpath.dirname(page.file.src_uri)

    def site_link(match: re.Match) -> str:
        source = posixpath.normpath(posixpath.join("docs", folder, match[0]))
        return posixpath.relpath(pages[source], folder or ".") if source in pages else match[0]

    return LINK_TARGET.sub(site_link, markdown)


def on_shutdown():
    if _api_tree is not None:
        shutil.rmtree(_api_tree, ignore_errors=True)
