"""Learning agents: Hebbian plastic networks evolved by OpenAI-ES in vector environments.

    from underact.agents import TrainConfig, train
    summary = train(TrainConfig(env="CartPole-v1", generations=20), out="runs/cp")

| name | what | module |
|---|---|---|
| `TrainConfig`, `RULES`, `RULE_COEFFICIENTS` | what defines a run (data only) | `config` |
| `train`, `evolve`, `es_generations`, `Generation` | the training loop, with and without a run folder | `trainer` |
| `ESConfig`, `OpenAIES` | the evolution strategy (ask / tell) | `es` |
| `PlasticNet` | plastic networks, one per Hebbian rule, batched over a population | `hebbian` |
| `EnvSpec`, `PopulationEvaluator` | population rollouts in vector environments | `rollout` |
| `LocalBackend`, `RayBackend`, `make_backend`, `evaluate_genome` | where a population is evaluated | `backends` |
| `load_genome`, `read_config`, `read_metrics`, `is_run` | reading a run folder | `runfolder` |
| `save_checkpoint`, `load_checkpoint` | the one safetensors format (atomic, checksummed) | `checkpoint` |
| `SupConEncoder`, `ReformerEncoder`, `supcon_loss` | perception encoders | `perception` |
| `VelocityEstimator`, `save_encoder`, `load_encoder`, `EncodedEnvSpec` | encoder files, wrappers | `perception` |

Names are imported on first use, so `import underact.agents` stays cheap (torch loads only with the encoders).
"""

from __future__ import annotations

import importlib

_HOME = {
    "config": ("TrainConfig", "RULES", "RULE_COEFFICIENTS"),
    "trainer": ("train", "evolve", "es_generations", "Generation"),
    "es": ("ESConfig", "OpenAIES"),
    "hebbian": ("PlasticNet",),
    "rollout": ("EnvSpec", "PopulationEvaluator"),
    "backends": ("LocalBackend", "RayBackend", "make_backend", "evaluate_genome"),
    "runfolder": ("load_genome", "read_config", "read_metrics", "is_run"),
    "checkpoint": ("save_checkpoint", "load_checkpoint"),
    "perception.supcon": ("SupConEncoder", "supcon_loss"),
    "perception.reformer": ("ReformerEncoder",),
    "perception.pipeline": ("VelocityEstimator", "save_encoder", "load_encoder"),
    "perception.encoded": ("EncodedEnvSpec",),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> object:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'underact.agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"underact.agents.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
