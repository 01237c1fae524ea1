//! Modeled byte costs: server memory of a session context, and traffic per primitive per syntax.

use super::params::{ContextBytes, MessageBytes, SyntaxBytes};

/// The CSP syntax chosen at login, fixed for the session (S3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Syntax {
    /// XML (`xml`).
    Xml = 0,
    /// WBXML, binary XML (`wbxml`).
    Wbxml = 1,
    /// PTS, the plain-text syntax (`pts`).
    Pts = 2,
}

impl Syntax {
    /// Every syntax, in the order of their columns (`bytes_xml`, `bytes_wbxml`, `bytes_pts`).
    pub const ALL: [Syntax; 3] = [Syntax::Xml, Syntax::Wbxml, Syntax::Pts];
    /// Name in scenarios and summary columns: `xml`, `wbxml` or `pts`.
    pub fn name(self) -> &'static str {
        match self {
            Syntax::Xml => "xml",
            Syntax::Wbxml => "wbxml",
            Syntax::Pts => "pts",
        }
    }
    pub(crate) fn from_name(s: &str) -> Option<Syntax> {
        Syntax::ALL.into_iter().find(|x| x.name() == s)
    }
    pub(crate) fn from_index(i: u8) -> Syntax {
        Syntax::ALL[i as usize]
    }
}

/// Declares `Primitive` from one row per variant (its trace name and its summary-column key), so
/// that the list, its order, `ALL`, `COUNT` and every name cannot drift apart: a new primitive is
/// one row here, and the compiler then names every `match` that must handle it (its bytes in
/// `MessageBytes::of`, its SAP work in `Sap::new`, the step that sends it).
macro_rules! primitives {
    ($($(#[$doc:meta])* $v:ident => $name:literal, $key:literal;)*) => {
        /// The transactions the model sends, named as in the CSP.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Primitive {
            $($(#[$doc])* $v,)*
        }

        impl Primitive {
            /// Every primitive, in the order of their columns.
            pub const ALL: [Primitive; Primitive::COUNT] = [$(Primitive::$v,)*];
            pub(crate) const COUNT: usize = [$(Primitive::$v,)*].len();
            /// Name in the trace.
            pub fn name(self) -> &'static str {
                match self {
                    $(Primitive::$v => $name,)*
                }
            }
            /// Name in summary columns (tx_<key>, bytes_<key>).
            pub(crate) fn key(self) -> &'static str {
                match self {
                    $(Primitive::$v => $key,)*
                }
            }
        }
    };
}

primitives! {
    /// LoginRequest: a fresh login, or a recovery carrying the old Session-ID; twice with 4-way.
    Login => "Login", "login";
    /// KeepAlive: after `keepalive_ratio` x TTL without a transaction, or as a probe after an outage.
    KeepAlive => "KeepAlive", "keepalive";
    /// Logout: the user ends the session.
    Logout => "Logout", "logout";
    /// SAP-initiated (S8).
    Disconnect => "Disconnect", "disconnect";
    /// ServiceNegotiation after a fresh login.
    Service => "Service", "service_negotiation";
    /// ClientCapability negotiation after a fresh login.
    ClientCapability => "ClientCapability", "capability_negotiation";
    /// One per presence subscription of the context, set up after a fresh login (S14).
    SubscribePresence => "SubscribePresence", "subscribe_presence";
    /// One per general-notification subscription of the context, set up after a fresh login (S14).
    SubscribeNotification => "SubscribeNotification", "subscribe_notification";
    /// One per joined group of the context, set up after a fresh login (S14).
    JoinGroup => "JoinGroup", "join_group";
    /// Version discovery after the SAP refused the client's version.
    VersionDiscovery => "VersionDiscovery", "version_discovery";
    /// Other inband transactions (IM, presence updates), at the intervals of `client.activity`.
    Activity => "Activity", "activity";
}

/// Each primitive's row of the message-size table (an exhaustive match: a new primitive
/// does not compile until it has one).
impl MessageBytes {
    /// The sizes of primitive `p`.
    pub fn of(&self, p: Primitive) -> &SyntaxBytes {
        match p {
            Primitive::Login => &self.login,
            Primitive::KeepAlive => &self.keepalive,
            Primitive::Logout => &self.logout,
            Primitive::Disconnect => &self.disconnect,
            Primitive::Service => &self.service_negotiation,
            Primitive::ClientCapability => &self.capability_negotiation,
            Primitive::SubscribePresence => &self.subscribe_presence,
            Primitive::SubscribeNotification => &self.subscribe_notification,
            Primitive::JoinGroup => &self.join_group,
            Primitive::VersionDiscovery => &self.version_discovery,
            Primitive::Activity => &self.activity,
        }
    }
}

/// Bytes per primitive per syntax, as a flat lookup table.
#[derive(Clone, Debug)]
pub struct TrafficCost {
    table: [[u32; 3]; Primitive::COUNT],
}

impl TrafficCost {
    /// The lookup table of a scenario's message sizes.
    pub fn new(m: &MessageBytes) -> Self {
        TrafficCost { table: Primitive::ALL.map(|p| m.of(p)).map(|b| [b.xml, b.wbxml, b.pts]) }
    }

    /// Bytes of one exchange (request plus response) of primitive `p` in syntax `s`.
    #[inline]
    pub fn bytes(&self, p: Primitive, s: Syntax) -> u32 {
        self.table[p as usize][s as usize]
    }
}

/// Sizes of the five context parts (S14).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ContextShape {
    pub(crate) services: u16,
    pub(crate) capabilities: u16,
    pub(crate) presence: u16,
    pub(crate) notifications: u16,
    pub(crate) groups: u16,
}

/// The parts of a context rebuilt one transaction each after a fresh login: what a client
/// keeps of its shape (the rest is recomputed from its profile when a session starts or ends).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rebuild {
    pub(crate) presence: u16,
    pub(crate) notifications: u16,
    pub(crate) groups: u16,
}

impl ContextShape {
    pub(crate) fn rebuild(&self) -> Rebuild {
        Rebuild { presence: self.presence, notifications: self.notifications, groups: self.groups }
    }

    /// Bytes the context holds, saturating at u32::MAX (4 GiB): a count times a per-item cost
    /// can exceed 32 bits (65,535 items of 65,537 bytes), and a wrapped size would be tiny.
    pub(crate) fn memory(&self, c: &ContextBytes) -> u32 {
        let part = |n: u16, per: u32| n as u64 * per as u64;
        let total = c.base as u64
            + part(self.services, c.per_service)
            + part(self.capabilities, c.per_capability)
            + part(self.presence, c.per_presence_subscription)
            + part(self.notifications, c.per_notification_subscription)
            + part(self.groups, c.per_joined_group);
        u32::try_from(total).unwrap_or(u32::MAX)
    }
}

impl Rebuild {
    /// Transactions needed to rebuild the subscriptions and groups after a fresh login,
    /// and the items the SAP re-establishes on a recovery (S19).
    pub(crate) fn rebuild_items(&self) -> u32 {
        self.presence as u32 + self.notifications as u32 + self.groups as u32
    }

    /// The primitive of the i-th rebuild transaction: presence first, then notifications, then groups.
    pub(crate) fn rebuild_primitive(&self, i: u32) -> Primitive {
        if i < self.presence as u32 {
            Primitive::SubscribePresence
        } else if i < self.presence as u32 + self.notifications as u32 {
            Primitive::SubscribeNotification
        } else {
            Primitive::JoinGroup
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_memory_saturates_instead_of_wrapping() {
        let c = ContextBytes {
            base: 100,
            per_service: 1,
            per_capability: 2,
            per_presence_subscription: 65_537,
            per_notification_subscription: 3,
            per_joined_group: 4,
        };
        let small = ContextShape { services: 1, capabilities: 1, presence: 1, notifications: 1, groups: 1 };
        assert_eq!(small.memory(&c), 100 + 1 + 2 + 65_537 + 3 + 4, "every part counted once");
        let big = ContextShape { presence: 65_535, ..small };
        // 65,535 x 65,537 = 4,295,032,895 > u32::MAX: saturates (the wrapped value was 130 KiB).
        assert_eq!(big.memory(&c), u32::MAX);
        let just_fits = ContextShape { presence: 65_535, ..Default::default() };
        let c2 = ContextBytes { base: 0, per_presence_subscription: 65_537, ..c };
        assert_eq!(just_fits.memory(&ContextBytes { per_presence_subscription: 65_536, ..c2 }), 65_535 * 65_536);
    }

    #[test]
    fn names_are_the_csp_primitives_and_the_documented_columns() {
        let names: Vec<&str> = Primitive::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            [
                "Login",
                "KeepAlive",
                "Logout",
                "Disconnect",
                "Service",
                "ClientCapability",
                "SubscribePresence",
                "SubscribeNotification",
                "JoinGroup",
                "VersionDiscovery",
                "Activity"
            ]
        );
        let keys: Vec<&str> = Primitive::ALL.iter().map(|p| p.key()).collect();
        assert_eq!(
            keys,
            [
                "login",
                "keepalive",
                "logout",
                "disconnect",
                "service_negotiation",
                "capability_negotiation",
                "subscribe_presence",
                "subscribe_notification",
                "join_group",
                "version_discovery",
                "activity"
            ]
        );
        for s in Syntax::ALL {
            assert_eq!(Syntax::from_name(s.name()), Some(s));
            assert_eq!(Syntax::from_index(s as u8), s);
        }
        assert_eq!(Syntax::ALL.map(|s| s.name()), ["xml", "wbxml", "pts"]);
        assert_eq!(Syntax::from_name("json"), None);
    }
}
