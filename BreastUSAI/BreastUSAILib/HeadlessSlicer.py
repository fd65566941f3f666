"""A real MRML application without the Slicer GUI, for tests and scripts (slicer-core).

Inside 3D Slicer this module is not used: ``slicer.mrmlScene`` and the module logics
already exist. In a plain Python with slicer-core, :func:`headlessScene` builds what the
Slicer application would: a vtkMRMLScene, the application logic with its colour nodes,
the Volumes / Segmentations / Colors / SubjectHierarchy / VolumeRendering logics registered as
``slicer.modules.<name>.logic()``, and the Red / Yellow / Green slice views (slice node +
slice composite node each). Every object is kept referenced for the life of the process:
VTK crashes when these logics are garbage-collected while the scene lives.
"""

from __future__ import annotations

import types

_KEEP: dict[str, object] = {}

#: Slice view name -> default orientation, as Slicer's conventional layout.
SLICE_VIEWS = {"Red": "Axial", "Yellow": "Sagittal", "Green": "Coronal"}


def _logics(app_logic, scene) -> dict[str, object]:
    import slicer

    made = {}
    for name, cls in (("volumes", "vtkSlicerVolumesLogic"), ("segmentations", "vtkSlicerSegmentationsModuleLogic"),
                      ("subjecthierarchy", "vtkSlicerSubjectHierarchyModuleLogic")):
        logic = getattr(slicer, cls)()
        logic.SetMRMLScene(scene)
        logic.SetMRMLApplicationLogic(app_logic)
        app_logic.SetModuleLogic(cls.replace("vtkSlicer", "").replace("ModuleLogic", "").replace("Logic", ""), logic)
        made[name] = logic
    made["colors"] = app_logic.GetColorLogic()
    made["volumerendering"] = _volume_rendering_logic(app_logic, scene)
    return made


def _volume_rendering_logic(app_logic, scene):
    """Slicer's Volume Rendering logic, with its presets (``presets.xml``: Slicer's own, as packaged with
    trame-slicer in this venv; without it the logic renders but knows no preset)."""
    import importlib.util
    from pathlib import Path

    import slicer

    logic = slicer.vtkSlicerVolumeRenderingLogic()
    spec = importlib.util.find_spec("trame_slicer")  # located, not imported
    if spec is not None and spec.submodule_search_locations:
        resources = Path(list(spec.submodule_search_locations)[0]) / "resources"
        if (resources / "presets.xml").is_file():
            logic.SetModuleShareDirectory(resources.as_posix())
    logic.SetMRMLScene(scene)
    logic.SetMRMLApplicationLogic(app_logic)
    app_logic.SetModuleLogic("VolumeRendering", logic)
    return logic


def _slice_views(scene) -> None:
    import slicer

    slicer.vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(scene, True)
    for name, orientation in SLICE_VIEWS.items():
        slice_node = scene.CreateNodeByClass("vtkMRMLSliceNode")  # carries the scene's orientation presets
        slice_node.SetName(name)
        slice_node.SetLayoutName(name)
        slice_node.SetSingletonTag(name)
        scene.AddNode(slice_node)
        slice_node.SetOrientation(orientation)
        composite = scene.CreateNodeByClass("vtkMRMLSliceCompositeNode")
        composite.SetLayoutName(name)
        composite.SetSingletonTag(name)
        scene.AddNode(composite)


def headlessScene():
    """The process's MRML scene (created on first call, then the same one)."""
    if "scene" in _KEEP:
        return _KEEP["scene"]
    import slicer

    existing = getattr(slicer, "mrmlScene", None)
    if existing is not None and not _KEEP:
        return existing  # inside Slicer: its own scene
    scene = slicer.vtkMRMLScene()
    app_logic = slicer.vtkSlicerApplicationLogic()
    app_logic.SetMRMLScene(scene)
    app_logic.GetColorLogic().SetMRMLScene(scene)
    app_logic.GetColorLogic().AddDefaultColorNodes()
    logics = _logics(app_logic, scene)
    _slice_views(scene)
    modules = types.SimpleNamespace(**{name: types.SimpleNamespace(logic=(lambda l=logic: l)) for name, logic in logics.items()})
    slicer.mrmlScene = scene
    slicer.modules = modules
    _KEEP.update(scene=scene, app_logic=app_logic, logics=logics, modules=modules)
    return scene


def clearScene(scene) -> None:
    """Remove the data nodes (volumes, segmentations, tables, ...), keep views and colours."""
    scene.Clear(False)
    if not sliceNodes(scene):
        _slice_views(scene)


def nodesOfClass(scene, class_name: str) -> list:
    """Every node of ``class_name`` in the scene, in scene order."""
    collection = scene.GetNodesByClass(class_name)
    return [collection.GetItemAsObject(index) for index in range(collection.GetNumberOfItems())]


def sliceNodes(scene) -> dict[str, object]:
    """Layout name -> vtkMRMLSliceNode of the scene's slice views."""
    return {node.GetLayoutName(): node for node in nodesOfClass(scene, "vtkMRMLSliceNode")}


def sliceCompositeNodes(scene) -> dict[str, object]:
    """Layout name -> vtkMRMLSliceCompositeNode (which volumes each view shows)."""
    return {node.GetLayoutName(): node for node in nodesOfClass(scene, "vtkMRMLSliceCompositeNode")}
