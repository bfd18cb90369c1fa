"""Product browsing with ELLM goals; importing this registers ``recrl/ProductBrowse-v0`` with gymnasium.

>>> import gymnasium as gym, recrl.browse
>>> env = gym.make("recrl/ProductBrowse-v0", data="data/prepared/sample")  # doctest: +SKIP
"""

from gymnasium.envs.registration import register, registry

if "recrl/ProductBrowse-v0" not in registry:
    register(id="recrl/ProductBrowse-v0", entry_point="recrl.browse.env:ProductBrowseEnv")
