//! Running the program: spawn in its own process group, feed stdin, capture
//! bounded output, wait with a deadline, kill the whole group on timeout.

use std::ffi::OsString;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::config::ExecSettings;

/// Variables passed on from Herald's environment when `inherit_env` is off.
pub const PASSED_ENV: &[&str] = &[
    "PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "TMPDIR",
];

/// `PATH` when Herald itself has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// How long output is still read once the program has exited (a background
/// child may hold the pipes open).
const OUTPUT_GRACE: Duration = Duration::from_millis(500);

/// What the program did.
#[derive(Debug)]
pub struct RunOutcome {
    /// How it ended; `None` when it was killed at the deadline.
    pub status: Option<ExitStatus>,
    /// Start of its standard output.
    pub stdout: Captured,
    /// Start of its standard error.
    pub stderr: Captured,
    /// Wall time.
    pub duration: Duration,
}

/// The first bytes of a stream and how many there were in all.
#[derive(Debug, Default, Clone)]
pub struct Captured {
    /// At most the cap.
    pub kept: Vec<u8>,
    /// Bytes read in all.
    pub total: usize,
}

impl Captured {
    /// The kept bytes as (lossy) text, with a note when some were cut.
    pub fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.kept).into_owned();
        if self.total > self.kept.len() {
            text.push_str(&format!("… [{} more bytes]", self.total - self.kept.len()));
        }
        text
    }
}

/// Runs the configured program once with `stdin` and `vars` (the event's
/// `HERALD_…` variables), for at most `timeout`.
///
/// Errors are failures to start it (not found, not executable, …).
pub async fn run(
    settings: &ExecSettings,
    stdin: &[u8],
    vars: &[(String, String)],
    timeout: Duration,
) -> io::Result<RunOutcome> {
    let mut command = build_command(settings, vars);
    let started = Instant::now();
    let mut child = command.spawn()?;
    let group = ProcessGroup::new(child.id());

    if let Some(mut pipe) = child.stdin.take() {
        let input = stdin.to_vec();
        // A program that never reads stdin must not block us: write from a
        // task, and ignore a closed pipe.
        tokio::spawn(async move {
            let _ = pipe.write_all(&input).await;
            let _ = pipe.shutdown().await;
        });
    }
    let cap = settings.max_output_bytes;
    let stdout = Arc::new(Mutex::new(Captured::default()));
    let stderr = Arc::new(Mutex::new(Captured::default()));
    let readers = [
        child
            .stdout
            .take()
            .map(|r| tokio::spawn(capture(r, cap, stdout.clone()))),
        child
            .stderr
            .take()
            .map(|r| tokio::spawn(capture(r, cap, stderr.clone()))),
    ];

    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => Some(status?),
        Err(_) => {
            group.kill();
            let _ = child.start_kill();
            let _ = child.wait().await;
            None
        }
    };
    group.disarm();
    for reader in readers.into_iter().flatten() {
        let abort = reader.abort_handle();
        if tokio::time::timeout(OUTPUT_GRACE, reader).await.is_err() {
            abort.abort();
        }
    }
    let take = |c: &Arc<Mutex<Captured>>| c.lock().map(|c| c.clone()).unwrap_or_default();
    Ok(RunOutcome {
        status,
        stdout: take(&stdout),
        stderr: take(&stderr),
        duration: started.elapsed(),
    })
}

fn build_command(settings: &ExecSettings, vars: &[(String, String)]) -> Command {
    let mut command = if settings.shell {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(&settings.command).arg("herald-exec");
        c
    } else {
        Command::new(&settings.command)
    };
    command.args(&settings.args);
    if settings.inherit_env {
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("HERALD_") {
                command.env_remove(name);
            }
        }
    } else {
        command.env_clear();
        for name in PASSED_ENV {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            } else if *name == "PATH" {
                command.env(name, OsString::from(DEFAULT_PATH));
            }
        }
    }
    command.envs(&settings.env);
    command.envs(vars.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &settings.working_dir {
        command.current_dir(dir);
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Should the attempt itself be dropped (shutdown), do not leave the
        // program behind.
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    command
}

async fn capture(mut reader: impl AsyncRead + Unpin, cap: usize, into: Arc<Mutex<Captured>>) {
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let Ok(mut captured) = into.lock() else { break };
                let room = cap.saturating_sub(captured.kept.len());
                captured.kept.extend_from_slice(&buf[..n.min(room)]);
                captured.total += n;
            }
        }
    }
}

/// The program's process group (its pid, as it was spawned with
/// `process_group(0)`), killed on timeout or when an attempt is dropped
/// half-way.
struct ProcessGroup {
    id: Mutex<Option<u32>>,
}

impl ProcessGroup {
    fn new(id: Option<u32>) -> ProcessGroup {
        ProcessGroup { id: Mutex::new(id) }
    }

    /// SIGKILL to every process of the group (grandchildren included).
    fn kill(&self) {
        let id = self.id.lock().ok().and_then(|mut g| g.take());
        #[cfg(unix)]
        if let Some(pid) = id
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        #[cfg(not(unix))]
        let _ = id;
    }

    /// The program exited: leave whatever it started in the background.
    fn disarm(&self) {
        if let Ok(mut guard) = self.id.lock() {
            *guard = None;
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}
