"""Seeded mutations of valid files: what a broken disk, a half-copied file, a wrong export
or a hostile sender produce. Every function takes the seed's bytes and a numpy Generator
and returns ``(new bytes, file suffix, what was done)``; the same seed number always gives
the same mutation, so a failure reproduces.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from typing import Callable

import numpy as np

Mutation = tuple[bytes, str, str]
HOSTILE_NUMBERS = ["0", "-1", "-7", "65535", "2147483647", "99999999999", "1e308", "nan", "inf", "-inf", "0.0", "1e-300"]
HOSTILE_VALUES = [None, -1, 0, 1e308, float("nan"), "", "../../../etc/passwd", "/etc/passwd", "..", [], {}, True,
                  "x" * 10000, "lesion_1\x00", "4Z", "MALIGNANT", {"a": [1, 2, {"b": None}]}, 2 ** 63]
ALL_SUFFIXES = [".nrrd", ".nii", ".nii.gz", ".mha", ".png", ".jpg", ".dcm", ".seg.nrrd", ".tif", ".bmp"]


def bit_flips(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    buffer = bytearray(data)
    count = int(rng.integers(1, 33))
    for position in rng.integers(0, len(buffer), count):
        buffer[position] ^= 1 << int(rng.integers(0, 8))
    return bytes(buffer), suffix, f"{count} bit flips"


def truncation(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    keep = int(rng.integers(0, len(data)))
    return data[:keep], suffix, f"truncated to {keep} of {len(data)} bytes"


def empty(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    return b"", suffix, "empty file"


def wrong_extension(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    other = str(rng.choice([s for s in ALL_SUFFIXES if s != suffix]))
    return data, other, f"{suffix} content named {other}"


def garbage_insert(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    at = int(rng.integers(0, len(data)))
    junk = rng.integers(0, 256, int(rng.integers(1, 512))).astype(np.uint8).tobytes()
    return data[:at] + junk + data[at:], suffix, f"{len(junk)} random bytes inserted at {at}"


def text_header_edit(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    """NRRD / MetaImage / .seg.nrrd: one header field given a hostile value."""
    split = data.find(b"\n\n") if suffix != ".mha" else data.find(b"ElementDataFile")
    header_end = split if split > 0 else min(len(data), 2048)
    header = data[:header_end].decode("latin-1")
    lines = header.split("\n")
    candidates = [i for i, line in enumerate(lines) if re.search(r"[:=]", line) and not line.startswith("#")]
    if not candidates:
        return bit_flips(data, rng, suffix)
    index = int(rng.choice(candidates))
    key = re.split(r":=|:|=", lines[index], maxsplit=1)[0]
    separator = ":=" if ":=" in lines[index] else (" = " if "=" in lines[index] and ":" not in lines[index] else ": ")
    words = len(re.split(r"\s+", lines[index].split(separator.strip(), 1)[-1].strip()))
    value = " ".join(str(rng.choice(HOSTILE_NUMBERS)) for _ in range(max(words, 1)))
    if rng.random() < 0.2:
        value = str(rng.choice(["complex", "block", "bogus", "(nan,0,0) (0,nan,0) (0,0,nan)", "MET_NONE", "none", "", "\x00"]))
    lines[index] = f"{key}{separator}{value}"
    return "\n".join(lines).encode("latin-1") + data[header_end:], suffix, f"header field {key.strip()!r} -> {value[:40]!r}"


#: where a hostile header sends the reader for its pixel data (issue 22: never outside its own folder)
OUTSIDE_DATA = ("../outside.raw", "../../x/y.raw", "/etc/passwd", "/dev/zero", "sub/../../escape.raw",
                "LIST\n../a.raw\nb.raw", "../data%03d.raw 0 2 1")


def detached_data_outside(data: bytes, rng: np.random.Generator, suffix: str, target: str | None = None) -> Mutation:
    """NRRD / MetaImage: the header keeps its fields but names its pixel data elsewhere - outside its
    folder, by an absolute path or a device, in a list or a file pattern."""
    target = target or str(rng.choice(OUTSIDE_DATA))
    if suffix == ".mha":
        split = data.find(b"ElementDataFile")
        if split < 0:
            return bit_flips(data, rng, suffix)
        return data[:split] + f"ElementDataFile = {target}\n".encode(), suffix, f"ElementDataFile -> {target!r}"
    split = data.find(b"\n\n")
    if split < 0:
        return bit_flips(data, rng, suffix)
    header = [line for line in data[:split].decode("latin-1").split("\n") if not line.startswith(("data file", "datafile"))]
    field = f"data file: {target}" if not target.startswith("LIST") else "data file: LIST\n" + target.split("\n", 1)[1]
    return ("\n".join(header) + "\n" + field + "\n").encode("latin-1"), suffix, f"data file -> {target!r}"


def huge_size_claim(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    """The header claims a gigantic image (the reader must refuse before allocating)."""
    big = str(rng.choice(["100000", "65535", "2147483647", "4000000000"]))
    if suffix in (".nrrd", ".seg.nrrd"):
        text = re.sub(rb"sizes: [^\n]*", f"sizes: {big} {big} {big}".encode(), data, count=1)
        return text, suffix, f"NRRD sizes {big}^3"
    if suffix == ".mha":
        text = re.sub(rb"DimSize = [^\n]*", f"DimSize = {big} {big} {big}".encode(), data, count=1)
        return text, suffix, f"MetaImage DimSize {big}^3"
    if suffix in (".nii", ".nii.gz"):
        raw = bytearray(_nifti_bytes(data, suffix))
        value = min(int(big), 32767)
        struct.pack_into("<hhh", raw, 42, value, value, value)
        return _nifti_pack(bytes(raw), suffix), suffix, f"NIfTI dims {value}^3"
    if suffix == ".png":
        return _png_with_size(data, int(big) % 2 ** 31, int(big) % 2 ** 31), suffix, f"PNG IHDR {big} x {big}"
    if suffix == ".dcm":
        return _dicom_edit(data, {"Rows": 65535, "Columns": 65535, "NumberOfFrames": str(big)}), suffix, f"DICOM {big} frames of 65535^2"
    return bit_flips(data, rng, suffix)


def nifti_header_edit(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    raw = bytearray(_nifti_bytes(data, suffix))
    field = str(rng.choice(["dim0", "dims", "datatype", "pixdim", "vox_offset", "qform"]))
    if field == "dim0":
        struct.pack_into("<h", raw, 40, int(rng.choice([0, 1, 4, 7, 8, -1, 32767])))
    elif field == "dims":
        struct.pack_into("<h", raw, 42 + 2 * int(rng.integers(0, 3)), int(rng.choice([0, -5, 1, 32767])))
    elif field == "datatype":
        struct.pack_into("<h", raw, 70, int(rng.choice([0, 1, 32, 128, 1792, 2304, 9999])))
    elif field == "pixdim":
        struct.pack_into("<f", raw, 80 + 4 * int(rng.integers(0, 3)), float(rng.choice([0.0, -1.0, np.nan, np.inf, 1e38])))
    elif field == "vox_offset":
        struct.pack_into("<f", raw, 108, float(rng.choice([0.0, 1e9, -352.0, np.nan])))
    else:
        struct.pack_into("<f", raw, 256 + 4 * int(rng.integers(0, 6)), float(rng.choice([np.nan, np.inf, 1e30])))
    return _nifti_pack(bytes(raw), suffix), suffix, f"NIfTI header field {field}"


def dicom_tag_edit(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    choices: list[dict] = [{"Rows": 0}, {"Columns": 3}, {"BitsAllocated": 7}, {"SamplesPerPixel": 4},
                           {"PhotometricInterpretation": "YBR_NONSENSE"}, {"NumberOfFrames": "-3"},
                           {"PixelSpacing": ["nan", "0.1"]}, {"PixelSpacing": ["0", "0"]},
                           {"ImageOrientationPatient": ["1", "0", "0", "1", "0", "0"]},
                           {"ImagePositionPatient": ["inf", "0", "0"]}, {"BitsStored": 40}, {"HighBit": 99},
                           {"PixelRepresentation": 5}, {"Modality": "CT"}]
    edit = choices[int(rng.integers(0, len(choices)))]
    return _dicom_edit(data, edit), suffix, f"DICOM {edit}"


def nan_inf_values(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    """The same image as float with NaN / Inf voxels, in the seed's own format."""
    import os
    import tempfile

    import SimpleITK as sitk

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "in" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        image = sitk.ReadImage(path)
        array = sitk.GetArrayFromImage(image).astype(np.float32)
        flat = array.reshape(-1)
        flat[rng.integers(0, flat.size, int(rng.integers(1, 10)))] = rng.choice([np.nan, np.inf, -np.inf])
        out = sitk.GetImageFromArray(array)
        out.CopyInformation(image)
        target = os.path.join(tmp, "out" + suffix)
        sitk.WriteImage(out, target)
        with open(target, "rb") as handle:
            return handle.read(), suffix, "float voxels with NaN / Inf"


def wrong_dimensions(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    """A 4D (or 1D-like) image in the seed's format."""
    import os
    import tempfile

    import SimpleITK as sitk

    shape = [(2, 3, 4, 5), (1, 1, 1, 50), (3, 1, 1, 1)][int(rng.integers(0, 3))]
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "out" + suffix)
        sitk.WriteImage(sitk.GetImageFromArray(np.zeros(shape, np.int16)), target)
        with open(target, "rb") as handle:
            return handle.read(), suffix, f"image of shape {shape}"


def json_structure(data: bytes, rng: np.random.Generator, suffix: str) -> Mutation:
    """dataset.json / metadata.json: a key removed, or a value replaced by a hostile one."""
    try:
        document = json.loads(data)
    except json.JSONDecodeError:
        return bit_flips(data, rng, suffix)
    paths = list(_json_paths(document))
    if not paths:
        return bit_flips(data, rng, suffix)
    path = paths[int(rng.integers(0, len(paths)))]
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
        what = f"removed {'/'.join(map(str, path))}"
    else:
        value = HOSTILE_VALUES[int(rng.integers(0, len(HOSTILE_VALUES)))]
        parent[path[-1]] = value
        what = f"{'/'.join(map(str, path))} = {str(value)[:40]!r}"
    return json.dumps(document).encode(), suffix, what


def _json_paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _json_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:20]):
            yield (*prefix, index)
            yield from _json_paths(value, (*prefix, index))


def _nifti_bytes(data: bytes, suffix: str) -> bytes:
    import gzip

    if suffix == ".nii.gz":
        return gzip.decompress(data)
    return data


def _nifti_pack(raw: bytes, suffix: str) -> bytes:
    import gzip

    return gzip.compress(raw, mtime=0) if suffix == ".nii.gz" else raw


def _png_with_size(data: bytes, width: int, height: int) -> bytes:
    """The PNG with its IHDR width / height replaced and the CRC made valid again."""
    ihdr = bytearray(data[16:29])
    struct.pack_into(">II", ihdr, 0, width, height)
    chunk = b"IHDR" + bytes(ihdr)
    return data[:12] + chunk + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF) + data[33:]


def _dicom_edit(data: bytes, edits: dict) -> bytes:
    import pydicom

    dataset = pydicom.dcmread(io.BytesIO(data), force=True)
    for key, value in edits.items():
        setattr(dataset, key, value)
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=False)
    return out.getvalue()


#: Mutations that apply to each kind of seed.
GENERIC: list[Callable] = [bit_flips, truncation, empty, wrong_extension, garbage_insert]
BY_FORMAT: dict[str, list[Callable]] = {
    ".nrrd": GENERIC + [text_header_edit, huge_size_claim, nan_inf_values, wrong_dimensions, detached_data_outside],
    ".seg.nrrd": GENERIC + [text_header_edit, huge_size_claim],
    ".mha": GENERIC + [text_header_edit, huge_size_claim, nan_inf_values, wrong_dimensions, detached_data_outside],
    ".nii": GENERIC + [nifti_header_edit, huge_size_claim, nan_inf_values, wrong_dimensions],
    ".nii.gz": GENERIC + [nifti_header_edit, huge_size_claim, nan_inf_values, wrong_dimensions],
    ".png": GENERIC + [huge_size_claim],
    ".jpg": GENERIC,
    ".dcm": GENERIC + [dicom_tag_edit, huge_size_claim],
    ".json": [bit_flips, truncation, empty, json_structure, json_structure, json_structure],
}
