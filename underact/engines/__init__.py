"""One module per engine: `underact.engines.drake` and `underact.engines.mujoco`.

Each owns its engine's imports, the hook that turns the engine's messages into ours (Python warnings or a list),
how a model file or text becomes the engine's model (every failure one `UnderactError` line) and its stepping.
Nothing else in underact imports pydrake or mujoco. This package imports no engine itself: `import underact`
stays engine-free, and an engine is loaded only when one of its modules is.
"""
