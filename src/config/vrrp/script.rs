//! `vrrp_script NAME { }` (§b.3), `vrrp_sync_group NAME { }` (§b.5) and
//! the `track_interface` / `track_script` lists shared with instances.

use heapless::{String, Vec};

use super::super::global::{ScriptCmd, parse_script, parse_user, set_flag};
use super::super::parser::Parser;
use super::super::{Config, Loc, Statement};
use super::track_file::FILE_WEIGHT_MAX;
use super::{block_name, list_name};
use crate::limits::{IFNAME_BYTES, NAME_BYTES, SYNC_GROUP_MEMBERS, TRACKS_PER_INSTANCE};
use crate::time::Duration;

/// Largest weight of a tracker (keepalived: -253..253).
pub const WEIGHT_MAX: i64 = 253;
/// Longest `interval`/`timeout` of a `vrrp_script` (one day).
const SCRIPT_TIME_MAX: Duration = Duration::from_secs(86400);

/// A `vrrp_script` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpScript {
    /// Its name.
    pub name: String<NAME_BYTES>,
    /// Where the block starts.
    pub loc: Loc,
    /// `script CMD` (required) with the `user` keyword's user and group.
    pub script: ScriptCmd,
    /// `interval` (1 s).
    pub interval: Duration,
    /// `timeout`; `None` until `finish` (then = interval).
    pub timeout: Option<Duration>,
    /// `weight` -253..253 (0: a failure means FAULT).
    pub weight: i16,
    /// `weight W reverse`.
    pub reverse: bool,
    /// `rise` (1).
    pub rise: u32,
    /// `fall` (1).
    pub fall: u32,
    /// `init_fail`: start in the failed state.
    pub init_fail: bool,
    /// Some instance or sync group tracks it (set by `finish`; an unused
    /// script is never run, as in keepalived).
    pub used: bool,
}

impl VrrpScript {
    /// A script with keepalived's defaults.
    pub fn new(name: String<NAME_BYTES>, loc: Loc) -> Self {
        VrrpScript {
            name,
            loc,
            script: ScriptCmd::default(),
            interval: Duration::from_secs(1),
            timeout: None,
            weight: 0,
            reverse: false,
            rise: 1,
            fall: 1,
            init_fail: false,
            used: false,
        }
    }
}

/// An entry of `track_interface { IF [weight W [reverse]] }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackInterface {
    /// The interface.
    pub name: String<IFNAME_BYTES>,
    /// Weight -253..253; 0 = down means FAULT.
    pub weight: i16,
    /// `reverse`.
    pub reverse: bool,
    /// Where the entry is.
    pub loc: Loc,
}

/// An entry of `track_script { NAME [weight W] [reverse|noreverse] }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackScript {
    /// The `vrrp_script` named.
    pub name: String<NAME_BYTES>,
    /// Weight; `None` until `finish` (then the script's weight).
    pub weight: Option<i16>,
    /// Reverse; `None` until `finish` (then the script's `reverse`).
    pub reverse: Option<bool>,
    /// Where the reference is (errors about an unknown script point here).
    pub loc: Loc,
}

/// An entry of `track_file { NAME [weight W] [reverse|noreverse] }`: the
/// shape of a `track_script` entry, naming a `vrrp_track_file` (weight
/// -254..254; `None` until `finish`, then the file's).
pub type TrackFileRef = TrackScript;

/// A `vrrp_sync_group` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroup {
    /// Its name.
    pub name: String<NAME_BYTES>,
    /// Where the block starts.
    pub loc: Loc,
    /// `group { }`: member instance names, each with where it is written.
    pub members: Vec<(String<NAME_BYTES>, Loc), SYNC_GROUP_MEMBERS>,
    /// `track_interface`.
    pub track_interfaces: Vec<TrackInterface, TRACKS_PER_INSTANCE>,
    /// `track_script`.
    pub track_scripts: Vec<TrackScript, TRACKS_PER_INSTANCE>,
    /// `track_file`.
    pub track_files: Vec<TrackFileRef, TRACKS_PER_INSTANCE>,
    /// `notify_master`.
    pub notify_master: Option<ScriptCmd>,
    /// `notify_backup`.
    pub notify_backup: Option<ScriptCmd>,
    /// `notify_fault`.
    pub notify_fault: Option<ScriptCmd>,
    /// `notify_stop`.
    pub notify_stop: Option<ScriptCmd>,
    /// `notify` (generic: gets `GROUP NAME STATE PRIORITY`).
    pub notify: Option<ScriptCmd>,
    /// `notify_priority_changes`.
    pub notify_priority_changes: bool,
    /// `sync_group_tracking_weight`: members' weighted trackers count.
    pub sync_group_tracking_weight: bool,
}

impl SyncGroup {
    /// Its notify scripts by keyword, in keepalived's order (set or not).
    pub fn notifies(&self) -> [(&'static str, &Option<ScriptCmd>); 5] {
        [
            ("notify_master", &self.notify_master),
            ("notify_backup", &self.notify_backup),
            ("notify_fault", &self.notify_fault),
            ("notify_stop", &self.notify_stop),
            ("notify", &self.notify),
        ]
    }

    /// An empty group.
    pub fn new(name: String<NAME_BYTES>, loc: Loc) -> Self {
        SyncGroup {
            name,
            loc,
            members: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify_stop: None,
            notify: None,
            notify_priority_changes: false,
            sync_group_tracking_weight: false,
        }
    }
}

/// Keywords of `vrrp_script`.
const SCRIPT_KEYWORDS: &[&str] = &[
    "script",
    "interval",
    "timeout",
    "weight",
    "rise",
    "fall",
    "user",
    "init_fail",
];

/// Parses a `vrrp_script NAME { }` block.
pub fn parse_script_block(p: &mut Parser<'_>, head: &Statement, cfg: &mut Config) {
    let name = block_name(p, head);
    if !p.open(head) {
        return;
    }
    let mut s = VrrpScript::new(name.clone().unwrap_or_default(), head.loc);
    let mut have_script = false;
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        match st.keyword() {
            "script" => {
                if let Some(c) = parse_script(p, &st, &mut cfg.strings) {
                    // `user` may come before or after `script`.
                    let (u, g) = (s.script.user.clone(), s.script.group.clone());
                    s.script = c;
                    if s.script.user.is_empty() {
                        s.script.user = u;
                        s.script.group = g;
                    }
                    have_script = true;
                }
            }
            "interval" => {
                if let Some(d) = p.timer_value(&st, Duration::from_millis(1), SCRIPT_TIME_MAX) {
                    s.interval = d;
                }
            }
            "timeout" => {
                if let Some(d) = p.timer_value(&st, Duration::from_millis(1), SCRIPT_TIME_MAX) {
                    s.timeout = Some(d);
                }
            }
            "weight" => {
                if p.arity(&st, 1, 2)
                    && let Some(w) = p.int_arg(&st, 0, -WEIGHT_MAX, WEIGHT_MAX)
                {
                    s.weight = w as i16;
                    s.reverse = false;
                    if st.arg_count() == 2 {
                        match p.choice_arg(&st, 1, &["reverse", "noreverse"]) {
                            Some(k) => s.reverse = k == 0,
                            None => continue,
                        }
                    }
                }
            }
            "rise" => {
                if let Some(v) = p.int_value(&st, 1, i64::from(i32::MAX)) {
                    s.rise = v as u32;
                }
            }
            "fall" => {
                if let Some(v) = p.int_value(&st, 1, i64::from(i32::MAX)) {
                    s.fall = v as u32;
                }
            }
            "user" => {
                if p.arity(&st, 1, 2)
                    && let Some((u, g)) = parse_user(p, &st, 0)
                {
                    s.script.user = u;
                    s.script.group = g;
                }
            }
            "init_fail" => set_flag(p, &st, &mut s.init_fail),
            _ => p.unknown(&st, "vrrp_script", SCRIPT_KEYWORDS),
        }
    }
    let Some(name) = name else { return };
    if !have_script {
        p.error_hint(
            head.loc,
            format_args!("vrrp_script '{name}' has no 'script'"),
            format_args!("add 'script \"/path/to/check args\"'"),
        );
        return;
    }
    if cfg.vrrp.script_index(&name).is_some() {
        p.error(
            head.loc,
            format_args!("vrrp_script '{name}' is defined twice"),
        );
        return;
    }
    if cfg.vrrp.scripts.push(s).is_err() {
        p.capacity(head.loc, "vrrp_scripts");
    }
}

/// Parses `track_interface { IF [weight W [reverse]] ... }` into `out`.
pub fn parse_track_interfaces(
    p: &mut Parser<'_>,
    head: &Statement,
    out: &mut Vec<TrackInterface, TRACKS_PER_INSTANCE>,
) {
    if !p.open(head) {
        return;
    }
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        if !p.no_block(&st) {
            continue;
        }
        let ifname = st.keyword();
        if ifname.is_empty() || ifname.len() >= IFNAME_BYTES {
            p.error(
                st.loc,
                format_args!(
                    "invalid interface name '{ifname}' (1 to {} bytes)",
                    IFNAME_BYTES - 1
                ),
            );
            continue;
        }
        let Some((weight, reverse)) = weight_words(p, &st, WEIGHT_MAX) else {
            continue;
        };
        let mut name = String::new();
        let _ = name.push_str(ifname);
        let t = TrackInterface {
            name,
            weight: weight.unwrap_or(0),
            reverse: reverse.unwrap_or(false),
            loc: st.loc,
        };
        if out.iter().any(|x| x.name == t.name) {
            p.warning(
                st.loc,
                format_args!(
                    "interface '{}' is tracked twice; the first entry is kept",
                    t.name
                ),
            );
        } else if out.push(t).is_err() {
            p.capacity(st.loc, "tracks_per_instance");
        }
    }
}

/// The words after a tracked name: `[weight W] [reverse|noreverse]`.
/// Returns `(weight, reverse)`, each `None` when absent.
fn weight_words(
    p: &mut Parser<'_>,
    st: &Statement,
    max: i64,
) -> Option<(Option<i16>, Option<bool>)> {
    let mut weight = None;
    let mut reverse = None;
    let mut i = 0;
    while let Some(w) = st.arg(i) {
        match w {
            "weight" => {
                let v = p.int_arg(st, i + 1, -max, max)?;
                weight = Some(v as i16);
                i += 2;
            }
            "reverse" => {
                reverse = Some(true);
                i += 1;
            }
            "noreverse" => {
                reverse = Some(false);
                i += 1;
            }
            _ => {
                p.error_hint(
                    st.arg_loc(i),
                    format_args!("unexpected '{w}' after '{}'", st.keyword()),
                    format_args!("write 'NAME [weight W] [reverse]'"),
                );
                return None;
            }
        }
    }
    Some((weight, reverse))
}

/// Parses `track_script { NAME [weight W] [reverse|noreverse] ... }`.
pub fn parse_track_scripts(
    p: &mut Parser<'_>,
    head: &Statement,
    out: &mut Vec<TrackScript, TRACKS_PER_INSTANCE>,
) {
    parse_track_names(p, head, out, WEIGHT_MAX, "script");
}

/// Parses `track_file { NAME [weight W] [reverse|noreverse] ... }`.
pub fn parse_track_files(
    p: &mut Parser<'_>,
    head: &Statement,
    out: &mut Vec<TrackFileRef, TRACKS_PER_INSTANCE>,
) {
    parse_track_names(p, head, out, FILE_WEIGHT_MAX, "file");
}

/// A list of named trackers with optional weights (`what`: for messages).
fn parse_track_names(
    p: &mut Parser<'_>,
    head: &Statement,
    out: &mut Vec<TrackScript, TRACKS_PER_INSTANCE>,
    max: i64,
    what: &str,
) {
    if !p.open(head) {
        return;
    }
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        if !p.no_block(&st) {
            continue;
        }
        let Some((name, loc)) = list_name(p, &st) else {
            continue;
        };
        let Some((weight, reverse)) = weight_words(p, &st, max) else {
            continue;
        };
        let t = TrackScript {
            name,
            weight,
            reverse,
            loc,
        };
        if out.iter().any(|x| x.name == t.name) {
            p.warning(
                st.loc,
                format_args!(
                    "{what} '{}' is tracked twice; the first entry is kept",
                    t.name
                ),
            );
        } else if out.push(t).is_err() {
            p.capacity(st.loc, "tracks_per_instance");
        }
    }
}

/// Keywords of `vrrp_sync_group`.
const GROUP_KEYWORDS: &[&str] = &[
    "group",
    "track_interface",
    "track_script",
    "track_file",
    "track_process",
    "track_bfd",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
    "notify_priority_changes",
    "smtp_alert",
    "global_tracking",
    "sync_group_tracking_weight",
];

/// Parses a `vrrp_sync_group NAME { }` block.
pub fn parse_sync_group(p: &mut Parser<'_>, head: &Statement, cfg: &mut Config) {
    let name = block_name(p, head);
    if !p.open(head) {
        return;
    }
    let mut g = SyncGroup::new(name.clone().unwrap_or_default(), head.loc);
    let mut has_group = false;
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        let kw = st.keyword();
        match kw {
            "group" => {
                if !p.open(&st) {
                    continue;
                }
                has_group = true;
                let mut m = Statement::new();
                while p.next_in_block(&mut m) {
                    if !p.no_block(&m) {
                        continue;
                    }
                    // Several names may share a line.
                    for i in 0..m.len() {
                        let Some(w) = m.word(i) else { continue };
                        let mut n: String<NAME_BYTES> = String::new();
                        if n.push_str(w).is_err() {
                            p.error(m.loc_of(i), format_args!("name '{w}' is too long"));
                            continue;
                        }
                        if g.members.iter().any(|(x, _)| *x == n) {
                            p.warning(
                                m.loc_of(i),
                                format_args!("'{w}' is listed twice in sync group"),
                            );
                        } else if g.members.push((n, m.loc_of(i))).is_err() {
                            p.capacity(m.loc_of(i), "sync_group_members");
                        }
                    }
                }
            }
            "track_interface" => parse_track_interfaces(p, &st, &mut g.track_interfaces),
            "track_script" => parse_track_scripts(p, &st, &mut g.track_scripts),
            "track_file" => parse_track_files(p, &st, &mut g.track_files),
            "track_process" | "track_bfd" => p.unsupported(
                &st,
                "only track_interface, track_script and track_file are implemented; use a vrrp_script",
            ),
            "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" | "notify" => {
                if let Some(c) = parse_script(p, &st, &mut cfg.strings) {
                    let slot = match kw {
                        "notify_master" => &mut g.notify_master,
                        "notify_backup" => &mut g.notify_backup,
                        "notify_fault" => &mut g.notify_fault,
                        "notify_stop" => &mut g.notify_stop,
                        _ => &mut g.notify,
                    };
                    *slot = Some(c);
                }
            }
            "notify_priority_changes" => set_flag(p, &st, &mut g.notify_priority_changes),
            "sync_group_tracking_weight" => set_flag(p, &st, &mut g.sync_group_tracking_weight),
            "smtp_alert" => p.ignored(&st, "picket sends no e-mail"),
            "global_tracking" => p.ignored(&st, "deprecated, and the default behaviour"),
            _ if !has_group && !st.block && st.arg_count() == 0 && looks_like_instance(kw) => {
                p.error_hint(
                    st.loc,
                    format_args!("instance '{kw}' listed outside 'group {{ }}'"),
                    format_args!("the old sync group syntax is not accepted (keepalived rejects it too): write 'group {{ {kw} ... }}'"),
                );
            }
            _ => p.unknown(&st, "vrrp_sync_group", GROUP_KEYWORDS),
        }
    }
    let Some(name) = name else { return };
    if !has_group {
        p.error_hint(
            head.loc,
            format_args!("vrrp_sync_group '{name}' has no 'group {{ }}'"),
            format_args!("list the member instances in 'group {{ VI_1 VI_2 }}'"),
        );
        return;
    }
    if cfg.vrrp.sync_groups.iter().any(|x| x.name == name) {
        p.error(
            head.loc,
            format_args!("vrrp_sync_group '{name}' is defined twice"),
        );
        return;
    }
    if cfg.vrrp.sync_groups.push(g).is_err() {
        p.capacity(head.loc, "sync_groups");
    }
}

/// Whether an unknown word in a sync group is probably an instance name
/// written the old way (no keyword of the section is that close).
fn looks_like_instance(kw: &str) -> bool {
    super::super::parser::closest(kw, GROUP_KEYWORDS).is_none()
}
