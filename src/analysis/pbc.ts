// Minimum-image helpers for the JavaScript paths (a handful of atoms).
// Same convention as the native kernels: box = lower-triangular cell
// (ax, bx, by, cx, cy, cz), Å; orthorhombic when bx = cx = cy = 0.

/** Replaces v (length ≥ 3) by its minimum-image equivalent. `box` undefined: unchanged. */
export function minimumImage(v: number[] | Float64Array, box: ArrayLike<number> | undefined): void {
  if (!box) return;
  const ax = box[0], bx = box[1], by = box[2], cx = box[3], cy = box[4], cz = box[5];
  if (!(ax > 0 && by > 0 && cz > 0)) return;
  let dx = v[0], dy = v[1], dz = v[2];
  let s = Math.round(dz / cz);
  dx -= s * cx;
  dy -= s * cy;
  dz -= s * cz;
  s = Math.round(dy / by);
  dx -= s * bx;
  dy -= s * by;
  s = Math.round(dx / ax);
  dx -= s * ax;
  if (bx !== 0 || cx !== 0 || cy !== 0) {
    // triclinic: the shortest of the 27 neighbouring images
    let best = dx * dx + dy * dy + dz * dz;
    let rx = dx, ry = dy, rz = dz;
    for (let k = -1; k <= 1; k++)
      for (let j = -1; j <= 1; j++)
        for (let i = -1; i <= 1; i++) {
          const x = dx + i * ax + j * bx + k * cx, y = dy + j * by + k * cy, z = dz + k * cz;
          const d = x * x + y * y + z * z;
          if (d < best) {
            best = d;
            rx = x;
            ry = y;
            rz = z;
          }
        }
    dx = rx;
    dy = ry;
    dz = rz;
  }
  v[0] = dx;
  v[1] = dy;
  v[2] = dz;
}

/** True when `box` describes a periodic cell (positive ax, by, cz). */
export function isPeriodic(box: ArrayLike<number> | undefined): box is ArrayLike<number> {
  return !!box && box[0] > 0 && box[2] > 0 && box[5] > 0;
}
