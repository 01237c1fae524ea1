//! The context store's retention: a context is kept for the retention period (or until
//! replaced), evicted oldest-first under a cap (S16), replaced by its client's next fresh login
//! (S16), and expires on time. A context that leaves records why, for a later 502's reason.

use super::event::{Event, MAX_CLIENTS};
use super::{Observer, Sim};
use crate::engine::time::{NEVER, SimDuration};
use crate::model::context::{Gone, NONE};
use crate::model::params::ReplaceScope;
use crate::model::protocol::Protocol;

impl<O: Observer, P: Protocol> Sim<O, P> {
    /// S16: a new session of a client replaces the context it left behind; with the `user`
    /// scope, also those of the user's other clients.
    pub(super) fn replace_retained(&mut self, c: usize) {
        let slots = match self.p.store.replace_scope {
            ReplaceScope::Client => c..c + 1,
            ReplaceScope::User => {
                // The user owning slot c: user_first is ascending.
                let user = self.user_first.partition_point(|&first| first as usize <= c) - 1;
                self.user_first[user] as usize..self.user_first[user + 1] as usize
            }
        };
        for s in slots {
            let idx = self.clients[s].retained;
            let Some(owner_identity) = self.sap.store.get(idx).map(|e| e.identity) else { continue };
            let same_client = owner_identity == self.clients[s].identity;
            if same_client {
                self.sap.store.remove(idx);
                self.m.c.gone[Gone::Replaced as usize] += 1;
                self.clients[s].fate = Gone::Replaced;
            }
            // A context of an earlier Client-ID is not this client's (S17): it stays, orphaned.
            if s == c || same_client {
                self.clients[s].retained = NONE;
            }
        }
        self.update_gauges();
    }

    /// Put a context in the store for `hold` (None: until replaced), evicting the oldest while
    /// a cap would be exceeded.
    pub(super) fn retain(&mut self, c: usize, sid: u64, identity: u32, bytes: u32, hold: Option<SimDuration>) {
        if !self.sap.store.fits_at_all(bytes) {
            self.m.c.gone[Gone::Evicted as usize] += 1;
            self.clients[c].fate = Gone::Evicted;
            return;
        }
        while let Some(v) = self.sap.store.eviction_victim(bytes) {
            let e = self.sap.store.remove(v);
            self.forget(e.client as usize, v, Gone::Evicted);
        }
        let expires = match hold {
            Some(r) => self.proto.expires_at(self.now, r),
            None => NEVER,
        };
        let idx = self.sap.store.insert((sid, expires, c as u32, identity, bytes));
        // An expiry event names the index in 29 bits: 2^29 retained contexts need > 25 GB.
        assert!(idx < MAX_CLIENTS, "more than {MAX_CLIENTS} retained contexts at once");
        self.clients[c].retained = idx;
        if expires != NEVER {
            self.push(expires, Event::expiry(idx));
        }
    }

    /// A retained context left the store for `why`: count it, and if it was its client's
    /// latest, record why for a later recovery attempt.
    pub(super) fn forget(&mut self, owner: usize, idx: u32, why: Gone) {
        self.m.c.gone[why as usize] += 1;
        let o = &mut self.clients[owner];
        if o.retained == idx {
            o.retained = NONE;
            o.fate = why;
        }
    }

    pub(super) fn on_expiry(&mut self, idx: u32) {
        match self.sap.store.get(idx) {
            Some(e) if e.expires_at == self.now => {
                self.m.c.events += 1;
                let e = self.sap.store.remove(idx);
                self.forget(e.client as usize, idx, Gone::Expired);
                self.update_gauges();
            }
            _ => {}
        }
    }
}
