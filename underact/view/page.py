"""One offline HTML page from Meshcat's `StaticHtml()`: our title, a legend panel, and a JSON record of the page.

`StaticHtml()` inlines Meshcat's JavaScript and every scene command, so the page needs no server and no
network. We set its `<title>`, add a fixed panel (class, degree, colour legend, joint lists, warnings) and a
`<script type="application/json" id="underact-page">` holding the same facts for programs (tests read it).
Pages are written atomically: a failed write leaves no half file.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from underact.errors import UnderactError
from underact.files import atomic_write, output_problem

_STYLE = """
<style>
  #underact-panel { position: fixed; left: 12px; bottom: 12px; max-width: 42vw; max-height: 60vh; overflow: auto;
    background: rgba(255,255,255,0.92); color: #202124; font: 13px/1.4 system-ui, sans-serif; padding: 10px 14px;
    border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); z-index: 10; }
  #underact-panel h1 { font-size: 15px; margin: 0 0 6px 0; }
  #underact-panel .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
    margin-right: 6px; vertical-align: -1px; }
  #underact-panel ul { margin: 4px 0; padding-left: 18px; }
  #underact-panel .warning { color: #b3261e; }
</style>
"""


def css_colour(rgba: tuple[float, float, float, float]) -> str:
    """'#rrggbb' as Meshcat shows `rgba` (Drake truncates each channel times 255 to an integer)."""
    return "#" + "".join(f"{int(255 * c):02x}" for c in rgba[:3])


def panel(heading: str, legend: list[tuple[tuple, str]], lines: list[str], warnings: list[str]) -> str:
    """The panel's HTML: a heading, colour swatches with their meaning, plain lines, warnings (all escaped)."""
    parts = [f"<h1>{html.escape(heading)}</h1>", "<div>"]
    for rgba, meaning in legend:
        parts.append(f'<div><span class="swatch" style="background:{css_colour(rgba)}"></span>'
                     f"{html.escape(meaning)}</div>")
    parts.append("</div><ul>")
    parts += [f"<li>{html.escape(line)}</li>" for line in lines]
    parts += [f'<li class="warning">warning: {html.escape(w)}</li>' for w in warnings]
    parts.append("</ul>")
    return "\n".join(parts)


def finish(static_html: str, title: str, panel_html: str, record: dict) -> str:
    """Meshcat's page with `title`, the panel and the JSON `record` added."""
    if "<title>" not in static_html or "</body>" not in static_html:
        raise UnderactError("Meshcat's static page has an unexpected layout (no <title> or </body>); "
                            "this Drake version is not supported by `underact view`")
    head, _, rest = static_html.partition("<title>")
    _, _, rest = rest.partition("</title>")
    data = json.dumps(record, allow_nan=False).replace("</", "<\\/")
    overlay = (f'{_STYLE}<div id="underact-panel">{panel_html}</div>\n'
               f'<script type="application/json" id="underact-page">{data}</script>\n')
    body, _, tail = rest.rpartition("</body>")
    return f"{head}<title>{html.escape(title)}</title>{body}{overlay}</body>{tail}"


def check_html_path(path: str | Path, flag: str) -> Path:
    """`path` as a Path if an .html page can be written there; one-line `UnderactError`s otherwise (checked before
    any work is done)."""
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise UnderactError(f"{flag} {path}: the page's name must end in .html")
    problem = output_problem(target)
    if problem is not None:
        hint = "; give a new .html file name" if problem.startswith("exists") else ""
        raise UnderactError(f"{flag} {path}: {problem}{hint}")
    return target


def write_page(path: Path, text: str) -> None:
    """Writes `text` to `path` atomically (`underact.files.atomic_write`); `UnderactError` naming it if that fails."""
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as exc:
        raise UnderactError(f"could not write {path} ({exc.strerror or exc})") from None
