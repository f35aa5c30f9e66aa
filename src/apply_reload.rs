//! A reload (SIGHUP), applied as a transaction, without allocation.
//!
//! 1. **Build** the next configuration in the spare tables (allocated at
//!    start-up, [`crate::Spare`]): read and parse the files, run every
//!    check the daemon runs at start (features this build runs, IPVS
//!    limits), build the VRRP engine (every interface must exist; the
//!    running ones' facts are reused, new ones looked up), the trackers,
//!    the IPVS table, the shutdown script, and open the sockets of new
//!    interfaces. Every problem is a diagnostic with `file:line:col`.
//! 2. **Refuse** if there is any error: every one is logged, the spare's
//!    sockets are closed, and nothing of the running daemon has changed.
//! 3. **Plan** ([`picket::reload::plan`]): instances kept (matched by name
//!    and keepalived's identity), stopped, started; scripts and sync groups
//!    kept.
//! 4. **Apply**, removals first: removed instances stop (priority 0 and
//!    their addresses removed if master; `notify_stop` runs); kept masters
//!    remove the addresses the new configuration drops; the new engine
//!    takes over each kept instance's machine ([`Engine::adopt`]: no
//!    transition, no extra election, no address touched), the new script
//!    table each kept script's results and run alive (children are
//!    renumbered), the new link table the known link states; the sockets
//!    of unchanged interfaces move over; the running and spare tables swap;
//!    IPVS sends only its differences; new instances start, kept masters
//!    add and announce their new addresses, every effective priority is
//!    recomputed.
//!
//! Refused with "restart picket" (set up at start-up): VMACs, a changed set
//! of tracked files, a changed `script_user` or a script user not looked
//! up at start, changed `watchdog_*` settings, virtual servers in a
//! configuration that had none. The health checkers and real servers carry
//! their state over by identity (`picket::lvs::reload`): a kept check keeps
//! its verdict, schedule and attempt in flight, a kept real server its
//! alive state and `misc_dynamic` weight, a kept virtual server its quorum;
//! the IPVS table sends only the entries that changed.
//!
//! [`Engine::adopt`]: picket::vrrp::engine::Engine::adopt

use picket::config::vrrp::VrrpInstance;
use picket::config::{Config, Diagnostics};
use picket::config::{LoadOptions, Severity};
use picket::core::{ArgvBuf, RunAs};
use picket::core::{ChildRole, Phase};
use picket::reload::{Plan, missing_addresses};
use picket::status::LastReload;
use picket::time::Instant;
use picket::vrrp::State;
use picket::vrrp::engine::Engine;
use picket::vrrp::track::{LinkId, ScriptId};
use picket::wire::route::RouteRepr;
use picket::wire::rtnetlink::Operation;

use crate::logger::LogLines;
use crate::sys::fs::RealFs;
use crate::sys::user::{Programs, ScriptUsers, Verdict, check_script, for_each_script};
use crate::{Daemon, Spare, core_settings, fill_tracking, interface_facts, open_status_socket};

/// The netlink sequence "instance" of address requests a reload sends for
/// addresses of the old configuration (their failures are not looked up
/// in the new one).
pub const RELOAD_SLOT: u16 = 0xfff;

/// The indices of `from`'s routes that `to` does not have.
fn missing(
    from: &[RouteRepr],
    to: &[RouteRepr],
) -> heapless::Vec<usize, { picket::limits::ROUTES_PER_INSTANCE }> {
    let mut out = heapless::Vec::new();
    for (k, r) in from.iter().enumerate() {
        if !to.contains(r) {
            // Capacity: one per route of `from`.
            let _ = out.push(k);
        }
    }
    out
}

/// A hash of every script command, user and group of `cfg` (FNV-1a): a
/// reload re-checks the scripts' paths only when it differs.
fn scripts_hash(cfg: &Config) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for_each_script(cfg, &mut |s| {
        for b in s
            .command
            .bytes()
            .chain([0])
            .chain(s.user.bytes())
            .chain([0])
            .chain(s.group.bytes())
            .chain([0])
        {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    });
    h
}

/// Reports what a reload from `running` to `next` cannot apply (yet):
/// VMACs (created at start-up), a changed set of tracked files (watched
/// from start-up), a changed default `script_user`, a script user not
/// looked up at start-up; and, under `enable_script_security`, scripts that
/// run with root privileges and are not safe (checked again, in fixed
/// buffers, when a script or the file a program resolves to changed; a
/// program not written as an absolute path is the file `programs` resolved
/// it to, the one it will run).
fn not_reloadable(
    running: &Config,
    next: &Config,
    users: &ScriptUsers,
    (programs, programs_changed): (&Programs, bool),
    diags: &mut Diagnostics,
) {
    let restart = format_args!("restart picket to apply this configuration");
    for inst in next.vrrp.instances.iter().filter(|i| i.use_vmac.is_some()) {
        diags.push(
            Severity::Error,
            Some(inst.loc),
            format_args!("vrrp_instance {}: use_vmac is not applied by a reload (VMACs are made at start-up)", inst.name),
            restart,
        );
    }
    if next.vrrp.instances.iter().all(|i| i.use_vmac.is_none())
        && running.vrrp.instances.iter().any(|i| i.use_vmac.is_some())
    {
        diags.push(
            Severity::Error,
            None,
            format_args!("the running configuration has VMACs, which a reload does not remove"),
            restart,
        );
    }
    let files = |c: &Config| {
        c.vrrp
            .track_files
            .iter()
            .map(|f| (f.name.clone(), f.path.clone(), f.used))
            .collect::<heapless::Vec<_, { picket::limits::TRACK_FILES }>>()
    };
    if files(running) != files(next) {
        diags.push(
            Severity::Error,
            next.vrrp.track_files.first().map(|f| f.loc),
            format_args!("vrrp_track_file blocks changed: the watched files are set at start-up"),
            restart,
        );
    }
    let g = (&running.global, &next.global);
    let watchdog = |g: &picket::config::global::GlobalDefs| {
        (
            g.watchdog_device.clone(),
            g.watchdog_timeout,
            g.watchdog_nowayout,
            g.watchdog_state_file.clone(),
            g.watchdog_reset_hold,
            g.watchdog_safe_mode_resets,
            g.watchdog_reset_window,
        )
    };
    if watchdog(g.0) != watchdog(g.1) {
        diags.push(
            Severity::Error,
            None,
            format_args!("the watchdog_* settings changed: the watchdog is armed at start-up"),
            restart,
        );
    }
    if (&g.0.script_user, &g.0.script_group) != (&g.1.script_user, &g.1.script_group) {
        diags.push(
            Severity::Error,
            None,
            format_args!("script_user changed: script users are looked up at start-up"),
            restart,
        );
    }
    for_each_script(next, &mut |s| {
        let (user, group) = (s.user, s.group);
        if !user.is_empty() && users.find(user, group) == RunAs::DEFAULT {
            diags.push(
                Severity::Error,
                None,
                format_args!("{}: user '{user}' was not looked up at start-up", s.what),
                restart,
            );
        }
    });
    if !next.global.enable_script_security
        || (scripts_hash(running) == scripts_hash(next) && !programs_changed)
    {
        return;
    }
    for_each_script(next, &mut |s| {
        let (uid, gid) = users.ids(users.find(s.user, s.group));
        let mut argv = ArgvBuf::new();
        let Some(c) = check_script(s.command, &mut argv, uid, gid, programs) else {
            return;
        };
        if let Verdict::Unsafe(why) = c.verdict {
            // The message has MESSAGE_BYTES: the path at fault once.
            let (sep, at) = if c.at == c.path {
                ("", "")
            } else {
                ("': '", c.at.as_str())
            };
            diags.push(
                Severity::Error,
                None,
                format_args!(
                    "{}: script '{}{sep}{at}' {why}: not safe to run with root privileges \
                     (enable_script_security)",
                    s.what, c.path
                ),
                format_args!(
                    "make the file and every directory above it owned by root and not \
                     writable by group or others, or run it as another user"
                ),
            );
        }
    });
}

/// The configuration of instance `slot` of `engine`.
fn instance<'c>(cfg: &'c Config, engine: &Engine, slot: u16) -> Option<&'c VrrpInstance> {
    engine
        .config_index(slot)
        .and_then(|i| cfg.vrrp.instances.get(i))
}

fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

impl Daemon {
    /// SIGHUP: reloads the configuration (see the module doc).
    pub(crate) fn reload(&mut self, now: Instant) {
        if self.core.phase() != Phase::Running {
            log::info!("reload: not while stopping");
            return;
        }
        log::info!("reload: reading {}", self.config_file);
        // What the reflector has pending is done with the running tables
        // first (sockets of interfaces gone or back, restores, source
        // events, a scan due): the new engine starts from a settled view.
        self.run_engine_actions(now);
        self.scan_addresses_if_due(now);
        self.run_engine_actions(now);
        let errors = self.build_spare();
        if errors > 0 {
            self.refuse_reload(now, errors);
            return;
        }
        let plan =
            picket::reload::plan(&self.cfg, &self.engine, &self.spare.cfg, &self.spare.engine);
        self.apply(now, &plan);
        // The next tables were built by value on the stack: its pages go
        // back (no allocation).
        if let Some(s) = self.stack {
            let released = s.release_unused();
            log::debug!("reload: stack released: {} KiB", released / 1024);
        }
    }

    /// Step 1: the next configuration into the spare tables; the number of
    /// errors found (each in the spare's diagnostics).
    fn build_spare(&mut self) -> u32 {
        let Spare {
            cfg,
            scratch,
            diags,
            engine,
            scripts,
            links,
            tracking,
            sockets,
            routes,
            script_users,
        } = &mut *self.spare;
        let opts = LoadOptions {
            config_id: &self.config_id,
            all_config: self.all_config,
        };
        picket::config::load(&mut RealFs, &self.config_file, &opts, scratch, cfg, diags);
        if !diags.is_ok() {
            return diags.error_count() + diags.fatal_count();
        }
        picket::vrrp::engine::check_config(cfg, diags, Severity::Error);
        picket::ipvs::check_config(cfg, diags);
        // The scripts' programs, resolved once here: the files checked are
        // the ones run.
        if let Err(e) = self.spawner.prepare_programs(cfg) {
            diags.push(
                Severity::Error,
                None,
                format_args!("{e}"),
                format_args!("give scripts their absolute paths"),
            );
        }
        let changed = !self
            .spawner
            .next_programs()
            .same_as(self.spawner.programs());
        let programs = (self.spawner.next_programs(), changed);
        not_reloadable(&self.cfg, cfg, &self.users, programs, diags);
        // Unsafe configuration files (under enable_script_security): noted
        // first, reported after (their names are in `diags`).
        let mut unsafe_files: heapless::Vec<
            picket::config::FileId,
            { picket::limits::CONFIG_FILES },
        > = heapless::Vec::new();
        crate::unsafe_config_files(cfg, diags, &mut |id, _, _| {
            let _ = unsafe_files.push(id);
        });
        for id in unsafe_files {
            let mut path: heapless::String<{ picket::limits::PATH_BYTES }> =
                heapless::String::new();
            let _ = path.push_str(diags.files.name(id));
            diags.push(
                Severity::Error,
                None,
                format_args!(
                    "SECURITY VIOLATION - configuration file {path} is not owned by root and \
                     writable by root only (enable_script_security)"
                ),
                format_args!(
                    "make it and every directory above it owned by root and writable by root only"
                ),
            );
        }
        if !diags.is_ok() {
            return diags.error_count() + diags.fatal_count();
        }
        let running = &self.engine;
        engine.load(
            cfg,
            Some(running),
            &mut interface_facts,
            &mut |i, ifname, e| {
                let inst = cfg.vrrp.instances.get(i);
                diags.push(
                    Severity::Error,
                    inst.map(|v| v.loc),
                    format_args!(
                        "vrrp_instance {}: cannot run on {ifname}: {e}",
                        inst.map_or("?", |v| v.name.as_str())
                    ),
                    format_args!(
                        "create the interface first, set dynamic_interfaces to wait for it, \
                         or fix the instance"
                    ),
                );
            },
        );
        if let Err(e) = fill_tracking(cfg, engine, scripts, links, tracking) {
            let (name, kind) = e.message(cfg);
            diags.push(
                Severity::Error,
                e.loc(cfg),
                format_args!("{kind} {name}: {e}"),
                format_args!("fix the script's command line"),
            );
        }
        if let Err(e) = crate::fill_routes(cfg, engine, routes) {
            diags.push(
                Severity::Error,
                Some(e.route.loc),
                format_args!("{e}"),
                format_args!("create the interface first, or fix the route"),
            );
        }
        crate::fill_script_users(cfg, &self.users, script_users);
        let settings = core_settings(cfg, &self.users);
        if let Err(e) = picket::core::split_command(
            settings.shutdown_script.unwrap_or("true"),
            &mut picket::core::ArgvBuf::new(),
        ) {
            diags.push(
                Severity::Error,
                None,
                format_args!("shutdown_script: {e}"),
                format_args!("fix its command line"),
            );
        }
        match (&mut self.ipvs, cfg.lvs.virtual_servers.is_empty()) {
            (None, false) => diags.push(
                Severity::Error,
                cfg.lvs.virtual_servers.first().map(|v| v.loc),
                format_args!("virtual servers added to a configuration that had none"),
                format_args!("restart picket to start IPVS (its tables are sized at start-up)"),
            ),
            (Some(ipvs), _) => {
                if let Err(e) = ipvs.prepare_reload(cfg) {
                    diags.push(
                        Severity::Error,
                        None,
                        format_args!("IPVS table: {e}"),
                        format_args!("stay within ipvs_services and ipvs_destinations"),
                    );
                }
                if let Err(picket::check::engine::SetupError::MiscPath(c, why)) =
                    picket::check::Checkers::check_config(cfg)
                {
                    diags.push(
                        Severity::Error,
                        cfg.lvs.checkers.get(usize::from(c.0)).map(|k| k.loc),
                        format_args!("MISC_CHECK: misc_path: {why}"),
                        format_args!("fix the script's command line"),
                    );
                }
            }
            (None, true) => {}
        }
        if diags.is_ok()
            && let Err((what, e)) = sockets.prepare(engine, Some((running, &self.sockets)))
        {
            diags.push(
                Severity::Error,
                None,
                format_args!("cannot open a socket for the new configuration: {what}: {e}"),
                format_args!("check the interfaces and picket's capabilities"),
            );
        }
        diags.error_count() + diags.fatal_count()
    }

    /// Step 2: the new configuration has errors: says why, changes nothing.
    fn refuse_reload(&mut self, now: Instant, errors: u32) {
        {
            let mut out = LogLines::new(log::Level::Error);
            let _ = self.spare.diags.render(&mut out);
        }
        log::error!(
            "reload: {} has {errors} error(s): not applied, the running configuration stays",
            self.config_file
        );
        self.spare.sockets.clear();
        self.reloads.refused += 1;
        self.reloads.last = LastReload {
            at: Some(now),
            applied: false,
            errors: u16::try_from(errors).unwrap_or(u16::MAX),
            ..LastReload::default()
        };
    }

    /// Step 4: applies `plan` (removals first), swaps the tables in.
    fn apply(&mut self, now: Instant, plan: &Plan) {
        if self.spare.diags.warning_count() > 0 {
            let mut out = LogLines::new(log::Level::Warn);
            let _ = self.spare.diags.render(&mut out);
        }
        // Removed instances stop with the old tables (their notify_stop,
        // their addresses in the old configuration).
        for &o in &plan.removed {
            self.engine.shutdown_slot(now, o);
        }
        self.run_engine_actions(now);
        // Kept masters drop the routes, then the addresses, the new
        // configuration drops (keepalived's order).
        for m in &plan.matched {
            if self.engine.state(m.old) == Some(State::Master) {
                self.remove_dropped_routes(now, m.old, m.new);
            }
        }
        for m in plan.matched.iter().filter(|m| m.addresses_changed) {
            if self.engine.state(m.old) == Some(State::Master) {
                self.remove_dropped_addresses(now, m.old, m.new);
            }
        }
        // What the checkers asked for under the old configuration is done
        // under it.
        self.run_check_actions(now);
        // The machines, scripts, groups and links carry over.
        for m in &plan.matched {
            self.spare.engine.adopt(now, m.new, &mut self.engine, m.old);
        }
        for n in 0..self.spare.cfg.vrrp.sync_groups.len() {
            match plan.groups.iter().find(|(g, _)| *g == n) {
                Some(&(_, o)) => self.spare.engine.adopt_group(n, &self.engine, o),
                None => self.spare.engine.seed_group(n),
            }
        }
        for &(n, o) in &plan.scripts {
            self.spare.scripts.adopt(n, &self.scripts, o);
        }
        self.core.remap_children(&|role| match role {
            ChildRole::VrrpScript(o) => {
                ChildRole::VrrpScript(plan.new_script(ScriptId(o)).map_or(u16::MAX, |n| n.0))
            }
            r => r,
        });
        self.carry_links();
        // Status documents in progress walk the old tables' shapes: their
        // clients are cut (they ask again).
        let tally = self.status.abort_all(&mut self.poll);
        self.count_status(tally);
        // The sockets: unchanged interfaces lend theirs.
        self.sockets.unregister(&mut self.poll);
        self.spare.sockets.take_reused(&mut self.sockets);
        // The swap.
        let sp = &mut *self.spare;
        std::mem::swap(&mut self.cfg, &mut sp.cfg);
        std::mem::swap(&mut self.engine, &mut sp.engine);
        std::mem::swap(&mut self.scripts, &mut sp.scripts);
        std::mem::swap(&mut self.links, &mut sp.links);
        std::mem::swap(&mut self.tracking, &mut sp.tracking);
        std::mem::swap(&mut self.sockets, &mut sp.sockets);
        std::mem::swap(&mut self.routes, &mut sp.routes);
        std::mem::swap(&mut self.script_users, &mut sp.script_users);
        self.spawner.commit_programs();
        // The old sockets not taken close here.
        sp.sockets.clear();
        if self.sockets.register(&mut self.poll).is_err() {
            self.core.stats_mut().poll_errors += 1;
            log::error!("reload: the poll table is full: some VRRP sockets are not watched");
        }
        // Netlink sockets the new configuration needs for the first time
        // (without them, it runs with fewer features: logged).
        self.open_netlink_sockets(&mut |what, e| {
            log::error!("reload: {what}: {e}; running without it");
        });
        self.reload_settings();
        self.reload_health(now);
        // A reset's hold and safe mode apply to the new instances too (the
        // kept ones have them already).
        self.supervisor.apply_damping(now, &mut self.engine);
        // Kept masters add what is new to them.
        for m in plan.matched.iter().filter(|m| m.addresses_changed) {
            if self.engine.state(m.new) == Some(State::Master) {
                self.add_new_addresses(now, m.old, m.new);
            }
        }
        for m in &plan.matched {
            if self.engine.state(m.new) == Some(State::Master) {
                self.add_new_routes(now, m.old, m.new);
            }
        }
        // As at start-up, every address as the kernel has it (the requests
        // above are done: rtnetlink handles them as they are sent): new
        // instances' sources, configured sources, and a kept master's
        // address missing (deleted by hand while it could not be restored,
        // or while its interface was down) is restored.
        self.settle_view(now);
        // What is new starts (held if its interface or source is missing).
        for &n in &plan.added {
            self.engine.start_slot(now, n);
        }
        self.scripts.start(now);
        self.apply_all_tracking(now);
        self.run_actions(now);
        self.reloads.applied += 1;
        self.reloads.last = LastReload {
            at: Some(now),
            applied: true,
            errors: 0,
            added: count(plan.added.len()),
            removed: count(plan.removed.len()),
            changed: count(plan.changed()),
            kept: count(plan.kept()),
        };
        log::info!(
            "reload: applied: {} instances kept, {} changed, {} added, {} removed; {} scripts kept",
            plan.kept(),
            plan.changed(),
            plan.added.len(),
            plan.removed.len(),
            plan.scripts.len()
        );
    }

    /// After the swap (the running configuration is the new one, the
    /// spare's the old one): the checks and real servers take over what
    /// the old ones knew (see `picket::lvs::reload`), the misc checks'
    /// children are renumbered, and the IPVS table of the new configuration
    /// gets the checkers' view before it sends its differences.
    fn reload_health(&mut self, now: Instant) {
        let cfg = &*self.cfg;
        if let Some(h) = self.health.as_mut() {
            h.map.build(&self.spare.cfg, cfg);
            h.checkers.reload(now, cfg, &h.map);
            crate::fill_misc_users(cfg, &self.users, &mut h.misc_users);
            *h.spare_lvs = picket::lvs::Lvs::new(cfg);
            h.spare_lvs
                .adopt(cfg, &h.lvs, &self.spare.cfg, &h.map, &h.checkers);
            core::mem::swap(&mut h.lvs, &mut h.spare_lvs);
            let map = &h.map;
            self.core.remap_children(&|role| match role {
                ChildRole::MiscCheck(o) => ChildRole::MiscCheck(
                    map.new_check(usize::from(o))
                        .and_then(|n| u16::try_from(n).ok())
                        .unwrap_or(u16::MAX),
                ),
                r => r,
            });
            log::info!(
                "reload: {} checks ({} kept), {} real servers ({} kept)",
                cfg.lvs.checkers.len(),
                h.map.check_old.iter().filter(|m| m.is_some()).count(),
                cfg.lvs.real_servers.len(),
                h.map.rs_old.iter().filter(|m| m.is_some()).count(),
            );
        }
        if let Some(ipvs) = &mut self.ipvs {
            match &self.health {
                Some(h) => ipvs.commit_reload(
                    now,
                    cfg,
                    |r| h.lvs.rs_weight(cfg, r),
                    |v| h.lvs.sorry_active(cfg, v),
                ),
                None => ipvs.commit_reload(now, cfg, |_| None, |_| false),
            }
        }
    }

    /// A kept master (`old` slot, the running tables) removes each address
    /// of its old configuration that the new one (`new` slot, the spare)
    /// does not have.
    fn remove_dropped_addresses(&mut self, now: Instant, old: u16, new: u16) {
        let (Some(oi), Some(ni)) = (
            instance(&self.cfg, &self.engine, old),
            instance(&self.spare.cfg, &self.spare.engine, new),
        ) else {
            return;
        };
        for k in missing_addresses(oi, ni) {
            self.send_address_request(now, old, k, Operation::Delete, true);
        }
    }

    /// A kept master (now running the new tables, `new` slot) adds and
    /// announces each address its old configuration (the spare's, `old`
    /// slot) did not have.
    fn add_new_addresses(&mut self, now: Instant, old: u16, new: u16) {
        let (Some(oi), Some(ni)) = (
            instance(&self.spare.cfg, &self.spare.engine, old),
            instance(&self.cfg, &self.engine, new),
        ) else {
            return;
        };
        let added = missing_addresses(ni, oi);
        for &k in &added {
            self.send_address_request(now, new, k, Operation::Add, false);
        }
        let count = self
            .engine
            .instance(new)
            .map_or(1, |i| i.params().garp.master_repeat);
        for &k in &added {
            self.announce_address(new, k, count.max(1));
        }
    }

    /// A kept master (`old` slot, the running tables) removes each of its
    /// routes the new configuration (`new` slot, the spare) does not have.
    fn remove_dropped_routes(&mut self, now: Instant, old: u16, new: u16) {
        let (Some(o), Some(n)) = (
            self.routes.get(usize::from(old)),
            self.spare.routes.get(usize::from(new)),
        ) else {
            return;
        };
        let dropped = missing(o, n);
        for k in dropped {
            self.send_route_request(now, old, k, Operation::Delete, true);
        }
    }

    /// A kept master (now running the new tables, `new` slot) adds each
    /// route its old configuration (`old` slot, the spare) did not have.
    fn add_new_routes(&mut self, now: Instant, old: u16, new: u16) {
        let (Some(o), Some(n)) = (
            self.spare.routes.get(usize::from(old)),
            self.routes.get(usize::from(new)),
        ) else {
            return;
        };
        let added = missing(n, o);
        for k in added {
            self.send_route_request(now, new, k, Operation::Add, false);
        }
    }

    /// The new link table keeps what the old one knew of each link still
    /// tracked; links tracked for the first time are read now.
    fn carry_links(&mut self) {
        let mut i = 0u16;
        while let Some(name) = self.spare.links.name(LinkId(i)) {
            let mut n: heapless::String<{ picket::limits::IFNAME_BYTES }> = heapless::String::new();
            let _ = n.push_str(name);
            let up = match self.links.find(&n) {
                Some(id) => self.links.is_up(id),
                None => crate::sys::net::link_up(&n),
            };
            self.spare.links.handle_link(&n, up);
            i = i.saturating_add(1);
            if i == u16::MAX {
                break;
            }
        }
    }

    /// The global settings that live outside the tables: the shutdown
    /// script, the status socket, the dump files.
    fn reload_settings(&mut self) {
        let s = core_settings(&self.cfg, &self.users);
        if let Err(e) =
            self.core
                .set_shutdown_script(s.shutdown_script, s.shutdown_timeout, s.shutdown_user)
        {
            log::error!("reload: {e}");
        }
        let g = &self.cfg.global;
        let old = &self.spare.cfg.global;
        if (g.status_socket.as_str(), g.status_socket_mode)
            != (old.status_socket.as_str(), old.status_socket_mode)
        {
            self.status.close(&mut self.poll);
            self.status = open_status_socket(&self.cfg);
            if self.status.register(&mut self.poll).is_err() {
                log::error!("reload: the poll table is full: the status socket is not watched");
            }
        }
        self.dump_paths = crate::dump_files::DumpPaths::of(&self.cfg, &self.tmp_dir);
    }
}
