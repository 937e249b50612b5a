// SHA-1 (FIPS 180-4), for IKEv2's NAT detection hashes (RFC 7296 2.23),
// which are SHA-1 whatever the negotiated algorithms. Small and pure: the
// program needs no crypto library for it.

const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));

export function sha1(data: Uint8Array): Uint8Array {
  const blocks = ((data.length + 8) >>> 6) + 1;
  const m = new Uint8Array(blocks * 64);
  const v = new DataView(m.buffer);

  m.set(data);
  m[data.length] = 0x80;
  v.setUint32(m.length - 8, Math.floor(data.length / 0x20000000));
  v.setUint32(m.length - 4, (data.length * 8) >>> 0);

  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Uint32Array(80);

  for (let block = 0; block < m.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = v.getUint32(block + 4 * i);
    for (let i = 16; i < 80; i++) w[i] = rotl(w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!, 1);

    let [a, b, c, d, e] = h as [number, number, number, number, number];

    for (let i = 0; i < 80; i++) {
      const f = i < 20 ? (b & c) | (~b & d) : i < 40 ? b ^ c ^ d : i < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const t = (rotl(a, 5) + f + e + k + w[i]!) >>> 0;

      e = d;
      d = c;
      c = rotl(b, 30) >>> 0;
      b = a;
      a = t;
    }
    h[0] = (h[0]! + a) >>> 0;
    h[1] = (h[1]! + b) >>> 0;
    h[2] = (h[2]! + c) >>> 0;
    h[3] = (h[3]! + d) >>> 0;
    h[4] = (h[4]! + e) >>> 0;
  }

  const out = new Uint8Array(20);
  const o = new DataView(out.buffer);

  h.forEach((x, i) => o.setUint32(4 * i, x));

  return out;
}
