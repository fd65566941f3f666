"""The three-plane lesion classifier (SPEC 3.2): samples, training task, training, inference.

* :mod:`.samples`   - lesion items -> plane frames (ABVS) or lesion crops (2D)
* :mod:`.task`      - the training task: fused + per-plane cross-entropy, AUC per lesion
* :mod:`.train`     - ``train abvs-planes``: data -> bundle
* :mod:`.inference` - a bundle applied to one lesion: probability per plane and fused
"""
