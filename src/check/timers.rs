//! One deadline per check in an indexed binary min-heap: setting,
//! moving or clearing a check's deadline is O(log n), finding the earliest
//! is O(1), and memory is fixed (`N` entries, each check at most once).

use crate::time::Instant;

/// Marks "not in the heap" in the position table.
const ABSENT: u16 = u16::MAX;

/// The deadlines of up to `N` ids (`0..N`).
pub struct TimerHeap<const N: usize> {
    /// Ids in heap order.
    heap: [u16; N],
    /// The deadline of each id (meaningful while it is in the heap).
    at: [Instant; N],
    /// Where each id is in `heap`, or [`ABSENT`].
    pos: [u16; N],
    len: usize,
}

impl<const N: usize> Default for TimerHeap<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TimerHeap<N> {
    /// No deadlines.
    pub const fn new() -> Self {
        TimerHeap {
            heap: [0; N],
            at: [Instant::ZERO; N],
            pos: [ABSENT; N],
            len: 0,
        }
    }

    /// Deadlines set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no deadline is set.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The deadline of `id`.
    pub fn get(&self, id: u16) -> Option<Instant> {
        let i = usize::from(id);
        (self.pos.get(i).copied().unwrap_or(ABSENT) != ABSENT).then(|| self.at[i])
    }

    /// The earliest deadline and its id.
    pub fn peek(&self) -> Option<(u16, Instant)> {
        (self.len > 0).then(|| {
            let id = self.heap[0];
            (id, self.at[usize::from(id)])
        })
    }

    /// Sets (or moves, or with `None` clears) the deadline of `id`; ids
    /// `>= N` are ignored.
    pub fn set(&mut self, id: u16, at: Option<Instant>) {
        let i = usize::from(id);
        if i >= N {
            return;
        }
        let p = self.pos[i];
        match (p != ABSENT, at) {
            (false, None) => {}
            (false, Some(t)) => {
                self.at[i] = t;
                let k = self.len;
                self.heap[k] = id;
                self.pos[i] = k as u16;
                self.len += 1;
                self.up(k);
            }
            (true, Some(t)) => {
                let old = self.at[i];
                self.at[i] = t;
                if t < old {
                    self.up(usize::from(p));
                } else {
                    self.down(usize::from(p));
                }
            }
            (true, None) => {
                let k = usize::from(p);
                self.len -= 1;
                let last = self.len;
                self.pos[i] = ABSENT;
                if k != last {
                    let moved = self.heap[last];
                    self.heap[k] = moved;
                    self.pos[usize::from(moved)] = k as u16;
                    self.up(k);
                    self.down(usize::from(self.pos[usize::from(moved)]));
                }
            }
        }
    }

    fn key(&self, k: usize) -> Instant {
        self.at[usize::from(self.heap[k])]
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[usize::from(self.heap[a])] = a as u16;
        self.pos[usize::from(self.heap[b])] = b as u16;
    }

    fn up(&mut self, mut k: usize) {
        while k > 0 {
            let parent = (k - 1) / 2;
            if self.key(k) >= self.key(parent) {
                break;
            }
            self.swap(k, parent);
            k = parent;
        }
    }

    fn down(&mut self, mut k: usize) {
        loop {
            let l = 2 * k + 1;
            let r = l + 1;
            let mut m = k;
            if l < self.len && self.key(l) < self.key(m) {
                m = l;
            }
            if r < self.len && self.key(r) < self.key(m) {
                m = r;
            }
            if m == k {
                break;
            }
            self.swap(k, m);
            k = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any sequence of sets and clears: peek is the minimum of what a
        /// plain table holds.
        #[test]
        fn peek_is_the_minimum(ops in proptest::collection::vec((0u16..16, proptest::option::of(0i64..1000)), 0..200)) {
            let mut h: TimerHeap<16> = TimerHeap::new();
            let mut plain: [Option<i64>; 16] = [None; 16];
            for (id, at) in ops {
                h.set(id, at.map(Instant::from_millis));
                plain[usize::from(id)] = at;
                let min = plain.iter().flatten().min().copied();
                prop_assert_eq!(h.peek().map(|(_, t)| t.total_millis()), min);
                prop_assert_eq!(h.len(), plain.iter().flatten().count());
                for (i, p) in plain.iter().enumerate() {
                    prop_assert_eq!(h.get(i as u16).map(|t| t.total_millis()), *p);
                }
            }
        }
    }
}
