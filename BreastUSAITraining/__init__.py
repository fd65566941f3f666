"""BreastUSAITraining: the headless engine of BreastUSAI.

Readers and writers that keep image geometry, the dataset contract shared with the
3D Slicer module, a deterministic phantom generator, and (in later modules) training,
inference, explanations and statistics for published breast-ultrasound AI.

This package never imports slicer, qt, ctk or vtk: the Slicer module converts MRML
nodes to arrays plus geometry and calls into here.
"""

__version__ = "0.1.0"
