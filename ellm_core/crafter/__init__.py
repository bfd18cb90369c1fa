"""The Crafter reproduction: a gymnasium adapter with text captions, crafter's score, and the CLI.

The environment (``env``, ``caption``, ``worldgen``, ``situations``), what a run writes and how it is scored
(``stats``, ``score``, ``profiles``), the commands (``cli``, ``prewarm``, ``video``, ``suggester``); analyses of runs
and goals are in :mod:`ellm_core.crafter.analysis`.

This package is the only place that imports ``crafter``. Importing it registers ``ellm/Crafter-v0`` (crafter 1.8.3 as
it ships) and ``ellm/CrafterPaper-v0`` (the official ELLM text Crafter: 139 verb–noun actions, its success rule, a
one-wood table; :mod:`ellm_core.crafter.paper`):

>>> import gymnasium as gym, ellm_core.crafter
>>> env = gym.make("ellm/Crafter-v0", length=400)
"""

from gymnasium.envs.registration import register, registry

if "ellm/Crafter-v0" not in registry:
    register(id="ellm/Crafter-v0", entry_point="ellm_core.crafter.env:CrafterEnv")
if "ellm/CrafterPaper-v0" not in registry:
    register(id="ellm/CrafterPaper-v0", entry_point="ellm_core.crafter.paper:PaperCrafterEnv")
