//! The check logic of every fuzz target, one module per target, each with
//! `pub fn run(data: &[u8])`: it feeds `data` to a parser (or a state
//! machine) and asserts what must hold for any input — no panic, and where
//! a parsed value can be written back, that writing and parsing again gives
//! the same value.
//!
//! The same files are compiled twice: as the library of the `fuzz/` crate
//! (its `fuzz_targets/*.rs` call `run`) and, through `#[path]`, into the
//! root crate's `tests/fuzz_regressions.rs`, which replays every file of
//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` on stable Rust.

/// `fn $name() -> &'static Config`: the configuration `$make` builds,
/// loaded once per process (the harnesses' fixed configurations).
macro_rules! config_once {
    ($name:ident, $make:expr) => {
        fn $name() -> &'static picket::config::Config {
            static CFG: std::sync::OnceLock<Box<picket::config::Config>> =
                std::sync::OnceLock::new();
            CFG.get_or_init(|| $make)
        }
    };
}

pub mod argv;
pub mod checker;
pub mod config;
pub mod dns;
pub mod http;
pub mod ipvs;
pub mod netlink;
pub mod ping;
pub mod smtp;
pub mod track_file;
pub mod udp;
pub mod vrrp_engine;
pub mod vrrp_packet;
pub mod watchdog_state;

/// A target's entry point.
pub type Run = fn(&[u8]);

/// Every target: its name (the folder of its corpus and regressions) and
/// its entry point.
pub const TARGETS: &[(&str, Run)] = &[
    ("argv", argv::run),
    ("config", config::run),
    ("dns", dns::run),
    ("http", http::run),
    ("ipvs", ipvs::run),
    ("netlink", netlink::run),
    ("ping", ping::run),
    ("smtp", smtp::run),
    ("track_file", track_file::run),
    ("udp", udp::run),
    ("vrrp_engine", vrrp_engine::run),
    ("vrrp_packet", vrrp_packet::run),
    ("watchdog_state", watchdog_state::run),
];

/// A cursor over the fuzzer's bytes: small fixed-size choices first, the
/// rest as the payload. Reads past the end give zeros / empty slices, so a
/// short input is still a valid (if dull) case.
pub struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    /// Reads from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    /// The next byte, or 0.
    pub fn byte(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&b, rest)) => {
                self.rest = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, big-endian, or what is left padded with 0.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// The next `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        head
    }

    /// The next `N` bytes as an array, padded with 0.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let b = self.bytes(N);
        out[..b.len()].copy_from_slice(b);
        out
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }
}

/// Loads `text` as `/etc/keepalived/keepalived.conf` through the in-memory
/// file system (the daemon's own `config::load`); panics unless it loads
/// without errors (the harnesses' fixed configurations).
pub fn load_config(text: &str) -> Box<picket::config::Config> {
    use picket::config::memfs::MemFs;
    use picket::config::{Config, Diagnostics, LoadOptions, LoadScratch, load};
    const PATH: &str = "/etc/keepalived/keepalived.conf";
    let files = [(PATH, text)];
    let mut fs = MemFs::new(&files);
    let opts = LoadOptions {
        config_id: "fuzz",
        all_config: false,
    };
    let mut scratch = Box::new(LoadScratch::new());
    let mut cfg = Box::new(Config::new());
    let mut diags = Box::new(Diagnostics::new());
    load(&mut fs, PATH, &opts, &mut scratch, &mut cfg, &mut diags);
    if !diags.is_ok() {
        let mut text = String::new();
        let _ = diags.render(&mut text);
        panic!("the harness's configuration does not load:\n{text}");
    }
    cfg
}
