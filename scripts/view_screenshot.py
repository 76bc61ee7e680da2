"""Screenshot of `underact view` on a published robot (example-robot-data's Solo-12), taken by headless Chromium.

    python scripts/view_screenshot.py                      # writes scripts/figures/view_solo12.png

It runs `underact view solo12.urdf --q <standing pose> --out <tmp>/solo12.html`, opens the page in Debian's
chromium (/usr/bin/chromium) through Playwright, waits for Meshcat to draw, and saves a 1280×800 PNG.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
import tempfile
from pathlib import Path

SOLO12 = "cmeel.prefix/share/example-robot-data/robots/solo_description/robots/solo12.urdf"
#: Base at the origin (quaternion w,x,y,z = 1,0,0,0; x,y,z = 0), each leg's HAA, HFE, KFE = 0, 0.8, -1.6 rad.
STANDING = ",".join(["1", "0", "0", "0", "0", "0", "0"] + ["0", "0.8", "-1.6"] * 4)
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "figures" / "view_solo12.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    urdf = importlib.metadata.distribution("example-robot-data").locate_file(SOLO12)
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "solo12.html"
        command = [sys.executable, "-m", "underact.cli", "view", str(urdf), "--q", STANDING, "--out", str(page_file)]
        print("$ underact view solo12.urdf --q", STANDING, "--out", page_file.name)
        subprocess.run(command, check=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(page_file.as_uri())
            page.wait_for_function("() => viewer.scene_tree.find(['drake', 'visual']).object.children.length > 0")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(args.out))
            browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
