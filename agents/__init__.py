"""Learning agents: Hebbian plastic networks batched over populations (`hebbian`), OpenAI-ES (`es`),
population rollouts in vector environments (`rollout`), the run-folder format (`runfolder`), training and
backends (`trainer`), episode rendering (`render`), and perception encoders (`perception`)."""
