// IMD v2 / v3 wire format: message types, headers, handshake, session info.
// Reference: shared/reference/imd-protocol.md (§2-§4) and the v3 spec in
// Becksteinlab/imdclient docs/source/protocol_v3.rst.
//
// Headers are always big-endian (network order). Bodies are in the engine's
// native byte order, which the handshake reveals: the engine writes its
// version into the header's length slot without swapping it.

export const HEADER_BYTES = 8;
/** ENERGIES body: int32 step + 9 float32. */
export const ENERGIES_BYTES = 40;
/** TIME body: float64 dt, float64 time, int64 step. */
export const TIME_BYTES = 24;
/** BOX body: float32[9], row vectors a, b, c. */
export const BOX_BYTES = 36;
/** SESSIONINFO body: 7 one-byte flags. */
export const SESSIONINFO_BYTES = 7;

export enum ImdType {
  DISCONNECT = 0,
  ENERGIES = 1,
  FCOORDS = 2,
  GO = 3,
  HANDSHAKE = 4,
  KILL = 5,
  MDCOMM = 6,
  PAUSE = 7,
  TRATE = 8,
  IOERROR = 9,
  SESSIONINFO = 10,
  RESUME = 11,
  TIME = 12,
  BOX = 13,
  VELOCITIES = 14,
  FORCES = 15,
  WAIT = 16,
}

/** "FCOORDS (2)" for known types, "unknown type 1234" otherwise. */
export function typeName(type: number): string {
  const name = ImdType[type] as string | undefined;
  return name !== undefined && Number.isInteger(type) ? `${name} (${type})` : `unknown type ${type}`;
}

/** What the engine sends every frame (v3: from SESSIONINFO; v2: implied). */
export interface SessionInfo {
  time: boolean;
  energies: boolean;
  box: boolean;
  coords: boolean;
  /** Only meaningful when coords are sent: the engine wraps them into the box. */
  wrapped: boolean;
  velocities: boolean;
  forces: boolean;
}

export interface Handshake {
  version: 2 | 3;
  /** Byte order of message bodies (the engine's native order). */
  littleEndian: boolean;
}

/** A malformed or unexpected IMD stream. `code` says which kind of failure. */
export class ImdError extends Error {
  override name = 'ImdError';
  constructor(
    message: string,
    readonly code: 'HANDSHAKE' | 'PROTOCOL' | 'TRUNCATED' | 'CLOSED_EARLY' | 'CONNECT' | 'SOCKET' | 'LIMIT' | 'UNSUPPORTED',
  ) {
    super(message);
  }
}

/** Reads a header's two big-endian int32 fields. */
export function readHeader(buf: Uint8Array, offset = 0): { type: number; length: number } {
  const view = new DataView(buf.buffer, buf.byteOffset + offset, HEADER_BYTES);
  return { type: view.getInt32(0, false), length: view.getInt32(4, false) };
}

/** An 8-byte header (type, length), both big-endian. */
export function encodeHeader(type: ImdType, length = 0): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeInt32BE(type, 0);
  b.writeInt32BE(length | 0, 4);
  return b;
}

const byteSwap32 = (v: number) =>
  (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) | 0;

/**
 * Derives version and body byte order from the handshake header (§2): the
 * length slot read big-endian is 2 or 3 for a big-endian engine; byte-swapped,
 * it is 2 or 3 for a little-endian one.
 */
export function parseHandshake(type: number, length: number): Handshake {
  if (type !== ImdType.HANDSHAKE) {
    throw new ImdError(
      `expected the IMD handshake (type 4) as the first message, got ${typeName(type)} with length ${length}: ` +
        'the peer is not an IMD engine (or not at the start of a session)',
      'HANDSHAKE',
    );
  }
  if (length === 2 || length === 3) return { version: length, littleEndian: false };
  const swapped = byteSwap32(length);
  if (swapped === 2 || swapped === 3) return { version: swapped, littleEndian: true };
  throw new ImdError(
    `unsupported IMD version in the handshake: the length slot holds 0x${(length >>> 0).toString(16).padStart(8, '0')} ` +
      '(neither 2 nor 3 in either byte order); westream speaks IMD v2 and v3',
    'HANDSHAKE',
  );
}

/** Parses the 7 SESSIONINFO flag bytes (§4.2: time, energies, box, coords, wrapped, velocities, forces). */
export function parseSessionInfo(body: Uint8Array): SessionInfo {
  if (body.length !== SESSIONINFO_BYTES) {
    throw new ImdError(`IMD v3 session info must be ${SESSIONINFO_BYTES} bytes, got ${body.length}`, 'PROTOCOL');
  }
  return {
    time: body[0] !== 0,
    energies: body[1] !== 0,
    box: body[2] !== 0,
    coords: body[3] !== 0,
    wrapped: body[4] !== 0,
    velocities: body[5] !== 0,
    forces: body[6] !== 0,
  };
}

/** Session implied by IMD v2: energies (when the engine sends them) and coordinates. */
export const V2_SESSION: Readonly<SessionInfo> = Object.freeze({
  time: false,
  energies: true,
  box: false,
  coords: true,
  wrapped: false,
  velocities: false,
  forces: false,
});

/** The packet types of one v3 frame, in their fixed order (§4.2). */
export function v3FrameLayout(s: SessionInfo): ImdType[] {
  const layout: ImdType[] = [];
  if (s.time) layout.push(ImdType.TIME);
  if (s.energies) layout.push(ImdType.ENERGIES);
  if (s.box) layout.push(ImdType.BOX);
  if (s.coords) layout.push(ImdType.FCOORDS);
  if (s.velocities) layout.push(ImdType.VELOCITIES);
  if (s.forces) layout.push(ImdType.FORCES);
  return layout;
}

/** Bytes of one v3 frame on the wire for `natoms` atoms (§4.2 table). */
export function v3FrameBytes(s: SessionInfo, natoms: number): number {
  let n = 0;
  for (const t of v3FrameLayout(s)) n += HEADER_BYTES + fixedBodyBytes(t, natoms);
  return n;
}

/** Body size of a packet the engine sends, given the atom count. */
export function fixedBodyBytes(type: ImdType, natoms: number): number {
  switch (type) {
    case ImdType.TIME:
      return TIME_BYTES;
    case ImdType.ENERGIES:
      return ENERGIES_BYTES;
    case ImdType.BOX:
      return BOX_BYTES;
    case ImdType.FCOORDS:
    case ImdType.VELOCITIES:
    case ImdType.FORCES:
      return 12 * natoms;
    default:
      return 0;
  }
}

/** Swaps every 4-byte word of `bytes` in place (float32 / int32 bodies). */
export function swap32InPlace(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i];
    const b = bytes[i + 1];
    bytes[i] = bytes[i + 3];
    bytes[i + 1] = bytes[i + 2];
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

/** Raw energies record as the engine sent it (engine units). */
export interface RawEnergies {
  step: number;
  temperature: number;
  total: number;
  potential: number;
  vdw: number;
  coulomb: number;
  bonds: number;
  angles: number;
  dihedrals: number;
  impropers: number;
}

export function decodeEnergies(body: Uint8Array, littleEndian: boolean): RawEnergies {
  const v = new DataView(body.buffer, body.byteOffset, ENERGIES_BYTES);
  const f = (i: number) => v.getFloat32(4 + 4 * i, littleEndian);
  return {
    step: v.getInt32(0, littleEndian),
    temperature: f(0),
    total: f(1),
    potential: f(2),
    vdw: f(3),
    coulomb: f(4),
    bonds: f(5),
    angles: f(6),
    dihedrals: f(7),
    impropers: f(8),
  };
}

export function decodeTime(body: Uint8Array, littleEndian: boolean): { dt: number; time: number; step: number } {
  const v = new DataView(body.buffer, body.byteOffset, TIME_BYTES);
  return {
    dt: v.getFloat64(0, littleEndian),
    time: v.getFloat64(8, littleEndian),
    step: Number(v.getBigInt64(16, littleEndian)),
  };
}

/** The 9 box floats: a, b, c as rows (ax ay az bx by bz cx cy cz). */
export function decodeBox(body: Uint8Array, littleEndian: boolean): number[] {
  const v = new DataView(body.buffer, body.byteOffset, BOX_BYTES);
  const out: number[] = [];
  for (let i = 0; i < 9; i++) out.push(v.getFloat32(4 * i, littleEndian));
  return out;
}

/**
 * Converts three box row vectors to westream's lower-triangular form
 * [ax, bx, by, cx, cy, cz] scaled by `scale`. Engines send lower-triangular
 * boxes (LAMMPS, GROMACS); a general orientation is reduced to the same cell
 * through its lengths and angles (as MDAnalysis does), positions untouched.
 */
export function lowerTriangularBox(m: number[], scale: number, out: Float32Array): void {
  const [ax, ay, az, bx, by, bz, cx, cy, cz] = m;
  if (ay === 0 && az === 0 && bz === 0) {
    out[0] = ax * scale;
    out[1] = bx * scale;
    out[2] = by * scale;
    out[3] = cx * scale;
    out[4] = cy * scale;
    out[5] = cz * scale;
    return;
  }
  const a = Math.hypot(ax, ay, az);
  const b = Math.hypot(bx, by, bz);
  const c = Math.hypot(cx, cy, cz);
  const cosA = b && c ? (bx * cx + by * cy + bz * cz) / (b * c) : 0;
  const cosB = a && c ? (ax * cx + ay * cy + az * cz) / (a * c) : 0;
  const cosG = a && b ? (ax * bx + ay * by + az * bz) / (a * b) : 0;
  const sinG = Math.sqrt(Math.max(0, 1 - cosG * cosG));
  const ncx = c * cosB;
  const ncy = sinG ? (c * (cosA - cosB * cosG)) / sinG : 0;
  const ncz = Math.sqrt(Math.max(0, c * c - ncx * ncx - ncy * ncy));
  out[0] = a * scale;
  out[1] = b * cosG * scale;
  out[2] = b * sinG * scale;
  out[3] = ncx * scale;
  out[4] = ncy * scale;
  out[5] = ncz * scale;
}
