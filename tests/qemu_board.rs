//! The qemu-x86_64 board boots the Debian kernel with what picket needs:
//! the IPVS modules and schedulers, the i6300esb and softdog watchdogs,
//! `lo` up, ipvsadm and keepalived, and the static picket binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod board;

#[test]
fn board_boots_with_ipvs_and_watchdogs() {
    if !board::ready() {
        return;
    }
    let script = board::script(
        "smoke",
        "#!/bin/sh\n\
         set -e\n\
         echo BEGIN facts\n\
         cat /etc/kernel-release\n\
         for m in ip_vs ip_vs_rr ip_vs_wlc ip_vs_mh ip_vs_ovf i6300esb softdog; do\n\
           grep -q \"^$m \" /proc/modules && echo \"module $m\"\n\
         done\n\
         for d in /dev/watchdog0 /dev/watchdog1; do [ -c $d ] && echo $d; done\n\
         ip -o link show lo | grep -q 'state UNKNOWN\\|UP' && echo 'lo up'\n\
         head -1 /proc/net/ip_vs\n\
         picket -v\n\
         keepalived -v 2>&1 | head -1\n\
         echo END facts\n\
         exit 7\n",
    );
    let boot = board::boot(&script, &[], 180);
    assert_eq!(boot.status, 7, "the script's own exit status comes back");
    let facts = boot.section("facts");
    for want in [
        "module ip_vs\n",
        "module ip_vs_rr\n",
        "module ip_vs_wlc\n",
        "module ip_vs_mh\n",
        "module ip_vs_ovf\n",
        "module i6300esb\n",
        "module softdog\n",
        "/dev/watchdog0\n",
        "lo up\n",
        "IP Virtual Server version 1.2.1",
        "picket 0.1.0 (keepalived-compatible), board qemu-x86_64",
        "Keepalived v2.2.7",
    ] {
        assert!(facts.contains(want), "missing {want:?} in\n{facts}");
    }
}
