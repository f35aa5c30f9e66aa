//! `picket status`: connects to the running daemon's status socket, reads
//! the JSON document and prints it as tables (or as it came, `--json`).
//! A command-line tool, not the daemon: it may allocate.
//!
//! The document is read with a small JSON parser of its own (picket has no
//! JSON library at run time); anything it cannot parse is an error, exit 1.

use std::fmt::Write as _;
use std::io::Read as _;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use picket::config::global::DEFAULT_STATUS_SOCKET;

use crate::cli::StatusRequest;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true`, `false`.
    Bool(bool),
    /// A number, as written.
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Value>),
    /// An object, in order.
    Obj(Vec<(String, Value)>),
}

impl Value {
    /// Member `key` of an object (`Null` if absent or not an object).
    pub fn get(&self, key: &str) -> &Value {
        match self {
            Value::Obj(m) => m
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&Value::Null, |(_, v)| v),
            _ => &Value::Null,
        }
    }

    /// The items of an array (none otherwise).
    pub fn items(&self) -> &[Value] {
        match self {
            Value::Arr(a) => a,
            _ => &[],
        }
    }

    /// As text for a table: strings bare, `-` for null.
    pub fn text(&self) -> String {
        match self {
            Value::Null => "-".into(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) | Value::Str(n) => n.clone(),
            Value::Arr(_) | Value::Obj(_) => "…".into(),
        }
    }

    fn f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => n.parse().ok(),
            _ => None,
        }
    }
}

/// Parses a whole JSON text.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.b.len() {
        return Err(format!("trailing bytes at {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.i))
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            self.err(&format!("expected '{}'", c as char))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        self.depth += 1;
        if self.depth > 64 {
            return self.err("too deep");
        }
        let v = match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        m.push((k, self.value()?));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err("expected ',' or '}'"),
                        }
                    }
                }
                Value::Obj(m)
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        a.push(self.value()?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err("expected ',' or ']'"),
                        }
                    }
                }
                Value::Arr(a)
            }
            Some(b'"') => Value::Str(self.string()?),
            Some(b't') => self.word("true", Value::Bool(true))?,
            Some(b'f') => self.word("false", Value::Bool(false))?,
            Some(b'n') => self.word("null", Value::Null)?,
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
                {
                    self.i += 1;
                }
                let n = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
                if n.parse::<f64>().is_err() {
                    return self.err("bad number");
                }
                Value::Num(n.to_owned())
            }
            _ => return self.err("expected a value"),
        };
        self.depth -= 1;
        Ok(v)
    }

    fn word(&mut self, w: &str, v: Value) -> Result<Value, String> {
        if self.b[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            self.err("bad literal")
        }
    }

    fn string(&mut self) -> Result<String, String> {
        if self.b.get(self.i) != Some(&b'"') {
            return self.err("expected a string");
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return self.err("unterminated string");
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self.b.get(self.i..self.i + 4).unwrap_or(b"");
                            let code = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                            let Some(ch) = code.and_then(char::from_u32) else {
                                return self.err("bad \\u escape");
                            };
                            self.i += 4;
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => return self.err("bad escape"),
                    }
                }
                c if c < 0x20 => return self.err("control character in a string"),
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| format!("bad UTF-8 before byte {}", self.i))
    }
}

/// `seconds` (since the epoch) as an age relative to `now`: `12s`, `3m04s`,
/// `2h01m`, `5d03h`.
fn age(now: f64, then: f64) -> String {
    let s = (now - then).max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s / 60 % 60),
        _ => format!("{}d{:02}h", s / 86400, s / 3600 % 24),
    }
}

/// Left-aligned columns, two spaces apart.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The document as tables.
pub fn render(doc: &Value) -> String {
    let mut out = String::new();
    let p = doc.get("picket");
    let now = p.get("now").f64().unwrap_or(0.0);
    let started = p.get("started").f64().unwrap_or(now);
    let _ = writeln!(
        out,
        "picket {} (board {}), pid {}, up {}, router_id {}, config {}",
        p.get("version").text(),
        p.get("board").text(),
        p.get("pid").text(),
        age(now, started),
        p.get("router_id").text(),
        p.get("config_file").text()
    );
    let r = p.get("reloads");
    let last = r.get("last");
    let _ = write!(
        out,
        "reloads: {} applied, {} refused",
        r.get("applied").text(),
        r.get("refused").text()
    );
    if *last != Value::Null {
        let _ = write!(
            out,
            "; last {} ago {} (+{} -{} ~{} ={}, {} errors)",
            age(now, last.get("at").f64().unwrap_or(now)),
            if last.get("applied") == &Value::Bool(true) {
                "applied"
            } else {
                "REFUSED"
            },
            last.get("added").text(),
            last.get("removed").text(),
            last.get("changed").text(),
            last.get("kept").text(),
            last.get("errors").text()
        );
    }
    out.push_str("\n\n");
    let v = doc.get("vrrp");
    let mut rows = vec![
        [
            "INSTANCE", "STATE", "SINCE", "PRIO", "EFF", "VRID", "IFACE", "MODE", "MASTER", "HELD",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for i in v.get("instances").items() {
        let master = i.get("master");
        let master = match master {
            Value::Null => "-".to_owned(),
            m if m.get("self") == &Value::Bool(true) => "self".to_owned(),
            m => format!("{} ({})", m.get("address").text(), m.get("priority").text()),
        };
        let vips: Vec<String> = i
            .get("addresses")
            .items()
            .iter()
            .filter(|a| a.get("held") == &Value::Bool(true))
            .map(|a| format!("{}/{}", a.get("address").text(), a.get("prefix").text()))
            .collect();
        let since = i
            .get("since")
            .f64()
            .map_or_else(|| "-".to_owned(), |t| age(now, t));
        rows.push(vec![
            i.get("name").text(),
            i.get("state").text(),
            since,
            i.get("base_priority").text(),
            i.get("effective_priority").text(),
            i.get("vrid").text(),
            i.get("interface").text(),
            i.get("mode").text(),
            master,
            if vips.is_empty() {
                "-".into()
            } else {
                vips.join(",")
            },
        ]);
    }
    table(&mut out, &rows);
    let groups = v.get("sync_groups").items();
    if !groups.is_empty() {
        out.push('\n');
        let mut rows = vec![vec!["SYNC GROUP".into(), "STATE".into(), "MEMBERS".into()]];
        for g in groups {
            let members: Vec<String> = g.get("members").items().iter().map(Value::text).collect();
            rows.push(vec![
                g.get("name").text(),
                g.get("state").text(),
                members.join(" "),
            ]);
        }
        table(&mut out, &rows);
    }
    let scripts = v.get("scripts").items();
    if !scripts.is_empty() {
        out.push('\n');
        let mut rows = vec![
            ["SCRIPT", "STATE", "RUNS", "OK", "FAILED", "TIMEOUTS"]
                .map(String::from)
                .to_vec(),
        ];
        for s in scripts {
            rows.push(
                ["name", "state", "runs", "successes", "failures", "timeouts"]
                    .iter()
                    .map(|k| s.get(k).text())
                    .collect(),
            );
        }
        table(&mut out, &rows);
    }
    let links = v.get("links").items();
    if !links.is_empty() {
        out.push('\n');
        let mut rows = vec![vec!["LINK".to_owned(), "UP".to_owned()]];
        for l in links {
            rows.push(vec![l.get("name").text(), l.get("up").text()]);
        }
        table(&mut out, &rows);
    }
    // Sections added by other parts (checkers, IPVS, watchdog): their
    // items as `key=value` lines.
    if let Value::Obj(members) = doc {
        for (key, value) in members {
            if matches!(key.as_str(), "picket" | "vrrp" | "counters") {
                continue;
            }
            let _ = writeln!(
                out,
                "\n{}: {} items",
                key.to_uppercase(),
                value.items().len()
            );
            for item in value.items() {
                if let Value::Obj(fields) = item {
                    let line: Vec<String> = fields
                        .iter()
                        .filter(|(_, v)| !matches!(v, Value::Arr(_) | Value::Obj(_)))
                        .map(|(k, v)| format!("{k}={}", v.text()))
                        .collect();
                    let _ = writeln!(out, "  {}", line.join(" "));
                }
            }
        }
    }
    if let Value::Obj(counters) = doc.get("counters") {
        let nonzero: Vec<String> = counters
            .iter()
            .filter(|(_, v)| v.text() != "0")
            .map(|(k, v)| format!("{k}={}", v.text()))
            .collect();
        let _ = writeln!(out, "\ncounters: {}", nonzero.join(" "));
    }
    out
}

/// Where to connect: `-S`, else the configuration's `status_socket`, else
/// the default.
fn socket_path(req: &StatusRequest, opts: &crate::cli::Options) -> Result<String, String> {
    if let Some(s) = &req.socket {
        return Ok(s.clone());
    }
    if std::path::Path::new(&opts.config_file).exists() {
        let loaded = crate::load(opts);
        let s = loaded.cfg.global.status_socket.as_str();
        if s == "none" {
            return Err(format!(
                "{}: status_socket is none: the status socket is off",
                opts.config_file
            ));
        }
        if !s.is_empty() {
            return Ok(s.to_owned());
        }
    }
    Ok(DEFAULT_STATUS_SOCKET.to_owned())
}

/// Runs `picket status`; the exit code.
pub fn run(req: &StatusRequest, opts: &crate::cli::Options) -> u8 {
    let path = match socket_path(req, opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("picket status: {e}");
            return 1;
        }
    };
    let mut text = String::new();
    let read = UnixStream::connect(&path).and_then(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.read_to_string(&mut text)
    });
    if let Err(e) = read {
        eprintln!("picket status: {path}: {e} (is picket running? is status_socket set?)");
        return 1;
    }
    let doc = match parse(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("picket status: {path}: not a whole JSON document ({e})");
            return 1;
        }
    };
    if req.json {
        println!("{text}");
    } else {
        print!("{}", render(&doc));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_serde_json_parses() {
        let text = r#"{"a":[1,-2.5e3,true,false,null,"x\"\\\n\u00e9"],"b":{},"c":[]}"#;
        let v = parse(text).unwrap();
        let want: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            v.get("a").items()[5],
            Value::Str(want["a"][5].as_str().unwrap().into())
        );
        assert_eq!(v.get("a").items()[1], Value::Num("-2.5e3".into()));
        assert_eq!(v.get("b"), &Value::Obj(vec![]));
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "\"\u{1}\"",
            "[1] x",
            "nul",
            "\"\\q\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&"[".repeat(100)).is_err());
    }

    #[test]
    fn ages() {
        assert_eq!(age(100.0, 88.0), "12s");
        assert_eq!(age(1000.0, 756.0), "4m04s");
        assert_eq!(age(10_000.0, 2_740.0), "2h01m");
        assert_eq!(age(500_000.0, 0.0), "5d18h");
    }
}
