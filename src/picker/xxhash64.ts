/**
 * XXH64 with seed 0 (xxHash, https://github.com/Cyan4973/xxHash, `XXH64()`), the hash gRFC A42 and A76
 * prescribe for ring_hash. 64-bit arithmetic runs on pairs of unsigned 32-bit halves (BigInt would
 * allocate per step); strings are hashed over their UTF-8 bytes, written into a reused buffer, so a
 * hash allocates nothing. The 64-bit result is returned as its high half, with the low half in
 * {@link xxh64Low} (read it right after the call).
 */

// The five 64-bit primes, as [high, low] halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

const TWO_32 = 4_294_967_296;

/** The low 32 bits of the last hash computed. */
export let xxh64Low = 0;

// The accumulator registers of the last 64-bit operation (module slots: no allocation per step).
let rh = 0;
let rl = 0;

function add(ah: number, al: number, bh: number, bl: number): void {
  const low = al + bl;
  rl = low >>> 0;
  rh = (ah + bh + (low >= TWO_32 ? 1 : 0)) >>> 0;
}

/** (a × b) mod 2^64. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0;
  const low = a0 * b0 + (mid % 65_536) * 65_536;
  rl = low >>> 0;
  rh = (a1 * b1 + Math.floor(mid / 65_536) + Math.floor(low / TWO_32) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** Rotate left by `r` in (0, 32). */
function rotl(h: number, l: number, r: number): void {
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** XXH64's round: rotl(acc + input × P2, 31) × P1, into rh/rl. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

/** XXH64's merge round: (h ^ round(0, v)) × P1 + P4, into rh/rl. */
function merge(hh: number, hl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, P1H, P1L);
  add(rh, rl, P4H, P4L);
}

function u32(bytes: Uint8Array, i: number): number {
  return ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24)) >>> 0;
}

/**
 * XXH64(bytes[0, length), seed 0).
 * @returns the high 32 bits; the low 32 bits are in {@link xxh64Low}.
 */
export function xxh64(bytes: Uint8Array, length = bytes.length): number {
  let i = 0;
  let hh: number;
  let hl: number;
  if (length >= 32) {
    add(P1H, P1L, P2H, P2L);
    let v1h = rh, v1l = rl;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    // 0 − P1 mod 2^64 (P1's low half is not 0, so no borrow reaches the high half's +1).
    let v4h = ~P1H >>> 0, v4l = -P1L >>> 0;
    for (; i + 32 <= length; i += 32) {
      round(v1h, v1l, u32(bytes, i + 4), u32(bytes, i)); v1h = rh; v1l = rl;
      round(v2h, v2l, u32(bytes, i + 12), u32(bytes, i + 8)); v2h = rh; v2l = rl;
      round(v3h, v3l, u32(bytes, i + 20), u32(bytes, i + 16)); v3h = rh; v3l = rl;
      round(v4h, v4l, u32(bytes, i + 28), u32(bytes, i + 24)); v4h = rh; v4l = rl;
    }
    rotl(v1h, v1l, 1); hh = rh; hl = rl;
    rotl(v2h, v2l, 7); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v3h, v3l, 12); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v4h, v4l, 18); add(hh, hl, rh, rl); hh = rh; hl = rl;
    merge(hh, hl, v1h, v1l);
    merge(rh, rl, v2h, v2l);
    merge(rh, rl, v3h, v3l);
    merge(rh, rl, v4h, v4l);
    hh = rh; hl = rl;
  } else {
    hh = P5H;
    hl = P5L;
  }
  add(hh, hl, Math.floor(length / TWO_32), length >>> 0);
  hh = rh; hl = rl;
  for (; i + 8 <= length; i += 8) {
    round(0, 0, u32(bytes, i + 4), u32(bytes, i));
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 27);
    mul(rh, rl, P1H, P1L);
    add(rh, rl, P4H, P4L);
    hh = rh; hl = rl;
  }
  if (i + 4 <= length) {
    mul(0, u32(bytes, i), P1H, P1L);
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 23);
    mul(rh, rl, P2H, P2L);
    add(rh, rl, P3H, P3L);
    hh = rh; hl = rl;
    i += 4;
  }
  for (; i < length; i++) {
    mul(0, bytes[i] as number, P5H, P5L);
    rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 11);
    mul(rh, rl, P1H, P1L);
    hh = rh; hl = rl;
  }
  // Avalanche.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L); hh = rh; hl = rl;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L); hh = rh; hl = rl;
  hl = (hl ^ hh) >>> 0;
  xxh64Low = hl;
  return hh;
}

let scratch = Buffer.allocUnsafe(256);

/** XXH64 of the UTF-8 bytes of `text` (seed 0); high half returned, low half in {@link xxh64Low}. */
export function xxh64String(text: string): number {
  if (scratch.length < text.length * 3) scratch = Buffer.allocUnsafe(text.length * 3);
  return xxh64(scratch, scratch.write(text, 0, 'utf8'));
}
