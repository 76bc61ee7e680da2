"""Description files on both engines: generated URDF chains with chosen transmissions classify correctly."""

import numpy as np
import pytest

from underact import load
from underact.analysis import analyze
from underact.crosscheck import crosscheck
from underact.description.generate import billion_laughs, urdf_chain
from underact.errors import UnderactError


@pytest.mark.parametrize("n,actuated", [(1, [1]), (2, [2]), (3, [1, 3]), (4, [1, 2, 3, 4]), (5, [])])
def test_generated_chains_classify_on_both_engines(tmp_path, n, actuated):
    path = tmp_path / f"chain{n}.urdf"
    path.write_text(urdf_chain(n, actuated, damping=0.05))
    mode = "auto" if actuated else "declared"  # a file without transmissions is assumed fully actuated in auto
    plants = [load(path, "drake", actuation=mode), load(path, "mujoco", actuation=mode)]
    for plant in plants:
        assert (plant.nq, plant.nv, plant.nu) == (n, n, len(actuated))
        report = analyze(plant, samples=100).to_json()
        assert report["degree"] == n - len(actuated)
        assert report["class"] == ("fully-actuated" if len(actuated) == n else "underactuated")
        # The unactuated directions are exactly the passive joints' axes.
        passive = sorted(set(range(n)) - {a - 1 for a in actuated})
        dirs = np.abs(np.array(report["unactuated_directions"]).reshape(-1, n))
        assert sorted(dirs.argmax(axis=1).tolist()) == passive
        np.testing.assert_allclose(plant.b, 0.05)
    assert all(d.ok for d in crosscheck(*plants, states=30))


def test_floating_chain_adds_six_unactuated(tmp_path):
    path = tmp_path / "float.urdf"
    path.write_text(urdf_chain(3, [1, 2, 3], fixed_base=False))
    for backend in ("drake", "mujoco"):
        plant = load(path, backend)
        assert (plant.nq, plant.nv) == (10, 9)  # quaternion base: judged against nv
        report = analyze(plant, samples=100).to_json()
        assert report["rank"] == 3 and report["degree"] == 6 and report["controllable"] is None


def test_hostile_files_are_refused_before_any_engine(tmp_path):
    bomb = tmp_path / "bomb.urdf"
    bomb.write_text(billion_laughs())
    for backend in ("drake", "mujoco"):
        with pytest.raises(UnderactError):
            load(bomb, backend)
    sdf = tmp_path / "x.sdf"
    sdf.write_text("<sdf version='1.7'><model name='m'><link name='a'/></model></sdf>")
    with pytest.raises(UnderactError, match="MuJoCo does not read SDF"):
        load(sdf, "mujoco")
