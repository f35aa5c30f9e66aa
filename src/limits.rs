//! Every capacity picket has, in one place.
//!
//! The per-board values come from `board/<name>/board.conf` (chosen at build
//! time with `PICKET_BOARD`, default `generic`) through `build.rs`; the fixed
//! ones (string sizes that follow the kernel or keepalived) are below. Every
//! table in picket is sized by a const from this file, and the relations between
//! them are checked at compile time.
//!
//! **Policy when a table is full**: excess is caught when the configuration is
//! loaded — a config error that names the limit and the board (see
//! [`Limit`]) — never at run time. Run-time tables (children, timers, fds) are
//! sized so that a loaded configuration cannot overflow them; where input from
//! the network could (e.g. a flood), the excess is dropped and counted.

use static_assertions::const_assert;

include!(concat!(env!("OUT_DIR"), "/board.rs"));

/// Bytes of an interface name, with the kernel's terminating NUL (`IFNAMSIZ`).
pub const IFNAME_BYTES: usize = 16;
/// Bytes of a name given to a block: instance, script, group (keepalived has no
/// limit; names longer than this are a config error).
pub const NAME_BYTES: usize = 64;
/// Bytes of a file path (config, pid file, script path).
pub const PATH_BYTES: usize = 256;
/// Bytes of a command line of a script (`script`, `notify_*`, `misc_path`).
pub const COMMAND_BYTES: usize = 512;
/// Bytes of a short free-text value (`auth_pass`, `router_id`, `virtualhost`, ...).
pub const TEXT_BYTES: usize = 128;
/// Bytes of an HTTP URL path in a checker.
pub const URL_BYTES: usize = 256;
/// Bytes of a hex payload of UDP_CHECK (decoded).
pub const PAYLOAD_BYTES: usize = 128;
/// Arguments of one child process, including argv\[0\].
pub const CHILD_ARGS: usize = 16;
/// Bytes of one diagnostic message.
pub const MESSAGE_BYTES: usize = 192;
/// Bytes of one log line, formatted before it is written.
pub const LOG_LINE_BYTES: usize = 512;
/// Maximum number of addresses one VRRP advert can carry (the count is a u8).
pub const VIPS_PER_ADVERT: usize = 255;
/// Supplementary groups a script runs with (`set_supplementary_groups`).
pub const SCRIPT_GROUPS: usize = 32;
/// Distinct users (user and group) scripts run as, the default included
/// (`script_user`, each script's `user`).
pub const SCRIPT_USERS: usize = 16;
/// Bytes of the receive buffer of one checker socket: the longest HTTP
/// response head, SMTP reply or DNS answer a checker reads (a longer one is a
/// failed check, counted).
pub const CHECK_RX_BYTES: usize = 2048;
/// Datagrams read from one VRRP socket in one loop turn. A flood faster
/// than picket parses would otherwise hold the loop in one drain for as long
/// as it lasts, and the due timers (adverts, Master_Down) with it; the rest
/// wait in the socket (poll is level-triggered) for the next turn, after the
/// timers, and what the socket cannot hold the kernel drops and counts.
pub const VRRP_READS_PER_TURN: usize = 64;
/// Open files picket needs at most: the poll table, the checker sockets,
/// and stdio with a few spares; picket raises its `RLIMIT_NOFILE` to this at
/// start.
pub const OPEN_FILES: usize = FDS + CHECK_SOCKETS + 16;

// Relations. A board file that breaks one of these does not build.
const_assert!(CONFIG_FILES >= 1 && CONFIG_FILES <= 255);
const_assert!(INCLUDE_DEPTH >= 1 && INCLUDE_DEPTH <= CONFIG_FILES);
const_assert!(LINE_BYTES >= 256 && LINE_BYTES <= u16::MAX as usize);
const_assert!(CONFIG_BYTES >= LINE_BYTES && CONFIG_BYTES <= u32::MAX as usize);
const_assert!(WORDS_PER_LINE >= 8 && WORDS_PER_LINE <= LINE_BYTES / 2);
const_assert!(DEFINITION_BYTES <= CONFIG_BYTES);
const_assert!(VIPS_PER_INSTANCE >= 1 && VIPS_PER_INSTANCE <= VIPS_PER_ADVERT);
const_assert!(VRRP_INSTANCES >= 1 && VRRP_INSTANCES <= 255 * 16);
const_assert!(SYNC_GROUP_MEMBERS <= VRRP_INSTANCES);
const_assert!(SYNC_GROUPS <= VRRP_INSTANCES);
const_assert!(TRACK_FILES <= u16::MAX as usize);
const_assert!(REAL_SERVERS >= VIRTUAL_SERVERS);
const_assert!(CHECKERS >= 1);
const_assert!(HTTP_URLS <= CHECKERS * 8);
const_assert!(IPVS_SERVICES >= VIRTUAL_SERVERS && IPVS_SERVICES <= u16::MAX as usize);
const_assert!(IPVS_DESTINATIONS >= REAL_SERVERS && IPVS_DESTINATIONS <= u16::MAX as usize);
// Every script and every checker may have one child running at once only if
// the child table is large enough; otherwise runs queue (see the core's child table).
const_assert!(CHILDREN >= 4);
// The loop needs its own fds (signalfd, netlink x2, log) plus per-interface sockets.
const_assert!(FDS >= 16);
// At least one timer per instance, script and checker would not fit on small
// boards with many checkers; timers are deadlines kept in each machine, so
// TIMERS bounds only the loop's own queue of one-shot events.
const_assert!(TIMERS >= 16);
const_assert!(DIAGNOSTICS >= 1);
// Checker sockets live outside the poll table (one epoll fd in it stands
// for all of them) but count against the open-file limit with it; 4096 is
// Linux's default hard `RLIMIT_NOFILE`. Slot numbers are u16.
const_assert!(CHECK_SOCKETS >= 1 && CHECK_SOCKETS <= u16::MAX as usize);
const_assert!(OPEN_FILES <= 4096);
const_assert!(CHECKERS <= u16::MAX as usize);
// An HTTP request head (path, Host, fixed headers) and a DNS question fit in
// what a checker reads back.
const_assert!(CHECK_RX_BYTES >= URL_BYTES + TEXT_BYTES + 128 && CHECK_RX_BYTES >= 512);
// A status client is served from its own buffer; the largest unit of the
// document (one instance's counters) needs about 2 KiB.
const_assert!(STATUS_CONNECTIONS >= 1 && STATUS_CONNECTIONS <= 64);
const_assert!(STATUS_BUFFER_BYTES >= 2048);
// A board's default watchdog timeout is one `watchdog_timeout` accepts.
const_assert!(WATCHDOG_TIMEOUT_S >= 1 && WATCHDOG_TIMEOUT_S <= 3600);
const_assert!(BOARD_WATCHDOG_DEVICE.len() < PATH_BYTES && BOARD_STATE_FILE.len() < PATH_BYTES);

/// A capacity, named as in `board.conf` and in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The name in `board/<board>/board.conf` (or a fixed one).
    pub name: &'static str,
    /// Its value in this build.
    pub value: usize,
    /// What it bounds, for `picket --limits`.
    pub what: &'static str,
}

macro_rules! limit {
    ($name:literal, $value:expr, $what:literal) => {
        Limit {
            name: $name,
            value: $value,
            what: $what,
        }
    };
}

/// Every capacity of this build, in the order `picket --limits` prints them.
pub const ALL: &[Limit] = &[
    limit!(
        "config_bytes",
        CONFIG_BYTES,
        "bytes of configuration text, all files together"
    ),
    limit!(
        "config_files",
        CONFIG_FILES,
        "configuration files (main + included)"
    ),
    limit!("include_depth", INCLUDE_DEPTH, "nesting of include"),
    limit!("line_bytes", LINE_BYTES, "bytes of one configuration line"),
    limit!(
        "words_per_line",
        WORDS_PER_LINE,
        "words of one configuration line"
    ),
    limit!("definitions", DEFINITIONS, "$NAME=value parameters"),
    limit!(
        "definition_bytes",
        DEFINITION_BYTES,
        "bytes of one parameter value"
    ),
    limit!(
        "diagnostics",
        DIAGNOSTICS,
        "config errors and warnings kept"
    ),
    limit!("vrrp_instances", VRRP_INSTANCES, "vrrp_instance blocks"),
    limit!(
        "vips_per_instance",
        VIPS_PER_INSTANCE,
        "virtual_ipaddress entries per instance"
    ),
    limit!(
        "excluded_vips_per_instance",
        EXCLUDED_VIPS_PER_INSTANCE,
        "virtual_ipaddress_excluded entries per instance"
    ),
    limit!(
        "static_addresses",
        STATIC_ADDRESSES,
        "static_ipaddress entries"
    ),
    limit!("vrrp_scripts", VRRP_SCRIPTS, "vrrp_script blocks"),
    limit!("track_files", TRACK_FILES, "vrrp_track_file blocks"),
    limit!(
        "tracks_per_instance",
        TRACKS_PER_INSTANCE,
        "entries of each track_* block"
    ),
    limit!("sync_groups", SYNC_GROUPS, "vrrp_sync_group blocks"),
    limit!(
        "sync_group_members",
        SYNC_GROUP_MEMBERS,
        "instances in one sync group"
    ),
    limit!(
        "routes_per_instance",
        ROUTES_PER_INSTANCE,
        "virtual_routes entries per instance"
    ),
    limit!(
        "unicast_peers",
        UNICAST_PEERS,
        "unicast_peer entries per instance"
    ),
    limit!(
        "notification_emails",
        NOTIFICATION_EMAILS,
        "notification_email addresses"
    ),
    limit!(
        "virtual_server_groups",
        VIRTUAL_SERVER_GROUPS,
        "virtual_server_group blocks"
    ),
    limit!(
        "virtual_server_group_entries",
        VIRTUAL_SERVER_GROUP_ENTRIES,
        "entries of all virtual_server_group blocks"
    ),
    limit!("virtual_servers", VIRTUAL_SERVERS, "virtual_server blocks"),
    limit!(
        "real_servers",
        REAL_SERVERS,
        "real_server blocks, all virtual servers together"
    ),
    limit!(
        "checkers",
        CHECKERS,
        "checker blocks, all real servers together"
    ),
    limit!(
        "http_urls",
        HTTP_URLS,
        "url blocks of HTTP_GET/SSL_GET, all together"
    ),
    limit!(
        "ipvs_services",
        IPVS_SERVICES,
        "IPVS services, virtual_server_group entries expanded"
    ),
    limit!(
        "ipvs_destinations",
        IPVS_DESTINATIONS,
        "IPVS destinations: each service's real servers and sorry server"
    ),
    limit!(
        "check_sockets",
        CHECK_SOCKETS,
        "checker sockets open at once (more checks wait for one)"
    ),
    limit!("children", CHILDREN, "child processes running at once"),
    limit!(
        "status_connections",
        STATUS_CONNECTIONS,
        "status socket clients served at once"
    ),
    limit!(
        "status_buffer_bytes",
        STATUS_BUFFER_BYTES,
        "bytes of one status client's buffer"
    ),
    limit!("fds", FDS, "file descriptors in the poll table"),
    limit!("timers", TIMERS, "one-shot timers queued at once"),
    limit!(
        "ifname_bytes",
        IFNAME_BYTES,
        "bytes of an interface name (fixed)"
    ),
    limit!("name_bytes", NAME_BYTES, "bytes of a block name (fixed)"),
    limit!("path_bytes", PATH_BYTES, "bytes of a path (fixed)"),
    limit!(
        "command_bytes",
        COMMAND_BYTES,
        "bytes of a script command line (fixed)"
    ),
    limit!(
        "child_args",
        CHILD_ARGS,
        "arguments of a child process (fixed)"
    ),
    limit!(
        "script_users",
        SCRIPT_USERS,
        "distinct users scripts run as (fixed)"
    ),
    limit!(
        "script_groups",
        SCRIPT_GROUPS,
        "supplementary groups of a script user (fixed)"
    ),
];

/// Looks a limit up by its board name.
pub fn by_name(name: &str) -> Option<Limit> {
    ALL.iter().copied().find(|l| l.name == name)
}
