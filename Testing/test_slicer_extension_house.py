"""The Slicer extension's house: CMake files follow the Slicer templates and list real
files, the .ui binds to the module, BreastUSAI.py imports and its Logic and Test run,
and the engine never imports Slicer, Qt, CTK or VTK."""

from __future__ import annotations

import ast
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO


def cmake_list(text: str, variable: str) -> list[str]:
    match = re.search(rf"set\({variable}\s+(.*?)\)", text, re.S)
    assert match, f"{variable} not set"
    return [line.strip() for line in match.group(1).split() if line.strip() and not line.startswith("#")]


def test_top_level_cmake_is_a_slicer_extension():
    text = (REPO / "CMakeLists.txt").read_text()
    assert re.search(r"cmake_minimum_required\(VERSION", text)
    assert "project(BreastUSAI)" in text
    for field in ("HOMEPAGE", "CATEGORY", "CONTRIBUTORS", "DESCRIPTION", "ICONURL", "SCREENSHOTURLS"):
        assert re.search(rf'set\(EXTENSION_{field} "[^"]+"\)', text), field
    assert 'set(EXTENSION_DEPENDS "PyTorch")' in text
    assert "find_package(Slicer REQUIRED)" in text and "include(${Slicer_USE_FILE})" in text
    assert "add_subdirectory(BreastUSAI)" in text
    assert "include(${Slicer_EXTENSION_GENERATE_CONFIG})" in text and "include(${Slicer_EXTENSION_CPACK})" in text
    for subdirectory in re.findall(r"add_subdirectory\((\w+)\)", text):
        assert (REPO / subdirectory / "CMakeLists.txt").is_file()


def test_icon_and_screenshot_urls_point_at_committed_files():
    text = (REPO / "CMakeLists.txt").read_text()
    for field in ("ICONURL", "SCREENSHOTURLS"):
        for url in re.search(rf'set\(EXTENSION_{field} "([^"]+)"\)', text).group(1).split():
            relative = url.split("/main/", 1)[1]
            assert (REPO / relative).is_file(), url


def test_module_cmake_lists_every_script_and_resource():
    folder = REPO / "BreastUSAI"
    text = (folder / "CMakeLists.txt").read_text()
    assert "slicerMacroBuildScriptedModule(" in text and "WITH_GENERIC_TESTS" in text
    assert "slicer_add_python_unittest(SCRIPT ${MODULE_NAME}.py)" in text
    name = re.search(r"set\(MODULE_NAME (\w+)\)", text).group(1)
    scripts = [s.replace("${MODULE_NAME}", name) for s in cmake_list(text, "MODULE_PYTHON_SCRIPTS")]
    resources = [s.replace("${MODULE_NAME}", name) for s in cmake_list(text, "MODULE_PYTHON_RESOURCES")]
    for listed in scripts + resources:
        assert (folder / listed).is_file(), listed
    on_disk = {str(p.relative_to(folder)) for p in folder.glob("*.py")} | {
        str(p.relative_to(folder)) for p in (folder / "BreastUSAILib").rglob("*.py")
    }
    assert set(scripts) == on_disk, "BreastUSAI/CMakeLists.txt is out of step with the module's Python files"
    resource_files = {str(p.relative_to(folder)) for p in (folder / "Resources").rglob("*") if p.is_file()}
    assert set(resources) == resource_files
    testing = (folder / "Testing" / "Python" / "CMakeLists.txt").read_text()
    for script in re.findall(r"SCRIPT \$\{CMAKE_CURRENT_SOURCE_DIR\}/(\S+)\)", testing):
        assert (folder / "Testing" / "Python" / script).is_file()


def test_engine_cmake_lists_every_engine_file():
    text = (REPO / "BreastUSAITraining" / "CMakeLists.txt").read_text()
    assert "ctkMacroCompilePythonScript(" in text
    listed = set(cmake_list(text, "KIT_PYTHON_SCRIPTS"))
    on_disk = {str(p.relative_to(REPO)) for p in (REPO / "BreastUSAITraining").rglob("*.py")}
    assert listed == on_disk, f"missing: {sorted(on_disk - listed)}, stale: {sorted(listed - on_disk)} (run: python tools/update_cmake_lists.py)"
    # the shipped models and sample images are installed beside the engine, where shipped.py looks for them
    resources = set(cmake_list(text, "KIT_PYTHON_RESOURCES"))
    shipped = {str(p.relative_to(REPO)) for folder in ("Resources/Models", "Resources/SampleData")
               for p in (REPO / folder).rglob("*") if p.is_file()}
    assert resources == shipped and any(r.endswith("catalogue.json") for r in resources), sorted(shipped ^ resources)[:5]
    assert "SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/.." in text  # relative paths kept: Resources/ lands beside BreastUSAITraining/


def test_ui_file_is_valid_and_binds_every_widget_the_module_uses():
    tree = ET.parse(REPO / "BreastUSAI" / "Resources" / "UI" / "BreastUSAI.ui")
    names = {w.get("name") for w in tree.iter("widget")}
    used = set(re.findall(r"self\.ui\.(\w+)", (REPO / "BreastUSAI" / "BreastUSAI.py").read_text()))
    assert used and used <= names, f"widgets used but not in the .ui: {sorted(used - names)}"
    classes = {w.get("class") for w in tree.iter("widget")}
    declared = {c.findtext("class") for c in tree.iter("customwidget")}
    assert {c for c in classes if c.startswith(("ctk", "qMRML"))} <= declared


def test_module_imports_and_describes_itself(breastusai_module):
    class Parent:
        pass

    parent = Parent()
    breastusai_module.BreastUSAI(parent)
    assert parent.title == "BreastUSAI"
    assert parent.categories == ["Ultrasound"]
    assert "BI-RADS" in parent.helpText and parent.contributors


def test_module_logic_on_real_files(breastusai_module, tmp_path):
    logic = breastusai_module.BreastUSAILogic()
    folder = logic.generatePhantomDataset(str(tmp_path / "sample"), kind="mg", cases=4, seed=2)
    report = logic.datasetReport(folder)
    assert report.startswith("Valid dataset") and "mg_cc 4" in report
    (Path(folder) / "dataset.json").write_text("{")
    with pytest.raises(Exception, match="invalid JSON"):
        logic.datasetReport(folder)


def test_module_self_test_passes(breastusai_module):
    """Slicer's Reload and Test runs the module's own check and then the logic suites; pytest runs
    those suites itself (BreastUSAI/Testing/Python), so here: the module's check, and that runTest
    would find every logic test pytest runs (not a second run of them)."""
    case = breastusai_module.BreastUSAITest("runTest")
    case.setUp()
    case.test_PhantomDatasetReport()
    suite = case.logicSuite()
    names = {test.id().split(".")[-1] for test in _flatten(suite)}
    import BreastUSAIDatasetLogicTest
    import BreastUSAILogicTest

    expected = {name for module in (BreastUSAIDatasetLogicTest, BreastUSAILogicTest) for name, value in vars(module).items()
                if isinstance(value, type) for name in dir(value) if name.startswith("test")}
    assert expected and names == expected


def _flatten(suite):
    for test in suite:
        if hasattr(test, "__iter__"):
            yield from _flatten(test)
        else:
            yield test


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_engine_never_imports_slicer_qt_ctk_or_vtk():
    forbidden = {"slicer", "qt", "ctk", "vtk", "PythonQt", "torchvision", "timm", "pytorch_grad_cam", "trame", "trame_slicer",
                 "BreastUSAIWeb", "BreastUSAILib"}
    for path in (REPO / "BreastUSAITraining").rglob("*.py"):
        assert not (_imported_modules(path) & forbidden), path


def test_dependency_direction_is_one_way():
    for path in (REPO / "BreastUSAI" / "BreastUSAILib").rglob("*.py"):
        assert "BreastUSAI" not in _imported_modules(path), f"{path} imports the module (cycle)"
    module = _imported_modules(REPO / "BreastUSAI" / "BreastUSAI.py")
    assert "BreastUSAITraining" not in module, "BreastUSAI.py must go through BreastUSAILib"
    for path in (REPO / "BreastUSAIWeb").rglob("*.py"):  # the web layer: views and bindings over the shared Logic
        imported = _imported_modules(path)
        assert not imported & {"BreastUSAI", "qt", "ctk"}, f"{path} must not import the Slicer module or Qt"
        engine = {name for name in imported if name == "BreastUSAITraining"}
        assert not engine, f"{path} must reach the engine through BreastUSAILib"


def test_pins_exclude_packages_that_break_cpu_torch():
    for name in ("requirements.txt", "constraints.txt"):
        text = (REPO / name).read_text().lower()
        for banned in ("torchvision", "timm", "grad-cam", "pytorch-grad-cam"):
            assert not re.search(rf"^{banned}\b", text, re.M), (name, banned)
        assert re.search(r"^torch==2\.13\.0$", text, re.M), name
    assert "torch==2.13.0" in (REPO / "Makefile").read_text()


def test_ui_file_is_the_one_the_generator_writes():
    sys.path.insert(0, str(REPO / "tools"))
    import make_module_ui

    committed = (REPO / "BreastUSAI" / "Resources" / "UI" / "BreastUSAI.ui").read_text(encoding="utf-8")
    assert committed == make_module_ui.build(), "run: python tools/make_module_ui.py"
    sections = [w.get("name") for w in ET.parse(REPO / "BreastUSAI" / "Resources" / "UI" / "BreastUSAI.ui").iter("widget")
                if w.get("class") == "ctkCollapsibleButton"]
    assert sections == ["inputCollapsibleButton", "lesionsCollapsibleButton", "modelsCollapsibleButton", "correctCollapsibleButton",
                        "resultsCollapsibleButton", "readerStudyCollapsibleButton", "exportCollapsibleButton"]


def test_slicer_ctest_registers_ai_tests_only_on_request():
    """The Logic tests train models (torch, MONAI, pynrrd): a build-farm Slicer has none of them, so
    ctest registers them only with BreastUSAI_TESTS_NEED_AI_PACKAGES=ON (issue 20, item 13)."""
    text = (REPO / "BreastUSAI" / "Testing" / "Python" / "CMakeLists.txt").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    registered = re.findall(r"slicer_add_python_unittest\(SCRIPT \$\{CMAKE_CURRENT_SOURCE_DIR\}/(\w+)\.py\)", code)
    assert sorted(registered) == ["BreastUSAIDatasetLogicTest", "BreastUSAILogicTest"]
    guarded = code[code.index("if(BreastUSAI_TESTS_NEED_AI_PACKAGES)"):code.index("endif()")]
    assert all(f"{name}.py" in guarded for name in registered)
    assert re.search(r"option\(BreastUSAI_TESTS_NEED_AI_PACKAGES\s[^)]*OFF\)", code)


def test_sample_images_are_offered_to_slicers_sample_data_module(breastusai_module):
    """The extension's own sample images (no download), each with its sha256, in category BreastUSAI;
    registerSampleData passes them to SampleDataLogic.registerCustomSampleDataSource as Slicer's
    SampleData.py declares it (category, sampleName, uris, fileNames, nodeNames, checksums, loadFileType)."""
    import hashlib
    import inspect
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    from BreastUSAILib.SampleDataSources import CATEGORY, registerSampleData, sampleDataSources

    sources = sampleDataSources()
    assert len(sources) == 11 and {s["kind"] for s in sources} == {"us_bmode", "abvs"}
    assert any("BUS-BRA" in s["sampleName"] for s in sources) and any("BUSI" in s["sampleName"] for s in sources)
    for source in sources:
        path = Path(unquote(urlparse(source["uri"]).path))
        assert source["uri"].startswith("file://") and path.is_file()
        assert source["checksum"] == "SHA256:" + hashlib.sha256(path.read_bytes()).hexdigest()

    calls = []

    class SampleDataLogic:  # the signature of Slicer's SampleData.SampleDataLogic method (Slicer 5.8)
        @staticmethod
        def registerCustomSampleDataSource(category="Custom", sampleName=None, uris=None, fileNames=None, nodeNames=None,
                                           customDownloader=None, thumbnailFileName=None, loadFileTypes=None,
                                           loadFiles=None, loadFileProperties={}, checksums=None, loadFileType=None):
            calls.append(dict(inspect.getcallargs(SampleDataLogic.registerCustomSampleDataSource, category, sampleName,
                                                  uris, fileNames, nodeNames, customDownloader, thumbnailFileName,
                                                  loadFileTypes, loadFiles, loadFileProperties, checksums, loadFileType)))

    assert registerSampleData(SampleDataLogic) == 11
    assert {c["category"] for c in calls} == {CATEGORY} and [c["uris"] for c in calls] == [s["uri"] for s in sources]
    assert "app.connect(\"startupCompleted()\", registerSampleData)" in (REPO / "BreastUSAI" / "BreastUSAI.py").read_text()


def test_a_missing_sample_image_is_named(tmp_path):
    from BreastUSAILib.SampleDataSources import sampleDataSources

    (tmp_path / "manifest.csv").write_text("image,mask,dataset,source_id,pathology,birads,scanner\nbusi/gone.png,,BUSI,x,benign,,\n")
    with pytest.raises(FileNotFoundError, match="busi/gone.png"):
        sampleDataSources(tmp_path)
