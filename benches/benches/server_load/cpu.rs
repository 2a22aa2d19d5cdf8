//! Who used the CPU during a run: this process, the client process, and the
//! rest of the machine, from `/proc` (Linux only; elsewhere every figure is
//! zero and the verdict says so).
//!
//! The figure a load bench reports is about the server only if the server
//! is what ran out of CPU: a client (or another tenant of a shared machine)
//! that saturates first measures itself instead.

use std::time::Instant;

/// `/proc` counts CPU time in clock ticks of `USER_HZ`, which the kernel's
/// ABI fixes at 100 per second on the platforms this bench runs on.
const TICKS_PER_SECOND: f64 = 100.0;
/// A process, or the machine, counts as saturated from this share of what it
/// could use.
const SATURATED: f64 = 0.9;

/// CPU seconds (user + system, all threads) process `pid` has used, from
/// `/proc/<pid>/stat` (`self` for this process).
pub(crate) fn process_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name (field 2) may hold spaces; fields restart after it.
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = fields.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `fields[0]` is field 3.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// CPU seconds the whole machine has spent busy (not idle, not waiting for
/// I/O), over all cores, from the first line of `/proc/stat`.
fn machine_busy_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = stat.lines().next() else {
        return 0.0;
    };
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice]:
    // guest time is already counted in user.
    let total: f64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    (total - idle) / TICKS_PER_SECOND
}

/// The CPU counters at the start of a run.
pub(crate) struct Usage {
    started: Instant,
    server: f64,
    machine: f64,
}

impl Usage {
    /// Starts counting (this process is the server).
    pub(crate) fn start() -> Self {
        Usage {
            started: Instant::now(),
            server: process_seconds("self"),
            machine: machine_busy_seconds(),
        }
    }

    /// What each used since the start, given the CPU seconds the client
    /// process used over the same time (it reports its own) and the events
    /// delivered. The CPU per event holds however much of the machine the
    /// other tenants took, so it is the figure to compare across runs on a
    /// shared machine.
    pub(crate) fn report(&self, client_seconds: f64, events: f64) -> String {
        let wall = self.started.elapsed().as_secs_f64();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let percent = |seconds: f64| 100.0 * seconds / wall;
        let server_seconds = process_seconds("self") - self.server;
        let server = percent(server_seconds);
        let client = percent(client_seconds);
        let machine = percent(machine_busy_seconds() - self.machine);
        let others = (machine - server - client).max(0.0);
        let capacity = 100.0 * cores;
        let verdict = if machine == 0.0 {
            "no CPU figures (no /proc)".to_owned()
        } else if machine >= SATURATED * capacity {
            let (busiest, share) = if server >= client {
                ("server", server)
            } else {
                ("client", client)
            };
            format!(
                "the machine saturates ({machine:.0}% of {capacity:.0}%); the larger consumer is the {busiest} ({:.0}% of the busy time)",
                100.0 * share / machine
            )
        } else if server >= SATURATED * capacity {
            "the server saturates".to_owned()
        } else if client >= SATURATED * capacity {
            "the client saturates".to_owned()
        } else {
            format!(
                "nothing saturates ({:.0}% of {capacity:.0}% idle)",
                capacity - machine
            )
        };
        let per_event = |seconds: f64| 1e6 * seconds / events.max(1.0);
        format!(
            "CPU over {wall:.1} s, % of one core: server {server:.0}%, client {client:.0}%, rest of the machine {others:.0}% (of {capacity:.0}%): {verdict}\n  CPU per event: server {:.1} µs, client {:.1} µs",
            per_event(server_seconds),
            per_event(client_seconds),
        )
    }
}
