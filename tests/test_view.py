"""`underact view`, replays and `evaluate --html`: the pages opened in headless Chromium (Debian's `chromium`).

The browser tests read the three.js scene through the page's global `viewer` (Meshcat's `MeshCat.Viewer`):
the meshes under /drake/visual, their material colours, and the animation's duration. They skip only where
/usr/bin/chromium is not installed (CI installs it, and fails them there instead).
"""

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import CHROMIUM, require_chromium
from underact.description.generate import urdf_chain
from underact.plants.analytic import AcrobotParams, CartPoleParams
from underact.view.page import css_colour
from underact.view.scene import ACTUATED, FIXED, PASSIVE

BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
COLOUR = {"actuated": css_colour(ACTUATED)[1:], "passive": css_colour(PASSIVE)[1:], "fixed": css_colour(FIXED)[1:]}

# Every mesh under Meshcat's /drake/visual: [path below it, material colour as hex].
SCENE_JS = """() => {
  const root = viewer.scene_tree.find(["drake", "visual"]).object;
  const meshes = [];
  root.traverse(o => {
    if (!o.isMesh) return;
    const names = [];
    for (let x = o; x && x !== root; x = x.parent) names.unshift(x.name);
    meshes.push([names.join("/"), o.material.color.getHexString()]);
  });
  return meshes;
}"""



def run(*args):
    return subprocess.run([sys.executable, "-m", "underact.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, path: Path) -> tuple[list, dict]:
    """Loads the page offline; returns (meshes, record) after asserting no errors and no network requests."""
    page = browser.new_page()
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("data:", "file:")) else None)
    page.goto(path.as_uri())
    page.wait_for_function("() => viewer.scene_tree.find(['drake', 'visual']).object.children.length > 0")
    page.wait_for_timeout(300)  # let the remaining inlined commands run
    meshes = page.evaluate(SCENE_JS)
    record = json.loads(page.evaluate("() => document.getElementById('underact-page').textContent"))
    record["duration_js"] = page.evaluate("() => viewer.animator.duration")
    record["title"] = page.title()
    page.close()
    assert errors == [], errors
    assert requests == [], requests
    return meshes, record


def colour_of(meshes: list, link: str) -> set[str]:
    return {colour for path, colour in meshes if f"/{link}/" in f"/{path}"}


def test_acrobot_page_colours_passive_shoulder_and_actuated_elbow(browser, tmp_path):
    out = tmp_path / "acrobot.html"
    p = run("view", "acrobot", "--out", str(out), "--q", "0.4,-0.8")
    assert p.returncode == 0, p.stderr
    meshes, record = open_page(browser, out)
    assert len(meshes) == 3  # base box, upper and lower link cylinders
    assert colour_of(meshes, "upper_link") == {COLOUR["passive"]}  # moved by the shoulder, unactuated
    assert colour_of(meshes, "lower_link") == {COLOUR["actuated"]}  # moved by the elbow
    assert colour_of(meshes, "base_link") == {COLOUR["fixed"]}
    assert record["title"] == "underact view: acrobot: underactuated, degree 1"
    assert record["unactuated_directions"] == ["+1·shoulder"]
    text = out.read_text()
    assert "passive joints: shoulder" in text and "cdn." not in text.split("<script")[-1]


def test_urdf_page_draws_missing_meshes_as_shapes_and_converts_stl(browser, tmp_path):
    """joint2 of three is actuated; link1's mesh is missing (a sphere and a rod instead), link3's is an STL."""
    (tmp_path / "tet.stl").write_text(
        "solid tet\n" + "".join(
            f"facet normal 0 0 1\nouter loop\n{''.join(f'vertex {v}' + chr(10) for v in face)}endloop\nendfacet\n"
            for face in (("0 0 0", "0.1 0 0", "0 0.1 0"), ("0 0 0", "0 0.1 0", "0 0 0.1"),
                         ("0 0 0", "0 0 0.1", "0.1 0 0"), ("0.1 0 0", "0 0.1 0", "0 0 0.1"))
        ) + "endsolid tet\n")
    visuals = {1: '<mesh filename="meshes/missing.stl"/>', 2: '<cylinder radius="0.02" length="1"/>',
               3: '<mesh filename="tet.stl"/>'}
    text = urdf_chain(3, [2])
    for k, shape in visuals.items():
        text = text.replace(f'<link name="link{k}">', f'<link name="link{k}"><visual><origin xyz="0 0 -0.5"/>'
                                                       f"<geometry>{shape}</geometry></visual>")
    urdf = tmp_path / "chain3.urdf"
    urdf.write_text(text)
    out = tmp_path / "chain3.html"
    p = run("view", str(urdf), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert re.search(r"underact: warning: 1 mesh file\(s\) cannot be loaded \(meshes/missing.stl\); links link1 "
                     r"are drawn as spheres and rods", p.stderr), p.stderr
    meshes, record = open_page(browser, out)
    assert len(meshes) == record["geometries"] == 4  # link1: sphere + rod to joint2; link2: cylinder; link3: STL
    assert colour_of(meshes, "link1") == {COLOUR["passive"]} and len([m for m in meshes if "/link1/" in m[0]]) == 2
    assert colour_of(meshes, "link2") == {COLOUR["actuated"]}
    assert colour_of(meshes, "link3") == {COLOUR["passive"]}
    assert record["class"] == "underactuated" and record["degree"] == 2
    assert record["passive_joints"] == ["joint1", "joint3"]


def test_replay_lasts_as_long_as_the_trajectory(browser, tmp_path):
    """A passive acrobot on the analytic backend, replayed through Drake's scene graph at its 100 samples/s."""
    import underact
    from underact.simulate import simulate
    from underact.view import write_replay_html

    plant = underact.load("acrobot", "analytic")
    traj = simulate(plant, lambda t, q, v: np.zeros(1), np.array([1.0, 0.0]), np.zeros(2), 1.5)
    out = tmp_path / "replay.html"
    written = write_replay_html("acrobot", traj.t, traj.q, out)
    meshes, record = open_page(browser, out)
    duration = float(traj.t[-1] - traj.t[0])
    assert written["frames"] == len(traj.t) and written["fps"] == pytest.approx(100.0)
    assert record["duration"] == pytest.approx(duration, rel=1e-12)
    assert record["duration_js"] == pytest.approx(duration, rel=1e-6)  # three.js keeps times as float32
    assert len(meshes) == 3 and colour_of(meshes, "lower_link") == {COLOUR["actuated"]}


def test_evaluate_html_replays_one_episode(tmp_path):
    run_dir = tmp_path / "run"
    p = run("train", "--env", "underact/AcrobotSwingUp-v0", "--population", "4", "--generations", "1",
            "--episodes", "1", "--out", str(run_dir), "--quiet")
    assert p.returncode == 0, p.stderr
    out = tmp_path / "episode.html"
    p = run("evaluate", str(run_dir), "--episodes", "1", "--html", str(out))
    assert p.returncode == 0, p.stderr
    record = json.loads(re.search(r'id="underact-page">(.*?)</script>', out.read_text()).group(1))
    assert record["name"] == "acrobot" and record["frames"] >= 2
    assert record["duration"] == pytest.approx(0.05 * (record["frames"] - 1))  # the environment's dt


def page_commands(path: Path) -> list[dict]:
    """The Meshcat commands the page replays on load (msgpack, inlined as base64 data URLs)."""
    import msgpack  # a test extra
    blobs = re.findall(r"data:application/octet-binary;base64,([A-Za-z0-9+/=]*)", path.read_text())
    return [msgpack.unpackb(base64.b64decode(blob), raw=False) for blob in blobs]


@pytest.mark.parametrize(
    ("model", "q", "pivot_link", "reach"),
    [
        ("acrobot", "0,0", "upper_link", lambda: AcrobotParams().l1 + AcrobotParams().l2),  # hanging: l2 ran off
        ("acrobot", "0.4,-0.8", "upper_link", lambda: AcrobotParams().l1 + AcrobotParams().l2),
        ("cartpole", "1.5,0.3", "Cart", lambda: CartPoleParams().l),
    ],
)
def test_camera_frames_every_pose_the_links_can_reach(model, q, pivot_link, reach, tmp_path):
    """The circle the tip sweeps about the pivot (radius from the model's link lengths) lies inside the camera's
    cone: the page's camera position and target, and three.js's vertical field of view from Meshcat's own script
    (a window at least as wide as tall sees at least as much across)."""
    out = tmp_path / f"{model}.html"
    p = run("view", model, "--q", q, "--out", str(out))
    assert p.returncode == 0, p.stderr
    commands = page_commands(out)
    fov = float(re.search(r"create_camera\(\)\{[^}]*?new [\w$.]+\(([\d.]+),1,", out.read_text()).group(1))

    def world(v):  # Meshcat's camera properties are in three.js's y-up frame; the world is z-up
        return np.array([v[0], -v[2], v[1]])

    (camera,) = [world(c["value"]) for c in commands if c.get("path") == "/Cameras/default/rotated/<object>"
                 and c.get("property") == "position"]
    (target,) = [world(c["value"]) for c in commands if c["type"] == "set_target"]
    (pivot,) = [np.array(c["matrix"][12:15]) for c in commands
                if c["type"] == "set_transform" and c["path"].endswith(f"/{pivot_link}")]
    angle = np.linspace(0, 2 * np.pi, 73)
    tips = pivot + reach() * np.stack([np.sin(angle), np.zeros_like(angle), -np.cos(angle)], axis=1)
    rays, axis = tips - camera, (target - camera) / np.linalg.norm(target - camera)
    off_axis = np.degrees(np.arccos(rays @ axis / np.linalg.norm(rays, axis=1)))
    assert off_axis.max() < fov / 2  # every tip on screen
    assert off_axis.max() > 0.5 * fov / 2  # and the robot is not a speck


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["view", "acrobot", "--out", "robot.png"], "argument --out: robot.png: the file name must end in .html"),
        (["view", "nosuch"], "neither a built-in model (acrobot, cartpole, pendulum, furuta) nor an existing"),
        (["view", "acrobot", "--q", "1,x"], "argument --q: must be comma-separated numbers"),
        (["view", "acrobot", "--q", "1,2,3"], "--q needs 2 finite values for acrobot"),
        (["view", "acrobot", "--base", "floating"], "acrobot is bolted to the world; --base applies to description"),
        (["view", "acrobot", "--out", "no/such/folder/a.html"], "the folder no/such/folder does not exist"),
    ],
)
def test_view_refuses_bad_input_in_one_line(args, message, tmp_path):
    p = subprocess.run([sys.executable, "-m", "underact.cli", *args], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.startswith("underact: error: ") and message in p.stderr and "Traceback" not in p.stderr
    assert p.stderr.count("\n") == 1
