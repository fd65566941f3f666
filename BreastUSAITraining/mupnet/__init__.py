"""MUP-Net, the interpretable multimodal prototype network (SPEC 3.3, seed 000).

* :mod:`.network`   - ResNet-18 feature maps per modality, 1 x 1 prototypes, log-similarity,
                      top-k pooling, the prototype-to-class last layer (+1 / -0.5)
* :mod:`.loss`      - CE + 0.8 cluster - 0.08 separation + 1e-4 L1 (off-class weights)
* :mod:`.push`      - projection of prototypes onto training patches, BI-RADS-constrained
* :mod:`.task`      - warm-up -> joint -> push -> last layer, on the shared engine
* :mod:`.train`     - ``train mupnet``: data -> bundle with prototype images
* :mod:`.explain`   - probability, matched prototypes, six contribution scores, similarity maps
"""
