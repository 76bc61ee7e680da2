"""Najarro & Risi's quadruped protocol (2020, "Meta-Learning through Hebbian Plasticity in Random Networks",
NeurIPS, arXiv:2007.02686; code: github.com/enajx/HebbianMetaLearning) as `TrainConfig`s, and the rule sharing
of that code before its October 2020 indexing fix.

What the protocol fixes, and where it lives:

- fitness: torso +x displacement per step (return = metres walked), no alive bonus or costs; episode: 330 steps
  of 0.05 s (16.5 s), 13 zero-action burn-in steps, after step 66 a stop on a fall (z < 0.26) or 10 steps in a
  row of negative progress; observation: Ant-v5's 27 values without contact forces, clipped to ±5
  (`underact.envs.ant.PAPER_PROTOCOL`);
- damage: one lower leg cut to a quarter (fromto 0.4 → 0.1); train on intact + front right, hold out front left
  (`PAPER_STUMP`, `TRAINING`);
- network: obs → 128 → 64 → 8, tanh everywhere, no biases (`HIDDEN`, `underact.agents.hebbian.PlasticNet`);
- rule: ABCD_lr, per-synapse η, fresh weights U(−0.1, 0.1) per episode, update after every step, no
  normalisation (`underact.agents.hebbian`);
- ES: mirrored sampling, centred ranks / std, plain SGD, σ 0.1 ×0.999 ≥ 0.01, lr 0.2 ×0.995 ≥ 0.001,
  coefficients from N(0, 1), fitness − 0.01·mean(genome²) (`ES_SETTINGS`, `paper_config`, `underact.agents.es`).

The static baseline runs every episode to the horizon in training, as the paper's code does (its early stop is
for the plastic agents). Durations are the paper's (0.0165 s PyBullet steps) scaled to time, not step counts.
"""

from __future__ import annotations

import numpy as np

from underact.agents.config import TrainConfig
from underact.agents.hebbian import Block, LayerTerms, PlasticNet

ENV_ID = "underact/AntDamaged-v0"
HIDDEN = (128, 64)
PAPER_STUMP = 0.25  # the damaged lower leg keeps a quarter of its length (ant.xml's 0.4 → 0.1 in fromto)
TRAINING = [{"damage": None}, {"damage": "front_right"}]
# Ant-v5 steps (0.05 s) of the paper's durations in PyBullet steps (0.0165 s); also `envs.ant.PAPER_PROTOCOL`
HORIZON, BURN_IN, STOP_AFTER, NEGATIVE_STEPS, FALL_Z = 330, 13, 66, 10, 0.26
ES_SETTINGS = {
    "sigma": 0.1,
    "sigma_decay": 0.999,
    "sigma_min": 0.01,
    "lr": 0.2,
    "lr_decay": 0.995,
    "lr_min": 0.001,
    "optimizer": "plain",
    "antithetic": True,
    "rank_std": True,
    "penalty": 0.01,
    "init_std": 1.0,
}


def protocol_kwargs(early_stop: bool = True) -> dict:
    """`underact/AntDamaged-v0` keyword arguments of the protocol (without `damage`); `early_stop=False` runs every
    episode to the horizon (the static baseline's training, and every test episode)."""
    from underact.envs.ant import PAPER_PROTOCOL

    kwargs = {**PAPER_PROTOCOL, "stump": PAPER_STUMP}
    if not early_stop:
        kwargs["early_stop"] = None
    return kwargs


def paper_config(
    rule: str,
    seed: int,
    population: int,
    generations: int,
    norm: bool = False,
    rule_sharing: str = "none",
    eval_episodes: int = 2,
) -> TrainConfig:
    """The protocol's `TrainConfig` for `rule` ("ABCD_lr" or "static"). A static genome starts at the origin (its
    weights then start at the σ-noise scale, like the plastic agents' U(−0.1, 0.1)); an ABCD_lr genome at N(0, 1)."""
    es = dict(ES_SETTINGS)
    if rule == "static":
        es["init_std"] = 0.0
    return TrainConfig(
        env=ENV_ID,
        rule=rule,
        hidden=HIDDEN,
        norm=norm,
        init_scale=0.1,
        population=population,
        generations=generations,
        episodes=1,
        seed=seed,
        target_return="none",
        eval_episodes=eval_episodes,
        env_kwargs=protocol_kwargs(early_stop=rule != "static"),
        morphologies=[dict(body) for body in TRAINING],
        rule_sharing=rule_sharing,
        **es,
    )


class AntidiagonalNet(PlasticNet):
    """A `PlasticNet` whose synapses [j, i] with equal i + j share one rule, as in the paper's code before its
    indexing fix: a layer of (out, in) has out + in − 1 rules per coefficient (417 for PyBullet's 28 → 128 → 64 → 8,
    416 for Ant-v5's 27 inputs). Genome layout: layers in order; within a layer the rule's coefficients in the
    order of `RULE_COEFFICIENTS`, each a vector over i + j = 0 … out + in − 2."""

    def __init__(self, sizes: tuple[int, ...], rule: str, norm: bool = False, init_scale: float = 0.1):
        super().__init__(sizes, rule, norm, init_scale)
        self.dense = PlasticNet(sizes, rule, norm, init_scale)
        self.num_params = len(self.coefficients) * sum(o + i - 1 for o, i in self.shapes)
        self._index = [np.add.outer(np.arange(o), np.arange(i)) for o, i in self.shapes]  # [out, in] → i + j

    def layout(self) -> list[Block]:
        blocks, offset = [], 0
        for layer, (o, i) in enumerate(self.shapes):
            for name in self.coefficients:
                blocks.append(Block(layer, name, offset, (1, o + i - 1)))
                offset += o + i - 1
        return blocks

    def expand(self, genomes) -> np.ndarray:
        """Shared genomes [P, num_params] → the dense network's genomes [P, dense.num_params]."""
        genomes = np.asarray(genomes, dtype=np.float32)
        if genomes.ndim != 2 or genomes.shape[1] != self.num_params:
            raise ValueError(
                f"genomes must be [population, {self.num_params}] (anti-diagonal rules), got {genomes.shape}"
            )
        parts = [genomes[:, b.offset : b.offset + b.shape[1]][:, self._index[b.layer]] for b in self.layout()]
        return np.concatenate([p.reshape(len(genomes), -1) for p in parts], axis=1)

    def terms(self, genomes) -> list[LayerTerms]:
        return self.dense.terms(self.expand(genomes))
