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
//! `checker_log_all_failures`; keepalived ≥ 2.3's dump file paths
//! `state_dump_file`, `stats_dump_file`, `json_dump_file`; picket's own
//! `status_socket PATH|none [MODE]` (the status socket, default
//! `/run/picket.sock` mode 0600), `no_new_privs [BOOL]` and
//! `script_capabilities all|none|CAP...` (what picket keeps after start-up:
//! see the README's "Privileges"); and picket's own watchdog keywords
//! (keepalived has no watchdog): `watchdog_device`, `watchdog_timeout`,
//! `watchdog_nowayout`, `watchdog_state_file`, `watchdog_reset_hold`,
//! `watchdog_safe_mode_resets`, `watchdog_reset_window` (see [`GlobalDefs`]
//! and the README).
//!
//! **Unsupported** (an error: they would change behaviour): see
//! [`UNSUPPORTED`] — namespaces, notify FIFOs, `lvs_sync_daemon`,
//! firewall selection (`vrrp_iptables`, `nftables*`), `vrrp_garp_extra_if`,
//! `linkbeat_use_polling`, `disable_local_igmp`, `nftables_ipvs*`.
//!
//! **Ignored** (a warning: harmless for picket): see [`IGNORED`] — SNMP,
//! DBus, e-mail/SMTP alerts, process names/priorities/affinity/no_swap/rlimit,
//! buffer sizes, `data_use_instance`, `json_version`, reload plumbing, `log_unknown_vrids`, ...

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use heapless::String;

use super::dump::{Dumper, Word};
use super::parser::Parser;
use super::strings::{StringPool, Text};
use super::{Config, Diagnostics, Statement};
use crate::limits::{
    BOARD_STATE_FILE, BOARD_WATCHDOG_DEVICE, IFNAME_BYTES, PATH_BYTES, WATCHDOG_TIMEOUT_S,
};
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
    /// `status_socket PATH [MODE]` (picket's own): where the status socket
    /// listens; `none` turns it off. Empty until [`finish`] sets
    /// [`DEFAULT_STATUS_SOCKET`].
    pub status_socket: String<PATH_BYTES>,
    /// The status socket's permissions (0600: root only).
    pub status_socket_mode: u32,
    /// `state_dump_file PATH` (keepalived ≥ 2.3): where SIGUSR1 writes;
    /// empty = `$TMPDIR/keepalived.data`; a trailing `/` names a directory.
    pub state_dump_file: String<PATH_BYTES>,
    /// `stats_dump_file PATH`: where SIGUSR2 writes (default
    /// `$TMPDIR/keepalived.stats`).
    pub stats_dump_file: String<PATH_BYTES>,
    /// `json_dump_file PATH`: where the JSON signal writes (default
    /// `$TMPDIR/keepalived.json`).
    pub json_dump_file: String<PATH_BYTES>,
    /// `no_new_privs [BOOL]` (picket's own): set `PR_SET_NO_NEW_PRIVS`
    /// after start-up; `None` = on exactly when the configuration runs no
    /// script (it stops setuid programs and file capabilities in scripts).
    pub no_new_privs: Option<bool>,
    /// `script_capabilities all | CAP...` (picket's own): capabilities
    /// kept in the bounding set beyond picket's own (so root scripts may
    /// use them), as a mask by capability number; `u64::MAX` = `all`
    /// (the bounding set is left as it is).
    pub script_capabilities: u64,
    /// `watchdog_device PATH|none`: the hardware watchdog; `None` until
    /// [`finish`] sets the board's `watchdog_device`. Empty: none.
    pub watchdog_device: Option<String<PATH_BYTES>>,
    /// `watchdog_timeout` 1..=3600 s; `None` until [`finish`] sets the
    /// board's `watchdog_timeout_s`.
    pub watchdog_timeout: Option<Duration>,
    /// `watchdog_nowayout` (false): never disarm the watchdog, not even on
    /// an orderly stop (no magic close).
    pub watchdog_nowayout: bool,
    /// `watchdog_state_file PATH|none`: where resets are recorded; `None`
    /// until [`finish`] sets the board's `state_file`. Empty: none.
    pub watchdog_state_file: Option<String<PATH_BYTES>>,
    /// `watchdog_reset_hold` 0..=3600 s (60 s): after a watchdog reset,
    /// instances start in BACKUP and do not preempt for this long.
    pub watchdog_reset_hold: Duration,
    /// `watchdog_safe_mode_resets` 0..=100 (3): this many resets in a row
    /// (none more than `watchdog_reset_window` after the last start) put
    /// picket in safe mode (every instance advertises priority 1); 0: never.
    pub watchdog_safe_mode_resets: u8,
    /// `watchdog_reset_window` 60..=604800 s (600 s): a run this long
    /// without a reset clears the count (and ends safe mode).
    pub watchdog_reset_window: Duration,
}

/// Linux capability names by number (`capability.h`, up to
/// `CAP_CHECKPOINT_RESTORE`, 40).
pub const CAPABILITIES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// The number of capability `name` (`CAP_NET_ADMIN`, `cap_net_admin` or
/// `net_admin`).
pub fn capability_number(name: &str) -> Option<u8> {
    let mut lower: String<32> = String::new();
    for c in name.chars() {
        lower.push(c.to_ascii_lowercase()).ok()?;
    }
    let bare = lower.strip_prefix("cap_").unwrap_or(&lower);
    CAPABILITIES
        .iter()
        .position(|c| c.strip_prefix("cap_") == Some(bare))
        .and_then(|i| u8::try_from(i).ok())
}

/// The status socket when `status_socket` is not given.
pub const DEFAULT_STATUS_SOCKET: &str = "/run/picket.sock";
/// The status socket's permissions when `status_socket` gives none.
pub const DEFAULT_STATUS_SOCKET_MODE: u32 = 0o600;

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
            status_socket: String::new(),
            status_socket_mode: DEFAULT_STATUS_SOCKET_MODE,
            state_dump_file: String::new(),
            stats_dump_file: String::new(),
            json_dump_file: String::new(),
            no_new_privs: None,
            script_capabilities: 0,
            watchdog_device: None,
            watchdog_timeout: None,
            watchdog_nowayout: false,
            watchdog_state_file: None,
            watchdog_reset_hold: Duration::from_secs(DEFAULT_RESET_HOLD_S),
            watchdog_safe_mode_resets: DEFAULT_SAFE_MODE_RESETS,
            watchdog_reset_window: Duration::from_secs(DEFAULT_RESET_WINDOW_S),
        }
    }

    /// The hardware watchdog device (after [`finish`]); `None`: none.
    pub fn watchdog_device(&self) -> Option<&str> {
        self.watchdog_device.as_deref().filter(|s| !s.is_empty())
    }

    /// The watchdog timeout asked of the device (after [`finish`]).
    pub fn watchdog_timeout(&self) -> Duration {
        self.watchdog_timeout
            .unwrap_or(Duration::from_secs(WATCHDOG_TIMEOUT_S as u64))
    }

    /// The reset state file (after [`finish`]); `None`: none.
    pub fn watchdog_state_file(&self) -> Option<&str> {
        self.watchdog_state_file
            .as_deref()
            .filter(|s| !s.is_empty())
    }
}

/// Default of `watchdog_reset_hold`, seconds: a minute is long enough for
/// the peer's adverts to be heard and for an operator to notice, short
/// enough that a healthy board preempts back soon.
pub const DEFAULT_RESET_HOLD_S: u64 = 60;
/// Default of `watchdog_safe_mode_resets`.
pub const DEFAULT_SAFE_MODE_RESETS: u8 = 3;
/// Default of `watchdog_reset_window`, seconds (10 minutes).
pub const DEFAULT_RESET_WINDOW_S: u64 = 600;
/// Largest `watchdog_timeout`, seconds (an hour: longer is no watchdog).
pub const WATCHDOG_TIMEOUT_MAX_S: i64 = 3600;

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
    (
        "vrrp_rx_bufs_policy",
        "picket keeps the kernel's default VRRP receive buffer",
    ),
    (
        "vrrp_rx_bufs_multiplier",
        "picket keeps the kernel's default VRRP receive buffer",
    ),
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
    (
        "umask",
        "picket creates its files with fixed modes (0600 dumps, 0644 pid file)",
    ),
    (
        "data_use_instance",
        "picket has no instance name to put in dump file names",
    ),
    (
        "json_version",
        "picket writes keepalived 2.2's JSON dump (version 1)",
    ),
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
    "status_socket",
    "state_dump_file",
    "stats_dump_file",
    "json_dump_file",
    "no_new_privs",
    "script_capabilities",
    "watchdog_device",
    "watchdog_timeout",
    "watchdog_nowayout",
    "watchdog_state_file",
    "watchdog_reset_hold",
    "watchdog_safe_mode_resets",
    "watchdog_reset_window",
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
        "status_socket" => parse_status_socket(p, st, g),
        "no_new_privs" => {
            if let Some(b) = p.flag(st) {
                g.no_new_privs = Some(b);
            }
        }
        "script_capabilities" => parse_script_capabilities(p, st, g),
        "state_dump_file" | "stats_dump_file" | "json_dump_file" => {
            if p.arity(st, 1, 1)
                && let Some(path) = absolute_path_arg(p, st, 0)
            {
                match kw {
                    "state_dump_file" => g.state_dump_file = path,
                    "stats_dump_file" => g.stats_dump_file = path,
                    _ => g.json_dump_file = path,
                }
            }
        }
        "watchdog_device" => {
            if let Some(path) = path_or_none(p, st) {
                g.watchdog_device = Some(path);
            }
        }
        "watchdog_state_file" => {
            if let Some(path) = path_or_none(p, st) {
                g.watchdog_state_file = Some(path);
            }
        }
        "watchdog_timeout" => {
            if let Some(v) = p.int_value(st, 1, WATCHDOG_TIMEOUT_MAX_S) {
                g.watchdog_timeout = Some(secs(v as u64));
            }
        }
        "watchdog_nowayout" => set_flag(p, st, &mut g.watchdog_nowayout),
        "watchdog_reset_hold" => {
            if let Some(v) = p.int_value(st, 0, 3600) {
                g.watchdog_reset_hold = secs(v as u64);
            }
        }
        "watchdog_safe_mode_resets" => {
            if let Some(v) = p.int_value(st, 0, 100) {
                g.watchdog_safe_mode_resets = v as u8;
            }
        }
        "watchdog_reset_window" => {
            if let Some(v) = p.int_value(st, 60, 7 * 86400) {
                g.watchdog_reset_window = secs(v as u64);
            }
        }
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

/// Argument `i` as an absolute path of at most [`PATH_BYTES`] bytes.
fn absolute_path_arg(p: &mut Parser<'_>, st: &Statement, i: usize) -> Option<String<PATH_BYTES>> {
    let s = p.required(st, i)?;
    let mut out = String::new();
    if !s.starts_with('/') || out.push_str(s).is_err() {
        p.error_hint(
            st.arg_loc(i),
            format_args!(
                "'{}': invalid path '{s}' (absolute, at most {} bytes)",
                st.keyword(),
                PATH_BYTES - 1
            ),
            format_args!("write the full path, starting with '/'"),
        );
        return None;
    }
    Some(out)
}

/// The single argument of a path keyword: an absolute path, or `none`
/// (returned empty).
fn path_or_none(p: &mut Parser<'_>, st: &Statement) -> Option<String<PATH_BYTES>> {
    if !p.arity(st, 1, 1) {
        return None;
    }
    let s = p.required(st, 0)?;
    if s == "none" {
        return Some(String::new());
    }
    let mut out = String::new();
    if !s.starts_with('/') || s.contains('\0') || out.push_str(s).is_err() {
        p.error(
            st.arg_loc(0),
            format_args!(
                "'{}': invalid value '{s}': expected an absolute path (at most {} bytes) or 'none'",
                st.keyword(),
                PATH_BYTES - 1
            ),
        );
        return None;
    }
    Some(out)
}

/// `script_capabilities all | none | CAP...`.
fn parse_script_capabilities(p: &mut Parser<'_>, st: &Statement, g: &mut GlobalDefs) {
    if !p.arity(st, 1, CAPABILITIES.len()) {
        return;
    }
    match st.arg(0) {
        Some("all") if st.arg_count() == 1 => {
            g.script_capabilities = u64::MAX;
            return;
        }
        Some("none") if st.arg_count() == 1 => {
            g.script_capabilities = 0;
            return;
        }
        _ => {}
    }
    let mut mask = 0u64;
    for i in 0..st.arg_count() {
        let name = st.arg(i).unwrap_or("");
        match capability_number(name) {
            Some(n) => mask |= 1 << n,
            None => {
                p.error_hint(
                    st.arg_loc(i),
                    format_args!("'script_capabilities': unknown capability '{name}'"),
                    format_args!("write names as in capabilities(7), e.g. CAP_CHOWN, or 'all'"),
                );
                return;
            }
        }
    }
    g.script_capabilities = mask;
}

/// `status_socket PATH|none [MODE]`: MODE in octal (`0660`), permissions
/// only.
fn parse_status_socket(p: &mut Parser<'_>, st: &Statement, g: &mut GlobalDefs) {
    if !p.arity(st, 1, 2) {
        return;
    }
    let path = if st.arg(0) == Some("none") {
        let mut n = String::new();
        let _ = n.push_str("none");
        n
    } else {
        let Some(path) = absolute_path_arg(p, st, 0) else {
            return;
        };
        // sun_path holds 108 bytes with its NUL.
        if path.len() > 107 {
            p.error(
                st.arg_loc(0),
                format_args!("'status_socket': the path is longer than 107 bytes"),
            );
            return;
        }
        path
    };
    if let Some(m) = st.arg(1) {
        match u32::from_str_radix(m, 8) {
            Ok(mode) if mode <= 0o777 && m.len() >= 3 => g.status_socket_mode = mode,
            _ => {
                p.error_hint(
                    st.arg_loc(1),
                    format_args!("'status_socket': invalid mode '{m}'"),
                    format_args!("give permissions in octal, e.g. 0600 or 0660"),
                );
                return;
            }
        }
    }
    g.status_socket = path;
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
    if g.status_socket.is_empty() {
        let _ = g.status_socket.push_str(DEFAULT_STATUS_SOCKET);
    }
    // The board's watchdog unless the configuration names its own. A board
    // value that does not fit a path is no watchdog (build.rs keeps them
    // short).
    if g.watchdog_device.is_none() {
        g.watchdog_device = Some(String::try_from(BOARD_WATCHDOG_DEVICE).unwrap_or_default());
    }
    if g.watchdog_timeout.is_none() {
        g.watchdog_timeout = Some(Duration::from_secs(WATCHDOG_TIMEOUT_S as u64));
    }
    if g.watchdog_state_file.is_none() {
        g.watchdog_state_file = Some(String::try_from(BOARD_STATE_FILE).unwrap_or_default());
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
    if (g.status_socket.as_str(), g.status_socket_mode)
        != (DEFAULT_STATUS_SOCKET, DEFAULT_STATUS_SOCKET_MODE)
        && !g.status_socket.is_empty()
    {
        d.line(
            "status_socket",
            format_args!("{} {:04o}", Word(&g.status_socket), g.status_socket_mode),
        )?;
    }
    if let Some(b) = g.no_new_privs {
        d.boolean("no_new_privs", b)?;
    }
    match g.script_capabilities {
        0 => {}
        u64::MAX => d.line("script_capabilities", format_args!("all"))?,
        mask => {
            let mut names: String<1024> = String::new();
            for (i, n) in CAPABILITIES.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    let sep = if names.is_empty() { "" } else { " " };
                    let _ = fmt::Write::write_fmt(&mut names, format_args!("{sep}{n}"));
                }
            }
            d.line("script_capabilities", format_args!("{names}"))?;
        }
    }
    for (kw, path) in [
        ("state_dump_file", &g.state_dump_file),
        ("stats_dump_file", &g.stats_dump_file),
        ("json_dump_file", &g.json_dump_file),
    ] {
        if !path.is_empty() {
            d.word(kw, path)?;
        }
    }
    d.word("watchdog_device", g.watchdog_device().unwrap_or("none"))?;
    d.line(
        "watchdog_timeout",
        format_args!("{}", g.watchdog_timeout().secs()),
    )?;
    d.boolean("watchdog_nowayout", g.watchdog_nowayout)?;
    d.word(
        "watchdog_state_file",
        g.watchdog_state_file().unwrap_or("none"),
    )?;
    d.line(
        "watchdog_reset_hold",
        format_args!("{}", g.watchdog_reset_hold.secs()),
    )?;
    d.line(
        "watchdog_safe_mode_resets",
        format_args!("{}", g.watchdog_safe_mode_resets),
    )?;
    d.line(
        "watchdog_reset_window",
        format_args!("{}", g.watchdog_reset_window.secs()),
    )?;
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
        assert_eq!(g.status_socket, DEFAULT_STATUS_SOCKET);
        assert_eq!(g.status_socket_mode, 0o600);
        assert!(g.state_dump_file.is_empty() && g.json_dump_file.is_empty());
        let (cfg, _) = load("global_defs {\n vrrp_strict\n}\n");
        assert_eq!(cfg.global.vrrp_garp_lower_prio_repeat, Some(0));
    }

    #[test]
    fn watchdog_defaults_come_from_the_board() {
        let (cfg, out) = load("");
        assert_eq!(out, "");
        let g = &cfg.global;
        let board = |s: &'static str| (!s.is_empty()).then_some(s);
        assert_eq!(g.watchdog_device(), board(BOARD_WATCHDOG_DEVICE));
        assert_eq!(
            g.watchdog_timeout(),
            Duration::from_secs(WATCHDOG_TIMEOUT_S as u64)
        );
        assert_eq!(g.watchdog_state_file(), board(BOARD_STATE_FILE));
        assert!(!g.watchdog_nowayout);
        assert_eq!(g.watchdog_reset_hold, Duration::from_secs(60));
        assert_eq!(g.watchdog_safe_mode_resets, 3);
        assert_eq!(g.watchdog_reset_window, Duration::from_secs(600));
        // `none` turns a board's device and state file off.
        let (cfg, out) =
            load("global_defs {\n watchdog_device none\n watchdog_state_file none\n}\n");
        assert_eq!(out, "");
        assert_eq!(cfg.global.watchdog_device(), None);
        assert_eq!(cfg.global.watchdog_state_file(), None);
        let dump = dump_of(&cfg);
        assert!(dump.contains("    watchdog_device none\n"), "{dump}");
        assert!(dump.contains("    watchdog_state_file none\n"), "{dump}");
    }

    #[test]
    fn watchdog_keywords_land_and_round_trip() {
        let (cfg, out) = load(
            "global_defs {
 watchdog_device /dev/watchdog1
 watchdog_timeout 5
 watchdog_nowayout
 watchdog_state_file /data/picket.state
 watchdog_reset_hold 0
 watchdog_safe_mode_resets 0
 watchdog_reset_window 3600
}
",
        );
        assert!(!out.contains(": error:"), "{out}");
        let g = &cfg.global;
        assert_eq!(g.watchdog_device(), Some("/dev/watchdog1"));
        assert_eq!(g.watchdog_timeout(), Duration::from_secs(5));
        assert!(g.watchdog_nowayout);
        assert_eq!(g.watchdog_state_file(), Some("/data/picket.state"));
        assert_eq!(g.watchdog_reset_hold, Duration::ZERO);
        assert_eq!(g.watchdog_safe_mode_resets, 0);
        assert_eq!(g.watchdog_reset_window, Duration::from_secs(3600));
        let first = dump_of(&cfg);
        for want in [
            "    watchdog_device /dev/watchdog1\n",
            "    watchdog_timeout 5\n",
            "    watchdog_nowayout true\n",
            "    watchdog_state_file /data/picket.state\n",
            "    watchdog_reset_hold 0\n",
            "    watchdog_safe_mode_resets 0\n",
            "    watchdog_reset_window 3600\n",
        ] {
            assert!(first.contains(want), "missing {want:?} in\n{first}");
        }
        let (cfg2, out2) = load(&first);
        assert!(!out2.contains(": error:"), "{out2}\n{first}");
        assert_eq!(first, dump_of(&cfg2));
    }

    #[test]
    fn bad_watchdog_values_are_located() {
        let (_, out) = load(
            "global_defs {
 watchdog_device dev/watchdog
 watchdog_timeout 0
 watchdog_timeout 3601
 watchdog_nowayout maybe
 watchdog_state_file
 watchdog_reset_hold 3601
 watchdog_safe_mode_resets 101
 watchdog_reset_window 59
 watchdog_timout 5
}
",
        );
        for want in [
            "t.conf:2:18: error: 'watchdog_device': invalid value 'dev/watchdog': expected an absolute path",
            "t.conf:3:19: error: 'watchdog_timeout': invalid value '0': expected a number from 1 to 3600",
            "t.conf:4:19: error: 'watchdog_timeout': invalid value '3601'",
            "t.conf:5:20: error: 'watchdog_nowayout': invalid value 'maybe'",
            "t.conf:6:22: error: 'watchdog_state_file' needs a value",
            "t.conf:7:22: error: 'watchdog_reset_hold': invalid value '3601': expected a number from 0 to 3600",
            "t.conf:8:28: error: 'watchdog_safe_mode_resets': invalid value '101'",
            "t.conf:9:24: error: 'watchdog_reset_window': invalid value '59': expected a number from 60 to 604800",
            "t.conf:10:2: error: unknown keyword 'watchdog_timout' in global_defs\n  hint: did you mean 'watchdog_timeout'?",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
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
 status_socket /run/ka/status.sock 0660
 state_dump_file /var/tmp/
 stats_dump_file /var/tmp/ka.stats
 json_dump_file /var/tmp/ka.json
 no_new_privs
 script_capabilities CAP_CHOWN dac_override cap_sys_admin
}
",
        );
        assert!(!out.contains(": error:"), "{out}");
        assert_eq!(g_status(&cfg), ("/run/ka/status.sock", 0o660));
        assert_eq!(cfg.global.state_dump_file, "/var/tmp/");
        assert_eq!(cfg.global.stats_dump_file, "/var/tmp/ka.stats");
        assert_eq!(cfg.global.json_dump_file, "/var/tmp/ka.json");
        assert_eq!(cfg.global.no_new_privs, Some(true));
        assert_eq!(cfg.global.script_capabilities, 1 | 2 | 1 << 21);
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

    fn g_status(cfg: &Config) -> (&str, u32) {
        (
            cfg.global.status_socket.as_str(),
            cfg.global.status_socket_mode,
        )
    }

    #[test]
    fn the_status_socket_can_be_turned_off() {
        let (cfg, out) = load("global_defs {\n status_socket none\n}\n");
        assert_eq!(out, "");
        assert_eq!(g_status(&cfg), ("none", 0o600));
        let first = dump_of(&cfg);
        assert!(first.contains("status_socket none 0600"), "{first}");
        assert_eq!(dump_of(&load(&first).0), first);
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
 status_socket run/s.sock
 status_socket /run/s.sock 999
 state_dump_file tmp/x
 script_capabilities CAP_FLY
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
            "t.conf:19:16: error: 'status_socket': invalid path 'run/s.sock'",
            "t.conf:20:28: error: 'status_socket': invalid mode '999'",
            "t.conf:21:18: error: 'state_dump_file': invalid path 'tmp/x'",
            "t.conf:22:22: error: 'script_capabilities': unknown capability 'CAP_FLY'",
            "t.conf:24:13: error: 'global_defs' takes no name",
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
