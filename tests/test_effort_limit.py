"""A negative URDF effort limit is refused in one line by every command and backend, as Drake's parser refuses it."""

import subprocess
import sys

import pytest
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import MultibodyPlant

from underact import load
from underact.description.generate import urdf_chain
from underact.errors import UnderactError


def chain_with_effort(effort: str) -> str:
    return urdf_chain(2, [1, 2]).replace('effort="100"', f'effort="{effort}"', 1)


def test_drake_refuses_a_negative_effort_limit():
    """The independent reference: Drake's own parser, on the same file."""
    plant = MultibodyPlant(0.0)
    with pytest.raises(RuntimeError, match="negative effort limit"):
        Parser(plant).AddModelsFromString(chain_with_effort("-5"), "urdf")


@pytest.mark.parametrize("command", [["classify"], ["analyze", "--samples", "2"], ["equation"]])
def test_commands_refuse_it_in_one_line(tmp_path, command):
    path = tmp_path / "negative.urdf"
    path.write_text(chain_with_effort("-5"))
    p = subprocess.run(
        [sys.executable, "-m", "underact.cli", *command, str(path)], capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 2, p.stdout + p.stderr
    out = p.stdout + p.stderr  # classify reports each file's error in its table, and a summary on stderr
    assert "joint 'joint1'" in out and "effort limit -5" in out and "Traceback" not in out
    assert all(line.startswith("underact: ") for line in p.stderr.strip().splitlines())


@pytest.mark.parametrize("backend", ["drake", "mujoco"])
def test_backends_refuse_it_and_accept_zero(tmp_path, backend):
    path = tmp_path / "negative.urdf"
    path.write_text(chain_with_effort("-5"))
    with pytest.raises(UnderactError, match="effort limit -5"):
        load(str(path), backend)
    path.write_text(chain_with_effort("0"))  # zero is a passive joint, not an error
    plant = load(str(path), backend)
    assert plant.nv == 2 and plant.nu == 1
