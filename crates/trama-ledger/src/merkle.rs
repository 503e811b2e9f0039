//! RFC 6962 / RFC 9162 Merkle trees over SHA-256, kept incrementally as *stored hashes*.
//!
//! The layout of stored hashes is the one of Go's `golang.org/x/mod/sumdb/tlog`: every hash of
//! a complete subtree gets one index, in the order the hashes become known while records are
//! appended. Appending record `n` stores its leaf hash and the hashes of every subtree it
//! completes, so a tree of `n` records holds fewer than `2n` hashes and never rewrites one.
//! Any tree head, inclusion proof or consistency proof for any size up to the current one can
//! be computed from them. Proof checking follows transparency-dev/merkle, whose probes
//! (including the corrupted ones) the tests run.

use sha2::{Digest, Sha256};

use crate::LedgerError;

/// A SHA-256 Merkle tree hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub const LEN: usize = 32;

    pub fn from_slice(b: &[u8]) -> Result<Self, LedgerError> {
        let arr: [u8; 32] = b.try_into().map_err(|_| LedgerError::HashLength(b.len()))?;
        Ok(Hash(arr))
    }

    pub fn from_hex(s: &str) -> Result<Self, LedgerError> {
        let bytes = crate::hex_decode(s).ok_or_else(|| LedgerError::Malformed {
            what: "hash",
            reason: "not hexadecimal".into(),
        })?;
        Self::from_slice(&bytes)
    }

    pub fn from_base64(s: &str) -> Result<Self, LedgerError> {
        let bytes = crate::b64_decode(s).ok_or_else(|| LedgerError::Malformed {
            what: "hash",
            reason: "not base64".into(),
        })?;
        Self::from_slice(&bytes)
    }

    pub fn to_hex(&self) -> String {
        crate::hex_encode(&self.0)
    }

    pub fn to_base64(&self) -> String {
        crate::b64_encode(&self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// The hash of a leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    Hash(h.finalize().into())
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// Where stored hashes come from: memory, a database, tiles fetched over HTTP.
pub trait HashReader {
    /// The hashes at the given stored-hash indexes, in the same order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LedgerError>;
}

/// All stored hashes of a tree in one vector, indexed by stored-hash index.
impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LedgerError> {
        indexes
            .iter()
            .map(|&i| {
                self.get(i as usize)
                    .copied()
                    .ok_or(LedgerError::MissingHash(i))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LedgerError> {
        self.as_slice().read_hashes(indexes)
    }
}

/// The stored-hash index of the `n`-th hash at `level` (level 0: leaves).
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    // Level L's n-th hash is written right after level L+1's 2n+1-th hash: work down to the
    // level-0 ordering.
    let mut n = n;
    for _ in 0..level {
        n = 2 * n + 1;
    }
    // Level 0's n-th hash is written at n + n/2 + n/4 + ...
    let mut i = 0u64;
    let mut m = n;
    while m > 0 {
        i += m;
        m >>= 1;
    }
    i + level as u64
}

/// The inverse of [`stored_hash_index`]: `(level, n)`.
pub fn split_stored_hash_index(index: u64) -> (u32, u64) {
    // stored_hash_index(0, n) < 2n, so n is in [index/2, index/2 + log2(index)].
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    debug_assert!(index_n <= index);
    loop {
        // Record n+1 adds 1 + trailing_zeros(n+1) hashes.
        let x = index_n + 1 + (n + 1).trailing_zeros() as u64;
        if x > index {
            break;
        }
        n += 1;
        index_n = x;
    }
    let level = (index - index_n) as u32;
    (level, n >> level)
}

/// How many hashes a tree of `n` records stores.
pub fn stored_hash_count(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut count = stored_hash_index(0, n - 1) + 1;
    let mut i = n - 1;
    while i & 1 != 0 {
        count += 1;
        i >>= 1;
    }
    count
}

/// The hashes to store, in order, when record `n` (0-based) with leaf hash `leaf` is appended
/// to a tree of `n` records: the leaf hash and the hashes of the subtrees it completes.
pub fn stored_hashes_for_leaf(
    n: u64,
    leaf: Hash,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, LedgerError> {
    let m = (n + 1).trailing_zeros();
    let mut indexes = vec![0u64; m as usize];
    for i in 0..m {
        // n >> i is odd: its left sibling n>>i - 1 is complete and stored.
        indexes[(m - 1 - i) as usize] = stored_hash_index(i, (n >> i) - 1);
    }
    let old = reader.read_hashes(&indexes)?;
    let mut hashes = Vec::with_capacity(1 + m as usize);
    let mut h = leaf;
    hashes.push(h);
    for i in 0..m as usize {
        h = node_hash(&old[m as usize - 1 - i], &h);
        hashes.push(h);
    }
    Ok(hashes)
}

/// The largest power of two strictly smaller than `n` (n >= 2), and its log2.
fn split_point(n: u64) -> (u64, u32) {
    debug_assert!(n >= 2);
    let l = 63 - (n - 1).leading_zeros();
    (1u64 << l, l)
}

/// The stored indexes of the complete subtrees that make up leaves `[lo, hi)`, left to right.
/// `lo` must be aligned to the first subtree (always true for the ranges RFC 6962 uses).
fn range_indexes(mut lo: u64, hi: u64, out: &mut Vec<u64>) {
    while lo < hi {
        // The largest power of two that fits in the remaining range.
        let level = 63 - (hi - lo).leading_zeros();
        let k = 1u64 << level;
        debug_assert_eq!(lo & (k - 1), 0, "unaligned subtree range");
        out.push(stored_hash_index(level, lo >> level));
        lo += k;
    }
}

/// MTH(D[lo:hi]) from the stored hashes.
pub fn subtree_hash(
    lo: u64,
    hi: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Hash, LedgerError> {
    if lo >= hi {
        return Ok(empty_root());
    }
    let mut idx = Vec::new();
    range_indexes(lo, hi, &mut idx);
    let hashes = reader.read_hashes(&idx)?;
    let mut h = *hashes.last().expect("non-empty range");
    for left in hashes.iter().rev().skip(1) {
        h = node_hash(left, &h);
    }
    Ok(h)
}

/// The root of the tree of the first `n` records.
pub fn tree_hash(n: u64, reader: &(impl HashReader + ?Sized)) -> Result<Hash, LedgerError> {
    subtree_hash(0, n, reader)
}

/// The inclusion proof of record `index` in the tree of size `size` (RFC 6962 PATH).
pub fn inclusion_proof(
    index: u64,
    size: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, LedgerError> {
    if index >= size {
        return Err(LedgerError::Proof(format!(
            "index {index} is beyond the tree size {size}"
        )));
    }
    let mut out = Vec::new();
    path(index, 0, size, reader, &mut out)?;
    Ok(out)
}

fn path(
    m: u64,
    lo: u64,
    hi: u64,
    reader: &(impl HashReader + ?Sized),
    out: &mut Vec<Hash>,
) -> Result<(), LedgerError> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let (k, _) = split_point(n);
    if m < k {
        path(m, lo, lo + k, reader, out)?;
        out.push(subtree_hash(lo + k, hi, reader)?);
    } else {
        path(m - k, lo + k, hi, reader, out)?;
        out.push(subtree_hash(lo, lo + k, reader)?);
    }
    Ok(())
}

/// The consistency proof between the trees of sizes `m` and `n` (RFC 6962 PROOF), for
/// `0 < m <= n`. An empty proof for `m == n`.
pub fn consistency_proof(
    m: u64,
    n: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, LedgerError> {
    if m == 0 || m > n {
        return Err(LedgerError::Proof(format!(
            "no consistency proof from size {m} to size {n}"
        )));
    }
    let mut out = Vec::new();
    if m < n {
        subproof(m, 0, n, true, reader, &mut out)?;
    }
    Ok(out)
}

fn subproof(
    m: u64,
    lo: u64,
    hi: u64,
    complete: bool,
    reader: &(impl HashReader + ?Sized),
    out: &mut Vec<Hash>,
) -> Result<(), LedgerError> {
    let n = hi - lo;
    if m == n {
        if !complete {
            out.push(subtree_hash(lo, hi, reader)?);
        }
        return Ok(());
    }
    let (k, _) = split_point(n);
    if m <= k {
        subproof(m, lo, lo + k, complete, reader, out)?;
        out.push(subtree_hash(lo + k, hi, reader)?);
    } else {
        subproof(m - k, lo + k, hi, false, reader, out)?;
        out.push(subtree_hash(lo, lo + k, reader)?);
    }
    Ok(())
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is beyond the tree size {size}")]
    IndexBeyondSize { index: u64, size: u64 },
    #[error("the proof has {got} hashes, {want} expected")]
    WrongProofSize { got: usize, want: usize },
    #[error("the second size {size2} is smaller than the first {size1}")]
    SizesDecrease { size1: u64, size2: u64 },
    #[error("equal sizes need an empty proof")]
    ProofNotEmpty,
    #[error("a consistency proof from the empty tree is meaningless")]
    FromEmptyTree,
    #[error("the proof is empty")]
    EmptyProof,
    #[error("a hash has {0} bytes, 32 expected")]
    BadHashLength(usize),
    #[error("the computed root differs from the expected root")]
    RootBytesMismatch,
    #[error("the computed root {computed} differs from the expected root {expected}")]
    RootMismatch { computed: Hash, expected: Hash },
}

fn inclusion_decomposition(index: u64, size: u64) -> (usize, usize) {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    (inner as usize, border as usize)
}

fn chain_inner(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    let mut h = seed;
    for (i, p) in proof.iter().enumerate() {
        h = if (index >> i) & 1 == 0 {
            node_hash(&h, p)
        } else {
            node_hash(p, &h)
        };
    }
    h
}

fn chain_inner_right(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    let mut h = seed;
    for (i, p) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            h = node_hash(p, &h);
        }
    }
    h
}

fn chain_border_right(seed: Hash, proof: &[Hash]) -> Hash {
    proof.iter().fold(seed, |h, p| node_hash(p, &h))
}

fn check_match(computed: Hash, expected: Hash) -> Result<(), ProofError> {
    if computed == expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch { computed, expected })
    }
}

/// The root an inclusion proof leads to.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let (inner, border) = inclusion_decomposition(index, size);
    if proof.len() != inner + border {
        return Err(ProofError::WrongProofSize {
            got: proof.len(),
            want: inner + border,
        });
    }
    let h = chain_inner(leaf, &proof[..inner], index);
    Ok(chain_border_right(h, &proof[inner..]))
}

/// Checks that the record with leaf hash `leaf` is at `index` in the tree of `size` with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: Hash,
    proof: &[Hash],
    root: Hash,
) -> Result<(), ProofError> {
    check_match(root_from_inclusion_proof(index, size, leaf, proof)?, root)
}

/// Checks that the tree of `size2` with `root2` extends the tree of `size1` with `root1`.
///
/// transparency-dev semantics: equal sizes need an empty proof and equal roots; any proof from
/// the empty tree (size1 = 0, even to size 0) is an error. (C2SP tlog-witness accepts old size 0 with
/// an empty proof; [`verify_consistency_or_empty`] is that rule.)
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: Hash,
    root2: Hash,
) -> Result<(), ProofError> {
    if size2 < size1 {
        return Err(ProofError::SizesDecrease { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::ProofNotEmpty);
        }
        return check_match(root1, root2);
    }
    if proof.is_empty() {
        return Err(ProofError::EmptyProof);
    }
    let (inner, border) = inclusion_decomposition(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner - shift;
    // The proof starts with the root of the subtree of size 2^shift, unless size1 is exactly
    // that subtree.
    let (seed, rest) = if size1 == 1u64 << shift {
        (root1, proof)
    } else {
        (proof[0], &proof[1..])
    };
    if rest.len() != inner + border {
        return Err(ProofError::WrongProofSize {
            got: proof.len(),
            want: inner + border + usize::from(size1 != 1u64 << shift),
        });
    }
    let mask = (size1 - 1) >> shift;
    let h1 = chain_inner_right(seed, &rest[..inner], mask);
    let h1 = chain_border_right(h1, &rest[inner..]);
    check_match(h1, root1)?;
    let h2 = chain_inner(seed, &rest[..inner], mask);
    let h2 = chain_border_right(h2, &rest[inner..]);
    check_match(h2, root2)
}

/// [`verify_consistency`] with the C2SP tlog-witness rule for the empty tree: any tree is
/// consistent with size 0 given an empty proof.
pub fn verify_consistency_or_empty(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: Hash,
    root2: Hash,
) -> Result<(), ProofError> {
    if size1 == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::ProofNotEmpty)
        };
    }
    verify_consistency(size1, size2, proof, root1, root2)
}

/// [`verify_inclusion`] on raw bytes, as proofs arrive from outside (transparency-dev's
/// API): the leaf hash and every proof element must be 32 bytes.
pub fn verify_inclusion_raw(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[&[u8]],
    root: &[u8],
) -> Result<(), ProofError> {
    let leaf = Hash::from_slice(leaf).map_err(|_| ProofError::BadHashLength(leaf.len()))?;
    let proof = raw_hashes(proof)?;
    let computed = root_from_inclusion_proof(index, size, leaf, &proof)?;
    if computed.0.as_slice() == root {
        Ok(())
    } else {
        Err(ProofError::RootBytesMismatch)
    }
}

/// [`verify_consistency`] on raw bytes. Equal sizes compare the two roots byte for byte,
/// whatever their length; otherwise every hash must be 32 bytes.
pub fn verify_consistency_raw(
    size1: u64,
    size2: u64,
    proof: &[&[u8]],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size2 < size1 {
        return Err(ProofError::SizesDecrease { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::ProofNotEmpty);
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::RootBytesMismatch)
        };
    }
    let r1 = Hash::from_slice(root1).map_err(|_| ProofError::BadHashLength(root1.len()))?;
    let r2 = Hash::from_slice(root2).map_err(|_| ProofError::BadHashLength(root2.len()))?;
    verify_consistency(size1, size2, &raw_hashes(proof)?, r1, r2)
}

fn raw_hashes(proof: &[&[u8]]) -> Result<Vec<Hash>, ProofError> {
    proof
        .iter()
        .map(|p| Hash::from_slice(p).map_err(|_| ProofError::BadHashLength(p.len())))
        .collect()
}

/// A tree kept in memory: every stored hash in one vector. The server keeps one beside the
/// database (64 bytes a record) so heads and proofs never wait on a query.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    hashes: Vec<Hash>,
    size: u64,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree from stored hashes read back from storage; checks the count fits `size`.
    pub fn from_stored(size: u64, hashes: Vec<Hash>) -> Result<Self, LedgerError> {
        if hashes.len() as u64 != stored_hash_count(size) {
            return Err(LedgerError::Malformed {
                what: "stored hashes",
                reason: format!(
                    "{} hashes for {size} records, {} expected",
                    hashes.len(),
                    stored_hash_count(size)
                ),
            });
        }
        Ok(Self { hashes, size })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The hashes appending `leaf` would store, without changing the tree.
    pub fn hashes_for_next(&self, leaf: Hash) -> Result<Vec<Hash>, LedgerError> {
        stored_hashes_for_leaf(self.size, leaf, self.hashes.as_slice())
    }

    /// Appends one record by its leaf hash; returns its index.
    pub fn push_leaf(&mut self, leaf: Hash) -> u64 {
        let new = self
            .hashes_for_next(leaf)
            .expect("a memory tree has every hash it needs");
        self.hashes.extend(new);
        self.size += 1;
        self.size - 1
    }

    /// Appends the hashes computed by [`Self::hashes_for_next`] (for callers that persisted
    /// them first).
    pub fn extend_stored(&mut self, hashes: &[Hash]) {
        self.hashes.extend_from_slice(hashes);
        self.size += 1;
        debug_assert_eq!(self.hashes.len() as u64, stored_hash_count(self.size));
    }

    /// Forgets everything after the first `size` records (to undo a batch that failed to
    /// commit).
    pub fn truncate(&mut self, size: u64) {
        if size < self.size {
            self.hashes.truncate(stored_hash_count(size) as usize);
            self.size = size;
        }
    }

    pub fn root(&self) -> Hash {
        self.root_at(self.size).expect("current size is available")
    }

    pub fn root_at(&self, size: u64) -> Result<Hash, LedgerError> {
        self.check_size(size)?;
        tree_hash(size, self.hashes.as_slice())
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(size)?;
        inclusion_proof(index, size, self.hashes.as_slice())
    }

    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(n)?;
        consistency_proof(m, n, self.hashes.as_slice())
    }

    pub fn leaf(&self, index: u64) -> Result<Hash, LedgerError> {
        if index >= self.size {
            return Err(LedgerError::Proof(format!(
                "index {index} is beyond the tree size {}",
                self.size
            )));
        }
        Ok(self.hashes[stored_hash_index(0, index) as usize])
    }

    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        if size > self.size {
            return Err(LedgerError::Proof(format!(
                "size {size} is beyond the tree size {}",
                self.size
            )));
        }
        Ok(())
    }
}

/// The root of a list of leaf hashes, computed directly by the RFC 6962 recursion (an
/// independent check of the stored-hash code, and what `trama verify` uses on a download).
pub fn root_of_leaves(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let (k, _) = split_point(n as u64);
            let k = k as usize;
            node_hash(&root_of_leaves(&leaves[..k]), &root_of_leaves(&leaves[k..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_index_roundtrip() {
        for i in 0..5000u64 {
            let (l, n) = split_stored_hash_index(i);
            assert_eq!(stored_hash_index(l, n), i, "index {i}");
        }
    }

    #[test]
    fn memory_tree_agrees_with_recursion() {
        let mut t = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..200u32 {
            let l = leaf_hash(format!("leaf {i}").as_bytes());
            leaves.push(l);
            t.push_leaf(l);
            assert_eq!(t.hashes().len() as u64, stored_hash_count(t.size()));
            assert_eq!(t.root(), root_of_leaves(&leaves), "size {}", i + 1);
        }
        for size in 1..=200u64 {
            let root = t.root_at(size).unwrap();
            for index in (0..size).step_by(7) {
                let p = t.inclusion_proof(index, size).unwrap();
                verify_inclusion(index, size, leaves[index as usize], &p, root).unwrap();
            }
            for m in (1..=size).step_by(5) {
                let p = t.consistency_proof(m, size).unwrap();
                verify_consistency(m, size, &p, t.root_at(m).unwrap(), root).unwrap();
            }
        }
    }
}
