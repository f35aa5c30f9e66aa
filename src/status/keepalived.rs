//! keepalived's dump files, as close to keepalived 2.2.7's as picket's
//! state allows, so the scripts that read them keep working:
//!
//! - [`write_data`]: `SIGUSR1` → `keepalived.data` — sections
//!   `------< Global definitions >------`, `------< VRRP Topology >------`
//!   (one ` VRRP Instance = NAME` block each, `   Key = value` lines:
//!   `State = MASTER`, `Priority`, `Effective priority`, `Virtual IP (n):`,
//!   ...), `------< VRRP Sync groups >------`, `------< VRRP Scripts >------`,
//!   `------< Interfaces >------`;
//! - [`write_stats`]: `SIGUSR2` → `keepalived.stats` — per instance
//!   `VRRP Instance: NAME` and keepalived's counters, line for line;
//! - [`write_json`]: the JSON signal → `keepalived.json` — keepalived's
//!   `json_version 1` array of `{"data":{...},"stats":{...}}`.
//!
//! Counters map to picket's where keepalived's have no exact match:
//! `Length` = truncated + too long + oversized, `Address List` = address
//! mismatches (accepted, as keepalived ≥ 2.3.3), `Type Mismatch` = wrong
//! authentication type, `Failure` = wrong password; `Released master` =
//! times it became master and is no longer.
//!
//! Each writes into any [`fmt::Write`] (the binary's file sink, which needs
//! no allocation); the first write error stops it.

use core::fmt::{self, Write};

use super::json::{Json, JsonState};
use super::{StatusView, Wall, state_name};
use crate::config::vrrp::{VipSpec, VrrpInstance};
use crate::time::Duration;
use crate::vrrp::State;
use crate::vrrp::track::{ScriptId, ScriptState};

/// A time in keepalived's dump form: `1796178621.069893 (Wed Dec  2
/// 02:30:21.069893 2026)`, local time.
struct Stamp(u64, i32);

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (micros, offset) = (self.0, self.1);
        let local = i64::try_from(micros / 1_000_000).unwrap_or(0) + i64::from(offset);
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let wd = WEEKDAYS
            .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
            .unwrap_or(&"Thu");
        let mon = MONTHS
            .get(usize::try_from(m - 1).unwrap_or(0))
            .unwrap_or(&"Jan");
        write!(
            f,
            "{}.{:06} ({wd} {mon} {d:>2} {:02}:{:02}:{:02}.{:06} {y})",
            micros / 1_000_000,
            micros % 1_000_000,
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            micros % 1_000_000
        )
    }
}

/// (year, month 1-12, day 1-31) of day `z` since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A duration as keepalived prints advert intervals: `1 sec`, or
/// `100 milli-sec` when not whole seconds.
struct Interval(Duration);

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.total_millis();
        if ms.is_multiple_of(1000) {
            write!(f, "{} sec", ms / 1000)
        } else {
            write!(f, "{ms} milli-sec")
        }
    }
}

/// A duration in seconds as `%g` prints it: `1`, `0.1`, `2.5`.
struct Secs(Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.total_micros();
        write!(f, "{}", us / 1_000_000)?;
        let mut frac = us % 1_000_000;
        if frac == 0 {
            return Ok(());
        }
        let mut digits = 6;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        write!(f, ".{frac:0digits$}")
    }
}

fn yes(b: bool, on: &'static str, off: &'static str) -> &'static str {
    if b { on } else { off }
}

/// keepalived's VIP line: `10.0.0.1/24 dev eth0 scope global[ set]`.
struct VipLine<'a>(&'a VipSpec, &'a str, bool);

impl fmt::Display for VipLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let VipLine(v, default_dev, set) = *self;
        let dev = if v.dev.is_empty() {
            default_dev
        } else {
            v.dev.as_str()
        };
        write!(
            f,
            "{}/{} dev {dev} scope {}{}",
            v.addr,
            v.prefix_len,
            v.scope.as_str(),
            yes(set, " set", "")
        )
    }
}

/// keepalived's numbering of states in its JSON (`VRRP_STATE_*`).
fn state_number(s: State) -> u64 {
    match s {
        State::Initialize => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
    }
}

fn instance_of<'a>(view: &'a StatusView<'_>, slot: u16) -> Option<&'a VrrpInstance> {
    view.engine
        .config_index(slot)
        .and_then(|i| view.cfg.vrrp.instances.get(i))
}

fn slots(view: &StatusView<'_>) -> impl Iterator<Item = u16> {
    0..u16::try_from(view.engine.len()).unwrap_or(u16::MAX)
}

/// `SIGUSR1`: the state dump (`keepalived.data`).
pub fn write_data(view: &StatusView<'_>, out: &mut dyn Write) -> fmt::Result {
    let g = &view.cfg.global;
    let wall = &view.facts.wall;
    writeln!(out, "------< Global definitions >------")?;
    writeln!(out, " Network namespace = (default)")?;
    writeln!(out, " Router ID = {}", view.cfg.strings.get(g.router_id))?;
    writeln!(
        out,
        " Daemon = picket {} (board {})",
        view.facts.version, view.facts.board
    )?;
    writeln!(out, " Dynamic interfaces = false")?;
    writeln!(out, " Default interface = {}", g.default_interface)?;
    writeln!(out, " LVS flush = {}", g.lvs_flush)?;
    writeln!(
        out,
        " VRRP notify priority changes = {}",
        g.vrrp_notify_priority_changes
    )?;
    writeln!(out, " VRRP IPv4 mcast group = {}", g.vrrp_mcast_group4)?;
    writeln!(out, " VRRP IPv6 mcast group = {}", g.vrrp_mcast_group6)?;
    writeln!(
        out,
        " Gratuitous ARP delay = {}",
        g.vrrp_garp_master_delay.secs()
    )?;
    writeln!(
        out,
        " Gratuitous ARP repeat = {}",
        g.vrrp_garp_master_repeat
    )?;
    writeln!(
        out,
        " Gratuitous ARP refresh timer = {}",
        g.vrrp_garp_master_refresh.secs()
    )?;
    writeln!(
        out,
        " Gratuitous ARP refresh repeat = {}",
        g.vrrp_garp_master_refresh_repeat
    )?;
    writeln!(
        out,
        " Num adverts before down = {}",
        g.vrrp_down_timer_adverts
    )?;
    writeln!(
        out,
        " Send advert after receive lower priority advert = {}",
        !g.vrrp_lower_prio_no_advert
    )?;
    writeln!(
        out,
        " Send advert after receive higher priority advert = {}",
        g.vrrp_higher_prio_send_advert
    )?;
    writeln!(out, " VRRP default protocol version = {}", g.vrrp_version)?;
    writeln!(
        out,
        " VRRP check unicast_src = {}",
        g.vrrp_check_unicast_src
    )?;
    writeln!(
        out,
        " VRRP skip check advert addresses = {}",
        g.vrrp_skip_check_adv_addr
    )?;
    writeln!(out, " VRRP strict mode = {}", g.vrrp_strict)?;
    writeln!(
        out,
        " Script security {}",
        yes(g.enable_script_security, "enabled", "disabled")
    )?;
    writeln!(out, "------< VRRP Topology >------")?;
    for slot in slots(view) {
        data_instance(view, slot, out)?;
    }
    if !view.cfg.vrrp.sync_groups.is_empty() {
        writeln!(out, "------< VRRP Sync groups >------")?;
        for (k, grp) in view.cfg.vrrp.sync_groups.iter().enumerate() {
            let st = view
                .engine
                .sync_group(k)
                .map_or("INIT", |s| state_name(s.state()));
            writeln!(out, " VRRP Sync Group = {}, {st}", grp.name)?;
            writeln!(out, "   VRRP member instances :")?;
            for (m, _) in &grp.members {
                writeln!(out, "     {m}")?;
            }
        }
    }
    if !view.scripts.is_empty() {
        writeln!(out, "------< VRRP Scripts >------")?;
        for k in 0..u16::try_from(view.scripts.len()).unwrap_or(u16::MAX) {
            data_script(view, ScriptId(k), out)?;
        }
    }
    writeln!(out, "------< Interfaces >------")?;
    for f in view.engine.interfaces() {
        writeln!(out, " Name = {}", f.name)?;
        writeln!(out, "   index = {}", f.facts.index)?;
        match f.facts.ipv4 {
            Some(a) => writeln!(out, "   IPv4 address = {a}")?,
            None => writeln!(out, "   IPv4 address = (none)")?,
        }
        match f.facts.ipv6_link_local {
            Some(a) => writeln!(out, "   IPv6 address = {a}")?,
            None => writeln!(out, "   IPv6 address = (none)")?,
        }
        let m = f.facts.mac;
        writeln!(
            out,
            "   MAC = {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )?;
        let _ = wall;
    }
    Ok(())
}

fn data_instance(view: &StatusView<'_>, slot: u16, out: &mut dyn Write) -> fmt::Result {
    let e = view.engine;
    let (Some(inst), Some(fsm)) = (instance_of(view, slot), e.instance(slot)) else {
        return Ok(());
    };
    let p = fsm.params();
    let state = fsm.state();
    let (unicast, src) = e.source(slot).unwrap_or((
        false,
        core::net::IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED),
    ));
    writeln!(out, " VRRP Instance = {}", inst.name)?;
    writeln!(
        out,
        "   VRRP Version = {}",
        if p.version == crate::vrrp::Version::V3 {
            3
        } else {
            2
        }
    )?;
    writeln!(out, "   State = {}", state_name(state))?;
    if unicast {
        writeln!(out, "   Flags:")?;
        writeln!(out, "     Using unicast")?;
    } else {
        writeln!(out, "   Flags: none")?;
    }
    let want = if fsm.wants_master() {
        State::Master
    } else {
        state
    };
    writeln!(out, "   Wantstate = {}", state_name(want))?;
    writeln!(
        out,
        "   Number of interface and track script faults = {}",
        u8::from(fsm.is_faulty())
    )?;
    if let Some((at, _)) = e.last_transition(slot) {
        let w = &view.facts.wall;
        writeln!(
            out,
            "   Last transition = {}",
            Stamp(w.at(at), w.utc_offset_s)
        )?;
    }
    writeln!(
        out,
        "   Master down timer = {} usecs",
        fsm.master_down_interval().total_micros()
    )?;
    writeln!(
        out,
        "   Interface = {}",
        e.interface_of(slot).map_or("", |f| f.name.as_str())
    )?;
    writeln!(out, "   Using src_ip = {src}")?;
    if !unicast && let Some(gr) = e.group(slot) {
        writeln!(out, "   Multicast address {gr}")?;
    }
    let garp = p.garp;
    writeln!(
        out,
        "   Gratuitous ARP delay = {}",
        garp.master_delay.secs()
    )?;
    writeln!(out, "   Gratuitous ARP repeat = {}", garp.master_repeat)?;
    writeln!(
        out,
        "   Gratuitous ARP refresh = {}",
        garp.master_refresh.secs()
    )?;
    writeln!(
        out,
        "   Gratuitous ARP refresh repeat = {}",
        garp.master_refresh_repeat
    )?;
    writeln!(
        out,
        "   Gratuitous ARP lower priority delay = {}",
        garp.lower_prio_delay.secs()
    )?;
    writeln!(
        out,
        "   Gratuitous ARP lower priority repeat = {}",
        garp.lower_prio_repeat
    )?;
    writeln!(out, "   Down timer adverts = {}", p.down_timer_adverts)?;
    writeln!(
        out,
        "   Send advert after receive lower priority advert = {}",
        !p.lower_prio_no_advert
    )?;
    writeln!(
        out,
        "   Send advert after receive higher priority advert = {}",
        p.higher_prio_send_advert
    )?;
    writeln!(out, "   Virtual Router ID = {}", p.vrid)?;
    writeln!(out, "   Priority = {}", p.priority)?;
    writeln!(out, "   Effective priority = {}", fsm.priority())?;
    writeln!(out, "   Total priority = {}", fsm.priority())?;
    writeln!(
        out,
        "   Advert interval = {}",
        Interval(fsm.advertisement_interval())
    )?;
    writeln!(out, "   Accept = {}", yes(p.accept, "enabled", "disabled"))?;
    writeln!(
        out,
        "   Preempt = {}",
        yes(p.preempt, "enabled", "disabled")
    )?;
    if p.preempt_delay != Duration::ZERO {
        writeln!(out, "   Preempt delay = {} secs", Secs(p.preempt_delay))?;
    }
    writeln!(
        out,
        "   Promote_secondaries = {}",
        yes(inst.promote_secondaries, "enabled", "disabled")
    )?;
    writeln!(
        out,
        "   Authentication type = {}",
        yes(inst.auth_pass.is_some(), "SIMPLE_PASSWORD", "none")
    )?;
    if state == State::Backup
        && let Some((addr, prio)) = fsm.master()
    {
        writeln!(out, "   Master router = {addr}")?;
        writeln!(out, "   Master priority = {prio}")?;
    }
    if unicast {
        match inst.unicast_ttl {
            Some(ttl) => writeln!(out, "   Unicast TTL = {ttl}")?,
            None => writeln!(out, "   Unicast TTL = (kernel default)")?,
        }
        writeln!(
            out,
            "   Check unicast src : {}",
            yes(inst.check_unicast_src.unwrap_or(false), "yes", "no")
        )?;
        writeln!(out, "   Unicast Peer :")?;
        for peer in &inst.unicast_peers {
            writeln!(
                out,
                "     {} min_ttl {} max_ttl {}",
                peer.addr, peer.min_ttl, peer.max_ttl
            )?;
        }
    }
    let set = state == State::Master;
    if !inst.vips.is_empty() {
        writeln!(out, "   Virtual IP ({}):", inst.vips.len())?;
        for v in &inst.vips {
            writeln!(out, "     {}", VipLine(v, &inst.interface, set))?;
        }
    }
    if !inst.evips.is_empty() {
        writeln!(out, "   Virtual IP Excluded ({}):", inst.evips.len())?;
        for v in &inst.evips {
            writeln!(out, "     {}", VipLine(v, &inst.interface, set))?;
        }
    }
    if !inst.track_interfaces.is_empty() {
        writeln!(out, "   Tracked interfaces :")?;
        for t in &inst.track_interfaces {
            writeln!(
                out,
                "     {} weight {}{}",
                t.name,
                t.weight,
                yes(t.reverse, " reverse", "")
            )?;
        }
    }
    if !inst.track_scripts.is_empty() {
        writeln!(out, "   Tracked scripts :")?;
        for t in &inst.track_scripts {
            let weight = t.weight.unwrap_or_else(|| {
                view.cfg
                    .vrrp
                    .scripts
                    .iter()
                    .find(|s| s.name.as_str() == t.name.as_str())
                    .map_or(0, |s| s.weight)
            });
            writeln!(out, "     {} weight {weight}", t.name)?;
        }
    }
    writeln!(out, "   Using smtp notification = no")?;
    writeln!(out, "   Notify deleted = Fault")?;
    writeln!(
        out,
        "   Notify priority changes = {}",
        inst.notify_priority_changes.unwrap_or(false)
    )
}

fn data_script(view: &StatusView<'_>, id: ScriptId, out: &mut dyn Write) -> fmt::Result {
    let (Some(cfg), Some(t)) = (
        view.cfg.vrrp.scripts.get(usize::from(id.0)),
        view.scripts.get(id),
    ) else {
        return Ok(());
    };
    writeln!(out, " VRRP Script = {}", cfg.name)?;
    writeln!(
        out,
        "   Command = '{}'",
        view.cfg.strings.get(cfg.script.command)
    )?;
    writeln!(out, "   Interval = {} sec", Secs(cfg.interval))?;
    writeln!(
        out,
        "   Timeout = {} sec",
        Secs(cfg.timeout.unwrap_or(cfg.interval))
    )?;
    writeln!(
        out,
        "   Weight = {}{}",
        cfg.weight,
        yes(cfg.reverse, " reverse", "")
    )?;
    writeln!(out, "   Rise = {}", cfg.rise)?;
    writeln!(out, "   Fall = {}", cfg.fall)?;
    writeln!(
        out,
        "   Status = {}",
        match t.state() {
            ScriptState::Init => "INIT",
            ScriptState::Ok => "GOOD",
            ScriptState::Failed => "BAD",
        }
    )?;
    writeln!(out, "   Tracking instances :")?;
    for slot in slots(view) {
        let Some(inst) = instance_of(view, slot) else {
            continue;
        };
        if let Some(ts) = inst
            .track_scripts
            .iter()
            .find(|s| s.name.as_str() == cfg.name.as_str())
        {
            writeln!(
                out,
                "     {}, weight {}",
                inst.name,
                ts.weight.unwrap_or(cfg.weight)
            )?;
        }
    }
    writeln!(out, "   State = {}", yes(t.is_running(), "running", "idle"))
}

/// keepalived's counters of instance `slot`, in its order and words.
fn counters(view: &StatusView<'_>, slot: u16) -> [(&'static str, u64); 14] {
    let e = view.engine;
    let s = e.instance(slot).map(|f| *f.stats()).unwrap_or_default();
    let rx = e.rx_stats(slot).copied().unwrap_or_default();
    let master_now = u64::from(e.state(slot) == Some(State::Master));
    [
        ("advert_rcvd", s.adverts_received),
        ("advert_sent", s.adverts_sent),
        ("become_master", s.became_master),
        ("release_master", s.became_master.saturating_sub(master_now)),
        ("packet_len_err", rx.truncated + rx.too_long + rx.oversized),
        ("advert_interval_err", rx.bad_interval),
        ("ip_ttl_err", rx.bad_ttl),
        ("invalid_type_rcvd", rx.bad_type),
        ("addr_list_err", rx.address_mismatch),
        ("invalid_authtype", 0),
        ("authtype_mismatch", rx.bad_auth_type),
        ("auth_failure", rx.bad_password),
        ("pri_zero_rcvd", s.priority_zero_received),
        ("pri_zero_sent", s.priority_zero_sent),
    ]
}

/// `SIGUSR2`: the counters (`keepalived.stats`), keepalived's layout.
pub fn write_stats(view: &StatusView<'_>, out: &mut dyn Write) -> fmt::Result {
    for slot in slots(view) {
        let Some(inst) = instance_of(view, slot) else {
            continue;
        };
        let c = counters(view, slot).map(|(_, v)| v);
        writeln!(out, "VRRP Instance: {}", inst.name)?;
        writeln!(out, "  Advertisements:")?;
        writeln!(out, "    Received: {}", c[0])?;
        writeln!(out, "    Sent: {}", c[1])?;
        writeln!(out, "  Became master: {}", c[2])?;
        writeln!(out, "  Released master: {}", c[3])?;
        writeln!(out, "  Packet Errors:")?;
        writeln!(out, "    Length: {}", c[4])?;
        writeln!(out, "    TTL: {}", c[6])?;
        writeln!(out, "    Invalid Type: {}", c[7])?;
        writeln!(out, "    Advertisement Interval: {}", c[5])?;
        writeln!(out, "    Address List: {}", c[8])?;
        writeln!(out, "  Authentication Errors:")?;
        writeln!(out, "    Invalid Type: {}", c[9])?;
        writeln!(out, "    Type Mismatch: {}", c[10])?;
        writeln!(out, "    Failure: {}", c[11])?;
        writeln!(out, "  Priority Zero:")?;
        writeln!(out, "    Received: {}", c[12])?;
        writeln!(out, "    Sent: {}", c[13])?;
    }
    Ok(())
}

/// The JSON signal: `keepalived.json`, keepalived's `json_version 1`.
pub fn write_json(view: &StatusView<'_>, out: &mut dyn Write) -> fmt::Result {
    let mut state = JsonState::new();
    let mut j = Json::new(out, &mut state);
    j.begin_array()?;
    for slot in slots(view) {
        json_instance(view, slot, &mut j)?;
    }
    j.end_array()
}

fn json_instance(view: &StatusView<'_>, slot: u16, j: &mut Json<'_, '_>) -> fmt::Result {
    let e = view.engine;
    let wall: &Wall = &view.facts.wall;
    let (Some(inst), Some(fsm)) = (instance_of(view, slot), e.instance(slot)) else {
        return Ok(());
    };
    let p = fsm.params();
    let state = fsm.state();
    j.begin_object()?;
    j.key("data")?;
    j.begin_object()?;
    j.field_str("iname", &inst.name)?;
    j.field_u64("dont_track_primary", u64::from(inst.dont_track_primary))?;
    j.field_u64(
        "skip_check_adv_addr",
        u64::from(inst.skip_check_adv_addr.unwrap_or(false)),
    )?;
    j.field_u64("strict_mode", u64::from(inst.strict_mode.unwrap_or(false)))?;
    j.field_str("vmac_ifname", "")?;
    j.field_str(
        "ifp_ifname",
        e.interface_of(slot).map_or("", |f| f.name.as_str()),
    )?;
    let master_priority = match (state, fsm.master()) {
        (State::Backup, Some((_, prio))) => u64::from(prio),
        _ => 0,
    };
    j.field_u64("master_priority", master_priority)?;
    j.key("last_transition")?;
    match e.last_transition(slot) {
        Some((at, _)) => j.micros_as_secs(wall.at(at))?,
        None => j.u64(0)?,
    }
    let g = p.garp;
    j.field_u64("garp_delay", g.master_delay.secs())?;
    j.field_u64("garp_refresh", g.master_refresh.secs())?;
    j.field_u64("garp_rep", u64::from(g.master_repeat))?;
    j.field_u64("garp_refresh_rep", u64::from(g.master_refresh_repeat))?;
    j.field_u64("garp_lower_prio_delay", g.lower_prio_delay.secs())?;
    j.field_u64("garp_lower_prio_rep", u64::from(g.lower_prio_repeat))?;
    j.field_u64("lower_prio_no_advert", u64::from(p.lower_prio_no_advert))?;
    j.field_u64(
        "higher_prio_send_advert",
        u64::from(p.higher_prio_send_advert),
    )?;
    j.field_u64("vrid", u64::from(p.vrid))?;
    j.field_u64("base_priority", u64::from(p.priority))?;
    j.field_u64("effective_priority", u64::from(fsm.priority()))?;
    j.field_bool("vipset", state == State::Master)?;
    j.field_bool("promote_secondaries", inst.promote_secondaries)?;
    j.key("adver_int")?;
    j.number(&Secs(fsm.advertisement_interval()))?;
    j.key("master_adver_int")?;
    j.number(&Secs(fsm.master_adver_interval()))?;
    j.field_u64("accept", u64::from(p.accept))?;
    j.field_bool("nopreempt", !p.preempt)?;
    j.field_u64("preempt_delay", p.preempt_delay.secs())?;
    j.field_u64("state", state_number(state))?;
    let want = if fsm.wants_master() {
        State::Master
    } else {
        state
    };
    j.field_u64("wantstate", state_number(want))?;
    j.field_u64(
        "version",
        if p.version == crate::vrrp::Version::V3 {
            3
        } else {
            2
        },
    )?;
    j.field_bool("smtp_alert", false)?;
    j.field_bool("notify_deleted", false)?;
    let set = state == State::Master;
    for (key, list) in [("vips", &inst.vips[..]), ("evips", &inst.evips[..])] {
        if list.is_empty() {
            continue;
        }
        j.key(key)?;
        j.begin_array()?;
        for v in list {
            j.display(&VipLine(v, &inst.interface, set))?;
        }
        j.end_array()?;
    }
    if !inst.track_interfaces.is_empty() {
        j.key("track_ifp")?;
        j.begin_array()?;
        for t in &inst.track_interfaces {
            j.str(&t.name)?;
        }
        j.end_array()?;
    }
    if !inst.track_scripts.is_empty() {
        j.key("track_script")?;
        j.begin_array()?;
        for t in &inst.track_scripts {
            let cmd = view
                .cfg
                .vrrp
                .scripts
                .iter()
                .find(|s| s.name.as_str() == t.name.as_str())
                .map_or("", |s| view.cfg.strings.get(s.script.command));
            j.display(&format_args!("'{cmd}'"))?;
        }
        j.end_array()?;
    }
    j.field_u64("auth_type", u64::from(inst.auth_pass.is_some()))?;
    j.end_object()?;
    j.key("stats")?;
    j.begin_object()?;
    for (name, value) in counters(view, slot) {
        j.field_u64(name, value)?;
    }
    j.end_object()?;
    j.end_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn stamps_are_ctime_with_microseconds() {
        let mut s = String::new();
        write!(s, "{}", Stamp(1_796_178_621_069_893, 0)).unwrap();
        assert_eq!(s, "1796178621.069893 (Wed Dec  2 02:30:21.069893 2026)");
        s.clear();
        write!(s, "{}", Stamp(0, 3600)).unwrap();
        assert_eq!(s, "0.000000 (Thu Jan  1 01:00:00.000000 1970)");
        s.clear();
        write!(s, "{}", Stamp(951_782_400_000_000, 0)).unwrap();
        assert_eq!(s, "951782400.000000 (Tue Feb 29 00:00:00.000000 2000)");
    }

    #[test]
    fn seconds_print_as_percent_g() {
        let f = |us| {
            let mut s = String::new();
            write!(s, "{}", Secs(Duration::from_micros(us))).unwrap();
            s
        };
        assert_eq!(f(1_000_000), "1");
        assert_eq!(f(100_000), "0.1");
        assert_eq!(f(2_500_000), "2.5");
        assert_eq!(f(10_000), "0.01");
    }
}
