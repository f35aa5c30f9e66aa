//! picket's status socket from the tests: the JSON document, parsed by
//! serde_json, and its instances by name.

use std::io::Read as _;
use std::path::Path;

use serde_json::Value;

/// The document picket's status socket at `socket` answers with.
pub fn document(socket: &Path) -> Value {
    let mut s = std::os::unix::net::UnixStream::connect(socket)
        .unwrap_or_else(|e| panic!("{}: {e}", socket.display()));
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The document, or `None` while picket cannot answer yet (its socket is
/// bound, and so exists, a moment before it listens).
#[allow(dead_code, reason = "not every test binary waits for a socket")]
pub fn try_document(socket: &Path) -> Option<Value> {
    let mut s = std::os::unix::net::UnixStream::connect(socket).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// The instance `name` of a status document.
pub fn instance<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["vrrp"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {doc}"))
}

/// Whether the reflector holds `instance` (of a status document) in FAULT
/// for `reason` (`no_interface`, `no_source`).
pub fn held_for(instance: &Value, reason: &str) -> bool {
    instance["hold"]
        .as_array()
        .is_some_and(|h| h.iter().any(|r| r == reason))
}
