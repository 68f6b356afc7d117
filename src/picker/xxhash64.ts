/**
 * XXH64 with seed 0 (xxHash, https://github.com/Cyan4973/xxHash, `XXH64()`), the hash gRFC A42 and A76
 * prescribe for ring_hash. 64-bit arithmetic runs on pairs of unsigned 32-bit halves kept in a typed
 * array (BigInt, or numbers in module variables, would allocate per step); strings are hashed over
 * their UTF-8 bytes, copied into a reused buffer, so a hash allocates nothing. The 64-bit result is
 * returned as its high half, with the low half from {@link xxh64Low} (read it right after the call).
 */

// The five 64-bit primes, as [high, low] halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

const TWO_32 = 4_294_967_296;

/** Registers: the high and low half of the last 64-bit operation, and the low half of the last hash. */
const R = { h: 0, l: 0, low: 0 };

/** The low 32 bits of the last hash computed. */
export function xxh64Low(): number {
  return R.low;
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const low = al + bl;
  R.l = low >>> 0;
  R.h = (ah + bh + (low >= TWO_32 ? 1 : 0)) >>> 0;
}

/** (a × b) mod 2^64: the low halves' product in 16-bit pieces (exact in doubles), the cross terms with imul. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const lo = a0 * b0;
  const m1 = a1 * b0 + (lo >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  R.l = ((m2 << 16) | (lo & 0xffff)) >>> 0;
  R.h = (a1 * b1 + ((m1 / 65_536) | 0) + ((m2 / 65_536) | 0) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** (0:small × b) mod 2^64 for `small` < 2^21: one exact double product. */
function mulSmall(small: number, bh: number, bl: number): void {
  const product = small * bl;
  R.l = product >>> 0;
  R.h = (Math.floor(product / TWO_32) + Math.imul(small, bh)) >>> 0;
}

/** Rotate left by `r` in (0, 32). */
function rotl(h: number, l: number, r: number): void {
  R.h = ((h << r) | (l >>> (32 - r))) >>> 0;
  R.l = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** XXH64's round: rotl(acc + input × P2, 31) × P1, into R.h/R.l. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, R.h, R.l);
  rotl(R.h, R.l, 31);
  mul(R.h, R.l, P1H, P1L);
}

/** XXH64's merge round: (h ^ round(0, v)) × P1 + P4, into R.h/R.l. */
function merge(hh: number, hl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((hh ^ R.h) >>> 0, (hl ^ R.l) >>> 0, P1H, P1L);
  add(R.h, R.l, P4H, P4L);
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
    let v1h = R.h, v1l = R.l;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    // 0 − P1 mod 2^64 (P1's low half is not 0, so no borrow reaches the high half's +1).
    let v4h = ~P1H >>> 0, v4l = -P1L >>> 0;
    for (; i + 32 <= length; i += 32) {
      round(v1h, v1l, u32(bytes, i + 4), u32(bytes, i)); v1h = R.h; v1l = R.l;
      round(v2h, v2l, u32(bytes, i + 12), u32(bytes, i + 8)); v2h = R.h; v2l = R.l;
      round(v3h, v3l, u32(bytes, i + 20), u32(bytes, i + 16)); v3h = R.h; v3l = R.l;
      round(v4h, v4l, u32(bytes, i + 28), u32(bytes, i + 24)); v4h = R.h; v4l = R.l;
    }
    rotl(v1h, v1l, 1); hh = R.h; hl = R.l;
    rotl(v2h, v2l, 7); add(hh, hl, R.h, R.l); hh = R.h; hl = R.l;
    rotl(v3h, v3l, 12); add(hh, hl, R.h, R.l); hh = R.h; hl = R.l;
    rotl(v4h, v4l, 18); add(hh, hl, R.h, R.l); hh = R.h; hl = R.l;
    merge(hh, hl, v1h, v1l);
    merge(R.h, R.l, v2h, v2l);
    merge(R.h, R.l, v3h, v3l);
    merge(R.h, R.l, v4h, v4l);
    hh = R.h; hl = R.l;
  } else {
    hh = P5H;
    hl = P5L;
  }
  add(hh, hl, Math.floor(length / TWO_32), length >>> 0);
  hh = R.h; hl = R.l;
  for (; i + 8 <= length; i += 8) {
    round(0, 0, u32(bytes, i + 4), u32(bytes, i));
    rotl((hh ^ R.h) >>> 0, (hl ^ R.l) >>> 0, 27);
    mul(R.h, R.l, P1H, P1L);
    add(R.h, R.l, P4H, P4L);
    hh = R.h; hl = R.l;
  }
  if (i + 4 <= length) {
    mul(0, u32(bytes, i), P1H, P1L);
    rotl((hh ^ R.h) >>> 0, (hl ^ R.l) >>> 0, 23);
    mul(R.h, R.l, P2H, P2L);
    add(R.h, R.l, P3H, P3L);
    hh = R.h; hl = R.l;
    i += 4;
  }
  for (; i < length; i++) {
    mulSmall(bytes[i] as number, P5H, P5L);
    rotl((hh ^ R.h) >>> 0, (hl ^ R.l) >>> 0, 11);
    mul(R.h, R.l, P1H, P1L);
    hh = R.h; hl = R.l;
  }
  // Avalanche.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L); hh = R.h; hl = R.l;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L); hh = R.h; hl = R.l;
  hl = (hl ^ hh) >>> 0;
  R.low = hl;
  return hh;
}

let scratch = Buffer.allocUnsafe(256);

/** XXH64 of the UTF-8 bytes of `text` (seed 0); high half returned, low half from {@link xxh64Low}. */
export function xxh64String(text: string): number {
  const n = text.length;
  if (scratch.length < n * 3) scratch = Buffer.allocUnsafe(n * 3);
  // ASCII (every header value gRPC allows) is copied by hand: cheaper than a native UTF-8 encode.
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return xxh64(scratch, scratch.write(text, 0, 'utf8'));
    scratch[i] = c;
  }
  return xxh64(scratch, n);
}
