//! Just enough of PNG to count a screenshot's colours: zlib inflate (RFC 1950/1951) and the
//! row filters, for 8-bit RGB and RGBA images without interlacing (what Chromium writes).

/// The pixels of a PNG as (width, height, RGBA bytes), or why not.
pub fn decode(png: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    let body = png
        .strip_prefix(b"\x89PNG\r\n\x1a\n".as_slice())
        .ok_or("not a PNG signature")?;
    let (mut at, mut ihdr, mut idat) = (0, None, Vec::new());
    while at + 12 <= body.len() {
        let len = u32::from_be_bytes(body[at..at + 4].try_into().map_err(|_| "short")?) as usize;
        let kind = &body[at + 4..at + 8];
        let data = body
            .get(at + 8..at + 8 + len)
            .ok_or("a chunk past the end")?;
        match kind {
            b"IHDR" => ihdr = Some(data.to_vec()),
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let ihdr = ihdr.ok_or("no IHDR")?;
    let width = u32::from_be_bytes(ihdr[0..4].try_into().map_err(|_| "IHDR")?);
    let height = u32::from_be_bytes(ihdr[4..8].try_into().map_err(|_| "IHDR")?);
    let channels = match (ihdr[8], ihdr[9], ihdr[12]) {
        (8, 2, 0) => 3,
        (8, 6, 0) => 4,
        other => {
            return Err(format!(
                "unsupported PNG (depth, colour, interlace) {other:?}"
            ));
        }
    };
    let raw = inflate(idat.get(2..).ok_or("no zlib header")?)?;
    let stride = width as usize * channels;
    if raw.len() < (stride + 1) * height as usize {
        return Err(format!(
            "{} bytes of pixels, want {}",
            raw.len(),
            (stride + 1) * height as usize
        ));
    }
    let mut pixels = vec![0u8; stride * height as usize];
    for y in 0..height as usize {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels {
                pixels[y * stride + x - channels]
            } else {
                0
            };
            let b = if y > 0 {
                pixels[(y - 1) * stride + x]
            } else {
                0
            };
            let c = if x >= channels && y > 0 {
                pixels[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => paeth(a, b, c),
                f => return Err(format!("row filter {f}")),
            };
            pixels[y * stride + x] = line[x].wrapping_add(predicted);
        }
    }
    let rgba = if channels == 4 {
        pixels
    } else {
        pixels
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect()
    };
    Ok((width, height, rgba))
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = (
        (p - a as i16).abs(),
        (p - b as i16).abs(),
        (p - c as i16).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Result<u32, String> {
        let byte = self
            .data
            .get(self.at / 8)
            .ok_or("deflate data ends early")?;
        let bit = (byte >> (self.at % 8)) & 1;
        self.at += 1;
        Ok(bit as u32)
    }

    fn bits(&mut self, n: u32) -> Result<u32, String> {
        let mut v = 0;
        for i in 0..n {
            v |= self.bit()? << i;
        }
        Ok(v)
    }
}

/// A canonical Huffman code: counts per length and symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Huffman {
        let mut counts = [0u16; 16];
        for &l in lengths {
            counts[l as usize] += 1;
        }
        counts[0] = 0;
        let mut offsets = [0u16; 16];
        for l in 1..16 {
            offsets[l] = offsets[l - 1] + counts[l - 1];
        }
        let mut symbols = vec![0; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbols[offsets[l as usize] as usize] = s as u16;
                offsets[l as usize] += 1;
            }
        }
        Huffman { counts, symbols }
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, String> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.bit()? as i32;
            let count = self.counts[len] as i32;
            if code - first < count {
                return self
                    .symbols
                    .get((index + code - first) as usize)
                    .copied()
                    .ok_or_else(|| "bad code".into());
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("bad Huffman code".into())
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Inflates raw deflate data.
pub fn inflate(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut bits = Bits { data, at: 0 };
    let mut out = Vec::new();
    loop {
        let last = bits.bit()?;
        match bits.bits(2)? {
            0 => {
                bits.at = bits.at.div_ceil(8) * 8;
                let at = bits.at / 8;
                let len = data.get(at..at + 2).ok_or("stored block ends early")?;
                let len = u16::from_le_bytes([len[0], len[1]]) as usize;
                out.extend_from_slice(
                    data.get(at + 4..at + 4 + len)
                        .ok_or("stored block ends early")?,
                );
                bits.at = (at + 4 + len) * 8;
            }
            1 => {
                let mut lengths = [8u8; 288];
                lengths[144..256].fill(9);
                lengths[256..280].fill(7);
                block(
                    &mut bits,
                    &mut out,
                    &Huffman::new(&lengths),
                    &Huffman::new(&[5; 30]),
                )?;
            }
            2 => {
                let (hlit, hdist, hclen) = (
                    bits.bits(5)? as usize + 257,
                    bits.bits(5)? as usize + 1,
                    bits.bits(4)? as usize + 4,
                );
                const ORDER: [usize; 19] = [
                    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                ];
                let mut code_lengths = [0u8; 19];
                for &i in &ORDER[..hclen] {
                    code_lengths[i] = bits.bits(3)? as u8;
                }
                let code = Huffman::new(&code_lengths);
                let mut lengths = Vec::with_capacity(hlit + hdist);
                while lengths.len() < hlit + hdist {
                    match code.decode(&mut bits)? {
                        s @ 0..=15 => lengths.push(s as u8),
                        16 => {
                            let previous = *lengths.last().ok_or("repeat of nothing")?;
                            let n = 3 + bits.bits(2)?;
                            lengths.extend(std::iter::repeat_n(previous, n as usize));
                        }
                        17 => lengths.extend(std::iter::repeat_n(0, 3 + bits.bits(3)? as usize)),
                        _ => lengths.extend(std::iter::repeat_n(0, 11 + bits.bits(7)? as usize)),
                    }
                }
                let (lit, dist) = lengths.split_at(hlit);
                block(&mut bits, &mut out, &Huffman::new(lit), &Huffman::new(dist))?;
            }
            _ => return Err("deflate block type 3".into()),
        }
        if last == 1 {
            return Ok(out);
        }
    }
}

fn block(
    bits: &mut Bits<'_>,
    out: &mut Vec<u8>,
    lit: &Huffman,
    dist: &Huffman,
) -> Result<(), String> {
    loop {
        match lit.decode(bits)? {
            s @ 0..=255 => out.push(s as u8),
            256 => return Ok(()),
            s => {
                let i = (s - 257) as usize;
                let len = *LEN_BASE.get(i).ok_or("bad length")? as usize
                    + bits.bits(*LEN_EXTRA.get(i).ok_or("bad length")? as u32)? as usize;
                let d = dist.decode(bits)? as usize;
                let back = *DIST_BASE.get(d).ok_or("bad distance")? as usize
                    + bits.bits(*DIST_EXTRA.get(d).ok_or("bad distance")? as u32)? as usize;
                let start = out
                    .len()
                    .checked_sub(back)
                    .ok_or("distance before the start")?;
                for k in 0..len {
                    out.push(out[start + k]);
                }
            }
        }
    }
}
