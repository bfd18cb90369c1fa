"""Small environments that speak the ELLM text interface, registered with gymnasium on import.

>>> import gymnasium as gym, ellm_core.envs
>>> env = gym.make("ellm/TextChain-v0")
"""

from gymnasium.envs.registration import register, registry

if "ellm/TextChain-v0" not in registry:
    register(id="ellm/TextChain-v0", entry_point="ellm_core.envs.text_chain:TextChainEnv", max_episode_steps=50)
