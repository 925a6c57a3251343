//! What the benchmark binaries against the simulators share: the peak RSS, and each case
//! in a child process of its own.

/// The peak resident set size of this process in KiB (Linux `VmHWM`); 0 where unknown.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Runs a benchmark's cases, each in a child process of its own so that each peak RSS is
/// its own. With a case among the arguments (as the child gets it), runs that case here:
/// `run(case, other arguments)`. Without, runs this binary again once per case and
/// fails if a child fails. Arguments starting with `--` (cargo's `--bench`) are ignored.
pub fn cases_in_children(cases: &[&str], run: impl FnOnce(&str, &[String])) {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(case) = args.first().filter(|a| cases.contains(&a.as_str())) {
        run(case, &args[1..]);
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("bench: cannot find its own executable");
        std::process::exit(2);
    };
    for case in cases {
        match std::process::Command::new(&exe).arg(case).status() {
            Ok(status) if status.success() => {}
            other => {
                eprintln!("bench: case {case} failed: {other:?}");
                std::process::exit(1);
            }
        }
    }
}
