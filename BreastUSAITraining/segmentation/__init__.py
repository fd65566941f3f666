"""Lesion segmentation (SPEC 3.1): samples, training task and inference (the lesion objects it
produces: :mod:`BreastUSAITraining.lesions`).

* :mod:`.samples`   - dataset -> in-memory training samples (2D images, ABVS slices or volumes)
* :mod:`.augment`   - ultrasound-appropriate MONAI augmentations
* :mod:`.task`      - the :class:`~BreastUSAITraining.training.TrainingTask` for the engine
* :mod:`.train`     - ``train segmentation``: data -> bundle
* :mod:`.inference` - a bundle applied to a 2D image or an ABVS volume
"""
