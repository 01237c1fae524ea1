//! `impsim live`: the same virtual clients as a simulation, driving a real MQTT 5 broker in
//! real time compressed by a factor K, and the model checked against what the broker did.
//! At the edge: it opens sockets and reads the clock; the model knows nothing of it.

pub mod codec;
pub mod scale;
