"""Image geometry: where each voxel lies in patient space.

Conventions (the same as ITK / SimpleITK and DICOM):

* Arrays are indexed ``[k, j, i]`` (slice, row, column), exactly like
  ``SimpleITK.GetArrayFromImage`` and Slicer's ``arrayFromVolume``. 2D images are
  single-slice volumes, shape ``(1, rows, columns)``.
* ``spacing`` is in millimetres along the index axes ``(i, j, k)``.
* ``origin`` is the centre of voxel ``(i, j, k) = (0, 0, 0)`` in LPS millimetres.
* ``direction`` is a 3 x 3 matrix whose column ``c`` is the LPS unit vector of index
  axis ``c``; stored row-major (9 numbers, as SimpleITK's ``GetDirection``).
* Slicer's RAS coordinates are LPS with the first two axes negated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class Geometry:
    """Spacing (mm), origin (LPS mm) and direction cosines of a 3D voxel grid."""

    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spacing", tuple(float(v) for v in self.spacing))
        object.__setattr__(self, "origin", tuple(float(v) for v in self.origin))
        object.__setattr__(self, "direction", tuple(float(v) for v in np.ravel(self.direction)))
        if len(self.spacing) != 3 or len(self.origin) != 3 or len(self.direction) != 9:
            raise ValueError("geometry needs 3 spacings, 3 origin values and a 3 x 3 direction")

    # ------------------------------------------------------------------ checks
    def problems(self) -> list[str]:
        """Reasons this geometry cannot describe a real image (empty when valid)."""
        found = []
        if not all(np.isfinite(self.spacing)) or min(self.spacing) <= 0:
            found.append(f"spacing must be finite and positive, got {self.spacing}")
        if not all(np.isfinite(self.origin)):
            found.append(f"origin must be finite, got {self.origin}")
        m = self.direction_matrix
        if not np.all(np.isfinite(m)):
            found.append("direction holds non-finite values")
        elif not np.allclose(m.T @ m, np.eye(3), atol=1e-3):
            found.append(f"direction is not orthonormal: {np.round(m, 4).tolist()}")
        return found

    # ------------------------------------------------------------ transforms
    @property
    def direction_matrix(self) -> np.ndarray:
        """3 x 3 direction cosines; column c = LPS direction of index axis c."""
        return np.asarray(self.direction, dtype=float).reshape(3, 3)

    def ijk_to_lps(self) -> np.ndarray:
        """4 x 4 homogeneous matrix from voxel index (i, j, k) to LPS mm."""
        m = np.eye(4)
        m[:3, :3] = self.direction_matrix * np.asarray(self.spacing)[None, :]
        m[:3, 3] = self.origin
        return m

    def ijk_to_ras(self) -> np.ndarray:
        """4 x 4 homogeneous matrix from voxel index (i, j, k) to RAS mm (Slicer's space)."""
        return LPS_TO_RAS @ self.ijk_to_lps()

    def index_to_lps(self, ijk: np.ndarray) -> np.ndarray:
        """Map voxel indices, shape (..., 3) in (i, j, k) order, to LPS mm."""
        ijk = np.asarray(ijk, dtype=float)
        m = self.ijk_to_lps()
        return ijk @ m[:3, :3].T + m[:3, 3]

    def index_to_ras(self, ijk: np.ndarray) -> np.ndarray:
        """Map voxel indices, shape (..., 3) in (i, j, k) order, to RAS mm."""
        return self.index_to_lps(ijk) * np.array([-1.0, -1.0, 1.0])

    def lps_to_index(self, lps: np.ndarray) -> np.ndarray:
        """Map LPS mm points, shape (..., 3), to continuous (i, j, k) indices."""
        m = np.linalg.inv(self.ijk_to_lps())
        return np.asarray(lps, dtype=float) @ m[:3, :3].T + m[:3, 3]

    @classmethod
    def from_ijk_to_lps(cls, matrix: np.ndarray) -> "Geometry":
        """Inverse of :meth:`ijk_to_lps` (spacing = column norms)."""
        matrix = np.asarray(matrix, dtype=float)
        columns = matrix[:3, :3]
        spacing = np.linalg.norm(columns, axis=0)
        if np.any(spacing <= 0):
            raise ValueError(f"degenerate ijk-to-LPS matrix: {matrix.tolist()}")
        return cls(tuple(spacing), tuple(matrix[:3, 3]), tuple((columns / spacing).ravel()))

    # --------------------------------------------------------------- compare
    def is_close(self, other: "Geometry", tolerance_mm: float = 1e-4) -> bool:
        """True when both grids put every voxel at the same place (within tolerance)."""
        return bool(
            np.allclose(self.spacing, other.spacing, atol=tolerance_mm)
            and np.allclose(self.origin, other.origin, atol=tolerance_mm)
            and np.allclose(self.direction, other.direction, atol=1e-6)
        )

    def describe(self) -> str:
        """One line for logs and error messages."""
        sp = ", ".join(f"{v:g}" for v in self.spacing)
        og = ", ".join(f"{v:.4g}" for v in self.origin)
        return f"spacing ({sp}) mm, origin ({og}) LPS mm, direction {np.round(self.direction_matrix, 4).tolist()}"

    def to_dict(self) -> dict:
        return {"spacing": list(self.spacing), "origin": list(self.origin), "direction": list(self.direction)}

    @classmethod
    def from_dict(cls, data: dict) -> "Geometry":
        return cls(tuple(data["spacing"]), tuple(data["origin"]), tuple(data["direction"]))
