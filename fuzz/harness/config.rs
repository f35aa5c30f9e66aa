//! `config`: keepalived.conf as picket reads it (`picket::config::load`
//! over the in-memory file system `config::memfs`): the source reader
//! (includes, `@id` conditionals, `$NAME` definitions), the lexer, every
//! section parser, the diagnostics, the dump, and the start-up checks the
//! daemon runs on a loaded configuration.
//!
//! Input: up to three files separated by a 0xFF byte: the main file
//! `/etc/keepalived/keepalived.conf`, `/etc/keepalived/inc.conf` and
//! `/etc/keepalived/conf.d/b.conf` (the main file may `include` them).
//!
//! Checked: any bytes give a configuration or diagnostics, never a panic;
//! the diagnostics render; a configuration without errors passes the
//! daemon's start-up checks (`vrrp::engine::check_config`,
//! `ipvs::check_config`). When the input's length is a multiple of 4 (a
//! quarter of the inputs, chosen so because the rest is four times the
//! cost of the load itself), a configuration without errors also goes
//! through the start-up builds without a panic (`Checkers::check_config`,
//! the VRRP engine, the IPVS reconciler, the checkers), and its dump loads
//! without errors and dumps to the same text (parse → dump → parse is a
//! fixed point, as `config::dump` promises).

use std::cell::RefCell;

use picket::check::Checkers;
use picket::config::memfs::MemFs;
use picket::config::{Config, Diagnostics, LoadOptions, LoadScratch, Severity, load};
use picket::ipvs::Reconciler;
use picket::vrrp::engine::{Engine, IfFacts};

/// The main file.
pub const MAIN: &str = "/etc/keepalived/keepalived.conf";
/// The files after it, in the input's order.
pub const OTHERS: [&str; 2] = ["/etc/keepalived/inc.conf", "/etc/keepalived/conf.d/b.conf"];

/// Inputs are cut here (`tools/fuzz` passes `-max_len` as well): the
/// reader's cost is linear, this keeps a run in the thousands per second.
const MAX_INPUT: usize = 16 * 1024;

/// The blocks one load needs, reused from input to input (cleared by
/// `load` itself): a few MiB that would otherwise be allocated, zeroed and
/// paged in for every input.
struct Blocks {
    scratch: Box<LoadScratch>,
    cfg: Box<Config>,
    diags: Box<Diagnostics>,
    cfg2: Box<Config>,
    diags2: Box<Diagnostics>,
    engine: Box<Engine>,
    text: String,
    text2: String,
}

thread_local! {
    static BLOCKS: RefCell<Option<Blocks>> = const { RefCell::new(None) };
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    BLOCKS.with(|cell| {
        let mut cell = cell.borrow_mut();
        let b = cell.get_or_insert_with(|| Blocks {
            scratch: Box::new(LoadScratch::new()),
            cfg: Box::new(Config::new()),
            diags: Box::new(Diagnostics::new()),
            cfg2: Box::new(Config::new()),
            diags2: Box::new(Diagnostics::new()),
            engine: Box::new(Engine::empty()),
            text: String::new(),
            text2: String::new(),
        });
        run_with(b, data);
    });
}

fn run_with(b: &mut Blocks, data: &[u8]) {
    let mut parts = data.splitn(3, |c| *c == 0xFF);
    let main = parts.next().unwrap_or(&[]);
    let a = parts.next();
    let c = parts.next();
    let mut files: Vec<(&str, &[u8])> = vec![(MAIN, main)];
    for (path, part) in OTHERS.iter().zip([a, c]) {
        if let Some(part) = part {
            files.push((path, part));
        }
    }
    let opts = LoadOptions {
        config_id: "fuzz",
        all_config: false,
    };
    let mut fs = MemFs::from_bytes(&files);
    load(
        &mut fs,
        MAIN,
        &opts,
        &mut b.scratch,
        &mut b.cfg,
        &mut b.diags,
    );
    b.text.clear();
    b.diags
        .render(&mut b.text)
        .unwrap_or_else(|e| panic!("diagnostics do not render: {e}"));
    if !b.diags.is_ok() {
        return;
    }
    // What the daemon checks before it starts.
    picket::vrrp::engine::check_config(&b.cfg, &mut b.diags, Severity::Error);
    picket::ipvs::check_config(&b.cfg, &mut b.diags);
    let runnable = b.diags.is_ok();
    if !data.len().is_multiple_of(4) {
        return;
    }

    // The dump is a fixed point.
    b.text.clear();
    b.cfg
        .dump(&mut b.text)
        .unwrap_or_else(|e| panic!("dump failed: {e}"));
    let files = [(MAIN, b.text.as_str())];
    let mut fs = MemFs::new(&files);
    load(
        &mut fs,
        MAIN,
        &opts,
        &mut b.scratch,
        &mut b.cfg2,
        &mut b.diags2,
    );
    if !b.diags2.is_ok() {
        let mut why = String::new();
        let _ = b.diags2.render(&mut why);
        panic!(
            "the dump of a clean configuration does not load:\n{why}\n--- dump:\n{}",
            b.text
        );
    }
    b.text2.clear();
    b.cfg2
        .dump(&mut b.text2)
        .unwrap_or_else(|e| panic!("dump failed: {e}"));
    assert!(
        b.text == b.text2,
        "dump is not a fixed point:\n{}\n--- then:\n{}",
        b.text,
        b.text2
    );

    if !runnable {
        return;
    }
    // The start-up: every interface exists, up, with addresses.
    let mut lookup = |name: &str| {
        let index = 2 + name.len() as u32;
        Some(IfFacts {
            index,
            mac: [0x02, 0, 0, 0, 0, index as u8],
            ipv4: Some(core::net::Ipv4Addr::new(10, 0, 0, index as u8)),
            ipv6_link_local: Some(core::net::Ipv6Addr::new(
                0xfe80,
                0,
                0,
                0,
                0,
                0,
                0,
                index as u16,
            )),
            ipv6_forwarding: false,
            up: true,
        })
    };
    b.engine.load(&b.cfg, None, &mut lookup, &mut |_, _, _| {});
    if Checkers::check_config(&b.cfg).is_ok() {
        let _ = Checkers::new(&b.cfg, 1);
    }
    let _ = Reconciler::new(&b.cfg);
}
