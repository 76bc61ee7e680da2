"""Drake plants and Drake-backed environments copy and pickle (issue 24 item 7): the copy is rebuilt from the
plant's source and gives the same terms, bit for bit, with its own MultibodyPlant and context."""

import copy
import pickle

import gymnasium
import numpy as np
import pytest
from pydrake.multibody.plant import MultibodyPlant

import underact.envs  # noqa: F401  (registers the environments)
from underact import load
from underact.description.generate import sdf_chain, urdf_chain
from underact.errors import UnderactError
from underact.plants.drake import DrakePlant

GEARED_MJCF = """<mujoco model="geared">
  <worldbody>
    <body name="cart"><joint name="x" type="slide" axis="1 0 0" armature="0.5"/>
      <geom type="box" size="0.2 0.1 0.1" mass="10"/>
      <body name="pole"><joint name="th" type="hinge" axis="0 1 0" damping="0.1"/>
        <geom type="capsule" fromto="0 0 0 0 0 -1" size="0.05" mass="1"/></body>
    </body>
  </worldbody>
  <actuator><motor name="push" joint="x" gear="3"/></actuator>
</mujoco>
"""

FILES = {
    "chain.urdf": urdf_chain(3, [1, 3], damping=0.2),  # parsed from text, actuators added before Finalize
    "chain.sdf": sdf_chain(3, [2]),  # parsed from the file
    "geared.xml": GEARED_MJCF,  # B replaced from the description (gear), armature added to M
}
ATTRIBUTES = ("name", "nq", "nv", "nu", "position_names", "velocity_names", "actuator_names", "quaternion_starts")
ARRAYS = ("u_limit", "upright", "q_rest", "b", "angle_mask")


def plant_for(model: str, tmp_path) -> DrakePlant:
    if model in FILES:
        path = tmp_path / model
        path.write_text(FILES[model])
        return load(str(path), "drake")
    return load(model, "drake")


@pytest.mark.parametrize("model", ["acrobot", "cartpole", "pendulum", *FILES])
def test_copy_and_pickle_give_identical_terms(model, tmp_path):
    plant = plant_for(model, tmp_path)
    rng = np.random.default_rng(0)
    q = plant.random_q(rng, 5)
    v = rng.standard_normal((5, plant.nv))
    reference = plant.terms(q, v)
    for twin in (copy.deepcopy(plant), pickle.loads(pickle.dumps(plant))):
        assert twin.plant is not plant.plant and twin.context is not plant.context
        for key in ATTRIBUTES:
            assert getattr(twin, key) == getattr(plant, key), key
        for key in ARRAYS:
            np.testing.assert_array_equal(getattr(twin, key), getattr(plant, key), err_msg=key)
        assert twin.warnings == plant.warnings
        assert getattr(twin, "parser_messages", None) == getattr(plant, "parser_messages", None)
        terms = twin.terms(q, v)
        for key in ("M", "Cv", "tau_g", "B"):
            np.testing.assert_array_equal(getattr(terms, key), getattr(reference, key), err_msg=key)
        np.testing.assert_array_equal(twin.damping(v), plant.damping(v))
        np.testing.assert_array_equal(twin.energy(q, v), plant.energy(q, v))
        twin.terms(q[::-1], v[::-1])  # the copy's context is its own: the original is not disturbed
        np.testing.assert_array_equal(plant.terms(q, v).M, reference.M)


def test_geared_file_keeps_its_changes(tmp_path):
    """What loading changed after Drake parsed the file (gear 3 on B, armature 0.5 on M) survives the copy:
    checked against the numbers written in the file, not only against the original."""
    plant = pickle.loads(pickle.dumps(plant_for("geared.xml", tmp_path)))
    np.testing.assert_allclose(plant.terms(np.zeros(2), np.zeros(2)).B, [[3.0], [0.0]])
    M = plant.terms(np.zeros(2), np.zeros(2)).M
    np.testing.assert_allclose(M[0, 0], 10.0 + 1.0 + 0.5)  # cart, pole, armature


@pytest.mark.parametrize("backend", ["drake", "analytic", "mujoco"])
@pytest.mark.parametrize("env_id", ["underact/AcrobotSwingUp-v0", "underact/CartPoleBalance-v0"])
def test_copied_environment_steps_like_the_original(env_id, backend):
    env = gymnasium.make(env_id, backend=backend)
    env.reset(seed=3)
    env.step(env.action_space.sample() * 0)
    twins = [copy.deepcopy(env), pickle.loads(pickle.dumps(env))]
    actions = np.random.default_rng(1).uniform(-1, 1, (20, 1)) * env.action_space.high
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        for twin in twins:
            obs2, reward2, terminated2, truncated2, _ = twin.step(a)
            np.testing.assert_array_equal(obs2, obs)
            assert (reward2, terminated2, truncated2) == (reward, terminated, truncated)


def test_plant_without_a_source_refuses_in_one_line():
    mbp = MultibodyPlant(0.0)
    mbp.Finalize()
    plant = DrakePlant(mbp, "empty")
    with pytest.raises(UnderactError, match="cannot be copied or pickled") as info:
        copy.deepcopy(plant)
    assert "\n" not in str(info.value)
