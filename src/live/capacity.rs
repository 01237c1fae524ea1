//! What one driver process can hold, known before it starts: open files (a socket per virtual
//! client), local ports (the ephemeral range per source address and broker), each local
//! broker's own open-file limit; and the readings the bottleneck verdict rests on (CPU of the
//! driver and of each broker process, the driver's peak memory). A run that would pass a limit
//! is refused with the numbers and what to do (more source addresses, more brokers, shards),
//! never left to degrade into figures that blame the model.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Files a driver process keeps besides its clients' sockets (monitors, output, the runtime).
pub const SPARE_FILES: u64 = 64;
/// Share of the ephemeral port range one (source, broker) pair may plan to use: the rest is
/// for sockets in TIME_WAIT after reconnects.
pub const PORT_SHARE: f64 = 0.5;

/// The broker (of `n`) that client identifier `id` goes to: FNV-1a of the identifier, as a
/// cluster's load balancer hashes it, so a client keeps its broker and its session.
pub fn broker_of(id: &str, n: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % n.max(1) as u64) as usize
}

/// This machine's limits for one process.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Open files the process may raise itself to (the hard limit).
    pub open_files: u64,
    /// Ports in the ephemeral range (`net.ipv4.ip_local_port_range`).
    pub ports: u64,
}

impl Limits {
    /// Read off this machine.
    pub fn here() -> Limits {
        let ports = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|s| {
                let v: Vec<u64> = s.split_whitespace().filter_map(|x| x.parse().ok()).collect();
                (v.len() == 2 && v[1] >= v[0]).then(|| v[1] - v[0] + 1)
            })
            .unwrap_or(28_232);
        Limits { open_files: hard_open_files().unwrap_or(u64::MAX), ports }
    }
}

#[cfg(target_os = "linux")]
fn hard_open_files() -> Option<u64> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct we pass and nothing else.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0).then_some(r.rlim_max)
}

#[cfg(not(target_os = "linux"))]
fn hard_open_files() -> Option<u64> {
    None
}

/// A run's demand on one process: its clients and how they spread over brokers and sources.
#[derive(Clone, Debug, PartialEq)]
pub struct Demand {
    /// Virtual clients this process drives.
    pub clients: u64,
    /// Of those, how many go to each broker.
    pub per_broker: Vec<u64>,
    /// Source addresses the connections spread over (0: the kernel's choice, one address).
    pub sources: usize,
    /// Shards of the whole run (1: unsharded).
    pub shards: u32,
}

/// Refuse, with the numbers and what to do, a run this process cannot hold.
pub fn check(d: &Demand, l: Limits) -> Result<(), String> {
    let sockets = d.clients + SPARE_FILES;
    if sockets > l.open_files {
        let per = l.open_files.saturating_sub(SPARE_FILES).max(1);
        let shards = (d.clients * u64::from(d.shards)).div_ceil(per);
        return Err(format!(
            "this process would hold up to {sockets} open files (a socket per virtual client: {} here, and {SPARE_FILES} \
             more) but a process on this machine may open at most {} (ulimit -Hn); split the run into at least \
             {shards} shards (--shard 0/{shards} ... --shard {}/{shards}, one process each, here or on other \
             machines) and join them with impsim merge",
            d.clients,
            l.open_files,
            shards - 1
        ));
    }
    let usable = (l.ports as f64 * PORT_SHARE) as u64;
    let sources = d.sources.max(1) as u64;
    if let Some((b, &n)) = d.per_broker.iter().enumerate().max_by_key(|(_, n)| **n) {
        let per_pair = n.div_ceil(sources);
        if per_pair > usable {
            let need = n.div_ceil(usable.max(1));
            return Err(format!(
                "{n} connections to broker {} from {sources} source address(es) is {per_pair} per address, over the {usable} \
                 local ports one address may plan on (half the ephemeral range of {}; the rest is for sockets in \
                 TIME_WAIT): give at least {need} source addresses (--source-addrs 127.0.0.1,127.0.0.2,...) or more \
                 brokers",
                b + 1,
                l.ports
            ));
        }
    }
    Ok(())
}

/// The loopback source addresses a process uses when none are given: enough that no
/// (source, broker) pair plans on more than its share of ports, and a block of its own per
/// shard so that shards on one machine do not share ports.
pub fn auto_sources(max_per_broker: u64, l: Limits, shard: u32) -> Vec<IpAddr> {
    let usable = ((l.ports as f64 * PORT_SHARE) as u64).max(1);
    let count = max_per_broker.div_ceil(usable).max(1) as u32;
    (0..count)
        .map(|j| {
            let n = (shard * count + j) % (254 * 254);
            IpAddr::V4(Ipv4Addr::new(127, 0, (n / 254) as u8, (n % 254 + 1) as u8))
        })
        .collect()
}

/// The process listening on `addr` on this machine, found through /proc (Linux; None when
/// it cannot be seen, e.g. another user's process or another machine's broker).
pub fn listener_pid(addr: SocketAddr) -> Option<u32> {
    let inode = listening_inode(addr)?;
    let target = format!("socket:[{inode}]");
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == target.as_str()) {
                return Some(pid);
            }
        }
    }
    None
}

/// The inode of the socket listening on `addr` (or on every address at its port).
fn listening_inode(addr: SocketAddr) -> Option<u64> {
    let file = if addr.is_ipv4() { "/proc/net/tcp" } else { "/proc/net/tcp6" };
    let text = std::fs::read_to_string(file).ok()?;
    let port = format!("{:04X}", addr.port());
    text.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (local, state, inode) = (f.get(1)?, f.get(3)?, f.get(9)?);
        let (ip_hex, p) = local.split_once(':')?;
        let any = ip_hex.chars().all(|c| c == '0');
        let same = match addr.ip() {
            IpAddr::V4(ip) => u32::from_str_radix(ip_hex, 16).ok() == Some(u32::from_le_bytes(ip.octets())),
            IpAddr::V6(_) => false,
        };
        (*state == "0A" && p == port && (same || any)).then(|| inode.parse().ok()).flatten()
    })
}

/// The soft open-file limit of process `pid` (/proc/PID/limits).
pub fn process_open_files(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3).and_then(|v| v.parse().ok())
}

/// CPU seconds (user + system) process `pid` has used so far.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at state (field 3).
    let rest = text.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

#[cfg(target_os = "linux")]
fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

#[cfg(not(target_os = "linux"))]
fn clock_ticks() -> f64 {
    100.0
}

/// This machine's CPU time so far, in clock ticks: (busy, all), from /proc/stat.
pub fn machine_ticks() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<f64> = text.lines().next()?.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let all: f64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0.0);
    Some((all - idle, all))
}

/// The share of the machine busy between two `machine_ticks` readings (NaN when unknown).
pub fn busy_between(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> f64 {
    match (a, b) {
        (Some((b0, a0)), Some((b1, a1))) if a1 > a0 => (b1 - b0) / (a1 - a0),
        _ => f64::NAN,
    }
}

/// CPU seconds this process has used so far (every thread).
pub fn own_cpu_seconds() -> f64 {
    process_cpu_seconds(std::process::id()).unwrap_or(f64::NAN)
}

/// This process's peak resident memory, bytes (0 when unknown).
pub fn own_peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            l.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Limits = Limits { open_files: 20_000, ports: 28_232 };

    fn demand(clients: u64, per_broker: Vec<u64>, sources: usize, shards: u32) -> Demand {
        Demand { clients, per_broker, sources, shards }
    }

    #[test]
    fn a_process_past_its_open_files_is_told_how_many_shards() {
        let e = check(&demand(50_000, vec![50_000], 3, 1), HERE).unwrap_err();
        assert!(e.contains("50064") && e.contains("20000") && e.contains("at least 3 shards"), "{e}");
        assert!(e.contains("--shard 2/3") && e.contains("impsim merge"), "{e}");
        // A shard of 1/4 of 100,000 is still too many: 7 shards of the whole.
        let e = check(&demand(25_000, vec![25_000], 3, 4), HERE).unwrap_err();
        assert!(e.contains("at least 6 shards"), "{e}");
        assert_eq!(check(&demand(19_936, vec![19_936], 2, 1), HERE), Ok(()), "the last that fits");
        assert!(check(&demand(19_937, vec![19_937], 2, 1), HERE).unwrap_err().contains("open files"));
    }

    #[test]
    fn ports_per_source_and_broker_are_checked() {
        let many = Limits { open_files: 1_000_000, ports: 28_232 };
        let e = check(&demand(40_000, vec![40_000], 1, 1), many).unwrap_err();
        assert!(e.contains("14116") && e.contains("at least 3 source addresses"), "{e}");
        assert_eq!(check(&demand(40_000, vec![40_000], 3, 1), many), Ok(()));
        assert_eq!(check(&demand(40_000, vec![20_000, 20_000], 2, 1), many), Ok(()), "two brokers, two sources");
    }

    #[test]
    fn automatic_sources_are_loopback_blocks_of_their_own_per_shard() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(auto_sources(10_000, HERE, 0), [ip("127.0.0.1")]);
        assert_eq!(auto_sources(10_000, HERE, 3), [ip("127.0.0.4")]);
        assert_eq!(auto_sources(30_000, HERE, 1), [ip("127.0.0.4"), ip("127.0.0.5"), ip("127.0.0.6")]);
        assert_eq!(auto_sources(1, HERE, 254), [ip("127.0.1.1")]);
        assert!(auto_sources(1, HERE, 70_000).iter().all(|a| a.is_loopback()));
    }

    #[test]
    fn clients_spread_over_brokers_by_identifier() {
        let n = 4;
        let mut counts = [0u32; 4];
        for c in 0..4000 {
            counts[broker_of(&format!("impsim-{c}-0"), n)] += 1;
        }
        assert!(counts.iter().all(|&k| (900..1100).contains(&k)), "{counts:?}");
        assert_eq!(broker_of("x", 1), 0);
        assert_eq!(broker_of("same", 3), broker_of("same", 3));
    }

    #[test]
    fn this_process_is_found_listening_and_measured() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        assert_eq!(listener_pid(addr), Some(std::process::id()));
        assert!(process_open_files(std::process::id()).unwrap() > 0);
        assert!(own_cpu_seconds() >= 0.0);
        assert!(own_peak_rss() > 0);
        let (busy, all) = machine_ticks().unwrap();
        assert!(busy > 0.0 && all >= busy);
        assert_eq!(busy_between(Some((10.0, 100.0)), Some((40.0, 200.0))), 0.3);
        assert!(busy_between(None, Some((1.0, 2.0))).is_nan());
        drop(l);
        assert_eq!(listening_inode(addr), None, "nothing listens there now");
    }

    #[test]
    fn a_broker_listening_on_every_address_is_found_at_the_one_connected_to() {
        let any = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let port = any.local_addr().unwrap().port();
        assert_eq!(listener_pid(SocketAddr::from(([127, 0, 0, 1], port))), Some(std::process::id()));
        let one = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = one.local_addr().unwrap().port();
        assert_eq!(listening_inode(SocketAddr::from(([127, 0, 0, 2], port))), None, "another address");
    }

    #[test]
    fn exactly_the_port_share_fits_and_the_busiest_broker_is_named() {
        let many = Limits { open_files: 1_000_000, ports: 28_232 };
        assert_eq!(check(&demand(14_116, vec![14_116], 1, 1), many), Ok(()), "half the range, exactly");
        let e = check(&demand(14_117, vec![14_117], 1, 1), many).unwrap_err();
        assert!(e.contains("is 14117 per address") && e.contains("at least 2 source addresses"), "{e}");
        let e = check(&demand(40_000, vec![10_000, 30_000], 2, 1), many).unwrap_err();
        assert!(e.contains("30000 connections to broker 2 from 2 source address(es) is 15000 per address"), "{e}");
        assert!(e.contains("over the 14116 local ports") && e.contains("ephemeral range of 28232"), "{e}");
        assert!(e.contains("at least 3 source addresses"), "{e}");
    }

    #[test]
    fn a_client_goes_to_the_broker_fnv_1a_of_its_identifier_names() {
        // FNV-1a 64 of "foobar" is 0x85944171f73967e8 (the published test vector), of "a"
        // 0xaf63dc4c8601ec8c: a load balancer hashing the same way sends each client to the same broker.
        assert_eq!(broker_of("foobar", 1000), (0x8594_4171_f739_67e8_u64 % 1000) as usize);
        assert_eq!(broker_of("foobar", 7), 6);
        assert_eq!(broker_of("a", 1000), 996);
        assert_eq!(broker_of("impsim-17-0", 4), 2);
        assert_eq!(broker_of("a", 0), 0, "no brokers counts as one");
    }

    #[test]
    fn source_blocks_wrap_around_the_loopback_range_exactly() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(auto_sources(1, HERE, 253), [ip("127.0.0.254")]);
        assert_eq!(auto_sources(1, HERE, 254 * 254), [ip("127.0.0.1")], "the 64,517th block is the first again");
        assert_eq!(auto_sources(1, HERE, 70_000), [ip("127.0.21.151")]);
        assert_eq!(auto_sources(14_116, HERE, 0), [ip("127.0.0.1")], "exactly the share: one address");
        assert_eq!(auto_sources(14_117, HERE, 0).len(), 2);
        assert_eq!(auto_sources(0, HERE, 0).len(), 1);
    }

    /// This process's "Max open files" (soft, hard) from /proc/self/limits.
    fn open_file_limits() -> (u64, u64) {
        let text = std::fs::read_to_string("/proc/self/limits").unwrap();
        let line = text.lines().find(|l| l.starts_with("Max open files")).unwrap();
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(3)
            .take(2)
            .map(|x| if x == "unlimited" { u64::MAX } else { x.parse().unwrap() })
            .collect();
        (v[0], v[1])
    }

    #[test]
    fn this_machines_limits_are_what_the_kernel_reports() {
        let l = Limits::here();
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
        let v: Vec<u64> = range.split_whitespace().map(|x| x.parse().unwrap()).collect();
        assert_eq!(l.ports, v[1] - v[0] + 1, "the range's ends are both usable ports");
        let (soft, hard) = open_file_limits();
        assert_eq!(l.open_files, hard, "the hard limit, which the process may raise itself to");
        assert_eq!(process_open_files(std::process::id()), Some(soft), "a process's own (soft) limit");
        assert_eq!(process_open_files(u32::MAX), None, "no such process");
    }

    /// CPU seconds of this process by the kernel's precise clock.
    fn cpu_clock() -> f64 {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes the struct we pass and nothing else.
        assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) }, 0);
        t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
    }

    #[test]
    fn cpu_seconds_count_user_and_system_time() {
        // Spend some of each: system time reading /proc, user time spinning.
        let start = cpu_clock();
        while cpu_clock() - start < 0.2 {
            let _ = std::fs::read_to_string("/proc/self/stat");
        }
        let mut x = 0u64;
        let start = cpu_clock();
        while cpu_clock() - start < 0.2 {
            for i in 0..10_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        let before = cpu_clock();
        let (read, own) = (process_cpu_seconds(std::process::id()).unwrap(), own_cpu_seconds());
        let after = cpu_clock();
        // The kernel's ticks lag its precise clock by at most a few ticks per thread.
        for v in [read, own] {
            assert!(v > before - 0.1 && v < after + 0.05, "{v} s not within [{before}, {after}]");
        }
        assert_eq!(process_cpu_seconds(u32::MAX), None, "no such process");
    }

    #[test]
    fn the_machines_ticks_split_into_busy_and_idle() {
        // user nice system idle iowait irq softirq steal
        let read = || -> Vec<f64> {
            let text = std::fs::read_to_string("/proc/stat").unwrap();
            text.lines().next().unwrap().split_whitespace().skip(1).take(8).map(|x| x.parse().unwrap()).collect()
        };
        let busy = |v: &[f64]| v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        let (v0, (b, all), v1) = (read(), machine_ticks().unwrap(), read());
        assert!(busy(&v0) <= b && b <= busy(&v1), "{} <= {b} <= {}", busy(&v0), busy(&v1));
        let (all0, all1) = (v0.iter().sum::<f64>(), v1.iter().sum::<f64>());
        assert!(all0 <= all && all <= all1, "{all0} <= {all} <= {all1}");
        assert!(busy_between(Some((1.0, 5.0)), Some((2.0, 5.0))).is_nan(), "no time passed: unknown, not infinite");
    }

    #[test]
    fn the_peak_memory_is_in_bytes() {
        // The resident memory now, in bytes (VmRSS, kilobytes): the peak read after it is at least that.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let now = line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024;
        let peak = own_peak_rss();
        assert!(now <= peak && peak > 1 << 20, "now {now}, peak {peak}");
    }
}
