//! Counters, one per error or drop path (and a few per event), so that every
//! input picket ignores leaves a trace. `SIGUSR2` logs them.
//!
//! Counters only grow (wrapping is not a concern for `u64`). Each has a name,
//! the field name, used when they are printed.

use core::fmt;

macro_rules! stats {
    ($( $(#[doc = $doc:literal])* $name:ident ),* $(,)?) => {
        /// Every counter of the daemon.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct Stats {
            $( $(#[doc = $doc])* pub $name: u64, )*
        }

        impl Stats {
            /// All counters at zero.
            pub const fn new() -> Self {
                Stats { $( $name: 0, )* }
            }

            /// Every counter as `(name, value)`, in declaration order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
                [$( (stringify!($name), self.$name), )*].into_iter()
            }
        }
    };
}

stats! {
    // Child processes.
    /// Spawn requests made (a script to run).
    spawn_requests,
    /// Children the binary reported started.
    children_started,
    /// Children reaped (their exit seen).
    children_exited,
    /// Spawn requests that waited because the child table was full.
    spawn_queued,
    /// Spawn requests dropped because the child table and its queue were full.
    spawn_queue_full,
    /// Spawns that failed in the parent (fork, PATH search).
    spawn_failed,
    /// Children that exited with status 127 (exec failed, or the shell said so).
    exec_failed,
    /// Children that ran past their timeout (SIGTERM sent).
    child_timeouts,
    /// Children that ignored SIGTERM for the grace period (SIGKILL sent).
    child_kills,
    /// Children still not reaped long after SIGKILL (slot given up).
    child_abandoned,
    /// Exits of pids the child table does not know.
    unknown_child_exit,
    /// Started/failed reports for a child id the table does not know.
    unknown_child_id,
    /// `kill(2)` calls that failed.
    kill_failed,
    // Core.
    /// Actions dropped because the action queue was full.
    action_queue_full,
    /// Housekeeping ticks run.
    housekeeping_ticks,
    /// SIGHUP received (reloads asked for; each is applied or refused, see
    /// the status document's `reloads`).
    reload_requests,
    /// `SIGUSR1` state dumps made.
    dump_data,
    /// `SIGUSR2` counter dumps made.
    dump_stats,
    /// Stop signals received while already stopping.
    stop_repeated,
    /// Signals received after the core finished.
    signal_after_finish,
    /// Stops that gave up waiting for children.
    stop_wait_expired,
    // The loop (binary side).
    /// Loop turns.
    loop_turns,
    /// Poll events with a token not in the fd table.
    unknown_token,
    /// `poll(2)` interrupted (EINTR).
    poll_eintr,
    /// `poll(2)` failures other than EINTR.
    poll_errors,
    /// signalfd reads that failed (not WouldBlock).
    signalfd_errors,
    /// Signals read from the signalfd that picket does not handle.
    unknown_signal,
    /// VRRP socket reads stopped at `limits::VRRP_READS_PER_TURN` datagrams
    /// with more perhaps waiting (a flood): the rest are read next turn,
    /// after the due timers.
    vrrp_reads_deferred,
    /// `waitpid(2)` failures other than ECHILD.
    waitpid_errors,
    /// Socket sends or receives that failed (not WouldBlock).
    socket_errors,
    /// Netlink replies that did not parse.
    netlink_malformed,
    /// Adverts not sent because their link was down or gone (ENETUNREACH,
    /// ENETDOWN, ENODEV, ENXIO) before picket read the notification.
    sends_link_gone,
    // Operations.
    /// Status socket clients sent a whole document.
    status_served,
    /// Status socket clients turned away: every slot was busy.
    status_refused,
    /// Status socket clients dropped at the timeout (a reader that stalls).
    status_timeouts,
    /// Status socket clients dropped on an error (accept, send, a unit too
    /// large for the buffer).
    status_errors,
    /// Status documents abandoned because a reload changed the tables.
    status_aborted,
    /// JSON dumps made (keepalived's JSON signal).
    dump_json,
    /// Dump files that could not be written (each logged).
    dump_errors,
    // The netlink reflector.
    /// Times the monitor socket overran (`ENOBUFS`: notifications lost,
    /// everything read again).
    monitor_overruns,
    /// Address dumps read (after a primary address went, an interface came
    /// back, or an overrun).
    address_scans,
    /// Address dumps that failed (retried on the next notification).
    address_scan_errors,
}

impl fmt::Display for Stats {
    /// Every non-zero counter as `name=value`, space separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, value) in self.iter().filter(|&(_, v)| v != 0) {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{name}={value}")?;
        }
        if first {
            f.write_str("(all zero)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_lists_non_zero_counters() {
        let mut s = Stats::new();
        assert_eq!(s.to_string(), "(all zero)");
        s.spawn_failed = 2;
        s.loop_turns = 7;
        assert_eq!(s.to_string(), "spawn_failed=2 loop_turns=7");
        assert!(s.iter().any(|(n, v)| n == "spawn_failed" && v == 2));
    }
}
