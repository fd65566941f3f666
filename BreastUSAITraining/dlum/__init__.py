"""DL-UM, the ultrasound + mammography fusion network (SPEC 3.4, seed 002), and its
single-modality variants DL-U and DL-M.

* :mod:`.network` - VGG19-like branches with a deep-supervision head on every block, fusion head
* :mod:`.loss`    - focal loss on every head + mean absolute disagreement of the two branches
* :mod:`.task`    - the training task (model selection by the lowest validation loss)
* :mod:`.train`   - ``train dlum``: data -> bundle
* :mod:`.explain` - probability per head and CAM of every block for both images
"""
