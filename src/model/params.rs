//! Every setting of a run, with the defaults documented in README.md.
//!
//! These types derive serde so that the scenario loader at the edge can fill them from TOML;
//! the model itself never reads a file. Where the source says MAY or SHOULD, the setting's
//! default is the source's recommendation.
//!
//! Why one file of this length: it is the scenario's whole vocabulary, each setting with its
//! meaning and default, read as one reference (docs/extending.md: adding a field).

use super::dist::{CountDist, Dist, DurationDist};
use super::protocol::ProtocolName;
use crate::engine::time::{
    DAY, HOUR, MICROS, MILLIS, MINUTE, SECOND, SimDuration, format_duration, parse_duration, parse_size,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// A non-negative duration written like "30s".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub SimDuration);

/// A duration's text; a bare number is refused, saying a duration needs a unit.
fn duration_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let number = |n: String| {
        serde::de::Error::custom(format!(
            "{n} has no unit; a duration needs one: write it as a string, e.g. \"{n}s\", \"{n}m\" or \"{n}h\""
        ))
    };
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => Ok(s),
        toml::Value::Integer(n) => Err(number(n.to_string())),
        toml::Value::Float(x) => Err(number(x.to_string())),
        other => Err(serde::de::Error::custom(format!("expected a duration like \"30s\", found {}", other.type_str()))),
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = duration_text(d)?;
        parse_duration(&s).map(Dur).map_err(serde::de::Error::custom)
    }
}
impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

/// A duration or `infinite`: the granted/requested TimeToLive (S10) and the retention period (S16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Span {
    /// A duration.
    Finite(SimDuration),
    /// `infinite`: no limit.
    Infinite,
}

impl Span {
    pub(crate) fn duration(self) -> Option<SimDuration> {
        match self {
            Span::Finite(us) => Some(us),
            Span::Infinite => None,
        }
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = duration_text(d)?;
        if s.trim() == "infinite" {
            return Ok(Span::Infinite);
        }
        parse_duration(&s).map(Span::Finite).map_err(|e| serde::de::Error::custom(format!("{e}, or \"infinite\"")))
    }
}
impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Span::Finite(us) => s.serialize_str(&format_duration(*us)),
            Span::Infinite => s.serialize_str("infinite"),
        }
    }
}

/// A recurring process that may be switched off with "never".
#[derive(Clone, Debug, PartialEq)]
pub struct Every(pub Option<DurationDist>);

impl<'de> Deserialize<'de> for Every {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Peek for "never" without losing the distribution's own error messages.
        let v = toml::Value::deserialize(d)?;
        if v.as_str() == Some("never") {
            return Ok(Every(None));
        }
        DurationDist::deserialize(v).map(|x| Every(Some(x))).map_err(serde::de::Error::custom)
    }
}
impl Serialize for Every {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            None => s.serialize_str("never"),
            Some(d) => d.serialize(s),
        }
    }
}

/// A byte count written as an integer or like "2GiB"; 0 means no cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Bytes(pub u64);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match toml::Value::deserialize(d)? {
            toml::Value::Integer(i) if i >= 0 => Ok(Bytes(i as u64)),
            toml::Value::Integer(i) => Err(serde::de::Error::custom(format!("negative size {i} is not allowed"))),
            toml::Value::String(s) => parse_size(&s).map(Bytes).map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "expected a size like 1048576 or \"2GiB\", found {}",
                other.type_str()
            ))),
        }
    }
}
impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// A seed in JSON and TOML: written as a string, since a JSON number above 2^53 is read back
/// as another number by most tools (jq, JavaScript, spreadsheets); read from a string of
/// digits or an integer (a TOML file's `seed = 7`).
pub mod seed_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Write a seed as a string.
    pub fn serialize<S: Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(seed)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Int(i64),
        Big(u64),
        Text(String),
    }

    /// Read a seed from an integer from 0 to 2^64-1 or a string of its digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match Either::deserialize(d)? {
            Either::Int(i) => u64::try_from(i).map_err(|_| D::Error::custom(format!("seed {i}: must be 0 to 2^64-1"))),
            Either::Big(u) => Ok(u),
            Either::Text(t) => t.trim().parse::<u64>().map_err(|_| {
                D::Error::custom(format!("seed \"{t}\": write an integer from 0 to 18446744073709551615"))
            }),
        }
    }

    /// `deserialize` for an optional field.
    pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        deserialize(d).map(Some)
    }
}

/// The whole scenario: one run is a pure function of these values and the seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// A label for outputs.
    pub name: String,
    /// The session protocol whose rules the SAP and the clients follow (default IMPS).
    #[serde(skip_serializing_if = "ProtocolName::is_default")]
    pub protocol: ProtocolName,
    /// The master seed: every random stream of the run derives from it (a string in JSON).
    #[serde(with = "seed_text")]
    pub seed: u64,
    /// Number of virtual clients (devices, each with its own Client-ID; S15).
    pub clients: u32,
    /// Simulated time to run.
    pub duration: Dur,
    /// Start-up transient left out of every counter, gauge and histogram: the summary covers
    /// [warmup, duration] (every client logs in at the start and the store starts empty). The
    /// timeseries still covers the whole run, with the warm-up marked.
    pub warmup: Dur,
    /// Interval of timeseries.csv rows.
    pub sample_every: Dur,
    /// When each client first comes online (drawn per client).
    pub startup: DurationDist,
    /// How long the SAP keeps a context after its session ends (S16): "0s", a duration or "infinite".
    pub retention: Span,
    /// How many devices (clients) each user owns (S15).
    pub users: Users,
    /// Sizes of the five parts of each session context (S14).
    pub context: ContextParams,
    /// How clients log in, keep their sessions alive, use them, and come back.
    pub client: ClientParams,
    /// Transport breaks while online (S1).
    #[serde(deserialize_with = "transport_break")]
    pub transport_break: Outage,
    /// Device power cycles (S2).
    #[serde(deserialize_with = "device_off")]
    pub device_off: Outage,
    /// The network between the clients and the SAP.
    pub network: Network,
    /// The SAP: workers, TTL policy, what it accepts, disconnects, restarts, service times.
    pub sap: SapParams,
    /// The retained-context store: caps, retention after Logout, replacement scope (S16).
    pub store: StoreParams,
    /// Modeled bytes: server memory of a context (S14) and traffic per primitive and syntax.
    pub cost: CostParams,
    /// The rules of an MQTT 5 broker, for `protocol = "mqtt5"` (left out of written scenarios
    /// while they are the defaults).
    #[serde(skip_serializing_if = "MqttParams::is_default")]
    pub mqtt: MqttParams,
    /// Pass/fail bounds on summary figures (`[thresholds]`), judged at the edge on the result
    /// (`crate::check`); the model does not read them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, Bounds>,
}

/// `[thresholds]` as written: a summary column to one bound (`">=0.95"`) or several.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Bounds {
    /// One bound, e.g. `">=0.95"`.
    One(String),
    /// Several, e.g. `[">=0.5", "<=0.99"]`.
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Bounds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let how = "a bound is a string with its operator, e.g. \">=0.95\" or \"<=2GiB\", or a list of them";
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => Ok(Bounds::One(s)),
            toml::Value::Array(a) => a
                .into_iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s),
                    other => Err(serde::de::Error::custom(format!("{other} is not a bound: {how}"))),
                })
                .collect::<Result<_, _>>()
                .map(Bounds::Many),
            v @ (toml::Value::Integer(_) | toml::Value::Float(_)) => Err(serde::de::Error::custom(format!(
                "{v} has no operator: write \">={v}\" (at least) or \"<={v}\" (at most), as a string"
            ))),
            other => Err(serde::de::Error::custom(format!("found {}: {how}", other.type_str()))),
        }
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            name: "scenario".into(),
            protocol: ProtocolName::Imps,
            seed: 1,
            clients: 5_000,
            duration: Dur(DAY),
            warmup: Dur(SimDuration::ZERO),
            sample_every: Dur(5 * MINUTE),
            startup: DurationDist(Dist::Uniform { min: 0.0, max: 1800.0 }),
            retention: Span::Finite(30 * MINUTE),
            users: Users::default(),
            context: ContextParams::default(),
            client: ClientParams::default(),
            transport_break: Outage {
                every: Every(Some(DurationDist::exp(2 * HOUR))),
                duration: DurationDist(Dist::LogNormal { mu: libm::log(20.0), sigma: 1.5 }),
            },
            device_off: Outage {
                every: Every(Some(DurationDist::exp(12 * HOUR))),
                duration: DurationDist(Dist::LogNormal { mu: libm::log(1200.0), sigma: 1.0 }),
            },
            network: Network::default(),
            sap: SapParams::default(),
            store: StoreParams::default(),
            cost: CostParams::default(),
            mqtt: MqttParams::default(),
            thresholds: BTreeMap::new(),
        }
    }
}

/// The rules of an MQTT 5 broker (`protocol = "mqtt5"`); the defaults are Mosquitto 2.0's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttParams {
    /// One second of the broker's clock, in simulated time: its timers count whole seconds of
    /// it. A simulation of a live run compressed K times (`impsim live --scale K`) uses K s.
    pub(crate) clock: Dur,
    /// The broker looks for silent clients once every this many of its seconds (Mosquitto 2.0:
    /// 6), so a keep-alive timeout is noticed up to that much late.
    pub(crate) keepalive_check: u32,
}

impl Default for MqttParams {
    fn default() -> Self {
        MqttParams { clock: Dur(SECOND), keepalive_check: 6 }
    }
}

impl MqttParams {
    pub(crate) fn is_default(&self) -> bool {
        *self == MqttParams::default()
    }
}

/// Users own one or more clients (S15).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Users {
    /// Weights of a user having 1, 2, 3, ... devices.
    pub(crate) devices: Vec<f64>,
}
impl Default for Users {
    fn default() -> Self {
        Users { devices: vec![0.75, 0.2, 0.05] }
    }
}

/// Sizes of the five parts of a session context (S14), drawn once per client identity.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextParams {
    /// Negotiated services; at least one is always negotiated (S12).
    pub(crate) services: CountDist,
    pub(crate) capabilities: CountDist,
    pub(crate) presence_subscriptions: CountDist,
    pub(crate) notification_subscriptions: CountDist,
    pub(crate) joined_groups: CountDist,
}
impl Default for ContextParams {
    fn default() -> Self {
        ContextParams {
            services: CountDist(Dist::Uniform { min: 1.0, max: 5.0 }),
            capabilities: CountDist::fixed(6),
            presence_subscriptions: CountDist(Dist::LogNormal { mu: libm::log(12.0), sigma: 0.8 }),
            notification_subscriptions: CountDist(Dist::Uniform { min: 0.0, max: 3.0 }),
            joined_groups: CountDist(Dist::Exponential { mean: 1.5 }),
        }
    }
}

/// How clients behave: logins, TTL and KeepAlive, use, outages' aftermath, retries, Client-ID changes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientParams {
    /// Share of clients that use 4-way access control (2 round trips) rather than 2-way (S18).
    pub(crate) four_way_share: f64,
    /// Shares of the protocol version each client first tries (S3, S7).
    pub(crate) versions: BTreeMap<String, f64>,
    /// Shares of the syntax each client uses: xml, wbxml, pts (S3).
    pub(crate) syntaxes: BTreeMap<String, f64>,
    /// Whether a client whose version is refused runs version discovery and retries (S7, MAY).
    pub(crate) version_discovery: bool,
    /// Whether a client keeps the version found by discovery for later logins, or tries its
    /// preferred version again every time.
    pub(crate) remember_version: bool,
    /// The TimeToLive the client requests at login, or "infinite" (S10).
    pub(crate) requested_ttl: Span,
    /// A KeepAlive is sent when this fraction of the granted TTL has passed with no transaction (S10).
    pub(crate) keepalive_ratio: f64,
    /// Other inband transactions (messages, presence updates), which also reset the timer.
    pub activity: Every,
    /// How long a user keeps a session before logging out or walking away.
    pub(crate) session_length: DurationDist,
    /// Time between the end of a session and the user's next use of the client.
    pub(crate) offline: DurationDist,
    /// Probability that a session ends by Logout (S6); otherwise the user walks away silently.
    pub(crate) logout_prob: f64,
    /// Probability that a returning client tries to recover its old session (S18, MAY).
    pub(crate) recover_prob: f64,
    /// Delay between a SAP Disconnect reaching the client and its re-login (S8).
    pub(crate) relogin_delay: DurationDist,
    /// A request without a response after this long is sent again.
    pub(crate) request_timeout: Dur,
    /// First retry backoff; doubles per retry up to `retry_backoff_max`.
    pub(crate) retry_backoff: Dur,
    pub(crate) retry_backoff_max: Dur,
    /// Probability that a client has a new Client-ID when it comes back after being offline (S17).
    pub(crate) client_id_change_prob: f64,
    /// Probability that a user never comes back after a session ends (S17).
    pub(crate) abandon_prob: f64,
    /// Whether an abandoned client is replaced by a new client (new Client-ID) so the population stays constant.
    pub(crate) replace_abandoned: bool,
}
impl Default for ClientParams {
    fn default() -> Self {
        ClientParams {
            four_way_share: 0.3,
            versions: [("1.1".to_string(), 0.05), ("1.2".to_string(), 0.25), ("1.3".to_string(), 0.7)].into(),
            syntaxes: [("xml".to_string(), 0.2), ("wbxml".to_string(), 0.7), ("pts".to_string(), 0.1)].into(),
            version_discovery: true,
            remember_version: true,
            requested_ttl: Span::Finite(30 * MINUTE),
            keepalive_ratio: 0.8,
            activity: Every(Some(DurationDist::exp(20 * MINUTE))),
            session_length: DurationDist(Dist::LogNormal { mu: libm::log(3.0 * 3600.0), sigma: 1.0 }),
            offline: DurationDist(Dist::LogNormal { mu: libm::log(1800.0), sigma: 1.5 }),
            logout_prob: 0.5,
            recover_prob: 1.0,
            relogin_delay: DurationDist::exp(30 * SECOND),
            request_timeout: Dur(30 * SECOND),
            retry_backoff: Dur(2 * SECOND),
            retry_backoff_max: Dur(2 * MINUTE),
            client_id_change_prob: 0.002,
            abandon_prob: 0.001,
            replace_abandoned: true,
        }
    }
}

/// A process of outages while a session is up: transport breaks (S1) or device-off periods (S2).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// Time online between the end of one outage (or login) and the next; "never" turns it off.
    pub(crate) every: Every,
    /// How long the client is unreachable.
    pub(crate) duration: DurationDist,
}

/// An outage section as written: each field optional, the missing ones taken from that
/// section's own default (`[device_off] every = "never"` is a whole section).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialOutage {
    every: Option<Every>,
    duration: Option<DurationDist>,
}

impl PartialOutage {
    fn or(self, d: Outage) -> Outage {
        Outage { every: self.every.unwrap_or(d.every), duration: self.duration.unwrap_or(d.duration) }
    }
}

fn transport_break<'de, D: Deserializer<'de>>(d: D) -> Result<Outage, D::Error> {
    Ok(PartialOutage::deserialize(d)?.or(Params::default().transport_break))
}

fn device_off<'de, D: Deserializer<'de>>(d: D) -> Result<Outage, D::Error> {
    Ok(PartialOutage::deserialize(d)?.or(Params::default().device_off))
}

/// The network between the clients and the SAP.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// Round-trip time, drawn per exchange; each direction takes half.
    pub rtt: DurationDist,
}
impl Default for Network {
    fn default() -> Self {
        Network { rtt: DurationDist(Dist::LogNormal { mu: libm::log(0.4), sigma: 0.5 }) }
    }
}

/// The SAP's settings: workers, TTL policy, versions and syntaxes, disconnects, restarts, service times.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SapParams {
    /// Requests served in parallel; more queue first-come first-served.
    pub workers: u32,
    /// The SAP grants the requested TTL clamped to [ttl_min, ttl_max] (S10).
    pub(crate) ttl_min: Dur,
    pub(crate) ttl_max: Span,
    /// Protocol versions the SAP accepts (S4).
    pub(crate) versions: Vec<String>,
    /// Syntaxes the SAP accepts (S4).
    pub(crate) syntaxes: Vec<String>,
    /// Time from session establishment to a SAP-initiated Disconnect (S8); "never" turns it off.
    pub(crate) disconnect_every: Every,
    /// Whether the SAP re-establishes a session it disconnected when the client logs in again
    /// with the old Session-ID (S8, MAY; default: it does). The context is then held for the
    /// re-login for `reestablish_within`, or the retention period if that is longer, whatever
    /// the retention setting; when false, it follows the retention period like any other.
    pub(crate) reestablish_after_disconnect: bool,
    /// The SAP's grace period for the re-login it asked for with a Disconnect (S8).
    pub(crate) reestablish_within: Dur,
    /// Simulated times at which the SAP restarts, dropping every session.
    pub restarts: Vec<Dur>,
    /// How long a restart keeps the SAP from answering.
    pub(crate) restart_downtime: Dur,
    /// Whether retained contexts (and those of the dropped sessions) survive a restart.
    pub(crate) restart_keeps_retained: bool,
    /// How long after the SAP is back an online client notices the restart (its transport was
    /// reset) and logs in again; "never": it notices at its next transaction.
    pub(crate) restart_detect: Every,
    /// SAP work per primitive.
    pub service: ServiceTimes,
}
impl Default for SapParams {
    fn default() -> Self {
        SapParams {
            workers: 16,
            ttl_min: Dur(MINUTE),
            ttl_max: Span::Finite(HOUR),
            versions: vec!["1.1".into(), "1.2".into(), "1.3".into()],
            syntaxes: vec!["xml".into(), "wbxml".into(), "pts".into()],
            disconnect_every: Every(Some(DurationDist::exp(DAY))),
            reestablish_after_disconnect: true,
            reestablish_within: Dur(30 * MINUTE),
            restarts: vec![],
            restart_downtime: Dur(MINUTE),
            restart_keeps_retained: false,
            restart_detect: Every(None),
            service: ServiceTimes::default(),
        }
    }
}

/// SAP work per primitive (one worker busy this long).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceTimes {
    /// Per LoginRequest, in microseconds.
    pub login: Dur,
    /// Per KeepAlive, in microseconds.
    pub keepalive: Dur,
    pub(crate) logout: Dur,
    /// Per ServiceNegotiation or ClientCapability request, in microseconds.
    pub negotiation: Dur,
    /// Per presence subscription, notification subscription or group join, in microseconds.
    pub subscribe: Dur,
    /// Per other inband transaction (Activity), in microseconds.
    pub activity: Dur,
    pub(crate) version_discovery: Dur,
    /// Per context item the SAP re-establishes on a recovery (S19).
    pub(crate) resubscribe: Dur,
}
impl Default for ServiceTimes {
    fn default() -> Self {
        ServiceTimes {
            login: Dur(4 * MILLIS),
            keepalive: Dur(200 * MICROS),
            logout: Dur(MILLIS),
            negotiation: Dur(2 * MILLIS),
            subscribe: Dur(MILLIS),
            activity: Dur(MILLIS),
            version_discovery: Dur(500 * MICROS),
            resubscribe: Dur(500 * MICROS),
        }
    }
}

/// Where a new session replaces retained contexts (S16): the same client, or any client of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReplaceScope {
    Client,
    User,
}

/// The retained-context store (S16): caps, retention after a Logout, and what a new session replaces.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreParams {
    /// Most retained contexts kept; 0 = no cap. The oldest is evicted first.
    pub max_contexts: u64,
    /// Most retained bytes kept; 0 = no cap. The oldest is evicted first.
    pub(crate) max_bytes: Bytes,
    /// Whether a context is retained after a client Logout too (not only after a disconnect).
    pub(crate) keep_on_logout: bool,
    pub(crate) replace_scope: ReplaceScope,
}
impl Default for StoreParams {
    fn default() -> Self {
        StoreParams { max_contexts: 0, max_bytes: Bytes(0), keep_on_logout: true, replace_scope: ReplaceScope::Client }
    }
}

/// A file's path as written, refused when empty: `file = ""` would silently mean the built-in
/// table.
fn named_file<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Err(serde::de::Error::custom(
            "an empty path: name the cost table's file (e.g. \"mosquitto.cost.toml\"), or leave `file` out for the built-in costs",
        ));
    }
    Ok(s)
}

/// Modeled byte costs: server memory of a context (S14) and bytes per message.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostParams {
    /// A cost table in a file of its own (e.g. measured by `impsim live --calibrate`), relative
    /// to the scenario's folder: it gives `context` (and `messages` where it has them), so
    /// neither may be set beside it.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "named_file")]
    pub(crate) file: String,
    /// The file's SHA-256 (checked when given, recorded when not), as for empirical data.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) sha256: String,
    pub(crate) context: ContextBytes,
    /// Bytes of one exchange per primitive per syntax.
    pub messages: MessageBytes,
}

/// Modeled server memory of a context, per part (S14).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ContextBytes {
    /// Fixed part: Session-ID, Client-ID, cookie, version, syntax, TTL, bookkeeping.
    pub(crate) base: u32,
    pub(crate) per_service: u32,
    pub(crate) per_capability: u32,
    pub(crate) per_presence_subscription: u32,
    pub(crate) per_notification_subscription: u32,
    pub(crate) per_joined_group: u32,
}
impl Default for ContextBytes {
    fn default() -> Self {
        ContextBytes {
            base: 256,
            per_service: 32,
            per_capability: 48,
            per_presence_subscription: 160,
            per_notification_subscription: 96,
            per_joined_group: 192,
        }
    }
}

/// Bytes of one exchange (request plus response) in each syntax.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyntaxBytes {
    pub(crate) xml: u32,
    pub(crate) wbxml: u32,
    pub(crate) pts: u32,
}

const fn sb(xml: u32, wbxml: u32, pts: u32) -> SyntaxBytes {
    SyntaxBytes { xml, wbxml, pts }
}

/// Modeled traffic per primitive per syntax (request + response, application payload).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessageBytes {
    pub(crate) login: SyntaxBytes,
    pub(crate) keepalive: SyntaxBytes,
    pub(crate) logout: SyntaxBytes,
    pub(crate) disconnect: SyntaxBytes,
    pub(crate) service_negotiation: SyntaxBytes,
    pub(crate) capability_negotiation: SyntaxBytes,
    pub(crate) subscribe_presence: SyntaxBytes,
    pub(crate) subscribe_notification: SyntaxBytes,
    pub(crate) join_group: SyntaxBytes,
    pub(crate) version_discovery: SyntaxBytes,
    pub(crate) activity: SyntaxBytes,
}
impl Default for MessageBytes {
    fn default() -> Self {
        MessageBytes {
            login: sb(1300, 380, 520),
            keepalive: sb(620, 120, 160),
            logout: sb(560, 110, 150),
            disconnect: sb(520, 100, 140),
            service_negotiation: sb(2400, 700, 900),
            capability_negotiation: sb(2100, 620, 800),
            subscribe_presence: sb(1100, 300, 400),
            subscribe_notification: sb(800, 220, 300),
            join_group: sb(1000, 280, 380),
            version_discovery: sb(600, 160, 200),
            activity: sb(1500, 420, 560),
        }
    }
}

impl Params {
    /// Every distribution in the scenario with its field path (for loading empirical data).
    pub(crate) fn dists_mut(&mut self) -> Vec<(String, &mut Dist)> {
        let mut v: Vec<(String, &mut Dist)> = vec![
            ("startup".into(), &mut self.startup.0),
            ("context.services".into(), &mut self.context.services.0),
            ("context.capabilities".into(), &mut self.context.capabilities.0),
            ("context.presence_subscriptions".into(), &mut self.context.presence_subscriptions.0),
            ("context.notification_subscriptions".into(), &mut self.context.notification_subscriptions.0),
            ("context.joined_groups".into(), &mut self.context.joined_groups.0),
            ("client.session_length".into(), &mut self.client.session_length.0),
            ("client.offline".into(), &mut self.client.offline.0),
            ("client.relogin_delay".into(), &mut self.client.relogin_delay.0),
            ("transport_break.duration".into(), &mut self.transport_break.duration.0),
            ("device_off.duration".into(), &mut self.device_off.duration.0),
            ("network.rtt".into(), &mut self.network.rtt.0),
        ];
        for (name, e) in [
            ("client.activity", &mut self.client.activity),
            ("transport_break.every", &mut self.transport_break.every),
            ("device_off.every", &mut self.device_off.every),
            ("sap.disconnect_every", &mut self.sap.disconnect_every),
            ("sap.restart_detect", &mut self.sap.restart_detect),
        ] {
            if let Some(d) = e.0.as_mut() {
                v.push((name.into(), &mut d.0));
            }
        }
        v
    }
}
