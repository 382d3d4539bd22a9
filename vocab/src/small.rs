//! Small ordered maps and sets stored inline: sorted vectors of at most a handful of
//! entries, which spill to the heap only beyond `N` entries.
//!
//! Why not `BTreeMap`: the model checker clones, hashes, compares and drops every state it
//! generates, millions of times a second, and a model state is dozens of tiny maps (a host's
//! streams, a process's descriptors, ...). A `BTreeMap` allocates a node for each non-empty
//! map and walks it for every clone and hash; these maps keep their few entries inside the
//! state itself, so cloning a state is one copy and dropping it frees nothing. They keep
//! `BTreeMap`'s semantics that matter here: iteration in key order, and equality, ordering
//! and hashing determined by the entries alone (so equal situations hash equally).
//!
//! The API is the subset of `BTreeMap`/`BTreeSet` the project uses, with the same names.
//! Lookups are binary searches; insertion and removal shift the entries after the slot, which
//! for the sizes here is a few bytes of copying.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
pub use smallvec::{smallvec, SmallVec};
use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

/// Bytes: a file's data, a pipe's contents, a process's memory. Inline up to 4 (the model's
/// files hold at most 3 symbols), on the heap beyond.
pub type Bytes = Inline<[u8; 4]>;

/// An ordered map of at most a few entries kept inline (see the module documentation).
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SmallMap<K, V, const N: usize = 4> {
    entries: SmallVec<[(K, V); N]>,
}

/// Cloning is the checker's hottest operation: an empty map (most of them) costs nothing,
/// and plain-data entries are copied in one block (see [`clone_items`]).
impl<K: Clone, V: Clone, const N: usize> Clone for SmallMap<K, V, N> {
    fn clone(&self) -> Self {
        SmallMap {
            entries: clone_items(&self.entries),
        }
    }
}

/// Clones a small vector. For an item type without drop glue (plain data: numbers, ids and
/// the model's records of them, all of which derive `Clone` field by field), the items are
/// copied as one block of bytes, which is what their derived `Clone` does one by one; for
/// any other item type, one `clone` each.
///
/// Why the block copy is sound: a type without drop glue owns no resource a copy could
/// duplicate (no heap memory, no handle, no reference count), and it cannot hold a `&mut`
/// (which has no `Clone`), so a bitwise copy of a valid value is a valid, independent value.
/// The only difference it could make is to skip a hand-written `Clone` with side effects,
/// which no type kept in these containers has.
fn clone_items<A: smallvec::Array>(items: &SmallVec<A>) -> SmallVec<A>
where
    A::Item: Clone,
{
    let len = items.len();
    let mut out = SmallVec::new();
    if len == 0 {
        return out;
    }
    out.reserve_exact(len);
    if std::mem::needs_drop::<A::Item>() {
        for x in items.iter() {
            out.push(x.clone());
        }
        return out;
    }
    // SAFETY: `out` has room for `len` items (reserved above), the two buffers are distinct,
    // and the items have no drop glue, so the bitwise copies are valid, independent values
    // (see above); `set_len` then covers exactly the items written.
    unsafe {
        std::ptr::copy_nonoverlapping(items.as_ptr(), out.as_mut_ptr(), len);
        out.set_len(len);
    }
    out
}

/// A small vector stored inline up to its array's length, with the fast clone of
/// [`clone_items`]; everything else is `SmallVec`'s (through `Deref`).
pub struct Inline<A: smallvec::Array>(pub SmallVec<A>);

impl<A: smallvec::Array> Default for Inline<A> {
    fn default() -> Self {
        Inline(SmallVec::new())
    }
}

impl<A: smallvec::Array> PartialEq for Inline<A>
where
    A::Item: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.0[..] == other.0[..]
    }
}

impl<A: smallvec::Array> Eq for Inline<A> where A::Item: Eq {}

impl<A: smallvec::Array> PartialOrd for Inline<A>
where
    A::Item: Ord,
{
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<A: smallvec::Array> Ord for Inline<A>
where
    A::Item: Ord,
{
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0[..].cmp(&other.0[..])
    }
}

impl<A: smallvec::Array> std::hash::Hash for Inline<A>
where
    A::Item: std::hash::Hash,
{
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0[..].hash(state)
    }
}

/// `Inline` from a list, as `vec!`: `inline![1, 2]`, `inline![0; n]`.
#[macro_export]
macro_rules! inline {
    ($($t:tt)*) => {
        $crate::small::Inline::from($crate::small::smallvec![$($t)*])
    };
}

impl<A: smallvec::Array> Inline<A> {
    pub fn new() -> Self {
        Inline(SmallVec::new())
    }
}

impl<A: smallvec::Array> Clone for Inline<A>
where
    A::Item: Clone,
{
    fn clone(&self) -> Self {
        Inline(clone_items(&self.0))
    }
}

impl<A: smallvec::Array> std::ops::Deref for Inline<A> {
    type Target = SmallVec<A>;
    fn deref(&self) -> &SmallVec<A> {
        &self.0
    }
}

impl<A: smallvec::Array> std::ops::DerefMut for Inline<A> {
    fn deref_mut(&mut self) -> &mut SmallVec<A> {
        &mut self.0
    }
}

impl<A: smallvec::Array> From<SmallVec<A>> for Inline<A> {
    fn from(v: SmallVec<A>) -> Self {
        Inline(v)
    }
}

impl<A: smallvec::Array> From<&[A::Item]> for Inline<A>
where
    A::Item: Clone,
{
    fn from(v: &[A::Item]) -> Self {
        Inline(SmallVec::from(v))
    }
}

impl<A: smallvec::Array> From<Vec<A::Item>> for Inline<A> {
    fn from(v: Vec<A::Item>) -> Self {
        Inline(SmallVec::from_vec(v))
    }
}

impl<A: smallvec::Array> FromIterator<A::Item> for Inline<A> {
    fn from_iter<I: IntoIterator<Item = A::Item>>(iter: I) -> Self {
        Inline(iter.into_iter().collect())
    }
}

impl<'a, A: smallvec::Array> IntoIterator for &'a Inline<A> {
    type Item = &'a A::Item;
    type IntoIter = std::slice::Iter<'a, A::Item>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, A: smallvec::Array> IntoIterator for &'a mut Inline<A> {
    type Item = &'a mut A::Item;
    type IntoIter = std::slice::IterMut<'a, A::Item>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

impl<A: smallvec::Array> fmt::Debug for Inline<A>
where
    A::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<A: smallvec::Array> Serialize for Inline<A>
where
    A::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, A: smallvec::Array> Deserialize<'de> for Inline<A>
where
    A::Item: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SmallVec::deserialize(d).map(Inline)
    }
}

impl<K, V, const N: usize> Default for SmallMap<K, V, N> {
    fn default() -> Self {
        SmallMap {
            entries: SmallVec::new(),
        }
    }
}

impl<K: Ord, V, const N: usize> SmallMap<K, V, N> {
    pub fn new() -> Self {
        Self::default()
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, N> {
        match self.find(&key) {
            Ok(i) => Entry::Occupied(OccupiedEntry {
                map: self,
                index: i,
            }),
            Err(i) => Entry::Vacant(VacantEntry {
                map: self,
                index: i,
                key,
            }),
        }
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut {
            inner: self.entries.iter_mut(),
        }
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = K> + ExactSizeIterator {
        self.entries.into_iter().map(|(k, _)| k)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }

    /// The entries whose keys are in `range`, in order.
    pub fn range<R: std::ops::RangeBounds<K>>(&self, range: R) -> Iter<'_, K, V> {
        use std::ops::Bound::*;
        let lo = match range.start_bound() {
            Included(k) => self.entries.partition_point(|(x, _)| x < k),
            Excluded(k) => self.entries.partition_point(|(x, _)| x <= k),
            Unbounded => 0,
        };
        let hi = match range.end_bound() {
            Included(k) => self.entries.partition_point(|(x, _)| x <= k),
            Excluded(k) => self.entries.partition_point(|(x, _)| x < k),
            Unbounded => self.entries.len(),
        };
        Iter {
            inner: self.entries[lo..hi.max(lo)].iter(),
        }
    }

    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// Keeps the entries for which `keep` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain(|(k, v)| keep(k, v));
    }
}

impl<K: Ord, V, Q: Ord + ?Sized, const N: usize> std::ops::Index<&Q> for SmallMap<K, V, N>
where
    K: Borrow<Q>,
{
    type Output = V;
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key present in SmallMap")
    }
}

/// A map entry, as `BTreeMap::entry` gives.
pub enum Entry<'a, K, V, const N: usize> {
    Occupied(OccupiedEntry<'a, K, V, N>),
    Vacant(VacantEntry<'a, K, V, N>),
}

pub struct OccupiedEntry<'a, K, V, const N: usize> {
    map: &'a mut SmallMap<K, V, N>,
    index: usize,
}

pub struct VacantEntry<'a, K, V, const N: usize> {
    map: &'a mut SmallMap<K, V, N>,
    index: usize,
    key: K,
}

impl<'a, K, V, const N: usize> OccupiedEntry<'a, K, V, N> {
    pub fn get(&self) -> &V {
        &self.map.entries[self.index].1
    }
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.map.entries[self.index].1
    }
    pub fn into_mut(self) -> &'a mut V {
        &mut self.map.entries[self.index].1
    }
    pub fn remove(self) -> V {
        self.map.entries.remove(self.index).1
    }
}

impl<'a, K, V, const N: usize> VacantEntry<'a, K, V, N> {
    pub fn insert(self, value: V) -> &'a mut V {
        self.map.entries.insert(self.index, (self.key, value));
        &mut self.map.entries[self.index].1
    }
}

impl<'a, K, V, const N: usize> Entry<'a, K, V, N> {
    pub fn or_insert(self, value: V) -> &'a mut V {
        self.or_insert_with(|| value)
    }
    pub fn or_insert_with(self, make: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(make()),
        }
    }
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }
    pub fn and_modify(mut self, f: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(o) = &mut self {
            f(o.get_mut());
        }
        self
    }
}

/// Iterator over `(&K, &V)` in key order.
#[derive(Clone)]
pub struct Iter<'a, K, V> {
    inner: std::slice::Iter<'a, (K, V)>,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(k, v)| (k, v))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

/// Iterator over `(&K, &mut V)` in key order.
pub struct IterMut<'a, K, V> {
    inner: std::slice::IterMut<'a, (K, V)>,
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (&*k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for IterMut<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(k, v)| (&*k, v))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}

impl<'a, K: Ord, V, const N: usize> IntoIterator for &'a SmallMap<K, V, N> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K: Ord, V, const N: usize> IntoIterator for &'a mut SmallMap<K, V, N> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K, V, const N: usize> IntoIterator for SmallMap<K, V, N> {
    type Item = (K, V);
    type IntoIter = smallvec::IntoIter<[(K, V); N]>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Ord, V, const N: usize> FromIterator<(K, V)> for SmallMap<K, V, N> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SmallMap::new();
        map.extend(iter);
        map
    }
}

impl<K: Ord, V, const N: usize> Extend<(K, V)> for SmallMap<K, V, N> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Ord, V, const N: usize, const M: usize> From<[(K, V); M]> for SmallMap<K, V, N> {
    fn from(entries: [(K, V); M]) -> Self {
        entries.into_iter().collect()
    }
}

impl<K: fmt::Debug, V: fmt::Debug, const N: usize> fmt::Debug for SmallMap<K, V, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K: Serialize, V: Serialize, const N: usize> Serialize for SmallMap<K, V, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>, const N: usize> Deserialize<'de>
    for SmallMap<K, V, N>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V, const N: usize>(PhantomData<(K, V)>);
        impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>, const N: usize> Visitor<'de>
            for MapVisitor<K, V, N>
        {
            type Value = SmallMap<K, V, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = SmallMap::new();
                while let Some((k, v)) = access.next_entry()? {
                    map.insert(k, v);
                }
                Ok(map)
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}

/// An ordered set of at most a few elements kept inline (see the module documentation).
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SmallSet<T, const N: usize = 4> {
    items: SmallVec<[T; N]>,
}

impl<T: Clone, const N: usize> Clone for SmallSet<T, N> {
    fn clone(&self) -> Self {
        SmallSet {
            items: clone_items(&self.items),
        }
    }
}

impl<T, const N: usize> Default for SmallSet<T, N> {
    fn default() -> Self {
        SmallSet {
            items: SmallVec::new(),
        }
    }
}

impl<T: Ord, const N: usize> SmallSet<T, N> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn clear(&mut self) {
        self.items.clear();
    }
    pub fn contains<Q: Ord + ?Sized>(&self, x: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.items.binary_search_by(|i| i.borrow().cmp(x)).is_ok()
    }
    /// Adds `x`; false if it was there already.
    pub fn insert(&mut self, x: T) -> bool {
        match self.items.binary_search(&x) {
            Ok(_) => false,
            Err(i) => {
                self.items.insert(i, x);
                true
            }
        }
    }
    /// Removes `x`; false if it was not there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, x: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self.items.binary_search_by(|i| i.borrow().cmp(x)) {
            Ok(i) => {
                self.items.remove(i);
                true
            }
            Err(_) => false,
        }
    }
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
    pub fn first(&self) -> Option<&T> {
        self.items.first()
    }
    pub fn last(&self) -> Option<&T> {
        self.items.last()
    }
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|x| keep(x));
    }
    pub fn is_subset(&self, other: &Self) -> bool {
        self.items.iter().all(|x| other.contains(x))
    }
}

impl<'a, T: Ord, const N: usize> IntoIterator for &'a SmallSet<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T, const N: usize> IntoIterator for SmallSet<T, N> {
    type Item = T;
    type IntoIter = smallvec::IntoIter<[T; N]>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<T: Ord, const N: usize> FromIterator<T> for SmallSet<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut set = SmallSet::new();
        set.extend(iter);
        set
    }
}

impl<T: Ord, const N: usize> Extend<T> for SmallSet<T, N> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for x in iter {
            self.insert(x);
        }
    }
}

impl<T: Ord, const N: usize, const M: usize> From<[T; M]> for SmallSet<T, N> {
    fn from(items: [T; M]) -> Self {
        items.into_iter().collect()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for SmallSet<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.items.iter()).finish()
    }
}

impl<T: Serialize, const N: usize> Serialize for SmallSet<T, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.items.len()))?;
        for x in &self.items {
            seq.serialize_element(x)?;
        }
        seq.end()
    }
}

impl<'de, T: Ord + Deserialize<'de>, const N: usize> Deserialize<'de> for SmallSet<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SeqVisitor<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Ord + Deserialize<'de>, const N: usize> Visitor<'de> for SeqVisitor<T, N> {
            type Value = SmallSet<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut set = SmallSet::new();
                while let Some(x) = access.next_element()? {
                    set.insert(x);
                }
                Ok(set)
            }
        }
        d.deserialize_seq(SeqVisitor(PhantomData))
    }
}

/// The smallest number in `0..=255` not in `used`, without allocating.
pub fn smallest_free(used: impl IntoIterator<Item = u8>) -> Option<u8> {
    let mut bits = [0u64; 4];
    for u in used {
        bits[(u >> 6) as usize] |= 1 << (u & 63);
    }
    bits.iter()
        .enumerate()
        .find(|(_, w)| **w != u64::MAX)
        .map(|(i, w)| (i as u32 * 64 + w.trailing_ones()) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Every operation gives what `BTreeMap` gives, on a deterministic mix of operations.
    #[test]
    fn map_behaves_like_btreemap() {
        let mut small: SmallMap<u8, u32, 2> = SmallMap::new();
        let mut btree: BTreeMap<u8, u32> = BTreeMap::new();
        let mut x: u32 = 12345;
        for step in 0..5000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let k = ((x >> 16) % 9) as u8;
            match (x >> 8) % 5 {
                0 | 1 => assert_eq!(small.insert(k, step), btree.insert(k, step)),
                2 => assert_eq!(small.remove(&k), btree.remove(&k)),
                3 => *small.entry(k).or_default() += 1,
                _ => small.retain(|k, v| !(*k as u32 + *v).is_multiple_of(7)),
            }
            match (x >> 8) % 5 {
                3 => *btree.entry(k).or_default() += 1,
                4 => btree.retain(|k, v| !(*k as u32 + *v).is_multiple_of(7)),
                _ => {}
            }
            assert!(small.iter().map(|(k, v)| (*k, *v)).eq(btree.clone()));
            assert_eq!(small.get(&k), btree.get(&k));
            assert_eq!(small.len(), btree.len());
            assert_eq!(
                small.first_key_value().map(|(k, v)| (*k, *v)),
                btree.first_key_value().map(|(k, v)| (*k, *v))
            );
        }
    }

    #[test]
    fn set_behaves_like_btreeset() {
        let mut small: SmallSet<u8, 2> = SmallSet::new();
        let mut btree: BTreeSet<u8> = BTreeSet::new();
        let mut x: u32 = 99;
        for _ in 0..5000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let k = ((x >> 16) % 9) as u8;
            if (x >> 8).is_multiple_of(2) {
                assert_eq!(small.insert(k), btree.insert(k));
            } else {
                assert_eq!(small.remove(&k), btree.remove(&k));
            }
            assert!(small.iter().eq(btree.iter()));
            assert_eq!(small.contains(&k), btree.contains(&k));
        }
    }

    #[test]
    fn equal_contents_compare_and_hash_equal_whatever_the_insertion_order() {
        use std::hash::{BuildHasher, RandomState};
        let a: SmallMap<u8, u8, 2> = [(1, 1), (2, 2), (3, 3)].into();
        let mut b: SmallMap<u8, u8, 2> = SmallMap::new();
        b.insert(3, 3);
        b.insert(1, 1);
        b.insert(2, 2);
        let rs = RandomState::new();
        assert_eq!(a, b);
        assert_eq!(rs.hash_one(&a), rs.hash_one(&b));
        let c: SmallMap<u8, u8, 2> = [(1, 1), (2, 2)].into();
        assert!(c < a, "ordered like BTreeMap: a prefix sorts first");
    }

    #[test]
    fn serde_round_trip() {
        let a: SmallMap<u8, u8> = [(1, 10), (2, 20)].into();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"1":10,"2":20}"#);
        let back: SmallMap<u8, u8> = serde_json::from_str(&json).unwrap();
        assert_eq!(a, back);
        let s: SmallSet<u8> = [3, 1].into();
        assert_eq!(serde_json::to_string(&s).unwrap(), "[1,3]");
    }

    #[test]
    fn smallest_free_finds_the_gap() {
        assert_eq!(smallest_free([]), Some(0));
        assert_eq!(smallest_free([0, 1, 3]), Some(2));
        assert_eq!(smallest_free(0..=63), Some(64));
        assert_eq!(smallest_free(0..=255), None);
    }
}
