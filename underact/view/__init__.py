"""Robots in Drake's Meshcat, as self-contained offline HTML pages.

`write_view_html(model, path)` draws a built-in or a URDF/SDF/MJCF file with links coloured by whether the joint
moving them is actuated or passive, and names the class, the degree and the unactuated directions.
`write_replay_html(system, t, q, path)` writes a trajectory of a built-in as a Meshcat animation (play, pause,
scrub) whichever backend produced it: positions are replayed through Drake's scene graph. pydrake is imported
only when a page is made.
"""

from __future__ import annotations

from underact.view.replay import write_replay_html
from underact.view.robot import write_view_html

__all__ = ["write_replay_html", "write_view_html"]
