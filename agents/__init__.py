"""Learning agents: Hebbian plastic networks batched over populations (`hebbian`), OpenAI-ES (`es`),
population rollouts in vector environments (`rollout`), run folders and backends (`trainer`), episode
rendering (`render`), and perception encoders (`perception`)."""
