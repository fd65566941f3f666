"""BreastUSAILib: the Slicer-side library of the BreastUSAI module.

Converts between MRML nodes and the headless engine (``BreastUSAITraining``) and holds
every decision the module makes, so each user action is a function that a test can
call without a GUI. Dependency direction, one way: BreastUSAI.py -> BreastUSAILib ->
BreastUSAITraining.
"""
