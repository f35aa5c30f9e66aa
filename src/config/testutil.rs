//! Helpers shared by the configuration's unit tests: parse a text through
//! the test statement source and every `finish`, render diagnostics, dump,
//! and check the dump's fixed point.

use std::boxed::Box;
use std::string::String;

use super::parser::test_source::TextSource;
use super::{Config, Diagnostics};

/// Parses `text` as file `t.conf`; returns the config and its diagnostics.
pub(crate) fn parse_diags(text: &str) -> (Box<Config>, Box<Diagnostics>) {
    let mut cfg = Box::new(Config::new());
    let mut diags = Box::new(Diagnostics::new());
    let _ = diags.files.push("t.conf");
    let mut src = TextSource::new(text);
    super::parse(&mut src, &mut cfg, &mut diags);
    (cfg, diags)
}

/// Parses `text`; returns the config and the rendered diagnostics.
pub(crate) fn parse_text(text: &str) -> (Box<Config>, String) {
    let (cfg, diags) = parse_diags(text);
    let mut out = String::new();
    diags.render(&mut out).unwrap();
    (cfg, out)
}

/// The dump of `cfg`.
pub(crate) fn dump_text(cfg: &Config) -> String {
    let mut out = String::new();
    cfg.dump(&mut out).unwrap();
    out
}

/// `dump(parse(dump(parse(text)))) == dump(parse(text))`; with `clean`, the
/// dump must also load without errors. Returns the dump.
pub(crate) fn fixed_point(text: &str, clean: bool) -> String {
    let (cfg, _) = parse_text(text);
    let first = dump_text(&cfg);
    let (cfg2, diags2) = parse_text(&first);
    assert!(
        !clean || !diags2.contains(": error:"),
        "dump does not load cleanly:\n{diags2}\n{first}"
    );
    let second = dump_text(&cfg2);
    assert_eq!(first, second, "dump is not a fixed point");
    first
}
