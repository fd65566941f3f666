"""Fuzzing: thousands of mutated files fed to the readers, the dataset validator, bundle
loading and ``predict``, in a watched worker process.

Held means: the input was either accepted (and then gives a finite image with a valid
geometry) or refused with the documented error type (:class:`BreastUSAIError`, whose
message names the file), within the time bound, and without allocating what a header
claims (the worker runs with a decoded-size limit and an address-space cap, so an
attempted huge allocation shows as a MemoryError = not held). Anything else - another
exception type, a MemoryError, a hang (the supervisor kills the worker after
``case_timeout_s`` without progress), a ``predict`` output left half-written - is a
failure, recorded with its case number so ``--case N`` reproduces it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from reliability_suite import mutate  # noqa: E402

MAX_IMAGE_BYTES = 256 * 1024 * 1024
ADDRESS_SPACE_BYTES = 12 * 1024 ** 3
#: target family -> share of the cases
FAMILIES = {"image": 0.62, "segmentation": 0.08, "dataset": 0.15, "bundle": 0.15}


def _suffix(name: str) -> str:
    for suffix in (".seg.nrrd", ".nii.gz"):
        if name.endswith(suffix):
            return suffix
    return Path(name).suffix


def plan_case(seeds: dict[str, str], seed: int, index: int) -> dict:
    """What case ``index`` of run ``seed`` does: family, seed file, mutation (deterministic)."""
    rng = np.random.default_rng([seed, index])
    family = str(rng.choice(list(FAMILIES), p=list(FAMILIES.values())))
    if family == "image":
        names = sorted(k for k in seeds if k not in ("lesions.seg.nrrd", "dataset", "bundle"))
        source = str(rng.choice(names))
        fmt = _suffix(source)
    elif family == "segmentation":
        source, fmt = "lesions.seg.nrrd", ".seg.nrrd"
    elif family == "dataset":
        source, fmt = "dataset/dataset.json", ".json"
    else:
        source = str(rng.choice(["bundle/configs/metadata.json", "bundle/configs/inference.json", "bundle/models/model.pt"]))
        fmt = ".json" if source.endswith(".json") else ".pt"
    mutations = mutate.BY_FORMAT.get(fmt, [mutate.bit_flips, mutate.truncation, mutate.empty, mutate.garbage_insert])
    mutation = mutations[int(rng.integers(0, len(mutations)))]
    return {"case": index, "family": family, "source": source, "format": fmt, "mutation": mutation.__name__,
            "predict": family == "image" and index % 8 == 0 and fmt not in (".seg.nrrd",)}


def _materialise(plan: dict, seeds: dict[str, str], work: Path, seed: int) -> Path:
    """Write the mutated input for ``plan`` under ``work``; returns what the target reads."""
    rng = np.random.default_rng([seed, plan["case"], 1])
    mutation = getattr(mutate, plan["mutation"])
    if plan["family"] in ("image", "segmentation"):
        data = Path(seeds[plan["source"] if plan["family"] == "image" else "lesions.seg.nrrd"]).read_bytes()
        new, suffix, what = mutation(data, rng, plan["format"])
        path = work / f"case_{plan['case']}{suffix}"
        path.write_bytes(new)
        plan["what"] = what
        return path
    root_name = "dataset" if plan["family"] == "dataset" else "bundle"
    root = work / f"case_{plan['case']}_{root_name}"
    shutil.copytree(seeds[root_name], root, symlinks=True)
    relative = plan["source"].split("/", 1)[1]
    data = (root / relative).read_bytes()
    new, _, what = mutation(data, rng, plan["format"])
    (root / relative).write_bytes(new)
    plan["what"] = what
    return root


def _run_target(plan: dict, path: Path, seeds: dict[str, str], work: Path) -> str:
    """Feed the input to its reader; returns "accepted" / "refused" or raises what escaped."""
    from BreastUSAITraining.errors import BreastUSAIError

    family = plan["family"]
    try:
        if family == "image":
            from BreastUSAITraining.imagefiles import read_image

            image = read_image(path, colour="keep")
            if not np.all(np.isfinite(image.array)) or image.geometry.problems():
                raise AssertionError(f"accepted an image with non-finite voxels or a bad geometry: {image.geometry}")
        elif family == "segmentation":
            from BreastUSAITraining.imagefiles import read_segmentation

            read_segmentation(path)
        elif family == "dataset":
            from BreastUSAITraining.dataset import load_dataset
            from BreastUSAITraining.dataset.validate import validate_dataset_folder

            if validate_dataset_folder(path, deep=True):
                return "refused"
            load_dataset(path)
        else:
            from BreastUSAITraining.bundle import load_bundle

            load_bundle(path)
    except BreastUSAIError as error:
        if str(path) not in str(error) and family in ("image", "segmentation"):
            raise AssertionError(f"error message does not name the file: {error}") from None
        return "refused"
    return "accepted"


def _run_predict(path: Path, seeds: dict[str, str], work: Path) -> None:
    """``predict`` on the mutated input: it either writes a whole result folder or reports
    a failure for the input, and never leaves a partial folder."""
    from BreastUSAITraining.predict.pipeline import PredictOptions, predict_inputs

    out = work / f"{path.name}.predict"
    predict_inputs([str(path)], PredictOptions(models=[seeds["bundle"]], out=str(out), device="cpu", progress="none",
                                               overlays=False))
    if out.exists():
        for folder in out.iterdir():
            if not (folder / "result.json").is_file():
                raise AssertionError(f"predict left a partial output folder {folder.name}")


def worker_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fuzz worker (run by the supervisor)")
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--cases", type=int, nargs="+", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    import resource

    os.environ["BREASTUSAI_MAX_IMAGE_BYTES"] = str(MAX_IMAGE_BYTES)
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))
    import torch

    torch.set_num_threads(1)
    seeds = json.loads(Path(args.seeds).read_text())
    work = Path(args.work)
    with open(args.out, "a", encoding="utf-8") as log:
        for index in args.cases:
            plan = plan_case(seeds, args.seed, index)
            log.write(json.dumps({"event": "start", "case": index}) + "\n")
            log.flush()
            started = time.perf_counter()
            case_dir = work / f"c{index}"
            case_dir.mkdir(parents=True, exist_ok=True)
            try:
                path = _materialise(plan, seeds, case_dir, args.seed)
                plan["outcome"] = _run_target(plan, path, seeds, case_dir)
                if plan["predict"]:
                    _run_predict(path, seeds, case_dir)
            except MemoryError:
                plan["outcome"] = "crash: MemoryError (a claimed size was allocated)"
            except Exception as error:  # noqa: BLE001 - anything escaping is what the fuzzer looks for
                plan["outcome"] = f"crash: {type(error).__name__}: {str(error)[:300]}"
            plan["seconds"] = round(time.perf_counter() - started, 4)
            shutil.rmtree(case_dir, ignore_errors=True)
            log.write(json.dumps({"event": "done", **plan}) + "\n")
            log.flush()
    return 0


def run_fuzz(seeds: dict[str, Path], count: int, seed: int, work: Path, case_timeout_s: float = 60.0,
             cases: list[int] | None = None, progress: bool = True) -> dict:
    """Run ``count`` cases (or exactly ``cases``) in a watched worker; returns the summary."""
    work.mkdir(parents=True, exist_ok=True)
    seeds_file = work / "seeds.json"
    seeds_file.write_text(json.dumps({k: str(v) for k, v in seeds.items()}))
    results_file = work / f"fuzz_{seed}.jsonl"
    results_file.write_text("")
    todo = list(cases if cases is not None else range(count))
    done: dict[int, dict] = {}
    hangs: list[int] = []
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="fuzz", unit="case", disable=not progress)
    while todo:
        command = [sys.executable, str(Path(__file__).resolve()), "--seeds", str(seeds_file), "--seed", str(seed),
                   "--work", str(work / "cases"), "--out", str(results_file), "--cases", *map(str, todo)]
        stderr_log = open(work / f"worker_{seed}.stderr.log", "a")  # a file, not a pipe: a chatty worker never blocks
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr_log, text=True)
        last_size, last_change = -1, time.monotonic()
        while process.poll() is None:
            time.sleep(0.2)
            size = results_file.stat().st_size
            if size != last_size:
                last_size, last_change = size, time.monotonic()
                finished = results_file.read_text().count('"event": "done"')
                bar.update(max(0, finished - bar.n))
            elif time.monotonic() - last_change > case_timeout_s:
                process.kill()
                process.wait()
                break
        started = None
        for line in results_file.read_text().splitlines():
            event = json.loads(line)
            if event["event"] == "start":
                started = event["case"]
            elif event["case"] not in done:
                done[event["case"]] = event
                started = None
        if started is not None and started not in done:  # killed on this case (or the worker died on it)
            plan = plan_case({k: str(v) for k, v in seeds.items()}, seed, started)
            reason = "hang" if process.returncode in (-9, None) else f"worker died (exit {process.returncode})"
            done[started] = {**plan, "outcome": f"crash: {reason}", "seconds": case_timeout_s}
            hangs.append(started)
        todo = [c for c in todo if c not in done]
        bar.update(max(0, len(done) - bar.n))
        stderr_log.close()
        if process.returncode not in (0, -9) and started is None and todo:
            tail = (work / f"worker_{seed}.stderr.log").read_text()[-2000:]
            raise RuntimeError(f"fuzz worker failed: {tail}")
    bar.close()
    return summarise(list(done.values()), seed)


def summarise(results: list[dict], seed: int) -> dict:
    failures = [r for r in results if r["outcome"].startswith("crash")]
    by_format: dict[str, dict[str, int]] = {}
    for r in results:
        entry = by_format.setdefault(f"{r['family']} {r['format']}", {"tried": 0, "held": 0, "refused": 0})
        entry["tried"] += 1
        entry["held"] += not r["outcome"].startswith("crash")
        entry["refused"] += r["outcome"] == "refused"
    by_mutation: dict[str, dict[str, int]] = {}
    for r in results:
        entry = by_mutation.setdefault(r["mutation"], {"tried": 0, "held": 0, "refused": 0})
        entry["tried"] += 1
        entry["held"] += not r["outcome"].startswith("crash")
        entry["refused"] += r["outcome"] == "refused"
    seconds = sorted(r["seconds"] for r in results)
    return {"seed": seed, "tried": len(results), "held": len(results) - len(failures),
            "refused": sum(r["outcome"] == "refused" for r in results),
            "accepted": sum(r["outcome"] == "accepted" for r in results),
            "predict_runs": sum(bool(r.get("predict")) for r in results),
            "mutations": sorted({r["mutation"] for r in results}), "by_input": by_format,
            "by_mutation": dict(sorted(by_mutation.items())),
            "slowest_case_s": seconds[-1] if seconds else 0.0,
            "p99_case_s": seconds[int(0.99 * (len(seconds) - 1))] if seconds else 0.0,
            "failures": [{k: r.get(k) for k in ("case", "family", "source", "mutation", "what", "outcome")} for r in failures]}


if __name__ == "__main__":
    sys.exit(worker_main())
