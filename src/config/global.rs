//! `global_defs` (reference §b.1) and the global keywords also accepted at
//! the top level (§a.4 "Global, also valid outside").
//!
//! [`GlobalDefs::new`] holds keepalived's defaults; [`finish`] resolves the
//! defaults that depend on other keywords (the lower-priority GARP settings).
//! The shared [`ScriptCmd`] (a command line with an optional `user[:group]`)
//! and its parser live here too, since `global_defs` is where scripts first
//! appear; the VRRP sections use them.
//!
//! # Keyword policy
//!
//! **Implemented** (typed fields of [`GlobalDefs`]): `router_id` (and its old
//! name `lvs_id`), `vrrp_mcast_group4`, `vrrp_mcast_group6`, `vrrp_version`,
//! `vrrp_garp_master_delay`, `vrrp_garp_master_repeat`,
//! `vrrp_garp_master_refresh`, `vrrp_garp_master_refresh_repeat`,
//! `vrrp_garp_lower_prio_delay`, `vrrp_garp_lower_prio_repeat`,
//! `vrrp_garp_interval`, `vrrp_gna_interval`, `vrrp_min_garp`,
//! `vrrp_down_timer_adverts`, `vrrp_lower_prio_no_advert`,
//! `vrrp_higher_prio_send_advert`, `vrrp_owner_ignore_adverts`,
//! `v3_checksum_as_v2`, `vrrp_check_unicast_src`, `vrrp_skip_check_adv_addr`,
//! `vrrp_strict` (the configuration checks of §c.16 are done when the
//! instances are finished, see `vrrp`), `vrrp_startup_delay`,
//! `vrrp_delay_after_boot`, `vrrp_notify_priority_changes`, `script_user`,
//! `enable_script_security`, `set_supplementary_groups`, `startup_script`, `startup_script_timeout`,
//! `shutdown_script`, `shutdown_script_timeout`, `dynamic_interfaces`,
//! `default_interface`, `vmac_prefix`, `vmac_addr_prefix`, `lvs_flush`,
//! `lvs_flush_on_stop` (and `lvs_flush_onstop`), `lvs_timeouts`,
//! `checker_log_all_failures`.
//!
//! **Unsupported** (an error: they would change behaviour): see
//! [`UNSUPPORTED`] — namespaces, notify FIFOs, `lvs_sync_daemon`,
//! firewall selection (`vrrp_iptables`, `nftables*`), `vrrp_garp_extra_if`,
//! `linkbeat_use_polling`, `disable_local_igmp`, `nftables_ipvs*`.
//!
//! **Ignored** (a warning: harmless for picket): see [`IGNORED`] — SNMP,
//! DBus, e-mail/SMTP alerts, process names/priorities/affinity/no_swap/rlimit,
//! buffer sizes, dump files, reload plumbing, `log_unknown_vrids`, ...

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use heapless::String;

use super::dump::{Dumper, Word};
use super::parser::Parser;
use super::strings::{StringPool, Text};
use super::{Config, Diagnostics, Statement};
use crate::limits::IFNAME_BYTES;
use crate::time::Duration;

/// Bytes of a user or group name of a script (Linux's `LOGIN_NAME_MAX` is
/// larger, but `useradd` limits names to 32 bytes).
pub const USER_BYTES: usize = 32;

/// A script to run: one command line (split into arguments when run) and the
/// user and group to run it as.
///
/// keepalived syntax: `KEYWORD CMD [USER[:GROUP] | USER [:]GROUP]`; the command
/// is one word, usually a quoted string (`notify_master "/etc/ka/m.sh arg"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptCmd {
    /// The command line, in the string pool.
    pub command: Text,
    /// User to run as; empty means the default (`script_user`).
    pub user: String<USER_BYTES>,
    /// Group to run as; empty means the user's group.
    pub group: String<USER_BYTES>,
}

/// `dynamic_interfaces [allow_if_changes]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DynamicInterfaces {
    /// A missing interface is a configuration error (the default).
    #[default]
    Off,
    /// Interfaces may be missing at start (their instances wait in FAULT).
    /// Deleted and recreated interfaces are followed whatever this says
    /// (see `vrrp::engine::reflect`).
    On,
    /// As `On` (an interface that comes back with another index is followed
    /// anyway).
    AllowIfChanges,
}

/// `lvs_flush_on_stop [VS]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LvsFlushOnStop {
    /// Delete each virtual and real server one by one (the default).
    #[default]
    Off,
    /// Flush the whole IPVS table.
    All,
    /// Delete each virtual server, not its real servers.
    Vs,
}

/// Everything `global_defs` sets that picket acts on, with keepalived's
/// defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalDefs {
    /// `router_id`: node name for notifications and logs; empty = host name.
    pub router_id: Text,
    /// `vrrp_mcast_group4` (224.0.0.18).
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6` (ff02::12).
    pub vrrp_mcast_group6: Ipv6Addr,
    /// `vrrp_version` 2|3 (2; IPv6 instances always use 3).
    pub vrrp_version: u8,
    /// `vrrp_garp_master_delay`: delay of the second GARP burst (5 s; 0 = none).
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat`: GARPs per burst (5).
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh`: periodic refresh while MASTER (0 = off).
    pub vrrp_garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat`: GARPs per refresh (1).
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_lower_prio_delay`; `None` until [`finish`] (then the
    /// master delay, or 0 under `vrrp_strict`).
    pub vrrp_garp_lower_prio_delay: Option<Duration>,
    /// `vrrp_garp_lower_prio_repeat`; `None` until [`finish`] (then the
    /// master repeat, or 0 under `vrrp_strict`).
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_interval`: minimum gap between GARPs on an interface (0 = none).
    pub vrrp_garp_interval: Duration,
    /// `vrrp_gna_interval`: minimum gap between unsolicited NAs (0 = none).
    pub vrrp_gna_interval: Duration,
    /// `vrrp_min_garp`: one GARP, no second burst (also sets the repeats
    /// to 1 and the delays to 0 when it is read, as keepalived does).
    pub vrrp_min_garp: bool,
    /// `vrrp_down_timer_adverts` 1..100 (3).
    pub vrrp_down_timer_adverts: u8,
    /// `vrrp_lower_prio_no_advert` (false).
    pub vrrp_lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert` (false).
    pub vrrp_higher_prio_send_advert: bool,
    /// `vrrp_owner_ignore_adverts` (false).
    pub vrrp_owner_ignore_adverts: bool,
    /// `v3_checksum_as_v2` (false).
    pub v3_checksum_as_v2: bool,
    /// `vrrp_check_unicast_src` (false; picket checks unicast sources
    /// whatever it says).
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_skip_check_adv_addr` (false).
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_strict` (false): the default of each instance's `strict_mode`.
    pub vrrp_strict: bool,
    /// `vrrp_startup_delay` (0).
    pub vrrp_startup_delay: Duration,
    /// `vrrp_delay_after_boot` (0): hold instances until uptime reaches it.
    pub vrrp_delay_after_boot: Duration,
    /// `vrrp_notify_priority_changes` (false).
    pub vrrp_notify_priority_changes: bool,
    /// `script_user` user; empty = `keepalived_script` if it exists, else
    /// the user picket runs as.
    pub script_user: String<USER_BYTES>,
    /// `script_user` group; empty = the user's group.
    pub script_group: String<USER_BYTES>,
    /// `enable_script_security` (false).
    pub enable_script_security: bool,
    /// `set_supplementary_groups` (false): scripts get their user's
    /// supplementary groups; otherwise none.
    pub set_supplementary_groups: bool,
    /// `startup_script`, run once at start.
    pub startup_script: Option<ScriptCmd>,
    /// `startup_script_timeout` 1..1000 s (10 s).
    pub startup_script_timeout: Duration,
    /// `shutdown_script`, run once at stop.
    pub shutdown_script: Option<ScriptCmd>,
    /// `shutdown_script_timeout` 1..1000 s (10 s).
    pub shutdown_script_timeout: Duration,
    /// `dynamic_interfaces` (off).
    pub dynamic_interfaces: DynamicInterfaces,
    /// `default_interface`: interface of static addresses without `dev`;
    /// empty until [`finish`] sets keepalived's default `eth0`.
    pub default_interface: String<IFNAME_BYTES>,
    /// `vmac_prefix`: names of generated VMAC interfaces; empty until
    /// [`finish`] sets keepalived's default `vrrp`.
    pub vmac_prefix: String<IFNAME_BYTES>,
    /// `vmac_addr_prefix`; empty until [`finish`] sets it to `vmac_prefix`.
    pub vmac_addr_prefix: String<IFNAME_BYTES>,
    /// `lvs_flush` (false).
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop` (off).
    pub lvs_flush_on_stop: LvsFlushOnStop,
    /// `lvs_timeouts tcp S`; 0 = leave unchanged.
    pub lvs_timeout_tcp: u32,
    /// `lvs_timeouts tcpfin S`; 0 = leave unchanged.
    pub lvs_timeout_tcpfin: u32,
    /// `lvs_timeouts udp S`; 0 = leave unchanged.
    pub lvs_timeout_udp: u32,
    /// `checker_log_all_failures` (false).
    pub checker_log_all_failures: bool,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        Self::new()
    }
}

impl GlobalDefs {
    /// keepalived's defaults.
    pub const fn new() -> Self {
        GlobalDefs {
            router_id: Text::EMPTY,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            vrrp_version: 2,
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::from_secs(0),
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_lower_prio_delay: None,
            vrrp_garp_lower_prio_repeat: None,
            vrrp_garp_interval: Duration::from_secs(0),
            vrrp_gna_interval: Duration::from_secs(0),
            vrrp_min_garp: false,
            vrrp_down_timer_adverts: 3,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_owner_ignore_adverts: false,
            v3_checksum_as_v2: false,
            vrrp_check_unicast_src: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_strict: false,
            vrrp_startup_delay: Duration::from_secs(0),
            vrrp_delay_after_boot: Duration::from_secs(0),
            vrrp_notify_priority_changes: false,
            script_user: String::new(),
            script_group: String::new(),
            enable_script_security: false,
            set_supplementary_groups: false,
            startup_script: None,
            startup_script_timeout: Duration::from_secs(10),
            shutdown_script: None,
            shutdown_script_timeout: Duration::from_secs(10),
            dynamic_interfaces: DynamicInterfaces::Off,
            default_interface: String::new(),
            vmac_prefix: String::new(),
            vmac_addr_prefix: String::new(),
            lvs_flush: false,
            lvs_flush_on_stop: LvsFlushOnStop::Off,
            lvs_timeout_tcp: 0,
            lvs_timeout_tcpfin: 0,
            lvs_timeout_udp: 0,
            checker_log_all_failures: false,
        }
    }
}

/// Global keywords picket does not implement and that would change
/// behaviour, with a hint each (an error).
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "net_namespace",
        "run picket inside the namespace instead (ip netns exec NAME picket)",
    ),
    (
        "net_namespace_ipvs",
        "run picket inside the namespace instead (ip netns exec NAME picket)",
    ),
    (
        "namespace_with_ipsets",
        "network namespaces are not implemented",
    ),
    (
        "notify_fifo",
        "notify FIFOs are not implemented; use notify scripts (notify, notify_master, ...)",
    ),
    (
        "notify_fifo_script",
        "notify FIFOs are not implemented; use notify scripts",
    ),
    (
        "vrrp_notify_fifo",
        "notify FIFOs are not implemented; use notify scripts (notify, notify_master, ...)",
    ),
    (
        "vrrp_notify_fifo_script",
        "notify FIFOs are not implemented; use notify scripts",
    ),
    (
        "lvs_notify_fifo",
        "notify FIFOs are not implemented; use notify_up/notify_down of the real servers",
    ),
    ("lvs_notify_fifo_script", "notify FIFOs are not implemented"),
    (
        "lvs_sync_daemon",
        "the IPVS sync daemon is not implemented; start it with ipvsadm --start-daemon",
    ),
    (
        "vrrp_garp_extra_if",
        "periodic GARP on extra interfaces is not implemented; use vrrp_garp_master_refresh",
    ),
    (
        "linkbeat_use_polling",
        "link state comes from netlink; polling is not implemented",
    ),
    (
        "disable_local_igmp",
        "set net.ipv4.conf.IF.igmp_link_local_mcast_reports=0 with sysctl instead",
    ),
    (
        "vrrp_iptables",
        "firewall integration for no_accept is not implemented; use accept",
    ),
    (
        "vrrp_ipsets",
        "firewall integration for no_accept is not implemented; use accept",
    ),
    (
        "nftables",
        "firewall integration for no_accept is not implemented; use accept",
    ),
    (
        "nftables_priority",
        "firewall integration for no_accept is not implemented",
    ),
    (
        "nftables_counters",
        "firewall integration for no_accept is not implemented",
    ),
    (
        "nftables_ifindex",
        "firewall integration for no_accept is not implemented",
    ),
    (
        "nftables_ipvs",
        "automatic fwmarks through nftables are not implemented",
    ),
    (
        "nftables_ipvs_priority",
        "automatic fwmarks through nftables are not implemented",
    ),
    (
        "nftables_ipvs_start_fwmark",
        "automatic fwmarks through nftables are not implemented",
    ),
];

/// Global keywords picket accepts and does not act on, with the reason (a
/// warning).
pub const IGNORED: &[(&str, &str)] = &[
    ("notification_email", "picket sends no e-mail"),
    ("notification_email_from", "picket sends no e-mail"),
    ("smtp_server", "picket sends no e-mail"),
    ("smtp_helo_name", "picket sends no e-mail"),
    ("smtp_connect_timeout", "picket sends no e-mail"),
    ("smtp_alert", "picket sends no e-mail"),
    ("smtp_alert_vrrp", "picket sends no e-mail"),
    ("smtp_alert_checker", "picket sends no e-mail"),
    ("no_email_faults", "picket sends no e-mail"),
    ("email_faults", "picket sends no e-mail"),
    ("no_checker_emails", "picket sends no e-mail"),
    ("rs_init_notifies", "picket sends no e-mail"),
    ("snmp_socket", "picket has no SNMP agent"),
    ("enable_snmp_vrrp", "picket has no SNMP agent"),
    ("enable_snmp_keepalived", "picket has no SNMP agent"),
    ("enable_snmp_checker", "picket has no SNMP agent"),
    ("enable_snmp_rfc", "picket has no SNMP agent"),
    ("enable_snmp_rfcv2", "picket has no SNMP agent"),
    ("enable_snmp_rfcv3", "picket has no SNMP agent"),
    ("enable_traps", "picket has no SNMP agent"),
    ("snmp_vs_stats_update_interval", "picket has no SNMP agent"),
    ("snmp_rs_stats_update_interval", "picket has no SNMP agent"),
    ("enable_dbus", "picket has no DBus interface"),
    ("dbus_service_name", "picket has no DBus interface"),
    ("dbus_no_interface_name", "picket has no DBus interface"),
    ("process_names", "picket is a single process"),
    ("process_name", "picket is a single process"),
    ("vrrp_process_name", "picket is a single process"),
    ("checker_process_name", "picket is a single process"),
    ("bfd_process_name", "picket is a single process"),
    ("lvs_process_name", "picket is a single process"),
    (
        "vrrp_priority",
        "set the process priority with the service manager",
    ),
    (
        "checker_priority",
        "set the process priority with the service manager",
    ),
    (
        "bfd_priority",
        "set the process priority with the service manager",
    ),
    (
        "vrrp_rt_priority",
        "set the process priority with the service manager",
    ),
    (
        "checker_rt_priority",
        "set the process priority with the service manager",
    ),
    (
        "bfd_rt_priority",
        "set the process priority with the service manager",
    ),
    (
        "vrrp_cpu_affinity",
        "set CPU affinity with the service manager",
    ),
    (
        "checker_cpu_affinity",
        "set CPU affinity with the service manager",
    ),
    (
        "bfd_cpu_affinity",
        "set CPU affinity with the service manager",
    ),
    ("vrrp_no_swap", "picket's memory is static and small"),
    ("checker_no_swap", "picket's memory is static and small"),
    ("bfd_no_swap", "picket's memory is static and small"),
    (
        "vrrp_rlimit_rttime",
        "picket does not use real-time scheduling",
    ),
    (
        "checker_rlimit_rttime",
        "picket does not use real-time scheduling",
    ),
    (
        "bfd_rlimit_rttime",
        "picket does not use real-time scheduling",
    ),
    (
        "vrrp_rlimit_rtime",
        "picket does not use real-time scheduling",
    ),
    (
        "checker_rlimit_rtime",
        "picket does not use real-time scheduling",
    ),
    (
        "bfd_rlimit_rtime",
        "picket does not use real-time scheduling",
    ),
    (
        "max_auto_priority",
        "picket does not use real-time scheduling",
    ),
    (
        "min_auto_priority_delay",
        "picket does not use real-time scheduling",
    ),
    ("process_monitor_rcv_bufs", "picket sizes its own buffers"),
    (
        "process_monitor_rcv_bufs_force",
        "picket sizes its own buffers",
    ),
    ("vrrp_rx_bufs_policy", "picket sizes its own buffers"),
    ("vrrp_rx_bufs_multiplier", "picket sizes its own buffers"),
    ("vrrp_netlink_cmd_rcv_bufs", "picket sizes its own buffers"),
    (
        "vrrp_netlink_cmd_rcv_bufs_force",
        "picket sizes its own buffers",
    ),
    (
        "vrrp_netlink_monitor_rcv_bufs",
        "picket sizes its own buffers",
    ),
    (
        "vrrp_netlink_monitor_rcv_bufs_force",
        "picket sizes its own buffers",
    ),
    ("lvs_netlink_cmd_rcv_bufs", "picket sizes its own buffers"),
    (
        "lvs_netlink_cmd_rcv_bufs_force",
        "picket sizes its own buffers",
    ),
    (
        "lvs_netlink_monitor_rcv_bufs",
        "picket sizes its own buffers",
    ),
    (
        "lvs_netlink_monitor_rcv_bufs_force",
        "picket sizes its own buffers",
    ),
    (
        "log_unknown_vrids",
        "picket counts adverts for unknown VRIDs instead",
    ),
    ("instance", "picket names its pid file itself"),
    ("use_pid_dir", "picket names its pid file itself"),
    ("child_wait_time", "picket waits for its children itself"),
    ("tmp_config_directory", "picket keeps no config copies"),
    ("config_save_dir", "picket keeps no config copies"),
    (
        "reload_check_config",
        "picket always checks a config before using it",
    ),
    ("reload_time_file", "timed reloads are not implemented"),
    ("reload_repeat", "timed reloads are not implemented"),
    ("reload_file", "picket reloads on SIGHUP"),
    (
        "include_check",
        "the reader's include checks are set with -e",
    ),
    ("random_seed", "picket seeds its own random source"),
    ("umask", "picket creates no files but its pid file"),
    ("data_use_instance", "picket writes no dump files"),
    ("state_dump_file", "picket writes no dump files"),
    ("stats_dump_file", "picket writes no dump files"),
    ("json_dump_file", "picket writes no dump files"),
    ("json_version", "picket writes no dump files"),
    ("iproute_usr_dir", "picket reads no iproute2 tables"),
    ("iproute_etc_dir", "picket reads no iproute2 tables"),
    ("use_symlink_paths", "script paths are used as written"),
    (
        "fifo_write_vrrp_states_on_reload",
        "notify FIFOs are not implemented",
    ),
];

/// Keywords implemented in `global_defs`, for "did you mean" hints.
pub const IMPLEMENTED: &[&str] = &[
    "router_id",
    "lvs_id",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_version",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_garp_interval",
    "vrrp_gna_interval",
    "vrrp_min_garp",
    "vrrp_down_timer_adverts",
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_owner_ignore_adverts",
    "v3_checksum_as_v2",
    "vrrp_check_unicast_src",
    "vrrp_skip_check_adv_addr",
    "vrrp_strict",
    "vrrp_startup_delay",
    "vrrp_delay_after_boot",
    "vrrp_notify_priority_changes",
    "script_user",
    "enable_script_security",
    "set_supplementary_groups",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "dynamic_interfaces",
    "default_interface",
    "vmac_prefix",
    "vmac_addr_prefix",
    "lvs_flush",
    "lvs_flush_on_stop",
    "lvs_flush_onstop",
    "lvs_timeouts",
    "checker_log_all_failures",
];

/// Global keywords accepted outside `global_defs` (§a.4).
const TOP: &[&str] = &[
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "use_pid_dir",
    "instance",
    "child_wait_time",
    "linkbeat_use_polling",
];

/// Largest GARP repeat count accepted (keepalived takes any `unsigned`; a
/// burst larger than this is a mistake).
const GARP_REPEAT_MAX: i64 = 255;
/// Largest GARP delay or refresh accepted, in seconds (one day, as keepalived's
/// `vrrp_garp_extra_if`).
const GARP_DELAY_MAX_S: i64 = 86400;
/// Largest start-up delay accepted (one hour).
const STARTUP_DELAY_MAX: Duration = Duration::from_secs(3600);
/// Largest IPVS connection timeout accepted, in seconds (`INT_MAX / 1000`:
/// the kernel keeps them in jiffies).
const LVS_TIMEOUT_MAX_S: i64 = 2_147_483;

/// Parses a `global_defs` block.
pub fn parse_global_defs(p: &mut Parser<'_>, head: &Statement, cfg: &mut Config) {
    if head.arg_count() > 0 {
        p.error(head.arg_loc(0), format_args!("'global_defs' takes no name"));
    }
    if !p.open(head) {
        return;
    }
    let mut st = Statement::new();
    while p.next_in_block(&mut st) {
        parse_keyword(p, &st, cfg);
    }
}

/// Whether `kw` is a global keyword allowed at the top level.
pub fn is_top_keyword(kw: &str) -> bool {
    TOP.contains(&kw)
}

/// Parses a global keyword at the top level.
pub fn parse_top_keyword(p: &mut Parser<'_>, st: &Statement, cfg: &mut Config) {
    parse_keyword(p, st, cfg);
}

/// One statement of `global_defs`.
fn parse_keyword(p: &mut Parser<'_>, st: &Statement, cfg: &mut Config) {
    let g = &mut cfg.global;
    let kw = st.keyword();
    if let Some((_, hint)) = UNSUPPORTED.iter().find(|(k, _)| *k == kw) {
        p.unsupported(st, hint);
        return;
    }
    if let Some((_, why)) = IGNORED.iter().find(|(k, _)| *k == kw) {
        p.ignored(st, why);
        return;
    }
    let secs = Duration::from_secs;
    match kw {
        "router_id" | "lvs_id" => {
            if p.arity(st, 1, 1)
                && let Some(t) = p.text_arg(st, 0, &mut cfg.strings)
            {
                g.router_id = t;
            }
        }
        "vrrp_mcast_group4" => {
            if p.arity(st, 1, 1)
                && let Some(ip) = p.ip_arg(st, 0)
            {
                match ip {
                    IpAddr::V4(a) if a.is_multicast() => g.vrrp_mcast_group4 = a,
                    _ => p.error(
                        st.arg_loc(0),
                        format_args!("'vrrp_mcast_group4' must be an IPv4 multicast address"),
                    ),
                }
            }
        }
        "vrrp_mcast_group6" => {
            if p.arity(st, 1, 1)
                && let Some(ip) = p.ip_arg(st, 0)
            {
                match ip {
                    IpAddr::V6(a) if a.is_multicast() => g.vrrp_mcast_group6 = a,
                    _ => p.error(
                        st.arg_loc(0),
                        format_args!("'vrrp_mcast_group6' must be an IPv6 multicast address"),
                    ),
                }
            }
        }
        "vrrp_version" => {
            if let Some(v) = p.int_value(st, 2, 3) {
                g.vrrp_version = v as u8;
            }
        }
        "vrrp_garp_master_delay" => {
            if let Some(v) = p.int_value(st, 0, GARP_DELAY_MAX_S) {
                g.vrrp_garp_master_delay = secs(v as u64);
            }
        }
        "vrrp_garp_master_repeat" => {
            if let Some(v) = p.int_value(st, 1, GARP_REPEAT_MAX) {
                g.vrrp_garp_master_repeat = v as u32;
            }
        }
        "vrrp_garp_master_refresh" => {
            if let Some(v) = p.int_value(st, 0, GARP_DELAY_MAX_S) {
                g.vrrp_garp_master_refresh = secs(v as u64);
            }
        }
        "vrrp_garp_master_refresh_repeat" => {
            if let Some(v) = p.int_value(st, 1, GARP_REPEAT_MAX) {
                g.vrrp_garp_master_refresh_repeat = v as u32;
            }
        }
        "vrrp_garp_lower_prio_delay" => {
            if let Some(v) = p.int_value(st, 0, GARP_DELAY_MAX_S) {
                g.vrrp_garp_lower_prio_delay = Some(secs(v as u64));
            }
        }
        "vrrp_garp_lower_prio_repeat" => {
            if let Some(v) = p.int_value(st, 0, GARP_REPEAT_MAX) {
                g.vrrp_garp_lower_prio_repeat = Some(v as u32);
            }
        }
        "vrrp_garp_interval" | "vrrp_gna_interval" => {
            // keepalived rejects an explicit 0 (range 0.000001..4294 s).
            if let Some(d) = p.timer_value(st, Duration::from_micros(1), secs(4294)) {
                if kw == "vrrp_garp_interval" {
                    g.vrrp_garp_interval = d;
                } else {
                    g.vrrp_gna_interval = d;
                }
            }
        }
        "vrrp_min_garp" => {
            if let Some(b) = p.flag(st) {
                g.vrrp_min_garp = b;
                if b {
                    g.vrrp_garp_master_repeat = 1;
                    g.vrrp_garp_master_delay = secs(0);
                    g.vrrp_garp_lower_prio_repeat = Some(1);
                    g.vrrp_garp_lower_prio_delay = Some(secs(0));
                }
            }
        }
        "vrrp_down_timer_adverts" => {
            if let Some(v) = p.int_value(st, 1, 100) {
                g.vrrp_down_timer_adverts = v as u8;
            }
        }
        "vrrp_lower_prio_no_advert" => set_flag(p, st, &mut g.vrrp_lower_prio_no_advert),
        "vrrp_higher_prio_send_advert" => set_flag(p, st, &mut g.vrrp_higher_prio_send_advert),
        "vrrp_owner_ignore_adverts" => set_flag(p, st, &mut g.vrrp_owner_ignore_adverts),
        "v3_checksum_as_v2" => set_flag(p, st, &mut g.v3_checksum_as_v2),
        "vrrp_check_unicast_src" => set_flag(p, st, &mut g.vrrp_check_unicast_src),
        "vrrp_skip_check_adv_addr" => set_flag(p, st, &mut g.vrrp_skip_check_adv_addr),
        "vrrp_strict" => set_flag(p, st, &mut g.vrrp_strict),
        "vrrp_notify_priority_changes" => set_flag(p, st, &mut g.vrrp_notify_priority_changes),
        "enable_script_security" => set_flag(p, st, &mut g.enable_script_security),
        "set_supplementary_groups" => set_flag(p, st, &mut g.set_supplementary_groups),
        "lvs_flush" => set_flag(p, st, &mut g.lvs_flush),
        "checker_log_all_failures" => set_flag(p, st, &mut g.checker_log_all_failures),
        "vrrp_startup_delay" => {
            if let Some(d) = p.timer_value(st, secs(0), STARTUP_DELAY_MAX) {
                g.vrrp_startup_delay = d;
            }
        }
        "vrrp_delay_after_boot" => {
            if let Some(d) = p.timer_value(st, secs(0), STARTUP_DELAY_MAX) {
                g.vrrp_delay_after_boot = d;
            }
        }
        "script_user" => {
            if p.arity(st, 1, 2)
                && let Some((u, grp)) = parse_user(p, st, 0)
            {
                g.script_user = u;
                g.script_group = grp;
            }
        }
        "startup_script" | "shutdown_script" => {
            if let Some(s) = parse_script(p, st, &mut cfg.strings) {
                if kw == "startup_script" {
                    g.startup_script = Some(s);
                } else {
                    g.shutdown_script = Some(s);
                }
            }
        }
        "startup_script_timeout" | "shutdown_script_timeout" => {
            if let Some(v) = p.int_value(st, 1, 1000) {
                if kw == "startup_script_timeout" {
                    g.startup_script_timeout = secs(v as u64);
                } else {
                    g.shutdown_script_timeout = secs(v as u64);
                }
            }
        }
        "dynamic_interfaces" => {
            if p.arity(st, 0, 1) {
                if st.arg_count() == 0 {
                    g.dynamic_interfaces = DynamicInterfaces::On;
                } else if p.choice_arg(st, 0, &["allow_if_changes"]).is_some() {
                    g.dynamic_interfaces = DynamicInterfaces::AllowIfChanges;
                }
            }
        }
        "default_interface" => {
            if p.arity(st, 1, 1)
                && let Some(s) = ifname_arg(p, st, 0)
            {
                g.default_interface = s;
            }
        }
        "vmac_prefix" | "vmac_addr_prefix" => {
            if p.arity(st, 1, 1)
                && let Some(s) = ifname_arg(p, st, 0)
            {
                if kw == "vmac_prefix" {
                    g.vmac_prefix = s;
                } else {
                    g.vmac_addr_prefix = s;
                }
            }
        }
        "lvs_flush_on_stop" | "lvs_flush_onstop" => {
            if p.arity(st, 0, 1) {
                if st.arg_count() == 0 {
                    g.lvs_flush_on_stop = LvsFlushOnStop::All;
                } else if p.choice_arg(st, 0, &["VS"]).is_some() {
                    g.lvs_flush_on_stop = LvsFlushOnStop::Vs;
                }
            }
        }
        "lvs_timeouts" => parse_lvs_timeouts(p, st, g),
        _ => {
            let mut known: heapless::Vec<&str, 256> = heapless::Vec::new();
            for k in IMPLEMENTED
                .iter()
                .copied()
                .chain(UNSUPPORTED.iter().map(|(k, _)| *k))
                .chain(IGNORED.iter().map(|(k, _)| *k))
            {
                let _ = known.push(k);
            }
            p.unknown(st, "global_defs", &known);
        }
    }
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]` (at least one).
fn parse_lvs_timeouts(p: &mut Parser<'_>, st: &Statement, g: &mut GlobalDefs) {
    if !p.arity(st, 2, 6) {
        return;
    }
    let mut i = 0;
    while i < st.arg_count() {
        let Some(which) = p.choice_arg(st, i, &["tcp", "tcpfin", "udp"]) else {
            return;
        };
        let Some(v) = p.int_arg(st, i + 1, 1, LVS_TIMEOUT_MAX_S) else {
            return;
        };
        match which {
            0 => g.lvs_timeout_tcp = v as u32,
            1 => g.lvs_timeout_tcpfin = v as u32,
            _ => g.lvs_timeout_udp = v as u32,
        }
        i += 2;
    }
}

/// A flag keyword into `field`.
pub(crate) fn set_flag(p: &mut Parser<'_>, st: &Statement, field: &mut bool) {
    if let Some(b) = p.flag(st) {
        *field = b;
    }
}

/// Argument `i` as an interface name (at most 15 bytes, as the kernel's).
pub fn ifname_arg(p: &mut Parser<'_>, st: &Statement, i: usize) -> Option<String<IFNAME_BYTES>> {
    let s = p.required(st, i)?;
    if s.is_empty() || s.len() >= IFNAME_BYTES || s.contains(['/', ' ']) {
        p.error(
            st.arg_loc(i),
            format_args!(
                "'{}': invalid interface name '{s}' (1 to {} bytes, no '/' or space)",
                st.keyword(),
                IFNAME_BYTES - 1
            ),
        );
        return None;
    }
    let mut out = String::new();
    out.push_str(s).ok()?;
    Some(out)
}

/// A user or group name of at most [`USER_BYTES`] bytes.
fn name_of(p: &mut Parser<'_>, st: &Statement, i: usize, s: &str) -> Option<String<USER_BYTES>> {
    let mut out = String::new();
    if s.is_empty() || out.push_str(s).is_err() {
        p.error(
            st.arg_loc(i),
            format_args!(
                "'{}': invalid user or group name '{s}' (1 to {USER_BYTES} bytes)",
                st.keyword()
            ),
        );
        return None;
    }
    Some(out)
}

/// The words from argument `first` on as `USER[:GROUP]`, `USER GROUP` or
/// `USER :GROUP` (at most two words, checked by the caller's arity).
pub fn parse_user(
    p: &mut Parser<'_>,
    st: &Statement,
    first: usize,
) -> Option<(String<USER_BYTES>, String<USER_BYTES>)> {
    let u = p.required(st, first)?;
    let (user, mut group) = match u.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (u, None),
    };
    if let Some(g2) = st.arg(first + 1) {
        if group.is_some() {
            p.error(
                st.arg_loc(first + 1),
                format_args!("'{}': the group is given twice", st.keyword()),
            );
            return None;
        }
        group = Some(g2.strip_prefix(':').unwrap_or(g2));
    }
    let user = name_of(p, st, first, user)?;
    let group = match group {
        Some(g) => name_of(p, st, first + usize::from(st.arg_count() > first + 1), g)?,
        None => String::new(),
    };
    Some((user, group))
}

/// A script keyword: `KEYWORD CMD [USER[:GROUP] | USER [:]GROUP]`.
pub fn parse_script(
    p: &mut Parser<'_>,
    st: &Statement,
    pool: &mut StringPool,
) -> Option<ScriptCmd> {
    if !p.arity(st, 1, 3) {
        return None;
    }
    let cmd = p.required(st, 0)?;
    if cmd.trim().is_empty() {
        p.error(
            st.arg_loc(0),
            format_args!("'{}': the command is empty", st.keyword()),
        );
        return None;
    }
    let command = p.text_arg(st, 0, pool)?;
    let (user, group) = if st.arg_count() > 1 {
        parse_user(p, st, 1)?
    } else {
        (String::new(), String::new())
    };
    Some(ScriptCmd {
        command,
        user,
        group,
    })
}

/// Resolves the defaults that depend on other keywords.
pub fn finish(cfg: &mut Config, _diags: &mut Diagnostics) {
    let g = &mut cfg.global;
    let strict = g.vrrp_strict;
    if g.vrrp_garp_lower_prio_delay.is_none() {
        g.vrrp_garp_lower_prio_delay = Some(if strict {
            Duration::from_secs(0)
        } else {
            g.vrrp_garp_master_delay
        });
    }
    if g.vrrp_garp_lower_prio_repeat.is_none() {
        g.vrrp_garp_lower_prio_repeat = Some(if strict { 0 } else { g.vrrp_garp_master_repeat });
    }
    if g.default_interface.is_empty() {
        let _ = g.default_interface.push_str("eth0");
    }
    if g.vmac_prefix.is_empty() {
        let _ = g.vmac_prefix.push_str("vrrp");
    }
    if g.vmac_addr_prefix.is_empty() {
        g.vmac_addr_prefix = g.vmac_prefix.clone();
    }
}

/// Writes a script keyword.
pub fn dump_script(d: &mut Dumper<'_>, kw: &str, s: &ScriptCmd) -> fmt::Result {
    let cmd = d.text(s.command);
    match (s.user.is_empty(), s.group.is_empty()) {
        (true, _) => d.line(kw, format_args!("{}", Word(cmd))),
        (false, true) => d.line(kw, format_args!("{} {}", Word(cmd), Word(&s.user))),
        (false, false) => d.line(
            kw,
            format_args!("{} {} {}", Word(cmd), Word(&s.user), Word(&s.group)),
        ),
    }
}

/// Writes `global_defs` back, every field explicit.
pub fn dump(g: &GlobalDefs, d: &mut Dumper<'_>) -> fmt::Result {
    d.open("global_defs", format_args!(""))?;
    if !g.router_id.is_empty() {
        d.word("router_id", d.text(g.router_id))?;
    }
    d.line("vrrp_mcast_group4", format_args!("{}", g.vrrp_mcast_group4))?;
    d.line("vrrp_mcast_group6", format_args!("{}", g.vrrp_mcast_group6))?;
    d.line("vrrp_version", format_args!("{}", g.vrrp_version))?;
    d.boolean("vrrp_min_garp", g.vrrp_min_garp)?;
    d.line(
        "vrrp_garp_master_delay",
        format_args!("{}", g.vrrp_garp_master_delay.secs()),
    )?;
    d.line(
        "vrrp_garp_master_repeat",
        format_args!("{}", g.vrrp_garp_master_repeat),
    )?;
    d.line(
        "vrrp_garp_master_refresh",
        format_args!("{}", g.vrrp_garp_master_refresh.secs()),
    )?;
    d.line(
        "vrrp_garp_master_refresh_repeat",
        format_args!("{}", g.vrrp_garp_master_refresh_repeat),
    )?;
    if let Some(v) = g.vrrp_garp_lower_prio_delay {
        d.line("vrrp_garp_lower_prio_delay", format_args!("{}", v.secs()))?;
    }
    if let Some(v) = g.vrrp_garp_lower_prio_repeat {
        d.line("vrrp_garp_lower_prio_repeat", format_args!("{v}"))?;
    }
    // 0 means "unset" and cannot be written back (keepalived rejects it).
    if g.vrrp_garp_interval.total_micros() != 0 {
        d.timer("vrrp_garp_interval", g.vrrp_garp_interval)?;
    }
    if g.vrrp_gna_interval.total_micros() != 0 {
        d.timer("vrrp_gna_interval", g.vrrp_gna_interval)?;
    }
    d.line(
        "vrrp_down_timer_adverts",
        format_args!("{}", g.vrrp_down_timer_adverts),
    )?;
    d.boolean("vrrp_lower_prio_no_advert", g.vrrp_lower_prio_no_advert)?;
    d.boolean(
        "vrrp_higher_prio_send_advert",
        g.vrrp_higher_prio_send_advert,
    )?;
    d.boolean("vrrp_owner_ignore_adverts", g.vrrp_owner_ignore_adverts)?;
    d.boolean("v3_checksum_as_v2", g.v3_checksum_as_v2)?;
    d.boolean("vrrp_check_unicast_src", g.vrrp_check_unicast_src)?;
    d.boolean("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr)?;
    d.boolean("vrrp_strict", g.vrrp_strict)?;
    d.timer("vrrp_startup_delay", g.vrrp_startup_delay)?;
    d.timer("vrrp_delay_after_boot", g.vrrp_delay_after_boot)?;
    d.boolean(
        "vrrp_notify_priority_changes",
        g.vrrp_notify_priority_changes,
    )?;
    match (g.script_user.is_empty(), g.script_group.is_empty()) {
        (true, _) => {}
        (false, true) => d.word("script_user", &g.script_user)?,
        (false, false) => d.line(
            "script_user",
            format_args!("{} {}", Word(&g.script_user), Word(&g.script_group)),
        )?,
    }
    d.boolean("enable_script_security", g.enable_script_security)?;
    d.boolean("set_supplementary_groups", g.set_supplementary_groups)?;
    if let Some(s) = &g.startup_script {
        dump_script(d, "startup_script", s)?;
    }
    d.line(
        "startup_script_timeout",
        format_args!("{}", g.startup_script_timeout.secs()),
    )?;
    if let Some(s) = &g.shutdown_script {
        dump_script(d, "shutdown_script", s)?;
    }
    d.line(
        "shutdown_script_timeout",
        format_args!("{}", g.shutdown_script_timeout.secs()),
    )?;
    match g.dynamic_interfaces {
        DynamicInterfaces::Off => {}
        DynamicInterfaces::On => d.flag("dynamic_interfaces")?,
        DynamicInterfaces::AllowIfChanges => {
            d.line("dynamic_interfaces", format_args!("allow_if_changes"))?
        }
    }
    if !g.default_interface.is_empty() {
        d.word("default_interface", &g.default_interface)?;
    }
    if !g.vmac_prefix.is_empty() {
        d.word("vmac_prefix", &g.vmac_prefix)?;
    }
    if !g.vmac_addr_prefix.is_empty() {
        d.word("vmac_addr_prefix", &g.vmac_addr_prefix)?;
    }
    d.boolean("lvs_flush", g.lvs_flush)?;
    match g.lvs_flush_on_stop {
        LvsFlushOnStop::Off => {}
        LvsFlushOnStop::All => d.flag("lvs_flush_on_stop")?,
        LvsFlushOnStop::Vs => d.line("lvs_flush_on_stop", format_args!("VS"))?,
    }
    if g.lvs_timeout_tcp != 0 || g.lvs_timeout_tcpfin != 0 || g.lvs_timeout_udp != 0 {
        let mut s: String<64> = String::new();
        for (k, v) in [
            ("tcp", g.lvs_timeout_tcp),
            ("tcpfin", g.lvs_timeout_tcpfin),
            ("udp", g.lvs_timeout_udp),
        ] {
            if v != 0 {
                let sep = if s.is_empty() { "" } else { " " };
                let _ = fmt::Write::write_fmt(&mut s, format_args!("{sep}{k} {v}"));
            }
        }
        d.line("lvs_timeouts", format_args!("{s}"))?;
    }
    d.boolean("checker_log_all_failures", g.checker_log_all_failures)?;
    d.close()?;
    d.blank()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::vrrp::tests_support::{dump_of, load};
    use std::format;

    #[test]
    fn defaults_after_finish() {
        let (cfg, out) = load("");
        assert_eq!(out, "");
        let g = &cfg.global;
        assert!(g.router_id.is_empty());
        assert_eq!(g.vrrp_mcast_group4, Ipv4Addr::new(224, 0, 0, 18));
        assert_eq!(g.vrrp_version, 2);
        assert_eq!(g.vrrp_garp_master_delay, Duration::from_secs(5));
        assert_eq!(g.vrrp_garp_lower_prio_delay, Some(Duration::from_secs(5)));
        assert_eq!(g.vrrp_garp_lower_prio_repeat, Some(5));
        assert_eq!(g.startup_script_timeout, Duration::from_secs(10));
        assert_eq!(g.default_interface, "eth0");
        assert_eq!(g.vmac_prefix, "vrrp");
        assert_eq!(g.vmac_addr_prefix, "vrrp");
        let (cfg, _) = load("global_defs {\n vrrp_strict\n}\n");
        assert_eq!(cfg.global.vrrp_garp_lower_prio_repeat, Some(0));
    }

    #[test]
    fn values_land_in_fields() {
        let (cfg, out) = load(
            "global_defs {
 router_id r1
 vrrp_mcast_group4 224.0.0.99
 vrrp_mcast_group6 ff02::99
 vrrp_version 3
 vrrp_garp_master_delay 1
 vrrp_garp_master_repeat 2
 vrrp_garp_master_refresh 30
 vrrp_garp_master_refresh_repeat 4
 vrrp_garp_lower_prio_delay 6
 vrrp_garp_lower_prio_repeat 7
 vrrp_garp_interval 0.000001
 vrrp_gna_interval 4294
 vrrp_down_timer_adverts 100
 vrrp_lower_prio_no_advert
 vrrp_higher_prio_send_advert on
 vrrp_owner_ignore_adverts yes
 v3_checksum_as_v2 true
 vrrp_check_unicast_src
 vrrp_skip_check_adv_addr
 vrrp_startup_delay 5.5
 vrrp_delay_after_boot 60
 vrrp_notify_priority_changes
 script_user ka :kg
 enable_script_security
 startup_script \"/bin/s a\" u g
 startup_script_timeout 1000
 shutdown_script /bin/t u:g
 shutdown_script_timeout 1
 dynamic_interfaces
 default_interface br0
 vmac_prefix vm
 lvs_flush
 lvs_flush_onstop
 lvs_timeouts udp 30 tcpfin 60
 checker_log_all_failures
}
",
        );
        assert!(!out.contains(": error:"), "{out}");
        let g = &cfg.global;
        assert_eq!(cfg.strings.get(g.router_id), "r1");
        assert_eq!(g.vrrp_mcast_group4, Ipv4Addr::new(224, 0, 0, 99));
        assert_eq!(g.vrrp_mcast_group6, "ff02::99".parse::<Ipv6Addr>().unwrap());
        assert_eq!(g.vrrp_version, 3);
        assert_eq!(g.vrrp_garp_master_delay, Duration::from_secs(1));
        assert_eq!(g.vrrp_garp_master_repeat, 2);
        assert_eq!(g.vrrp_garp_master_refresh, Duration::from_secs(30));
        assert_eq!(g.vrrp_garp_master_refresh_repeat, 4);
        assert_eq!(g.vrrp_garp_lower_prio_delay, Some(Duration::from_secs(6)));
        assert_eq!(g.vrrp_garp_lower_prio_repeat, Some(7));
        assert_eq!(g.vrrp_garp_interval, Duration::from_micros(1));
        assert_eq!(g.vrrp_gna_interval, Duration::from_secs(4294));
        assert_eq!(g.vrrp_down_timer_adverts, 100);
        assert!(g.vrrp_lower_prio_no_advert && g.vrrp_higher_prio_send_advert);
        assert!(g.vrrp_owner_ignore_adverts && g.v3_checksum_as_v2);
        assert!(g.vrrp_check_unicast_src && g.vrrp_skip_check_adv_addr);
        assert_eq!(g.vrrp_startup_delay, Duration::from_millis(5500));
        assert_eq!(g.vrrp_delay_after_boot, Duration::from_secs(60));
        assert!(g.vrrp_notify_priority_changes && g.enable_script_security);
        assert_eq!(
            (g.script_user.as_str(), g.script_group.as_str()),
            ("ka", "kg")
        );
        let s = g.startup_script.as_ref().unwrap();
        assert_eq!(cfg.strings.get(s.command), "/bin/s a");
        assert_eq!((s.user.as_str(), s.group.as_str()), ("u", "g"));
        let t = g.shutdown_script.as_ref().unwrap();
        assert_eq!((t.user.as_str(), t.group.as_str()), ("u", "g"));
        assert_eq!(g.startup_script_timeout, Duration::from_secs(1000));
        assert_eq!(g.shutdown_script_timeout, Duration::from_secs(1));
        assert_eq!(g.dynamic_interfaces, DynamicInterfaces::On);
        assert_eq!(g.default_interface, "br0");
        assert_eq!(g.vmac_prefix, "vm");
        assert_eq!(g.vmac_addr_prefix, "vm");
        assert!(g.lvs_flush && g.checker_log_all_failures);
        assert_eq!(g.lvs_flush_on_stop, LvsFlushOnStop::All);
        assert_eq!(
            (g.lvs_timeout_tcp, g.lvs_timeout_tcpfin, g.lvs_timeout_udp),
            (0, 60, 30)
        );
        // Round trip of the global section.
        let first = dump_of(&cfg);
        let (cfg2, out2) = load(&first);
        assert!(!out2.contains(": error:"), "{out2}\n{first}");
        assert_eq!(first, dump_of(&cfg2));
    }

    #[test]
    fn bad_values_are_located() {
        let (_, out) = load(
            "global_defs {
 vrrp_garp_interval 0
 vrrp_gna_interval 4295
 vrrp_mcast_group4 10.0.0.1
 vrrp_mcast_group6 224.0.0.1
 vrrp_version 1
 startup_script_timeout 0
 shutdown_script_timeout 1001
 vrrp_down_timer_adverts 101
 startup_script \"\"
 script_user a b c
 shutdown_script /bin/x u:g h
 default_interface abcdefghijklmnopq
 dynamic_interfaces sometimes
 lvs_timeouts tcp
 lvs_timeouts tcp 0
 lvs_timeouts smtp 5
 vrrp_startp_delay 3
}
global_defs x {
}
",
        );
        for want in [
            "t.conf:2:21: error: 'vrrp_garp_interval': invalid value '0': expected a time from 0.000001 to 4294 seconds",
            "t.conf:3:20: error: 'vrrp_gna_interval': invalid value '4295'",
            "t.conf:4:20: error: 'vrrp_mcast_group4' must be an IPv4 multicast address",
            "t.conf:5:20: error: 'vrrp_mcast_group6' must be an IPv6 multicast address",
            "t.conf:6:15: error: 'vrrp_version'",
            "t.conf:7:25: error: 'startup_script_timeout': invalid value '0': expected a number from 1 to 1000",
            "t.conf:8:26: error: 'shutdown_script_timeout'",
            "t.conf:9:26: error: 'vrrp_down_timer_adverts'",
            "t.conf:10:17: error: 'startup_script': the command is empty",
            "t.conf:11:18: error: 'script_user' takes at most 2 arguments",
            "t.conf:12:29: error: 'shutdown_script': the group is given twice",
            "t.conf:13:20: error: 'default_interface': invalid interface name",
            "t.conf:14:21: error: 'dynamic_interfaces': invalid value 'sometimes'",
            "t.conf:15:19: error: 'lvs_timeouts' needs more arguments",
            "t.conf:16:19: error: 'lvs_timeouts'",
            "t.conf:17:15: error: 'lvs_timeouts': invalid value 'smtp'",
            "t.conf:18:2: error: unknown keyword 'vrrp_startp_delay' in global_defs\n  hint: did you mean 'vrrp_startup_delay'?",
            "t.conf:20:13: error: 'global_defs' takes no name",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
    }

    #[test]
    fn policy_lists_and_top_level_keywords() {
        for (kw, _) in UNSUPPORTED {
            let (_, out) = load(&format!("global_defs {{\n {kw} x\n}}\n"));
            assert!(
                out.contains(&format!(
                    "t.conf:2:2: error: '{kw}' is not supported by picket"
                )),
                "{kw}: {out}"
            );
        }
        for (kw, _) in IGNORED {
            let (_, out) = load(&format!("global_defs {{\n {kw} x\n}}\n"));
            assert!(
                out.contains(&format!("t.conf:2:2: warning: '{kw}' is ignored by picket")),
                "{kw}: {out}"
            );
        }
        // A block after an ignored keyword is skipped whole.
        let (_, out) = load("global_defs {\n notification_email {\n  a@b\n }\n router_id x\n}\n");
        assert!(!out.contains(": error:"), "{out}");
        // The keywords allowed at the top level.
        let (_, out) = load(
            "net_namespace blue\ninstance i1\nuse_pid_dir\nchild_wait_time 3\nlinkbeat_use_polling\n",
        );
        assert!(
            out.contains("t.conf:1:1: error: 'net_namespace' is not supported"),
            "{out}"
        );
        assert!(
            out.contains("t.conf:2:1: warning: 'instance' is ignored"),
            "{out}"
        );
        assert!(
            out.contains("t.conf:5:1: error: 'linkbeat_use_polling' is not supported"),
            "{out}"
        );
        assert!(is_top_keyword("namespace_with_ipsets") && !is_top_keyword("router_id"));
    }

    #[test]
    fn min_garp_sets_the_bursts() {
        let (cfg, _) = load("global_defs {\n vrrp_min_garp\n}\n");
        let g = &cfg.global;
        assert!(g.vrrp_min_garp);
        assert_eq!(g.vrrp_garp_master_repeat, 1);
        assert_eq!(g.vrrp_garp_master_delay, Duration::from_secs(0));
        assert_eq!(g.vrrp_garp_lower_prio_repeat, Some(1));
        // Set after it, a value wins (keepalived reads in order).
        let (cfg, _) = load("global_defs {\n vrrp_min_garp\n vrrp_garp_master_repeat 3\n}\n");
        assert_eq!(cfg.global.vrrp_garp_master_repeat, 3);
    }
}
