"""One velocity order for a floating base (issue 24 item 6): the plants, the description readers and the 3-D page
all use `FLOATING_VELOCITY_ORDER`, Drake's own order, and an MJCF actuator on a free joint lands on the coordinate
MuJoCo itself says it drives."""

import mujoco
import numpy as np
import pytest
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import MultibodyPlant

from underact import load
from underact.description import BASE, parse_description
from underact.description.generate import mjcf_chain, urdf_chain
from underact.plants.base import FLOATING_POSITION_ORDER, FLOATING_VELOCITY_ORDER
from underact.view.robot import coordinate_labels


def test_the_order_is_drakes():
    plant = MultibodyPlant(0.0)
    Parser(plant).AddModelsFromString(urdf_chain(2, [1, 2], fixed_base=False), "urdf")
    plant.Finalize()
    assert plant.GetVelocityNames(add_model_instance_prefix=False)[:6] == [f"base_{a}" for a in FLOATING_VELOCITY_ORDER]
    assert plant.GetPositionNames(add_model_instance_prefix=False)[:7] == [f"base_{a}" for a in FLOATING_POSITION_ORDER]


@pytest.mark.parametrize("backend", ["drake", "mujoco"])
def test_plants_description_and_page_agree(tmp_path, backend):
    path = tmp_path / "floating.urdf"
    path.write_text(urdf_chain(2, [1, 2], fixed_base=False))
    plant = load(str(path), backend)
    labels = coordinate_labels(parse_description(path))
    assert plant.velocity_names[:6] == labels[:6] == [f"base_{a}" for a in FLOATING_VELOCITY_ORDER]


def test_free_joint_motor_lands_where_mujoco_says(tmp_path):
    """A motor on the free joint with gear (1 0 0 0 0 0) pushes along world x: MuJoCo's own actuator moment puts it
    on free dof 0 (linear x, MuJoCo's order); the description and the plant both call that coordinate base_vx."""
    text = mjcf_chain(1, [1], floating=True).replace(
        "<actuator>", '<actuator>\n    <motor name="push" joint="base_free" gear="1 0 0 0 0 0"/>'
    )
    path = tmp_path / "push.xml"
    path.write_text(text)
    model = mujoco.MjModel.from_xml_string(text)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    push = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_ACTUATOR, "push")
    moment = np.zeros((model.nu, model.nv))
    mujoco.mju_sparse2dense(moment, data.actuator_moment, data.moment_rownnz, data.moment_rowadr, data.moment_colind)
    assert np.flatnonzero(moment[push]).tolist() == [0]  # MuJoCo: free dof 0, linear x

    description = parse_description(path)
    actuator = next(a for a in description.actuators if a.name == "push")
    labels = coordinate_labels(description)
    (key,) = actuator.column
    assert key[0] == BASE and labels[description.coordinates.index(key)] == "base_vx"

    plant = load(str(path), "mujoco")
    q = np.zeros(plant.nq)
    q[0] = 1.0  # the base's quaternion first: identity
    B = plant.terms(q, np.zeros(plant.nv)).B
    column = B[:, plant.actuator_names.index("push")]
    assert [plant.velocity_names[i] for i in np.flatnonzero(np.abs(column) > 1e-12)] == ["base_vx"]
