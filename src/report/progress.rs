//! The progress bar of a long run: drawn on stderr while files are analyzed, only when stderr
//! is a terminal and the run has already taken a while (a short run never flickers a bar),
//! and cleared before anything else is printed.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before its bar appears.
const DELAY: Duration = Duration::from_millis(300);

/// Counts analyzed files; shared by the worker threads.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    delay: Duration,
    shown: AtomicBool,
}

impl Progress {
    /// A bar for `total` files, drawn on stderr when `enabled` and stderr is a terminal.
    /// `UNFREEZE_PROGRESS_DELAY_MS` changes the delay (for tests: 0 draws it at once).
    pub fn new(total: usize, enabled: bool) -> Progress {
        let delay = std::env::var("UNFREEZE_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(DELAY, Duration::from_millis);
        Progress::with_delay(total, enabled && std::io::stderr().is_terminal(), delay)
    }

    /// No bar at all.
    pub fn hidden() -> Progress {
        Progress::with_delay(0, false, DELAY)
    }

    fn with_delay(total: usize, enabled: bool, delay: Duration) -> Progress {
        let bar = enabled.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} checking {pos}/{len} files {wide_bar} {elapsed}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            delay,
            shown: AtomicBool::new(false),
        }
    }

    /// One more file done.
    pub fn advance(&self) {
        let Some(bar) = &self.bar else {
            return;
        };
        bar.inc(1);
        if self.started.elapsed() >= self.delay
            && self
                .shown
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Whether the bar has been drawn.
    pub fn was_shown(&self) -> bool {
        self.shown.load(Ordering::Acquire)
    }

    /// Erase the bar, so that what follows starts on a clean line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_bar_is_never_shown() {
        let progress = Progress::with_delay(10, false, Duration::ZERO);
        progress.advance();
        assert!(!progress.was_shown());
    }

    #[test]
    fn the_bar_appears_only_once_the_delay_has_passed() {
        let progress = Progress::with_delay(10, true, Duration::from_secs(3600));
        progress.advance();
        assert!(!progress.was_shown(), "a short run shows no bar");
        let progress = Progress::with_delay(10, true, Duration::ZERO);
        progress.advance();
        assert!(progress.was_shown());
        progress.finish();
    }
}
