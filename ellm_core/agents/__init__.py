"""The learner shared by every environment: DQN over text embeddings, its replay buffer, the text-to-vector
state encoder, and the intrinsic-reward baselines (novelty, RND, APT)."""
