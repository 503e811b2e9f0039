//! C2SP tlog-tiles: the log served as static tiles of hashes and bundles of entries.
//!
//! C2SP fixes the tile height at 8 (256 hashes) and names data tiles `tile/entries/...`; Go's
//! sumdb/tlog, whose path vectors we also pass, takes the height as a parameter and writes it in
//! the path (`tile/H/L/N`, `tile/H/data/N`). [`Tile`] covers both.

use crate::LedgerError;
use crate::merkle::{Hash, HashReader, stored_hash_index};

/// The C2SP tile height.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full C2SP tile.
pub const TILE_WIDTH: u32 = 1 << TILE_HEIGHT;
/// The longest entry an entry bundle can hold (a 16-bit length prefix).
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

/// Which level a tile is at: a level of hashes or the entries themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileLevel {
    Hashes(u32),
    Entries,
}

/// One tile: height `h`, level, index `n` within the level, width `w` (`w < 2^h`: partial).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    pub h: u32,
    pub level: TileLevel,
    pub n: u64,
    pub w: u32,
}

fn encode_index(n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    let mut n = n / 1000;
    while n > 0 {
        parts.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join("/")
}

/// Parses the index path elements `x001/x234/067` (and an optional `.p/W` on the last).
fn parse_index(elems: &[&str], h: u32) -> Option<(u64, u32)> {
    let (last, rest) = elems.split_last()?;
    let mut n: u64 = 0;
    for e in rest {
        let d = e.strip_prefix('x')?;
        if d.len() != 3 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(d.parse::<u64>().ok()?)?;
    }
    if last.len() != 3 || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n = n
        .checked_mul(1000)?
        .checked_add(last.parse::<u64>().ok()?)?;
    Some((n, 1 << h))
}

fn parse_width(s: &str, h: u32) -> Option<u32> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: u32 = s.parse().ok()?;
    (w >= 1 && w < (1 << h)).then_some(w)
}

fn parse_level(s: &str) -> Option<u32> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let l: u32 = s.parse().ok()?;
    (l <= 63).then_some(l)
}

/// Splits `a/b/c.p/W` into index elements and width.
fn split_partial(path: &str) -> Option<(Vec<&str>, Option<&str>)> {
    match path.split_once(".p/") {
        Some((idx, w)) => Some((idx.split('/').collect(), Some(w))),
        None => Some((path.split('/').collect(), None)),
    }
}

impl Tile {
    /// A C2SP tile of hashes.
    pub fn hashes(level: u32, n: u64, w: u32) -> Self {
        Tile {
            h: TILE_HEIGHT,
            level: TileLevel::Hashes(level),
            n,
            w,
        }
    }

    /// A C2SP entry bundle.
    pub fn entries(n: u64, w: u32) -> Self {
        Tile {
            h: TILE_HEIGHT,
            level: TileLevel::Entries,
            n,
            w,
        }
    }

    pub fn is_partial(&self) -> bool {
        self.w < (1 << self.h)
    }

    fn suffix(&self) -> String {
        if self.is_partial() {
            format!(".p/{}", self.w)
        } else {
            String::new()
        }
    }

    /// The C2SP path: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        let level = match self.level {
            TileLevel::Hashes(l) => l.to_string(),
            TileLevel::Entries => "entries".to_string(),
        };
        format!("tile/{level}/{}{}", encode_index(self.n), self.suffix())
    }

    /// The Go sumdb path: `tile/<H>/<L>/<N>[.p/<W>]` or `tile/<H>/data/<N>[.p/<W>]`.
    pub fn go_path(&self) -> String {
        let level = match self.level {
            TileLevel::Hashes(l) => l.to_string(),
            TileLevel::Entries => "data".to_string(),
        };
        format!(
            "tile/{}/{level}/{}{}",
            self.h,
            encode_index(self.n),
            self.suffix()
        )
    }

    /// Parses a C2SP tile path (with or without the leading `tile/`).
    pub fn parse_path(path: &str) -> Result<Self, LedgerError> {
        let bad = || LedgerError::Malformed {
            what: "tile path",
            reason: format!("'{path}' is not tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]"),
        };
        let p = path.strip_prefix("tile/").unwrap_or(path);
        let (level, rest) = p.split_once('/').ok_or_else(bad)?;
        let level = if level == "entries" {
            TileLevel::Entries
        } else {
            TileLevel::Hashes(parse_level(level).ok_or_else(bad)?)
        };
        Self::parse_rest(TILE_HEIGHT, level, rest).ok_or_else(bad)
    }

    /// Parses a Go sumdb tile path `tile/<H>/<L|data>/<N>[.p/<W>]`.
    pub fn parse_go_path(path: &str) -> Result<Self, LedgerError> {
        let bad = || LedgerError::Malformed {
            what: "tile path",
            reason: format!("'{path}' is not tile/<H>/<L>/<N>[.p/<W>]"),
        };
        let p = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (h, rest) = p.split_once('/').ok_or_else(bad)?;
        let h = parse_level(h)
            .filter(|h| (1..=30).contains(h))
            .ok_or_else(bad)?;
        let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
        let level = if level == "data" {
            TileLevel::Entries
        } else {
            TileLevel::Hashes(parse_level(level).ok_or_else(bad)?)
        };
        Self::parse_rest(h, level, rest).ok_or_else(bad)
    }

    fn parse_rest(h: u32, level: TileLevel, rest: &str) -> Option<Self> {
        let (elems, w) = split_partial(rest)?;
        let (n, full) = parse_index(&elems, h)?;
        let w = match w {
            Some(w) => parse_width(w, h)?,
            None => full,
        };
        Some(Tile { h, level, n, w })
    }
}

/// The tiles of height `h` that must be (re)published when a tree grows from `old` to `new`
/// records (Go's `tlog.NewTiles`).
pub fn new_tiles(h: u32, old: u64, new: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    let mut level = 0u32;
    while (h * level) < 64 && new >> (h * level) > 0 {
        let old_n = old >> (h * level);
        let new_n = new >> (h * level);
        if old_n != new_n {
            for n in (old_n >> h)..(new_n >> h) {
                tiles.push(Tile {
                    h,
                    level: TileLevel::Hashes(level),
                    n,
                    w: 1 << h,
                });
            }
            let n = new_n >> h;
            let w = (new_n - (n << h)) as u32;
            if w > 0 {
                tiles.push(Tile {
                    h,
                    level: TileLevel::Hashes(level),
                    n,
                    w,
                });
            }
        }
        level += 1;
    }
    tiles
}

/// The width of the rightmost tile at `level` for a tree of `size` (0: no partial tile).
pub fn partial_width(level: u32, size: u64) -> u32 {
    let shift = TILE_HEIGHT * level;
    if shift >= 64 {
        return 0;
    }
    ((size >> shift) % TILE_WIDTH as u64) as u32
}

/// Whether a tree of `size` records holds all of `tile`.
pub fn tile_exists(tile: &Tile, size: u64) -> bool {
    let lvl = match tile.level {
        TileLevel::Hashes(l) => l,
        TileLevel::Entries => 0,
    };
    let shift = tile.h * lvl;
    if shift >= 64 {
        return false;
    }
    let count = size >> shift;
    tile.n
        .checked_mul(1 << tile.h)
        .and_then(|start| start.checked_add(tile.w as u64))
        .is_some_and(|end| end <= count)
}

/// The content of a tile of hashes: `w` hashes of tree level `8 * L`, concatenated.
pub fn tile_hashes(
    tile: &Tile,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<u8>, LedgerError> {
    let TileLevel::Hashes(l) = tile.level else {
        return Err(LedgerError::Malformed {
            what: "tile",
            reason: "an entry bundle has no hashes".into(),
        });
    };
    let tree_level = tile.h * l;
    let start = tile.n << tile.h;
    let idx: Vec<u64> = (0..tile.w as u64)
        .map(|i| stored_hash_index(tree_level, start + i))
        .collect();
    let hashes = reader.read_hashes(&idx)?;
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// An entry bundle: each entry as a big-endian u16 length and its bytes.
pub fn entry_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, LedgerError> {
    let mut out = Vec::new();
    for e in entries {
        if e.len() > MAX_ENTRY_LEN {
            return Err(LedgerError::Malformed {
                what: "entry",
                reason: format!(
                    "{} bytes; an entry bundle holds at most {MAX_ENTRY_LEN}",
                    e.len()
                ),
            });
        }
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle back into entries.
pub fn parse_entry_bundle(mut b: &[u8]) -> Result<Vec<Vec<u8>>, LedgerError> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < 2 {
            return Err(LedgerError::Malformed {
                what: "entry bundle",
                reason: "truncated length prefix".into(),
            });
        }
        let len = u16::from_be_bytes([b[0], b[1]]) as usize;
        if b.len() < 2 + len {
            return Err(LedgerError::Malformed {
                what: "entry bundle",
                reason: format!("entry {} is truncated", out.len()),
            });
        }
        out.push(b[2..2 + len].to_vec());
        b = &b[2 + len..];
    }
    Ok(out)
}

/// Reads a tile of hashes back into hashes.
pub fn parse_tile_hashes(b: &[u8]) -> Result<Vec<Hash>, LedgerError> {
    if !b.len().is_multiple_of(Hash::LEN) {
        return Err(LedgerError::Malformed {
            what: "tile",
            reason: format!("{} bytes is not a whole number of hashes", b.len()),
        });
    }
    b.chunks(Hash::LEN).map(Hash::from_slice).collect()
}
