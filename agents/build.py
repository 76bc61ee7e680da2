"""What a `TrainConfig` builds: its environments (`make_env_spec`, wrapped by the encoder when there is one, which
loads the encoder file), its plastic network (`make_net`) and their sizes, its target return (`target_return`, from
the environment's registration), and whether a run of it fits this machine (`check_resources`). Running a population
on them is `underact.agents.backends`' job.
"""

from __future__ import annotations

from underact.agents.config import TrainConfig
from underact.agents.hebbian import PlasticNet
from underact.agents.rollout import (
    EnvSpec,
    check_env_id,
    check_memory,
    evaluation_bytes,
    network_sizes,
    space_sizes,
)


def make_env_spec(config: TrainConfig) -> EnvSpec:
    """The environments the agents act in; with an encoder, wrapped by it (an `EncodedEnvSpec`; this loads the
    encoder file). ValueError if the run's env_kwargs contradict the ones the encoder was trained with."""
    if config.encoder is None:
        return EnvSpec(config.env, dict(config.env_kwargs), config.vectorization)
    from underact.agents.perception.encoded import EncodedEnvSpec  # torch loads only with an encoder
    from underact.agents.perception.pipeline import load_encoder

    encoder = load_encoder(config.encoder)
    clash = {k for k, v in encoder.env_kwargs.items() if k in config.env_kwargs and config.env_kwargs[k] != v}
    if clash:
        raise ValueError(
            f"env_kwargs {sorted(clash)} differ from the ones encoder {config.encoder} was trained with "
            f"({ {k: encoder.env_kwargs[k] for k in sorted(clash)} }); leave them out"
        )
    kwargs = {**config.env_kwargs, **encoder.env_kwargs}
    return EncodedEnvSpec(config.env, kwargs, config.vectorization, wrap=encoder.wrap)


def make_net(config: TrainConfig, spec: EnvSpec | None = None) -> PlasticNet:
    """The plastic network; its input size is the (wrapped) environment's observation size (`spec`, built
    from `config` when not given)."""
    if config.encoder is None:
        n_in, n_out = space_sizes(config.env, config.env_kwargs)
    else:
        n_in, n_out = encoded_sizes(spec or make_env_spec(config))
    if config.rule_sharing == "antidiagonal":  # the paper code's rule sharing before its fix (an ablation)
        from underact.agents.paper import AntidiagonalNet

        return AntidiagonalNet((n_in, *config.hidden, n_out), config.rule, config.norm, config.init_scale)
    return PlasticNet((n_in, *config.hidden, n_out), config.rule, config.norm, config.init_scale)


def encoded_sizes(spec: EnvSpec) -> tuple[int, int]:
    """(observation size, network output size) of one copy of `spec`'s wrapped vector environment."""
    env = spec.make(1)
    try:
        return network_sizes(env.single_observation_space, env.single_action_space, f"{spec.env_id} (encoded)")
    finally:
        env.close()


def target_return(config: TrainConfig) -> float | None:
    """The center return at which training stops early ("auto": the environment's reward threshold), or None."""
    if config.target_return == "auto":
        threshold = check_env_id(config.env).reward_threshold
        return None if threshold is None else float(threshold)
    if config.target_return == "none":
        return None
    return float(config.target_return)


def check_resources(config: TrainConfig, individuals: int) -> None:
    """ValueError unless the run can start: its environment can be made with these settings (and its encoder
    loaded), and `individuals` agents × episodes, and the final evaluation, fit in this machine's memory."""
    mode = EnvSpec(config.env, {}, config.vectorization).mode()  # the id and vectorization, before the encoder
    spec = make_env_spec(config)
    net = make_net(config, spec)
    for body in config.morphologies:  # each body can be made and fits the network
        sizes = space_sizes(config.env, {**config.env_kwargs, **body})
        if config.encoder is None and sizes != (net.sizes[0], net.sizes[-1]):
            raise ValueError(
                f"morphology {body} has (observation, action) sizes {sizes}; the others have "
                f"{(net.sizes[0], net.sizes[-1])}"
            )
    individuals *= max(1, len(config.morphologies))
    es_bytes = 8 * net.num_params * (3 + 2 * config.population)  # center, Adam moments, the noise ε
    check_memory(
        f"population {config.population} x {config.episodes} episodes of a {net.num_params}-parameter network",
        es_bytes + evaluation_bytes(net, mode, individuals, config.episodes),
        "use a smaller --hidden, --population or --episodes",
    )
    check_memory(
        f"the final evaluation over {config.eval_episodes} episodes",
        evaluation_bytes(net, mode, 1, config.eval_episodes),
        "use fewer --eval-episodes",
    )
