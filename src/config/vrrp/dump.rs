//! Writing the VRRP tables back, normalised (every resolved value explicit,
//! fixed order).

use core::fmt::{self, Write as _};

use heapless::String;

use super::super::dump::{Dumper, Word};
use super::super::global::dump_script;
use super::VrrpConfig;
use super::address::{VipSpec, write_address};
use super::instance::{State, VrrpInstance};
use super::script::{SyncGroup, TrackInterface, TrackScript, VrrpScript};
use super::track_file::TrackFile;
use crate::time::Duration;

/// Writes every VRRP section.
pub fn dump(v: &VrrpConfig, d: &mut Dumper<'_>) -> fmt::Result {
    if !v.static_addresses.is_empty() {
        d.open("static_ipaddress", format_args!(""))?;
        addresses(d, &v.static_addresses)?;
        d.close()?;
        d.blank()?;
    }
    for s in v.scripts.iter() {
        script(d, s)?;
    }
    for f in v.track_files.iter() {
        track_file(d, f)?;
    }
    for g in v.sync_groups.iter() {
        sync_group(d, g)?;
    }
    for i in v.instances.iter() {
        instance(d, i)?;
    }
    Ok(())
}

/// One address per line.
fn addresses(d: &mut Dumper<'_>, list: &[VipSpec]) -> fmt::Result {
    for a in list {
        // An address line is at most ~200 bytes (two IPv6 addresses, a
        // label, a dev and every flag).
        let mut s: String<256> = String::new();
        write_address(&mut s, a)?;
        d.line(&s, format_args!(""))?;
    }
    Ok(())
}

fn script(d: &mut Dumper<'_>, s: &VrrpScript) -> fmt::Result {
    d.open("vrrp_script", format_args!("{}", Word(&s.name)))?;
    d.word("script", d.text(s.script.command))?;
    if !s.script.user.is_empty() {
        if s.script.group.is_empty() {
            d.word("user", &s.script.user)?;
        } else {
            d.line(
                "user",
                format_args!("{} {}", Word(&s.script.user), Word(&s.script.group)),
            )?;
        }
    }
    d.timer("interval", s.interval)?;
    d.timer("timeout", s.timeout.unwrap_or(s.interval))?;
    d.line(
        "weight",
        format_args!("{}{}", s.weight, if s.reverse { " reverse" } else { "" }),
    )?;
    d.line("rise", format_args!("{}", s.rise))?;
    d.line("fall", format_args!("{}", s.fall))?;
    if s.init_fail {
        d.flag("init_fail")?;
    }
    d.close()?;
    d.blank()
}

fn track_file(d: &mut Dumper<'_>, f: &TrackFile) -> fmt::Result {
    d.open("vrrp_track_file", format_args!("{}", Word(&f.name)))?;
    d.word("file", &f.path)?;
    d.line(
        "weight",
        format_args!("{}{}", f.weight, if f.reverse { " reverse" } else { "" }),
    )?;
    if let Some(i) = f.init {
        d.line(
            "init_file",
            format_args!("{}{}", i.value, if i.overwrite { " overwrite" } else { "" }),
        )?;
    }
    d.close()?;
    d.blank()
}

fn track_interfaces(d: &mut Dumper<'_>, list: &[TrackInterface]) -> fmt::Result {
    if list.is_empty() {
        return Ok(());
    }
    d.open("track_interface", format_args!(""))?;
    for t in list {
        d.line(
            &t.name,
            format_args!(
                "weight {}{}",
                t.weight,
                if t.reverse { " reverse" } else { "" }
            ),
        )?;
    }
    d.close()
}

fn track_scripts(d: &mut Dumper<'_>, list: &[TrackScript]) -> fmt::Result {
    track_names(d, "track_script", list)
}

/// A list of named trackers (`track_script`, `track_file`).
fn track_names(d: &mut Dumper<'_>, keyword: &str, list: &[TrackScript]) -> fmt::Result {
    if list.is_empty() {
        return Ok(());
    }
    d.open(keyword, format_args!(""))?;
    for t in list {
        let name: String<{ crate::limits::NAME_BYTES + 2 }> = {
            let mut s = String::new();
            let _ = write!(s, "{}", Word(&t.name));
            s
        };
        match t.weight {
            Some(w) => d.line(
                &name,
                format_args!(
                    "weight {w}{}",
                    if t.reverse == Some(true) {
                        " reverse"
                    } else {
                        ""
                    }
                ),
            )?,
            None => d.line(&name, format_args!(""))?,
        }
    }
    d.close()
}

fn sync_group(d: &mut Dumper<'_>, g: &SyncGroup) -> fmt::Result {
    d.open("vrrp_sync_group", format_args!("{}", Word(&g.name)))?;
    d.open("group", format_args!(""))?;
    for (m, _) in g.members.iter() {
        let mut s: String<{ crate::limits::NAME_BYTES + 2 }> = String::new();
        let _ = write!(s, "{}", Word(m));
        d.line(&s, format_args!(""))?;
    }
    d.close()?;
    track_interfaces(d, &g.track_interfaces)?;
    track_scripts(d, &g.track_scripts)?;
    track_names(d, "track_file", &g.track_files)?;
    notifies(d, &g.notifies())?;
    d.boolean("notify_priority_changes", g.notify_priority_changes)?;
    d.boolean("sync_group_tracking_weight", g.sync_group_tracking_weight)?;
    d.close()?;
    d.blank()
}

fn notifies(
    d: &mut Dumper<'_>,
    list: &[(&str, &Option<super::super::global::ScriptCmd>)],
) -> fmt::Result {
    for (kw, s) in list {
        if let Some(s) = s {
            dump_script(d, kw, s)?;
        }
    }
    Ok(())
}

fn opt_bool(d: &mut Dumper<'_>, kw: &str, v: Option<bool>) -> fmt::Result {
    match v {
        Some(b) => d.boolean(kw, b),
        None => Ok(()),
    }
}

fn opt_secs(d: &mut Dumper<'_>, kw: &str, v: Option<Duration>) -> fmt::Result {
    match v {
        Some(t) => d.line(kw, format_args!("{}", t.secs())),
        None => Ok(()),
    }
}

fn opt_u32(d: &mut Dumper<'_>, kw: &str, v: Option<u32>) -> fmt::Result {
    match v {
        Some(n) => d.line(kw, format_args!("{n}")),
        None => Ok(()),
    }
}

fn instance(d: &mut Dumper<'_>, i: &VrrpInstance) -> fmt::Result {
    d.open("vrrp_instance", format_args!("{}", Word(&i.name)))?;
    match i.state {
        Some(State::Master) => d.line("state", format_args!("MASTER"))?,
        Some(State::Backup) => d.line("state", format_args!("BACKUP"))?,
        None => {}
    }
    if !i.interface.is_empty() {
        d.word("interface", &i.interface)?;
    }
    if i.vrid != 0 {
        d.line("virtual_router_id", format_args!("{}", i.vrid))?;
    }
    if let Some(p) = i.priority {
        d.line("priority", format_args!("{p}"))?;
    }
    d.timer("advert_int", i.advert_int)?;
    if let Some(v) = i.version {
        d.line("version", format_args!("{v}"))?;
    }
    if i.nopreempt {
        d.flag("nopreempt")?;
    }
    d.timer("preempt_delay", i.preempt_delay)?;
    if let Some(n) = i.down_timer_adverts {
        d.line("down_timer_adverts", format_args!("{n}"))?;
    }
    if let Some(pw) = &i.auth_pass {
        d.open("authentication", format_args!(""))?;
        d.line("auth_type", format_args!("PASS"))?;
        d.word("auth_pass", pw)?;
        d.close()?;
    }
    if let Some(ip) = i.src_ip {
        let kw = if i.unicast_peers.is_empty() {
            "mcast_src_ip"
        } else {
            "unicast_src_ip"
        };
        d.line(kw, format_args!("{ip}"))?;
    }
    if !i.unicast_peers.is_empty() {
        d.open("unicast_peer", format_args!(""))?;
        for p in i.unicast_peers.iter() {
            let mut s: String<64> = String::new();
            let _ = write!(s, "{}", p.addr);
            if p.min_ttl != 0 || p.max_ttl != 255 {
                d.line(
                    &s,
                    format_args!("min_ttl {} max_ttl {}", p.min_ttl, p.max_ttl),
                )?;
            } else {
                d.line(&s, format_args!(""))?;
            }
        }
        d.close()?;
    }
    if let Some(t) = i.unicast_ttl {
        d.line("unicast_ttl", format_args!("{t}"))?;
    }
    opt_bool(d, "check_unicast_src", i.check_unicast_src)?;
    if let Some(ip) = i.mcast_dst_ip {
        d.line("mcast_dst_ip", format_args!("{ip}"))?;
    }
    if !i.vips.is_empty() {
        d.open("virtual_ipaddress", format_args!(""))?;
        addresses(d, &i.vips)?;
        d.close()?;
    }
    if !i.evips.is_empty() {
        d.open("virtual_ipaddress_excluded", format_args!(""))?;
        addresses(d, &i.evips)?;
        d.close()?;
    }
    if i.no_virtual_ipaddress {
        d.flag("no_virtual_ipaddress")?;
    }
    if !i.routes.is_empty() {
        d.open("virtual_routes", format_args!(""))?;
        for r in &i.routes {
            // A route line is at most ~150 bytes (two IPv6 addresses and
            // every option).
            let mut s: String<192> = String::new();
            let _ = write!(s, "{r}");
            d.line(&s, format_args!(""))?;
        }
        d.close()?;
    }
    track_interfaces(d, &i.track_interfaces)?;
    track_scripts(d, &i.track_scripts)?;
    track_names(d, "track_file", &i.track_files)?;
    d.boolean("dont_track_primary", i.dont_track_primary)?;
    notifies(d, &i.notifies())?;
    opt_bool(d, "notify_priority_changes", i.notify_priority_changes)?;
    match i.accept {
        Some(true) => d.flag("accept")?,
        Some(false) => d.flag("no_accept")?,
        None => {}
    }
    opt_secs(d, "garp_master_delay", i.garp_master_delay)?;
    opt_u32(d, "garp_master_repeat", i.garp_master_repeat)?;
    opt_secs(d, "garp_master_refresh", i.garp_master_refresh)?;
    opt_u32(
        d,
        "garp_master_refresh_repeat",
        i.garp_master_refresh_repeat,
    )?;
    opt_secs(d, "garp_lower_prio_delay", i.garp_lower_prio_delay)?;
    opt_u32(d, "garp_lower_prio_repeat", i.garp_lower_prio_repeat)?;
    opt_bool(d, "lower_prio_no_advert", i.lower_prio_no_advert)?;
    opt_bool(d, "higher_prio_send_advert", i.higher_prio_send_advert)?;
    opt_bool(d, "owner_ignore_adverts", i.owner_ignore_adverts)?;
    opt_bool(d, "v3_checksum_as_v2", i.v3_checksum_as_v2)?;
    opt_bool(d, "skip_check_adv_addr", i.skip_check_adv_addr)?;
    opt_bool(d, "strict_mode", i.strict_mode)?;
    if let Some(v) = &i.use_vmac {
        let mut s: String<64> = String::new();
        if !v.name.is_empty() {
            let _ = write!(s, "{}", Word(&v.name));
        }
        if let Some(m) = v.mac {
            let sep = if s.is_empty() { "" } else { " " };
            let n = usize::from(v.mac_octets).min(6);
            let _ = s.push_str(sep);
            for (k, b) in m.iter().take(n).enumerate() {
                let _ = write!(s, "{}{b:02x}", if k == 0 { "" } else { ":" });
            }
        }
        d.line("use_vmac", format_args!("{s}"))?;
    }
    if i.vmac_xmit_base {
        d.flag("vmac_xmit_base")?;
    }
    d.boolean("promote_secondaries", i.promote_secondaries)?;
    d.boolean("unicast_fault_no_peer", i.unicast_fault_no_peer)?;
    d.boolean("track_src_ip", i.track_src_ip)?;
    d.close()?;
    d.blank()
}
