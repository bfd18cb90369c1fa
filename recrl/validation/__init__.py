"""Validating the reward against held-out ratings: is the distance between a user's goals and a product's
description higher for the products that user rated highly?

- :mod:`~recrl.validation.metrics`: description-distance metrics, registered by name (``--metric``);
  :mod:`~recrl.validation.learned_metric`: the learned one; :mod:`~recrl.validation.content`: content kNN over a
  user's rated train items (also the browse environment's ``content-knn`` reward model);
- :mod:`~recrl.validation.validate`: one config, one run (goal sources x metrics on the test split);
  :mod:`~recrl.validation.stats`: correlations and paired bootstrap intervals; :mod:`~recrl.validation.plots`;
  :mod:`~recrl.validation.cli`: ``recrl validate``;
- :mod:`~recrl.validation.anchors`: the collaborative-filtering anchors (MF, kNN) on the same pairs;
  :mod:`~recrl.validation.strongest`: the strongest description-based reward we could build
  (``python -m recrl.validation.strongest``).
"""
