//! The busybox init script on the qemu board: `board/init/picket.sysv`
//! installed as `/etc/init.d/picket` runs the static picket under the
//! board's busybox (`sh`, `start-stop-daemon`, `kill`): start (the pid
//! file names a live picket and its status socket answers), a second start
//! (already running), status (exit 0, the tables), reload (SIGHUP: the
//! status document counts it applied), a reload of a broken file (refused,
//! the daemon runs on), stop (gone, pid file removed), status (exit 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod board;

#[test]
fn the_busybox_init_script_runs_picket_on_the_board() {
    if !board::ready() {
        return;
    }
    let init = board::root().join("board/init/picket.sysv");
    let script = board::script(
        "init",
        "#!/bin/sh\n\
         set -e\n\
         mkdir -p /etc/init.d /etc/keepalived /run\n\
         cp /board/picket.sysv /etc/init.d/picket\n\
         chmod 755 /etc/init.d/picket\n\
         conf=/etc/keepalived/keepalived.conf\n\
         printf 'global_defs {\\n router_id board\\n status_socket /run/picket.sock\\n}\\n' > $conf\n\
         json() { picket status --json | tr -d ' \\n'; }\n\
         echo BEGIN init\n\
         /etc/init.d/picket start\n\
         echo \"pid $(cat /run/picket.pid)\"\n\
         i=0; while [ ! -S /run/picket.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done\n\
         /etc/init.d/picket start\n\
         /etc/init.d/picket status && echo 'status rc 0'\n\
         /etc/init.d/picket reload\n\
         sleep 1\n\
         json | grep -o '\"applied\":[0-9]*,\"refused\":[0-9]*'\n\
         echo 'vrrp_instance X {' >> $conf\n\
         /etc/init.d/picket reload\n\
         sleep 1\n\
         json | grep -o '\"applied\":[0-9]*,\"refused\":[0-9]*'\n\
         /etc/init.d/picket stop\n\
         [ -e /run/picket.pid ] || echo 'pid file removed'\n\
         set +e\n\
         /etc/init.d/picket status\n\
         echo \"status rc $?\"\n\
         echo END init\n",
    );
    let boot = board::boot(&script, &[&init], 180);
    assert_eq!(boot.status, 0, "the guest script failed");
    let out = boot.section("init");
    let pid_line = out
        .lines()
        .find(|l| l.starts_with("pid "))
        .unwrap_or_else(|| panic!("no pid in\n{out}"));
    for want in [
        "Starting picket",
        "picket already running",
        &format!("picket running ({pid_line})"),
        "router_id board",
        "status rc 0",
        "\"applied\":1,\"refused\":0",
        "\"applied\":1,\"refused\":1",
        "Stopping picket",
        "pid file removed",
        "picket not running",
        "status rc 3",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
}
