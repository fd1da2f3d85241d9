// Unit cells: [a, b, c, α, β, γ] (Å, degrees) → westream's lower-triangular box.

/**
 * The lower-triangular box (ax, bx, by, cx, cy, cz) of a cell given as
 * [a, b, c, alpha, beta, gamma], as MDAnalysis's `triclinic_vectors`: a along x,
 * b in the xy plane. Exact right angles give an exactly orthorhombic box.
 */
export function cellToBox(cell: ArrayLike<number>): Float32Array {
  const [a, b, c, alpha, beta, gamma] = [cell[0], cell[1], cell[2], cell[3], cell[4], cell[5]];
  if (alpha === 90 && beta === 90 && gamma === 90) return Float32Array.of(a, 0, b, 0, 0, c);
  const rad = Math.PI / 180;
  const cosA = alpha === 90 ? 0 : Math.cos(alpha * rad);
  const cosB = beta === 90 ? 0 : Math.cos(beta * rad);
  const cosG = gamma === 90 ? 0 : Math.cos(gamma * rad);
  const sinG = gamma === 90 ? 1 : Math.sin(gamma * rad);
  const bx = b * cosG;
  const by = b * sinG;
  const cx = c * cosB;
  const cy = (c * (cosA - cosB * cosG)) / sinG;
  const cz = Math.sqrt(Math.max(0, c * c - cx * cx - cy * cy));
  return Float32Array.of(a, bx, by, cx, cy, cz);
}
