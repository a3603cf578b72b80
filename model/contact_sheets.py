"""Contact sheets of the bundled checkpoints' samples, one per scene family, for the model card.

    python model/contact_sheets.py RUN_DIR [RUN_DIR ...] --out model/samples

Each RUN_DIR is a `simworld eval` run folder (e.g. runs/example/bundled-dit-16m-core). For every family in the
suite, the sheet shows seed 0 of each of the family's probes: one row of the ground truth, then one row per run,
8 evenly spaced frames each (conditioning frames framed in blue), labelled with the run and the probe.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simworld.clip import read_clip  # noqa: E402
from simworld.report.pictures import filmstrip, write_jpeg  # noqa: E402

HEIGHT = 96
LABEL_WIDTH = 150


def labelled(strip: np.ndarray, text: str) -> np.ndarray:
    """The strip with a white label column on its left."""
    label = np.full((strip.shape[0], LABEL_WIDTH, 3), 255, np.uint8)
    for line, part in enumerate(text.split("\n")):
        cv2.putText(label, part, (4, 18 + 16 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (20, 20, 20), 1, cv2.LINE_AA)
    return np.concatenate([label, strip], axis=1)


def given_frames(meta_path: Path) -> set[int]:
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return set(meta.get("given_indices") or [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("model/samples"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import pandas as pd

    table = pd.read_parquet(args.runs[0] / "results.parquet")
    probes = table[table.seed == args.seed][["family", "probe"]].drop_duplicates().sort_values(["family", "probe"])
    args.out.mkdir(parents=True, exist_ok=True)
    for family, group in probes.groupby("family"):
        rows = []
        for probe in group.probe:
            name = f"{probe}_s{args.seed}"
            truth = args.runs[0] / "clips" / "ground_truth" / f"{name}.mp4"
            strip, _ = filmstrip(read_clip(truth).frames, 8, HEIGHT)
            rows.append(labelled(strip, f"ground truth\n{probe}"))
            for run in args.runs:
                path = run / "clips" / f"{name}.mp4"
                if not path.exists():
                    continue
                strip, _ = filmstrip(read_clip(path).frames, 8, HEIGHT, given=given_frames(path.with_suffix(".json")))
                rows.append(labelled(strip, f"{run.name}\n{probe}"))
            rows.append(np.full((8, rows[-1].shape[1], 3), 255, np.uint8))
        width = max(row.shape[1] for row in rows)
        sheet = np.concatenate([np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=255)
                                for row in rows])
        write_jpeg(args.out / f"{family}.jpg", sheet, quality=80)
        print(args.out / f"{family}.jpg")


if __name__ == "__main__":
    main()
