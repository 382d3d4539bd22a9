//! [`Shared`]: a large part of a model state that successor states share until one of them
//! writes it.
//!
//! Why: the model checker clones every state it expands once per successor, hashes every
//! successor for its fingerprint, and drops most of them (two in three are states it has
//! already seen). A model step changes one or two hosts or processes, or the file server,
//! a migration or the ghost Unix, and leaves the rest as it was; copying and hashing all of
//! it for every successor was a third of the checker's time (`specs/model-scope.md`,
//! Figures). A `Shared` part is behind a reference count: cloning the state copies a
//! pointer, the first write through [`DerefMut`](std::ops::DerefMut) copies the part
//! (`Arc::make_mut`), and the part's hash is computed once per distinct copy and remembered.
//!
//! What stays as it was: equality, ordering, `Debug` and serde are the value's own, so a
//! state prints, compares and serialises exactly as before. Hashing writes the value's own
//! 64-bit hash (aHash with fixed keys, the same in every run of one build) instead of its fields: equal
//! values still hash equally, which is all a fingerprint needs; two different values of one
//! part collide with probability 2^-64, the same order as the checker's own 64-bit
//! fingerprints colliding.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The hasher of a part's own hash: aHash (what stateright's fingerprints use) with fixed
/// keys, so a value hashes the same in every run of one build.
const HASH_KEYS: ahash::RandomState = ahash::RandomState::with_seeds(
    0x5157_7269_7465_0001,
    0x5157_7269_7465_0002,
    0x5157_7269_7465_0003,
    0x5157_7269_7465_0004,
);

/// A value shared between states until written (see the module documentation).
pub struct Shared<T>(Arc<Node<T>>);

struct Node<T> {
    value: T,
    /// The value's hash once something asked for it, [`UNKNOWN`] until then and again
    /// after every write. An atomic rather than a `OnceLock`: two threads that both find it
    /// unknown compute the same number, so the race is harmless, and a relaxed load is all
    /// a reader pays (the `OnceLock`'s synchronisation was 2 % of the checker's time).
    hash: AtomicU64,
}

/// A hash not yet computed. A value whose hash is this number is remembered as
/// [`UNKNOWN_STANDIN`] instead, which every state does alike, so equal values still hash
/// equally.
const UNKNOWN: u64 = 0;
const UNKNOWN_STANDIN: u64 = 1;

impl<T: Clone> Clone for Node<T> {
    fn clone(&self) -> Self {
        Node {
            value: self.value.clone(),
            hash: AtomicU64::new(self.hash.load(Ordering::Relaxed)),
        }
    }
}

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Shared(Arc::new(Node {
            value,
            hash: AtomicU64::new(UNKNOWN),
        }))
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

/// A write: the value is copied first if another state shares it, and its remembered hash
/// is forgotten.
impl<T: Clone> std::ops::DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        let node = Arc::make_mut(&mut self.0);
        *node.hash.get_mut() = UNKNOWN;
        &mut node.value
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T: Default> Default for Shared<T> {
    fn default() -> Self {
        Shared::new(T::default())
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.value == other.0.value
    }
}

impl<T: Eq> Eq for Shared<T> {}

impl<T: PartialOrd> PartialOrd for Shared<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.0.value.partial_cmp(&other.0.value)
    }
}

impl<T: Ord> Ord for Shared<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.value.cmp(&other.0.value)
    }
}

impl<T: Hash> Hash for Shared<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut own = self.0.hash.load(Ordering::Relaxed);
        if own == UNKNOWN {
            own = HASH_KEYS.hash_one(&self.0.value);
            if own == UNKNOWN {
                own = UNKNOWN_STANDIN;
            }
            self.0.hash.store(own, Ordering::Relaxed);
        }
        state.write_u64(own);
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.value.fmt(f)
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.value.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Shared::new)
    }
}

#[cfg(test)]
mod tests {
    use super::Shared;
    use std::hash::{BuildHasher, Hash};

    fn hash_of<T: Hash>(x: &T) -> u64 {
        std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(x)
    }

    #[test]
    fn a_write_copies_a_shared_value_and_leaves_the_other_state_alone() {
        let a = Shared::new(vec![1, 2]);
        let mut b = a.clone();
        b.push(3);
        assert_eq!(*a, vec![1, 2]);
        assert_eq!(*b, vec![1, 2, 3]);
        assert_ne!(a, b);
    }

    #[test]
    fn equal_values_hash_equally_however_they_were_reached() {
        let a = Shared::new(vec![1, 2, 3]);
        let mut b = Shared::new(vec![1, 2]);
        let _ = hash_of(&b); // remembered, then forgotten by the write below
        b.push(3);
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        let mut c = a.clone();
        c.pop();
        assert_ne!(hash_of(&a), hash_of(&c));
        assert_eq!(hash_of(&c), hash_of(&Shared::new(vec![1, 2])));
    }

    #[test]
    fn debug_and_order_are_the_values_own() {
        let a = Shared::new(3u8);
        assert_eq!(format!("{a:?}"), "3");
        assert!(Shared::new(2u8) < a);
    }
}
