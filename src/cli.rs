//! The command line, keepalived-compatible (keepalived(8); reference §a.3),
//! parsed by hand at start-up.
//!
//! Forms accepted for an option with a value: `-fFILE`, `-f FILE`,
//! `--use-file=FILE`, `--use-file FILE`. Short flags without values may be
//! grouped (`-lnD`). `-t`/`--config-test` takes its optional LOGFILE only
//! attached (`-tFILE`, `--config-test=FILE`), as getopt's optional
//! arguments. Anything unknown is a usage error (exit 1, as keepalived).

use std::ffi::OsString;

use crate::logger;

/// keepalived's default configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";
/// keepalived's default pid file.
pub const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run the daemon.
    Run,
    /// `-t`: check the configuration; diagnostics to stderr, or to the file.
    ConfigTest(Option<String>),
    /// `--dump-config`.
    DumpConfig,
    /// `--limits`.
    Limits,
    /// `--clear-resets`: clear the watchdog reset count (ends safe mode at
    /// the next start).
    ClearResets,
    /// `-v`.
    Version,
    /// `-h`.
    Help,
    /// `picket status`: ask the running daemon over its status socket.
    Status(StatusRequest),
    /// `--signum=NAME`: print the signal number (keepalived's).
    Signum(String),
}

/// `picket status [--json] [-S SOCKET] [-f FILE]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusRequest {
    /// Print the document as it came (`--json`), not as a table.
    pub json: bool,
    /// `-S`: the socket; otherwise the configuration's `status_socket`
    /// (with `-f`), else the default.
    pub socket: Option<String>,
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// What to do.
    pub mode: Mode,
    /// `-f`.
    pub config_file: String,
    /// `-l`.
    pub log_console: bool,
    /// `-D`.
    pub log_detail: bool,
    /// `-S`, a syslog facility code.
    pub log_facility: u8,
    /// `-p`; `None` means the default (and failing to write it is a warning).
    pub pid_file: Option<String>,
    /// `-i`; `None` means the host name without its domain.
    pub config_id: Option<String>,
    /// `-e`.
    pub all_config: bool,
    /// `-n` (accepted; picket never forks).
    pub dont_fork: bool,
    /// `-I`: leave picket's IPVS services in the kernel at stop.
    pub dont_release_ipvs: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Run,
            config_file: DEFAULT_CONFIG.to_owned(),
            log_console: false,
            log_detail: false,
            log_facility: logger::FACILITY_DAEMON,
            pid_file: None,
            config_id: None,
            all_config: false,
            dont_fork: false,
            dont_release_ipvs: false,
        }
    }
}

/// A usage error: the message to print before the usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

/// The usage text.
pub const USAGE: &str = "\
Usage: picket [OPTION...]
  -f, --use-file=FILE          use FILE as the configuration (default /etc/keepalived/keepalived.conf)
  -t, --config-test[=LOGFILE]  check the configuration and exit (0 ok, 4 fatal, 5 config errors)
  -n, --dont-fork              run in the foreground (picket never forks; accepted)
  -l, --log-console            log to the console (stderr)
  -D, --log-detail             detailed logging (debug lines)
  -S, --log-facility=FAC       syslog facility: 0-7 (local0-7), local0-7, user, daemon (default)
  -p, --pid=FILE               pid file (default /run/keepalived.pid)
  -i, --config-id=ID           config id for @ID lines (default: host name without domain)
  -e, --all-config             a missing configuration or include file is an error
  -I, --dont-release-ipvs      leave the IPVS services in the kernel at stop
      --dump-config            load the configuration and write it back, normalised
      --limits                 print this build's capacities and static memory
      --signum=NAME            print the number of signal NAME (STOP, RELOAD, DATA,
                               STATS, STATS_CLEAR, JSON) and exit, as keepalived
      --clear-resets           clear the watchdog reset count of the state file (ends safe mode at the next start)
  -v, --version                print the version
  -h, --help                   print this help

Usage: picket status [--json] [-S SOCKET] [-f FILE]
  ask the running picket for its state over the status socket
  (SOCKET, else FILE's status_socket, else /run/picket.sock)
      --json                   print the JSON document instead of tables
";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Opt {
    UseFile,
    ConfigTest,
    DontFork,
    LogConsole,
    LogDetail,
    LogFacility,
    Pid,
    ConfigId,
    AllConfig,
    DontReleaseIpvs,
    DumpConfig,
    Limits,
    Signum,
    ClearResets,
    Version,
    Help,
}

/// How an option takes a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    Required,
    /// Only attached (getopt's `::`).
    Optional,
}

const TABLE: &[(Option<char>, &str, Opt, Arg)] = &[
    (Some('f'), "use-file", Opt::UseFile, Arg::Required),
    (Some('t'), "config-test", Opt::ConfigTest, Arg::Optional),
    (Some('n'), "dont-fork", Opt::DontFork, Arg::None),
    (Some('l'), "log-console", Opt::LogConsole, Arg::None),
    (Some('D'), "log-detail", Opt::LogDetail, Arg::None),
    (Some('S'), "log-facility", Opt::LogFacility, Arg::Required),
    (Some('p'), "pid", Opt::Pid, Arg::Required),
    (Some('i'), "config-id", Opt::ConfigId, Arg::Required),
    (Some('e'), "all-config", Opt::AllConfig, Arg::None),
    (
        Some('I'),
        "dont-release-ipvs",
        Opt::DontReleaseIpvs,
        Arg::None,
    ),
    (None, "dump-config", Opt::DumpConfig, Arg::None),
    (None, "limits", Opt::Limits, Arg::None),
    (None, "signum", Opt::Signum, Arg::Required),
    (None, "clear-resets", Opt::ClearResets, Arg::None),
    (Some('v'), "version", Opt::Version, Arg::None),
    (Some('h'), "help", Opt::Help, Arg::None),
];

fn apply(o: &mut Options, opt: Opt, value: Option<String>) -> Result<(), UsageError> {
    let v = value.clone().unwrap_or_default();
    match opt {
        Opt::UseFile => o.config_file = v,
        Opt::ConfigTest => o.mode = Mode::ConfigTest(value),
        Opt::DontFork => o.dont_fork = true,
        Opt::LogConsole => o.log_console = true,
        Opt::LogDetail => o.log_detail = true,
        Opt::LogFacility => {
            o.log_facility = logger::parse_facility(&v)
                .ok_or_else(|| UsageError(format!("invalid log facility '{v}'")))?;
        }
        Opt::Pid => o.pid_file = Some(v),
        Opt::ConfigId => o.config_id = Some(v),
        Opt::AllConfig => o.all_config = true,
        Opt::DontReleaseIpvs => o.dont_release_ipvs = true,
        Opt::DumpConfig => o.mode = Mode::DumpConfig,
        Opt::Limits => o.mode = Mode::Limits,
        Opt::Signum => o.mode = Mode::Signum(v),
        Opt::ClearResets => o.mode = Mode::ClearResets,
        Opt::Version => o.mode = Mode::Version,
        Opt::Help => o.mode = Mode::Help,
    }
    Ok(())
}

/// Parses the arguments after `picket status`.
fn parse_status(
    mut o: Options,
    mut args: impl Iterator<Item = String>,
) -> Result<Options, UsageError> {
    let mut req = StatusRequest::default();
    while let Some(arg) = args.next() {
        let (name, attached) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => match arg.strip_prefix("-S").or_else(|| arg.strip_prefix("-f")) {
                Some(rest) if !rest.is_empty() && !arg.starts_with("--") => {
                    (arg[..2].to_owned(), Some(rest.to_owned()))
                }
                _ => (arg.clone(), None),
            },
        };
        let mut value = |what: &str| {
            attached
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| UsageError(format!("status: {what} needs a value")))
        };
        match name.as_str() {
            "--json" if attached.is_none() => req.json = true,
            "-S" | "--socket" => req.socket = Some(value("-S")?),
            "-f" | "--use-file" => o.config_file = value("-f")?,
            _ => return Err(UsageError(format!("status: unexpected argument '{arg}'"))),
        }
    }
    o.mode = Mode::Status(req);
    Ok(o)
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Options, UsageError> {
    let mut o = Options::default();
    let mut args = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .peekable();
    if args.peek().map(String::as_str) == Some("status") {
        args.next();
        return parse_status(o, args);
    }
    while let Some(arg) = args.next() {
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let Some(&(_, _, opt, kind)) = TABLE.iter().find(|(_, l, _, _)| *l == name) else {
                return Err(UsageError(format!("unrecognized option '--{name}'")));
            };
            let value = match (kind, attached) {
                (Arg::None, Some(_)) => {
                    return Err(UsageError(format!(
                        "option '--{name}' doesn't allow an argument"
                    )));
                }
                (Arg::None, None) => None,
                (Arg::Optional, v) => Some(v).flatten(),
                (Arg::Required, Some(v)) => Some(v),
                (Arg::Required, None) => Some(args.next().ok_or_else(|| {
                    UsageError(format!("option '--{name}' requires an argument"))
                })?),
            };
            apply(&mut o, opt, value)?;
        } else if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in shorts.char_indices() {
                let Some(&(_, _, opt, kind)) = TABLE.iter().find(|(s, _, _, _)| *s == Some(c))
                else {
                    return Err(UsageError(format!("invalid option -- '{c}'")));
                };
                let rest = &shorts[i + c.len_utf8()..];
                let value = match kind {
                    Arg::None => None,
                    Arg::Optional => (!rest.is_empty()).then(|| rest.to_owned()),
                    Arg::Required if !rest.is_empty() => Some(rest.to_owned()),
                    Arg::Required => Some(args.next().ok_or_else(|| {
                        UsageError(format!("option requires an argument -- '{c}'"))
                    })?),
                };
                let took_rest = value.is_some() && kind != Arg::None;
                apply(&mut o, opt, value)?;
                if took_rest {
                    break;
                }
            }
        } else {
            return Err(UsageError(format!("unexpected argument '{arg}'")));
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn defaults() {
        let o = p(&[]).unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(o.config_file, DEFAULT_CONFIG);
        assert_eq!(o.mode, Mode::Run);
    }

    #[test]
    fn value_forms() {
        for args in [
            &["-fx.conf"][..],
            &["-f", "x.conf"],
            &["--use-file=x.conf"],
            &["--use-file", "x.conf"],
        ] {
            assert_eq!(p(args).unwrap().config_file, "x.conf", "{args:?}");
        }
        let o = p(&["-lnD", "-S", "local3", "-pp.pid", "-i", "r1", "-e"]).unwrap();
        assert!(o.log_console && o.dont_fork && o.log_detail && o.all_config);
        assert_eq!(o.log_facility, 19);
        assert_eq!(o.pid_file.as_deref(), Some("p.pid"));
        assert_eq!(o.config_id.as_deref(), Some("r1"));
        assert_eq!(p(&["--log-facility=user"]).unwrap().log_facility, 1);
        assert_eq!(p(&["-S7"]).unwrap().log_facility, 23);
    }

    #[test]
    fn config_test_takes_only_an_attached_logfile() {
        assert_eq!(p(&["-t"]).unwrap().mode, Mode::ConfigTest(None));
        assert_eq!(
            p(&["-tlog"]).unwrap().mode,
            Mode::ConfigTest(Some("log".into()))
        );
        assert_eq!(
            p(&["--config-test=log"]).unwrap().mode,
            Mode::ConfigTest(Some("log".into()))
        );
        let o = p(&["-t", "-f", "/dev/null"]).unwrap();
        assert_eq!(o.mode, Mode::ConfigTest(None));
        assert_eq!(o.config_file, "/dev/null");
        assert!(p(&["--config-test", "x"]).is_err());
    }

    #[test]
    fn modes() {
        assert_eq!(p(&["--limits"]).unwrap().mode, Mode::Limits);
        assert_eq!(p(&["--clear-resets"]).unwrap().mode, Mode::ClearResets);
        assert_eq!(p(&["--dump-config"]).unwrap().mode, Mode::DumpConfig);
        assert_eq!(p(&["-v"]).unwrap().mode, Mode::Version);
        assert_eq!(p(&["--help"]).unwrap().mode, Mode::Help);
    }

    #[test]
    fn status_and_signum() {
        let o = p(&["status"]).unwrap();
        assert_eq!(o.mode, Mode::Status(StatusRequest::default()));
        let o = p(&["status", "--json", "-S", "/x.sock"]).unwrap();
        assert_eq!(
            o.mode,
            Mode::Status(StatusRequest {
                json: true,
                socket: Some("/x.sock".into())
            })
        );
        let o = p(&["status", "-S/y.sock", "-f", "k.conf"]).unwrap();
        assert_eq!(o.config_file, "k.conf");
        assert!(
            matches!(o.mode, Mode::Status(StatusRequest { json: false, socket: Some(ref s) }) if s == "/y.sock")
        );
        let o = p(&["status", "--socket=/z.sock", "--use-file=a.conf"]).unwrap();
        assert!(
            matches!(o.mode, Mode::Status(StatusRequest { socket: Some(ref s), .. }) if s == "/z.sock")
        );
        assert_eq!(o.config_file, "a.conf");
        assert!(p(&["status", "-S"]).is_err());
        assert!(p(&["status", "--bogus"]).is_err());
        assert!(p(&["status", "--json=1"]).is_err());
        assert_eq!(
            p(&["--signum=JSON"]).unwrap().mode,
            Mode::Signum("JSON".into())
        );
        assert_eq!(
            p(&["--signum", "DATA"]).unwrap().mode,
            Mode::Signum("DATA".into())
        );
        assert!(p(&["--signum"]).is_err());
    }

    #[test]
    fn usage_errors() {
        assert!(p(&["-x"]).is_err());
        assert!(p(&["--bogus"]).is_err());
        assert!(p(&["-f"]).is_err());
        assert!(p(&["--use-file"]).is_err());
        assert!(p(&["--limits=3"]).is_err());
        assert!(p(&["-S", "kern"]).is_err());
        assert!(p(&["stray"]).is_err());
    }
}
