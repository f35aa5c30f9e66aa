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

/// The instance `name` of a status document.
pub fn instance<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["vrrp"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {doc}"))
}
