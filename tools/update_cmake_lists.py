"""Rewrite the file lists of the two Slicer CMake files from what is on disk:
``BreastUSAITraining/CMakeLists.txt`` (KIT_PYTHON_SCRIPTS, and KIT_PYTHON_RESOURCES: every file of
``Resources/Models`` and ``Resources/SampleData``) and ``BreastUSAI/CMakeLists.txt``
(MODULE_PYTHON_SCRIPTS). Run after adding or removing a Python file:

    python tools/update_cmake_lists.py
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _replace_list(path: Path, name: str, entries: list[str]) -> None:
    text = path.read_text()
    start = text.index(f"set({name}")
    end = text.index(")", start)
    path.write_text(text[:start] + f"set({name}\n" + "".join(f"  {e}\n" for e in entries) + "  " + text[end:])


def main() -> None:
    engine = sorted(str(p.relative_to(REPO)) for p in (REPO / "BreastUSAITraining").rglob("*.py"))
    _replace_list(REPO / "BreastUSAITraining" / "CMakeLists.txt", "KIT_PYTHON_SCRIPTS", engine)
    # the shipped models and sample images travel with the engine: an installed extension finds them
    # where a checkout has them, beside the BreastUSAITraining folder (shipped.py)
    shipped = sorted(str(p.relative_to(REPO)) for folder in ("Resources/Models", "Resources/SampleData")
                     for p in (REPO / folder).rglob("*") if p.is_file())
    _replace_list(REPO / "BreastUSAITraining" / "CMakeLists.txt", "KIT_PYTHON_RESOURCES", shipped)
    module = REPO / "BreastUSAI"
    library = sorted(str(p.relative_to(module)).replace("BreastUSAILib", "${MODULE_NAME}Lib")
                     for p in (module / "BreastUSAILib").glob("*.py"))
    _replace_list(module / "CMakeLists.txt", "MODULE_PYTHON_SCRIPTS", ["${MODULE_NAME}.py", *library])
    print("updated the CMake file lists")


if __name__ == "__main__":
    main()
