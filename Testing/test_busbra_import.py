"""The BUS-BRA adapter and the dataset merge, on real BUS-BRA files copied into small sources."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from cli_helpers import run_cli
from conftest import SHARED
from PIL import Image

from BreastUSAITraining.dataset import load_dataset
from BreastUSAITraining.dataset.busbra import import_busbra, mask_name
from BreastUSAITraining.dataset.merge import merge_datasets, site_of_cases
from BreastUSAITraining.errors import InputFileError
from BreastUSAITraining.imagefiles import read_image, read_segmentation

BUSBRA = SHARED / "data" / "busbra"
# two patients with both views, one with a single view, one row whose Height disagrees with its PNG
CHOSEN = ("bus_0001-l", "bus_0001-r", "bus_0003-l", "bus_0003-r", "bus_0856-l")


@pytest.fixture(scope="module")
def table() -> list[dict[str, str]]:
    if not (BUSBRA / "bus_data.csv").is_file():
        pytest.fail(f"the shared BUS-BRA data is missing: expected {BUSBRA}/bus_data.csv")
    with open(BUSBRA / "bus_data.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def small_busbra(root, table, ids=CHOSEN):
    (root / "Images").mkdir(parents=True)
    (root / "Masks").mkdir()
    rows = [r for r in table if r["ID"] in ids]
    for row in rows:
        shutil.copy(BUSBRA / "Images" / f"{row['ID']}.png", root / "Images" / f"{row['ID']}.png")
        shutil.copy(BUSBRA / "Masks" / mask_name(row["ID"]), root / "Masks" / mask_name(row["ID"]))
    with open(root / "bus_data.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root, rows


@pytest.fixture(scope="module")
def imported(table, tmp_path_factory):
    root, _ = small_busbra(tmp_path_factory.mktemp("busbra-src") / "src", table)
    out = tmp_path_factory.mktemp("busbra") / "dataset"
    result = run_cli("dataset", "import-busbra", str(root), "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert "Imported 5 BUS-BRA images of 3 patients" in result.stdout
    # the row whose Height disagrees with the file is reported by file, not fatal
    assert "bus_0856-l.png" in result.stderr and "the files are used" in result.stderr
    return out


def test_items_keep_pathology_birads_patients_and_official_folds(imported, table):
    assert run_cli("dataset", "validate", str(imported), "--deep").returncode == 0
    dataset = load_dataset(imported)
    rows = {r["ID"]: r for r in table}
    assert sorted(i.case_id for i in dataset.items) == sorted(CHOSEN)
    for item in dataset.items:
        row = rows[item.case_id]
        assert item.pathology == row["Pathology"] and item.birads == row["BIRADS"]
        assert item.fold == int(row["fold"]) - 1
        assert item.patient_id == item.dup_group == f"busbra-{int(row['Case']):04d}"
        assert item.segment == "lesion_1" and not item.train_only
    views = [i for i in dataset.items if i.patient_id == "busbra-0001"]
    assert len(views) == 2 and len({i.fold for i in views}) == 1


def test_pixels_and_mask_match_the_source_pngs(imported):
    dataset = load_dataset(imported)
    item = next(i for i in dataset.items if i.case_id == "bus_0856-l")
    image = read_image(dataset.path(item.images["us_bmode"]))
    source = np.asarray(Image.open(BUSBRA / "Images" / "bus_0856-l.png").convert("L"))
    assert np.array_equal(image.plane, source) and image.meta["spacing_known"] == "0"
    seg = read_segmentation(dataset.path(item.segmentation["us_bmode"]))
    expected = np.asarray(Image.open(BUSBRA / "Masks" / "mask_0856-l.png")) > 0
    assert np.array_equal(seg.segment("lesion_1").mask[0], expected)
    assert seg.segment("lesion_1").tags["source"] == "BUS-BRA"


def test_missing_mask_mismatched_mask_and_split_patient_are_reported_by_file(tmp_path, table):
    root, rows = small_busbra(tmp_path / "src", table)
    missing = root / "Masks" / mask_name(rows[0]["ID"])
    missing.unlink()
    with pytest.raises(InputFileError) as info:
        import_busbra(root, tmp_path / "out", progress=False)
    assert str(missing) in str(info.value) and "mask listed in bus_data.csv is missing" in str(info.value)
    assert not (tmp_path / "out").exists()  # nothing half-written
    Image.fromarray(np.ones((10, 12), np.uint8)).save(missing)
    with pytest.raises(InputFileError, match=r"mask is \(10, 12\) pixels"):
        import_busbra(root, tmp_path / "out", progress=False)
    lines = (root / "bus_data.csv").read_text().splitlines()
    # the second view of patient 1 moved to another fold: the folds would leak
    lines[2] = lines[2][: lines[2].rfind(",")] + ",1"
    (root / "bus_data.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match="patient 1 has images in folds"):
        import_busbra(root, tmp_path / "out", progress=False)
    (root / "bus_data.csv").write_text("ID,Case\nbus_0001-l,1\n")
    with pytest.raises(InputFileError, match="missing column"):
        import_busbra(root, tmp_path / "out", progress=False)


def test_merge_keeps_sites_and_holds_out_whole_patients_and_duplicate_groups(imported, busi_source, tmp_path):
    from test_busi_import import fake_busi

    with open(busi_source / "manifest.csv", newline="") as handle:
        manifest = list(csv.DictReader(handle))
    busi_root, chosen = fake_busi(tmp_path, busi_source, manifest, rows=6)
    busi = tmp_path / "busi"
    assert run_cli("dataset", "import-busi", str(busi_root), "--out", str(busi), "--folds", "2", "-q").returncode == 0
    hold = tmp_path / "hold.txt"
    hold.write_text(f"# sample images\nbus_0001-l\n{chosen[0]['case_id']}  # a BUSI image\n")
    out = tmp_path / "merged"
    result = run_cli("dataset", "merge", str(busi), str(imported), "--hold-out", str(hold), "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    dataset = load_dataset(out)
    cases = {i.case_id for i in dataset.items}
    busi_group = {c["case_id"] for c in chosen if c["dup_group"] == chosen[0]["dup_group"]}
    assert "bus_0001-l" not in cases and "bus_0001-r" not in cases  # the patient's other view goes too
    assert not (busi_group & cases)
    assert {"bus_0003-l", "bus_0003-r", "bus_0856-l"} <= cases
    sites = site_of_cases(dataset)
    assert sites["bus_0003-l"] == "busbra" and all(sites[c["case_id"]] == "busi" for c in chosen if c["case_id"] in cases)
    document = json.loads((out / "dataset.json").read_text())
    assert sorted(document["held_out_cases"]) == sorted({"bus_0001-l", "bus_0001-r"} | busi_group)
    assert document["sites"]["busbra"]["source"]["name"] == "BUS-BRA"
    assert run_cli("dataset", "validate", str(out), "--deep").returncode == 0
    # each file really lies under its site folder and holds the source's bytes
    item = next(i for i in dataset.items if i.case_id == "bus_0003-l")
    assert item.images["us_bmode"].startswith("busbra/")
    assert dataset.path(item.images["us_bmode"]).read_bytes() == (imported / "images" / "bus_0003-l.nrrd").read_bytes()


def test_merge_refuses_clashing_ids_and_unknown_held_out_cases(imported, tmp_path):
    with pytest.raises(InputFileError, match="is in both"):
        merge_datasets([imported, imported], tmp_path / "twice")
    hold = tmp_path / "hold.txt"
    hold.write_text("no_such_case\n")
    result = run_cli("dataset", "merge", str(imported), str(imported), "--hold-out", str(hold), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "no_such_case" in result.stderr
    assert not (tmp_path / "m").exists()
